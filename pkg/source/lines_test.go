package source

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

type gotLine struct {
	text string
	off  int64
	cut  bool
}

func readAll(t *testing.T, r io.Reader, max int) ([]gotLine, *LineReader) {
	t.Helper()
	lr := NewLineReader(r, max, 0)
	var out []gotLine
	for {
		b, off, cut, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return out, lr
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, gotLine{string(b), off, cut})
	}
}

func TestLineReader(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		max   int
		want  []gotLine
		final int64
	}{
		{"empty", "", 10, nil, 0},
		{"one line", "abc\n", 10, []gotLine{{"abc", 0, false}}, 4},
		{"no final newline", "abc\ndef", 10, []gotLine{{"abc", 0, false}, {"def", 4, false}}, 7},
		{"crlf", "abc\r\nd\r\n", 10, []gotLine{{"abc", 0, false}, {"d", 5, false}}, 8},
		{"blank lines", "\n\nx\n", 10, []gotLine{{"", 0, false}, {"", 1, false}, {"x", 2, false}}, 4},
		{"exactly max", "abcd\nef\n", 4, []gotLine{{"abcd", 0, false}, {"ef", 5, false}}, 8},
		{"cut", "abcdefgh\nxy\n", 4, []gotLine{{"abcd", 0, true}, {"xy", 9, false}}, 12},
		{"cut at eof", "abcdefgh", 4, []gotLine{{"abcd", 0, true}}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, lr := readAll(t, strings.NewReader(tt.in), tt.max)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines %+v, want %+v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("line %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
			if lr.Offset() != tt.final {
				t.Errorf("final offset %d, want %d", lr.Offset(), tt.final)
			}
		})
	}
}

// TestLineReaderHugeLine feeds a line far larger than any buffer, one byte
// per read, and checks the stream goes on after it with right offsets.
func TestLineReaderHugeLine(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	in := "before\n" + huge + "\nafter\n"
	got, lr := readAll(t, iotest.OneByteReader(strings.NewReader(in)), 1000)
	want := []gotLine{{"before", 0, false}, {strings.Repeat("x", 1000), 7, true}, {"after", int64(7 + len(huge) + 1), false}}
	if len(got) != 3 {
		t.Fatalf("got %d lines, want 3", len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got (%d bytes, off %d, cut %v), want (%d bytes, off %d, cut %v)",
				i, len(got[i].text), got[i].off, got[i].cut, len(want[i].text), want[i].off, want[i].cut)
		}
	}
	if lr.Cut != 1 || lr.Lines != 3 {
		t.Errorf("Cut=%d Lines=%d, want 1 and 3", lr.Cut, lr.Lines)
	}
}

func TestLineReaderError(t *testing.T) {
	boom := errors.New("disk on fire")
	lr := NewLineReader(io.MultiReader(strings.NewReader("ok\n"), iotest.ErrReader(boom)), 0, 100)
	if b, off, _, err := lr.Next(); err != nil || string(b) != "ok" || off != 100 {
		t.Fatalf("first line: %q %d %v", b, off, err)
	}
	if _, _, _, err := lr.Next(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the reader's error", err)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "error.log")
	os.WriteFile(plain, []byte("a\nb\n"), 0o644)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("c\nd\n"))
	zw.Close()
	// A second gzip member, as `cat a.gz b.gz` makes: both are read.
	zw = gzip.NewWriter(&gz)
	zw.Write([]byte("e\n"))
	zw.Close()
	zipped := filepath.Join(dir, "error.log.2.gz")
	os.WriteFile(zipped, gz.Bytes(), 0o644)
	misnamed := filepath.Join(dir, "error.log.1")
	os.WriteFile(misnamed, gz.Bytes(), 0o644)
	corrupt := filepath.Join(dir, "bad.gz")
	os.WriteFile(corrupt, []byte{0x1f, 0x8b, 0, 0}, 0o644)

	tests := []struct {
		path    string
		stdin   string
		want    string
		gz      bool
		wantErr string
	}{
		{path: plain, want: "a\nb\n"},
		{path: zipped, want: "c\nd\ne\n", gz: true},
		{path: misnamed, want: "c\nd\ne\n", gz: true},
		{path: "-", stdin: "from stdin\n", want: "from stdin\n"},
		{path: filepath.Join(dir, "missing.log"), wantErr: "opening " + filepath.Join(dir, "missing.log")},
		{path: dir, wantErr: "is a directory"},
		{path: corrupt, wantErr: "as gzip"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			var progress atomic.Int64
			f, err := Open(tt.path, strings.NewReader(tt.stdin), &progress)
			var r io.Reader
			if err == nil {
				if r, err = f.Reader(0, nil); err != nil {
					f.Close()
				}
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			if want := int64(len(tt.stdin)) + f.Size; progress.Load() != want || tt.path != "-" && f.Size == 0 {
				t.Errorf("progress %d after Close, want %d", progress.Load(), want)
			}
			if string(b) != tt.want || f.Compressed != tt.gz {
				t.Errorf("read %q (gzip %v), want %q (gzip %v)", b, f.Compressed, tt.want, tt.gz)
			}
			if tt.path != "-" && f.ModTime.IsZero() {
				t.Error("ModTime is zero for a file")
			}
		})
	}
}

func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nb\r\nc"), 3)
	f.Add([]byte("\n\n\n"), 1)
	f.Add([]byte(strings.Repeat("long", 100)+"\nx"), 16)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max <= 0 || max > 1<<16 {
			max = 16
		}
		lr := NewLineReader(bytes.NewReader(in), max, 0)
		var total int64
		prev := int64(-1)
		for {
			b, off, _, err := lr.Next()
			if err != nil {
				break
			}
			if len(b) > max {
				t.Fatalf("line of %d bytes over max %d", len(b), max)
			}
			if off <= prev || off > int64(len(in)) {
				t.Fatalf("offset %d after %d (input %d bytes)", off, prev, len(in))
			}
			if !bytes.HasPrefix(in[off:], b) {
				t.Fatalf("line %q is not the input at offset %d", b, off)
			}
			prev = off
			total++
		}
		if lr.Offset() != int64(len(in)) {
			t.Fatalf("final offset %d, input %d bytes", lr.Offset(), len(in))
		}
		_ = total
	})
}
