package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// A Follower follows one log file by name, as `tail -F` does, across every
// way logs are rotated, and never loses or repeats a line:
//
//   - rename and create (logrotate's default, nginx's reopen on USR1): at
//     end of file the path is stat'ed; when it names another file, the old
//     one is drained first (the writer may still be finishing it) and only
//     then is the new one read, from its start;
//   - copytruncate and truncation in place: the file is the same but shorter
//     than where reading stopped, or its first bytes changed (truncated and
//     written again past the old offset between two looks); reading starts
//     over from offset 0;
//   - delete and re-create, a file that does not exist yet, a symlink that
//     is swapped: the path is waited for and opened when it appears.
//
// These are the traps of nxadm/tail that its open pull requests (#73, #85)
// never fixed: it reopens the new file before draining the old one
// (hpcloud/tail#127, nxadm/tail#72) and sees only the first truncation
// (nxadm/tail#62). Its Tell() races with its Lines channel (hpcloud/tail#165);
// here every line carries the offsets it was read between, counted from the
// bytes consumed, so a checkpoint is exact.
//
// A file is identified by device and inode plus a fingerprint of its first
// bytes, so a re-used inode is not taken for the file it replaced (Vector
// and Fluent Bit do the same). A saved position is checked against the file
// before it is used.
type Follower struct {
	// Path is the file's name, followed through rotations.
	Path string
	// Start is where to resume: a position saved earlier. When it names
	// the file now at Path, reading resumes at its offset; when it names a
	// rotated predecessor still next to Path, the rest of that is read
	// first. A zero Start reads the current file from FromStart or its end.
	Start Position
	// FromStart reads a file with no saved position from its first byte
	// instead of its end.
	FromStart bool
	// Poll is how often an idle file is looked at again (default 250ms).
	Poll time.Duration
	// MaxLine cuts longer lines (default DefaultMaxLine).
	MaxLine int
	// Rotated lists where a rotated predecessor may be found, for a resume
	// after a rotation during downtime (default: Path.1 and Path-* siblings).
	Rotated func(path string) []string
}

// Position says where reading of one file stopped.
type Position struct {
	Dev, Ino uint64
	// Fingerprint is a hash of the file's first FingerprintLen bytes (or
	// all of them, when shorter, with their count).
	Fingerprint string
	Offset      int64
	// The kernel ring buffer: the next sequence number, and the boot.
	Seq    uint64
	BootID string
	// journald: the cursor of the last entry read.
	Cursor string
}

// FingerprintLen is how many leading bytes identify a file.
const FingerprintLen = 256

// Line is one complete line read from a followed file.
type Line struct {
	Text string
	// Offset and End are the line's first byte and the byte after its
	// newline: End is the position to save once the line is dealt with.
	Offset, End int64
	// File is the identity of the file the line is in.
	File Position
	// Cut reports a line longer than MaxLine, cut.
	Cut bool
}

// Events a Follower reports beside lines, for logs and metrics.
type Event struct {
	// "open", "rotated", "truncated", "missing", "resumed", "resume-lost";
	// "eof" says every line before At was sent (not a thing to log).
	Kind string
	Path string
	Note string
	// At is where reading starts, for "open" (a file opened at its end
	// has a position to save before its first line), or the end reached,
	// for "eof".
	At Position
}

