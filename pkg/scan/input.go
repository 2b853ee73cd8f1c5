package scan

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// input is one file of a scan, opened. A plain file can be read from any
// offset and probed apart (its tail, the binary search for Since); a gzip
// file and standard input only from their start.
//
// It is opened here rather than by source.Open because the scan needs what
// that hides: the *os.File to seek and probe, and the compressed bytes
// read, which Progress counts.
type input struct {
	path       string
	f          *os.File // nil for standard input
	stdin      io.Reader
	size       int64 // at open; 0 for standard input
	modTime    time.Time
	compressed bool
	progress   *atomic.Int64 // not owned; nil when not counted
	counted    int64         // bytes of this input added to progress
	closers    []io.Closer
}

// openInput opens path ("-" is stdin, not owned). Gzip is recognised by
// its magic bytes, as source.Open does; on stdin that happens when it is
// read.
func openInput(path string, stdin io.Reader, progress *atomic.Int64) (*input, error) {
	in := &input{path: path, progress: progress}
	if path == "-" {
		in.stdin = stdin
		return in, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("opening %s: is a directory", path)
	}
	in.f, in.size, in.modTime = f, st.Size(), st.ModTime()
	in.closers = append(in.closers, f)
	var magic [2]byte
	if n, _ := f.ReadAt(magic[:], 0); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		in.compressed = true
	}
	return in, nil
}

// seekable reports whether the input can be read from an offset and
// probed: a plain file.
func (in *input) seekable() bool { return in.f != nil && !in.compressed }

// reader returns the input's decompressed bytes from offset start (0
// unless seekable), counting what it reads into progress, and the bytes
// before start as done. before, when not nil, runs before each read of
// standard input: what was batched goes before the scan may block.
func (in *input) reader(start int64, before func()) (io.Reader, error) {
	if in.f == nil {
		br := bufio.NewReaderSize(&counter{r: in.stdin, in: in, before: before}, 64<<10)
		if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
			in.compressed = true
			return in.gunzip(br)
		}
		return br, nil
	}
	if in.compressed {
		return in.gunzip(bufio.NewReaderSize(&counter{r: in.f, in: in}, 64<<10))
	}
	if start > 0 {
		if _, err := in.f.Seek(start, io.SeekStart); err != nil {
			return nil, fmt.Errorf("seeking %s to %d: %w", in.path, start, err)
		}
		in.add(start)
	}
	return &counter{r: in.f, in: in}, nil
}

func (in *input) gunzip(r io.Reader) (io.Reader, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("opening %s as gzip: %w", in.path, err)
	}
	in.closers = append(in.closers, zr)
	return zr, nil
}

func (in *input) add(n int64) {
	in.counted += n
	if in.progress != nil {
		in.progress.Add(n)
	}
}

// done closes the input and counts all of it as consumed: a file skipped,
// or left past Until, is done too.
func (in *input) done() {
	if in.counted < in.size {
		in.add(in.size - in.counted)
	}
	for i := len(in.closers) - 1; i >= 0; i-- {
		in.closers[i].Close()
	}
}

// counter counts the bytes read from a file into its input's progress:
// one atomic add per read of up to 64 KiB, nothing per line.
type counter struct {
	r      io.Reader
	in     *input
	before func()
}

func (c *counter) Read(p []byte) (int, error) {
	if c.before != nil {
		c.before()
	}
	n, err := c.r.Read(p)
	c.in.add(int64(n))
	return n, err
}

// TotalBytes is what Config.Progress reaches when Run has read paths: the
// sum of their sizes (compressed sizes for gzip files), a path given twice
// counted once, as Run reads it once, and a path that cannot be read as
// nothing, as Run reads nothing of it. false when the total cannot be known
// before reading: standard input.
func TotalBytes(paths []string) (int64, bool) {
	var total int64
	known := true
	seen := map[string]bool{}
	for _, p := range paths {
		if p == "-" {
			known = false
			continue
		}
		clean := filepath.Clean(p)
		if seen[clean] {
			continue
		}
		seen[clean] = true
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			total += st.Size()
		}
	}
	return total, known
}

// fileSize is a path's size now, 0 when it cannot be read (what done
// would count for it).
func fileSize(path string) int64 {
	if path == "-" {
		return 0
	}
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return 0
	}
	return st.Size()
}
