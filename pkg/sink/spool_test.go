package sink

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func appendN(t *testing.T, s *Spool, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if err := s.Append(fmt.Appendf(nil, "record-%04d", i)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

// readAll reads and acknowledges everything there is, in batches of n.
func readAll(t *testing.T, s *Spool, n int) []string {
	t.Helper()
	var out []string
	for {
		recs, err := s.Next(n, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		for _, r := range recs {
			out = append(out, string(r.Payload))
		}
		if err := s.Ack(recs[len(recs)-1].End); err != nil {
			t.Fatal(err)
		}
	}
}

func want(from, n int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, fmt.Sprintf("record-%04d", i))
	}
	return out
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	return m
}

// TestSpoolOrderAndRestart: records come out in order, across segments and
// across a restart, and a restart gives again only what was not
// acknowledged.
func TestSpoolOrderAndRestart(t *testing.T) {
	for _, tt := range []struct {
		name     string
		segBytes int64
		batch    int
	}{
		{"one segment", 1 << 20, 7},
		{"many segments", 64, 3},
		{"batches of one", 100, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := OpenSpool(dir, SpoolOptions{MaxBytes: 1 << 20, SegmentBytes: tt.segBytes})
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, s, 0, 40)
			// Read 25 (acknowledge 20 of them), then stop.
			recs, _ := s.Next(20, 1<<20)
			if len(recs) != 20 || recs[0].Previous {
				t.Fatalf("Next: %d records (previous %v)", len(recs), recs[0].Previous)
			}
			s.Ack(recs[19].End)
			if more, _ := s.Next(5, 1<<20); len(more) != 5 {
				t.Fatalf("Next: %d", len(more))
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s, err = OpenSpool(dir, SpoolOptions{MaxBytes: 1 << 20, SegmentBytes: tt.segBytes})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			appendN(t, s, 40, 10)
			recs, _ = s.Next(1, 1<<20)
			if !recs[0].Previous || string(recs[0].Payload) != "record-0020" {
				t.Fatalf("first after restart: %q previous=%v", recs[0].Payload, recs[0].Previous)
			}
			got := append([]string{string(recs[0].Payload)}, readAll(t, s, tt.batch)...)
			if !slices.Equal(got, want(20, 30)) {
				t.Errorf("after restart got %v", got)
			}
			if ok, _ := s.Drained(); !ok {
				t.Error("not drained after reading everything")
			}
			if st := s.Stats(); st.Pending != 0 {
				t.Errorf("pending %d bytes after reading everything", st.Pending)
			}
			// Only the segment being written remains.
			if segs := segments(t, dir); len(segs) != 1 {
				t.Errorf("segments left: %v", segs)
			}
		})
	}
}

// TestSpoolFull: a full spool refuses with ErrSpoolFull, and has room again
// once delivered records are acknowledged.
func TestSpoolFull(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSpool(dir, SpoolOptions{MaxBytes: 400, SegmentBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	for ; n < 100; n++ {
		if err := s.Append(fmt.Appendf(nil, "record-%04d", n)); err != nil {
			if !errors.Is(err, ErrSpoolFull) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("append when full: %v", err)
			}
			break
		}
	}
	if n == 0 || n == 100 {
		t.Fatalf("%d records fit in 400 bytes", n)
	}
	if got := readAll(t, s, 4); !slices.Equal(got, want(0, n)) {
		t.Fatalf("read %v", got)
	}
	appendN(t, s, n, n-1) // room again (less the last segment's unread part)
}

// TestSpoolDamage: a record torn by a crash, or damaged on disk, is stepped
// over with the rest of its segment; what follows in later segments is
// still delivered.
func TestSpoolDamage(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func(path string)
		want   []string
	}{
		{"torn tail", func(p string) {
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()-3)
		}, append(want(0, 4), want(5, 3)...)},
		{"bad checksum", func(p string) {
			b, _ := os.ReadFile(p)
			b[len(b)-1] ^= 0xff
			os.WriteFile(p, b, 0o600)
		}, append(want(0, 4), want(5, 3)...)},
		{"header of garbage", func(p string) {
			f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			f.Write([]byte{0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4})
			f.Close()
		}, want(0, 8)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, _ := OpenSpool(dir, SpoolOptions{})
			appendN(t, s, 0, 5)
			s.Close()
			tt.damage(segments(t, dir)[0])
			s, err := OpenSpool(dir, SpoolOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			appendN(t, s, 5, 3)
			if got := readAll(t, s, 2); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if st := s.Stats(); st.Corrupt != 1 {
				t.Errorf("corrupt = %d, want 1", st.Corrupt)
			}
			if ok, _ := s.Drained(); !ok {
				t.Error("not drained")
			}
		})
	}
}

// TestSpoolEmptyRuns: restarts that spool nothing leave no growing pile of
// empty segments, and the spool reads as drained.
func TestSpoolEmptyRuns(t *testing.T) {
	dir := t.TempDir()
	for range 5 {
		s, err := OpenSpool(dir, SpoolOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if recs, err := s.Next(10, 1<<20); err != nil || len(recs) != 0 {
			t.Fatalf("Next on an empty spool: %v %v", recs, err)
		}
		if ok, _ := s.Drained(); !ok {
			t.Error("an empty spool is not drained")
		}
		s.Close()
	}
	if segs := segments(t, dir); len(segs) > 2 {
		t.Errorf("segments pile up: %v", segs)
	}
}

// FuzzSpoolRead: whatever bytes an older segment holds, reading the spool
// neither panics nor loops, and what follows in a sound segment is read.
func FuzzSpoolRead(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{5, 0, 0, 0, 1, 2, 3, 4, 'h', 'e', 'l', 'l', 'o'})
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 3})
	f.Fuzz(func(t *testing.T, seg []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "0000000000000001.seg"), seg, 0o600)
		s, err := OpenSpool(dir, SpoolOptions{MaxBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Append([]byte("sound")); err != nil {
			t.Fatal(err)
		}
		var last string
		for range len(seg) + 2 {
			recs, err := s.Next(3, 1<<10)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			last = string(recs[len(recs)-1].Payload)
			s.Ack(recs[len(recs)-1].End)
		}
		if last != "sound" {
			t.Errorf("the sound record after %x was not read (last %q)", seg, last)
		}
		if ok, _ := s.Drained(); !ok {
			t.Error("not drained")
		}
	})
}

// TestSpoolDamagedCursor: a damaged cursor file makes the spool deliver
// again from its oldest record instead of refusing to open.
func TestSpoolDamagedCursor(t *testing.T) {
	dir := t.TempDir()
	s, _ := OpenSpool(dir, SpoolOptions{})
	appendN(t, s, 0, 3)
	recs, _ := s.Next(1, 1<<20)
	s.Ack(recs[0].End)
	s.Close()
	os.WriteFile(filepath.Join(dir, cursorFile), []byte("{garbage"), 0o600)
	s, err := OpenSpool(dir, SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := readAll(t, s, 2); !slices.Equal(got, want(0, 3)) {
		t.Errorf("got %v", got)
	}
}