// Run follows the file until ctx is done, sending lines to out and events
// to events (which may be nil). It never closes either channel, returns nil
// when ctx is cancelled, and returns an error only when following cannot go
// on (the path exists but cannot be read); the caller may restart it.
func (f *Follower) Run(ctx context.Context, out chan<- Line, events chan<- Event) error {
	if f.Poll <= 0 {
		f.Poll = 250 * time.Millisecond
	}
	if f.MaxLine <= 0 {
		f.MaxLine = DefaultMaxLine
	}
	note := func(kind, path, msg string) {
		if events == nil {
			return
		}
		select {
		case events <- Event{Kind: kind, Path: path, Note: msg}:
		case <-ctx.Done():
		}
	}
	sleep := func() bool {
		t := time.NewTimer(f.Poll)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}

	// Resume: the saved file may be the current one or a rotated one.
	var cur *openFile
	start := f.Start
	if start.Fingerprint != "" {
		if of, err := openAt(f.Path, start); err == nil {
			cur = of
			note("resumed", f.Path, fmt.Sprintf("at offset %d", of.off))
		} else {
			for _, cand := range f.rotated() {
				if of, err := openAt(cand, start); err == nil {
					cur = of
					note("resumed", cand, fmt.Sprintf("rotated while stopped; reading its last %d bytes first", of.size()-of.off))
					break
				}
			}
			if cur == nil {
				note("resume-lost", f.Path, "the file of the saved position is gone; reading the current file from its start")
				f.FromStart = true
			}
		}
	}
	first := cur == nil
	for ctx.Err() == nil {
		if cur == nil {
			of, err := openFresh(f.Path)
			if errors.Is(err, fs.ErrNotExist) {
				if first {
					note("missing", f.Path, "waiting for it to appear")
					first = false
				}
				if !sleep() {
					return nil
				}
				// A file that appears later is new: all of it is to be read.
				f.FromStart = true
				continue
			}
			if err != nil {
				return fmt.Errorf("following %s: %w", f.Path, err)
			}
			if !f.FromStart && first {
				of.off = of.size()
				if _, err := of.f.Seek(of.off, io.SeekStart); err != nil {
					of.close()
					return fmt.Errorf("following %s: %w", f.Path, err)
				}
			}
			first = false
			f.FromStart = true
			cur = of
			at := of.pos
			at.Offset = of.off
			if events != nil {
				select {
				case events <- Event{Kind: "open", Path: f.Path, Note: fmt.Sprintf("at offset %d", of.off), At: at}:
				case <-ctx.Done():
				}
			}
		}
		// Truncated since the last look? Checked before reading, so that
		// new content is not read from the old offset.
		if st, err := cur.f.Stat(); err == nil && cur.truncated(st) {
			note("truncated", f.Path, fmt.Sprintf("at offset %d; reading from its start", cur.off))
			cur.restart()
		}
		// Read what there is.
		if err := cur.readLines(ctx, f.MaxLine, out); err != nil {
			cur.close()
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading %s: %w", cur.name, err)
		}
		if events != nil && cur.off != cur.eofSaid {
			// Caught up: the reader may tell the others it holds nobody
			// back once it has taken the lines before this point.
			cur.eofSaid = cur.off
			at := cur.pos
			at.Offset = cur.off
			select {
			case events <- Event{Kind: "eof", Path: cur.name, At: at}:
			case <-ctx.Done():
			}
		}
		// At end of file: what is at the path now?
		st, err := os.Stat(f.Path)
		switch {
		case err == nil && !sameFile(st, cur.pos):
			// Rotated (or replaced, or a symlink swapped). The writer may
			// still finish the old file: give it one more look after a
			// pause, then switch.
			if !sleep() {
				cur.close()
				return nil
			}
			if err := cur.readLines(ctx, f.MaxLine, out); err != nil && ctx.Err() == nil {
				cur.close()
				return fmt.Errorf("reading %s: %w", cur.name, err)
			}
			cur.flushPartial(ctx, out)
			note("rotated", f.Path, fmt.Sprintf("finished the old file at offset %d", cur.off))
			cur.close()
			cur = nil
			continue
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			cur.close()
			return fmt.Errorf("following %s: %w", f.Path, err)
		}
		// Unchanged (or deleted and not yet back: the open file may still
		// grow, and is read until a new one appears).
		if !sleep() {
			cur.close()
			return nil
		}
	}
	if cur != nil {
		cur.close()
	}
	return nil
}

// rotated lists the files next to Path whose names start with its name
// (error.log.1, error.log-20261124, error.log.2 ...), newest first: where a
// file rotated while nothing followed it is found again, by identity.
// Compressed ones are left out: their bytes are not the file's any more.
func (f *Follower) rotated() []string {
	if f.Rotated != nil {
		return f.Rotated(f.Path)
	}
	m, err := globSiblings(f.Path + "?*")
	if err != nil {
		return nil
	}
	out := m[:0]
	for _, p := range m {
		switch filepath.Ext(p) {
		case ".gz", ".bz2", ".xz", ".zst", ".lz4":
			continue
		}
		out = append(out, p)
	}
	return out
}

// openFile is the file being read and where.
type openFile struct {
	name     string
	f        *os.File
	pos      Position // identity of f; Offset unused
	off      int64    // offset of the next byte to read
	partial  []byte   // a last line without its newline yet
	eofSaid  int64    // the offset of the last end of file reported (-1: none yet)
	skipping bool     // inside the rest of a line sent cut
	buf      []byte
}

func openFresh(path string) (*openFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	of := &openFile{name: path, f: fh, eofSaid: -1}
	if err := of.identify(); err != nil {
		fh.Close()
		return nil, err
	}
	return of, nil
}

// openAt opens path only if it is the file of pos, positioned at its
// offset; a file shorter than the offset is not it (or was truncated) and
// is refused.
func openAt(path string, pos Position) (*openFile, error) {
	of, err := openFresh(path)
	if err != nil {
		return nil, err
	}
	if of.pos.Dev != pos.Dev || of.pos.Ino != pos.Ino || pos.Fingerprint != fingerprintFor(of.f, pos) || of.size() < pos.Offset {
		of.close()
		return nil, errors.New("not the file of the saved position")
	}
	if _, err := of.f.Seek(pos.Offset, io.SeekStart); err != nil {
		of.close()
		return nil, err
	}
	of.off = pos.Offset
	return of, nil
}

// fingerprintFor hashes as many leading bytes as pos's fingerprint was made
// of, so a file that has grown since still matches.
func fingerprintFor(f *os.File, pos Position) string {
	n := fingerprintLenOf(pos.Fingerprint)
	fp, _ := fingerprint(f, n)
	return fp
}

