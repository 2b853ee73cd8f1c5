package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Kmsg reads the kernel log from /dev/kmsg, one record per read(2), as the
// kernel's ABI defines it (Documentation/ABI/testing/dev-kmsg):
// `prefix,seq,usec,flags[,more];message` followed by " KEY=value" lines.
// Sequence numbers make a restart resume exactly where it stopped within the
// same boot; after a reboot (another boot id) the ring is read from its
// oldest record. When the reader falls behind and the kernel overwrites
// records it had not read, read(2) fails with EPIPE: the gap is reported
// with the number of records lost, and reading goes on.
type Kmsg struct {
	// Path is /dev/kmsg unless a test says otherwise.
	Path string
	// Start is where to resume: Seq is the next record to read, BootID the
	// boot it belongs to. Zero reads only new records, unless FromStart.
	Start     Position
	FromStart bool
	// BootID returns the current boot id (default: /proc/sys/kernel/random/boot_id).
	BootID func() string
	// Poll is how long to wait when no record is ready (default 250ms).
	Poll time.Duration
}

// Run reads records until ctx is done. Each record goes out as its lines:
// the header line and its dictionary lines, each Line carrying the record's
// position (File.Seq is the sequence number after the record). It returns
// nil on cancellation, an error when /dev/kmsg cannot be opened or read,
// after an "unreadable" event that says why.
func (k *Kmsg) Run(ctx context.Context, out chan<- Line, events chan<- Event) error {
	path := k.Path
	if path == "" {
		path = "/dev/kmsg"
	}
	err := k.run(ctx, path, out, events)
	if err != nil {
		unreadable(ctx, events, path, path+": "+Reason(err))
	}
	return err
}

func (k *Kmsg) run(ctx context.Context, path string, out chan<- Line, events chan<- Event) error {
	if k.Poll <= 0 {
		k.Poll = 250 * time.Millisecond
	}
	boot := ""
	if k.BootID != nil {
		boot = k.BootID()
	} else if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		boot = strings.TrimSpace(string(b))
	}
	note := func(kind, msg string) {
		if events == nil {
			return
		}
		select {
		case events <- Event{Kind: kind, Path: path, Note: msg}:
		case <-ctx.Done():
		}
	}
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer syscall.Close(fd)

	var skipBelow uint64
	switch {
	case k.Start.BootID == boot && boot != "" && k.Start.Seq > 0:
		skipBelow = k.Start.Seq // same boot: resume after what was read
		note("resumed", fmt.Sprintf("at sequence %d", k.Start.Seq))
	case k.Start.BootID != "" && k.Start.BootID != boot:
		note("resumed", "rebooted since the saved position; reading the ring from its oldest record")
	case !k.FromStart:
		if _, err := syscall.Seek(fd, 0, io.SeekEnd); err != nil {
			return fmt.Errorf("seeking to the end of %s: %w", path, err)
		}
		note("open", "reading new records")
	default:
		note("open", "reading from the oldest record")
	}

	buf := make([]byte, 16<<10) // larger than any record (the kernel uses 8 KiB)
	var expect uint64
	for {
		n, err := syscall.Read(fd, buf)
		switch {
		case errors.Is(err, syscall.EAGAIN):
			t := time.NewTimer(k.Poll)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			continue
		case errors.Is(err, syscall.EPIPE):
			note("gap", "records were overwritten before they were read; reading on")
			expect = 0
			continue
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return fmt.Errorf("reading %s: %w", path, err)
		}
		rec := buf[:n]
		seq, ok := kmsgSeq(rec)
		if !ok {
			continue // not a record: nothing the ABI allows, so nothing to lose
		}
		if seq < skipBelow {
			continue
		}
		if expect != 0 && seq > expect {
			note("gap", fmt.Sprintf("%d record(s) lost (sequence %d to %d)", seq-expect, expect, seq-1))
		}
		expect = seq + 1
		pos := Position{Seq: seq + 1, BootID: boot}
		text := strings.TrimSuffix(string(rec), "\n")
		for i, l := range strings.Split(text, "\n") {
			line := Line{Text: l, File: pos}
			if i == 0 {
				line.Offset = int64(seq)
			}
			select {
			case out <- line:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// kmsgSeq reads the sequence number of a record's header.
func kmsgSeq(rec []byte) (uint64, bool) {
	head, _, ok := bytes.Cut(rec, []byte(";"))
	if !ok {
		return 0, false
	}
	parts := bytes.SplitN(head, []byte(","), 3)
	if len(parts) < 3 {
		return 0, false
	}
	seq, err := strconv.ParseUint(string(parts[1]), 10, 64)
	if err != nil {
		// Not a number the kernel can write (its sequence is a u64): not
		// a record. ParseUint's value on overflow is not a sequence.
		return 0, false
	}
	return seq, true
}
