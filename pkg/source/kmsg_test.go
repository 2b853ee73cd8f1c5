package source

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestKmsg reads the real /dev/kmsg: records written to it (as root) come
// back with their sequence numbers, and a restart from a saved position
// reads only what follows it.
func TestKmsg(t *testing.T) {
	w, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("cannot write /dev/kmsg here: %v", err)
	}
	defer w.Close()
	if _, err := os.Stat("/dev/kmsg"); err != nil {
		t.Skip(err)
	}
	marker := fmt.Sprintf("sigtail-kmsg-test-%d", time.Now().UnixNano())
	read := func(k *Kmsg, want int, write func()) []Line {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := make(chan Line, 100)
		events := make(chan Event, 10)
		done := make(chan error, 1)
		go func() { done <- k.Run(ctx, out, events) }()
		select {
		case <-events: // positioned (at the end, or where it resumes)
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not start")
		}
		if write != nil {
			write()
		}
		var got []Line
		deadline := time.After(10 * time.Second)
		for len(got) < want {
			select {
			case l := <-out:
				if strings.Contains(l.Text, marker) {
					got = append(got, l)
				}
			case err := <-done:
				t.Fatalf("Run ended: %v", err)
			case <-deadline:
				t.Fatalf("read %d marker records, want %d", len(got), want)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		return got
	}
	boot := func() string { return "test-boot" }

	// Reading new records: write three while reading.
	k := &Kmsg{BootID: boot, Poll: time.Millisecond}
	got := read(k, 3, func() {
		for i := range 3 {
			fmt.Fprintf(w, "<4>%s %d\n", marker, i)
		}
	})
	for i, l := range got {
		if !strings.HasSuffix(l.Text, fmt.Sprintf("%s %d", marker, i)) || !strings.HasPrefix(l.Text, "12,") {
			t.Errorf("record %d: %q (want user facility, prefix 12)", i, l.Text)
		}
		if i > 0 && l.File.Seq != got[i-1].File.Seq+1 {
			t.Errorf("sequence %d after %d", l.File.Seq, got[i-1].File.Seq)
		}
	}
	// Resume after the first: only the second and third come again.
	k = &Kmsg{BootID: boot, Poll: time.Millisecond, Start: got[0].File}
	again := read(k, 2, nil)
	if again[0].File.Seq != got[1].File.Seq {
		t.Errorf("resumed at %d, want %d", again[0].File.Seq, got[1].File.Seq)
	}
	// After a reboot (another boot id) the ring is read from its start.
	k = &Kmsg{BootID: func() string { return "other-boot" }, Poll: time.Millisecond, Start: got[2].File}
	if all := read(k, 3, nil); all[0].File.Seq != got[0].File.Seq {
		t.Errorf("after a reboot read from %d, want %d", all[0].File.Seq, got[0].File.Seq)
	}
}

func TestKmsgSeq(t *testing.T) {
	for _, tt := range []struct {
		rec  string
		seq  uint64
		okay bool
	}{
		{"6,1234,5678901,-;hello", 1234, true},
		{"6,1234,5678901,-,caller=T1;x", 1234, true},
		{"garbage", 0, false},
		{"6,x,1,-;m", 0, false},
		{"6,18446744073709551615,1,-;m", 18446744073709551615, true},
		{",18700000000000000000,;", 0, false}, // past uint64: not a record
	} {
		seq, ok := kmsgSeq([]byte(tt.rec))
		if seq != tt.seq || ok != tt.okay {
			t.Errorf("kmsgSeq(%q) = %d %v", tt.rec, seq, ok)
		}
	}
}

func FuzzKmsgSeq(f *testing.F) {
	f.Add([]byte("6,1234,5678901,-;hello"))
	f.Add([]byte("6,1,2,c,caller=T1;x\n KEY=v"))
	f.Fuzz(func(t *testing.T, rec []byte) {
		seq, ok := kmsgSeq(rec)
		if !ok && seq != 0 {
			t.Fatalf("not a record but sequence %d", seq)
		}
	})
}