func (of *openFile) identify() error {
	st, err := of.f.Stat()
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("no inode information on this system")
	}
	of.pos.Dev, of.pos.Ino = uint64(sys.Dev), sys.Ino
	of.pos.Fingerprint, err = fingerprint(of.f, FingerprintLen)
	return err
}

// fingerprint is "n:hash" of the first min(n, size) bytes. The length is
// part of it, so a file that has grown can be checked against a
// fingerprint taken when it was short.
func fingerprint(f *os.File, n int) (string, error) {
	buf := make([]byte, n)
	got, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	sum := sha256.Sum256(buf[:got])
	return fmt.Sprintf("%d:%s", got, hex.EncodeToString(sum[:12])), nil
}

func fingerprintLenOf(fp string) int {
	n := 0
	for i := 0; i < len(fp) && fp[i] != ':'; i++ {
		n = n*10 + int(fp[i]-'0')
	}
	return n
}

func (of *openFile) size() int64 {
	st, err := of.f.Stat()
	if err != nil {
		return 0
	}
	return st.Size()
}

func sameFile(st os.FileInfo, pos Position) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && uint64(sys.Dev) == pos.Dev && sys.Ino == pos.Ino
}

// truncated reports a file cut back under the reading offset, or rewritten
// from its start (its first bytes are no longer those it had): the
// truncation nxadm/tail misses when the file has grown back past the old
// offset between two looks.
func (of *openFile) truncated(st os.FileInfo) bool {
	if st.Size() < of.off {
		return true
	}
	n := fingerprintLenOf(of.pos.Fingerprint)
	cur, err := fingerprint(of.f, n)
	if err != nil {
		return false
	}
	if cur != of.pos.Fingerprint {
		return true
	}
	if n < FingerprintLen && st.Size() > int64(n) {
		// Taken when the file was short: take it again over more bytes.
		of.pos.Fingerprint, _ = fingerprint(of.f, FingerprintLen)
	}
	return false
}

// restart reads the same file again from its start after a truncation.
func (of *openFile) restart() {
	of.off = 0
	of.partial = of.partial[:0]
	of.f.Seek(0, io.SeekStart)
	of.pos.Fingerprint, _ = fingerprint(of.f, FingerprintLen)
}

// readLines sends every complete line from the current offset to the end
// of the file. A line longer than maxLine is sent cut, as soon as it is
// that long, and the rest of it is skipped (counted as read).
func (of *openFile) readLines(ctx context.Context, maxLine int, out chan<- Line) error {
	if cap(of.buf) == 0 {
		of.buf = make([]byte, 64<<10)
	}
	for {
		n, err := of.f.Read(of.buf[:cap(of.buf)])
		data := of.buf[:n]
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if of.skipping {
				if i < 0 {
					of.off += int64(len(data))
					break
				}
				of.off += int64(i + 1)
				data = data[i+1:]
				of.skipping = false
				continue
			}
			if i < 0 {
				of.partial = append(of.partial, data...)
				if len(of.partial) > maxLine {
					if !of.emit(ctx, out, of.partial, int64(len(of.partial)), maxLine) {
						return ctx.Err()
					}
					of.partial = of.partial[:0]
					of.skipping = true
				}
				break
			}
			whole := append(of.partial, data[:i]...)
			if !of.emit(ctx, out, whole, int64(len(whole))+1, maxLine) {
				return ctx.Err()
			}
			of.partial = whole[:0]
			data = data[i+1:]
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// emit sends one line of consumed bytes (its newline included) and moves
// the offset past it once it is taken.
func (of *openFile) emit(ctx context.Context, out chan<- Line, text []byte, consumed int64, maxLine int) bool {
	text = bytes.TrimSuffix(text, []byte("\r"))
	cut := false
	if len(text) > maxLine {
		text, cut = text[:maxLine], true
	}
	l := Line{Text: string(text), Offset: of.off, End: of.off + consumed, File: of.pos, Cut: cut}
	l.File.Offset = l.End
	select {
	case out <- l:
		of.off += consumed
		return true
	case <-ctx.Done():
		return false
	}
}

// flushPartial sends a last line that never got its newline: the file is
// finished (rotated away), so nothing will complete it.
func (of *openFile) flushPartial(ctx context.Context, out chan<- Line) {
	if len(of.partial) > 0 && !of.skipping {
		of.emit(ctx, out, of.partial, int64(len(of.partial)), DefaultMaxLine)
		of.partial = of.partial[:0]
	}
}

func (of *openFile) close() {
	if of.f != nil {
		of.f.Close()
		of.f = nil
	}
}

// globSiblings lists rotated siblings matching pattern, newest first by
// modification time (the likeliest holder of a saved position).
func globSiblings(pattern string) ([]string, error) {
	m, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(m, func(i, j int) bool {
		a, _ := os.Stat(m[i])
		b, _ := os.Stat(m[j])
		return a != nil && b != nil && a.ModTime().After(b.ModTime())
	})
	return m, nil
}
