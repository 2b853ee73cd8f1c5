package source

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// File is a one-shot input, opened: a plain or gzip file, or standard
// input. A plain file can be read from any offset and probed apart
// (ReaderAt: its tail, a binary search on its times); a gzip file and
// standard input only from their start. The bytes read (compressed bytes
// for gzip) can be counted into a progress counter.
type File struct {
	// Name is the path as given ("-" for standard input).
	Name string
	// ModTime is the file's modification time: the latest time its lines
	// can be from. Zero for standard input.
	ModTime time.Time
	// Size is the file's size at open; 0 for standard input.
	Size int64
	// Compressed reports a gzip stream; offsets then count decompressed
	// bytes. For standard input it is known once Reader was called.
	Compressed bool

	f        *os.File  // nil for standard input
	stdin    io.Reader // not owned
	progress *atomic.Int64
	counted  int64 // bytes of this file added to progress
	closers  []io.Closer
}

// Open opens path for a one-shot read. "-" is standard input (stdin is not
// owned: closing the File does not close it). Gzip is recognised by its
// magic bytes, not by the name, so a rotated `error.log.2.gz` and a
// misnamed one both work. progress, when not nil, is added the bytes read,
// and at Close the rest of the file: a file skipped or left early is done
// too.
func Open(path string, stdin io.Reader, progress *atomic.Int64) (*File, error) {
	in := &File{Name: path, progress: progress}
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
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EISDIR}
	}
	in.f, in.Size, in.ModTime = f, st.Size(), st.ModTime()
	in.closers = append(in.closers, f)
	var magic [2]byte
	if n, _ := f.ReadAt(magic[:], 0); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		in.Compressed = true
	}
	return in, nil
}

// Stdin reports whether this is standard input.
func (in *File) Stdin() bool { return in.f == nil }

// Seekable reports whether the input can be read from an offset and
// probed: a plain file.
func (in *File) Seekable() bool { return in.f != nil && !in.Compressed }

// ReaderAt reads a plain file's bytes where asked, without counting them:
// a probe, not the read. nil for a gzip file or standard input.
func (in *File) ReaderAt() io.ReaderAt {
	if !in.Seekable() {
		return nil
	}
	return in.f
}

// Reader returns the input's decompressed bytes from offset start (0
// unless Seekable), counting what it reads into progress, and the bytes
// before start as done. before, when not nil, runs before each read of
// standard input: a caller that batches hands out what it holds before the
// read may block. Call it once.
func (in *File) Reader(start int64, before func()) (io.Reader, error) {
	if in.f == nil {
		br := bufio.NewReaderSize(&counter{r: in.stdin, in: in, before: before}, 64<<10)
		if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
			in.Compressed = true
			return in.gunzip(br)
		}
		return br, nil
	}
	if in.Compressed {
		return in.gunzip(bufio.NewReaderSize(&counter{r: in.f, in: in}, 64<<10))
	}
	if start > 0 {
		if _, err := in.f.Seek(start, io.SeekStart); err != nil {
			return nil, fmt.Errorf("seeking %s to %d: %w", in.Name, start, err)
		}
		in.add(start)
	}
	return &counter{r: in.f, in: in}, nil
}

func (in *File) gunzip(r io.Reader) (io.Reader, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("opening %s as gzip: %w", in.Name, err)
	}
	in.closers = append(in.closers, zr)
	return zr, nil
}

func (in *File) add(n int64) {
	in.counted += n
	if in.progress != nil {
		in.progress.Add(n)
	}
}

// Close closes the input and counts all of it as consumed.
func (in *File) Close() error {
	if in.counted < in.Size {
		in.add(in.Size - in.counted)
	}
	var first error
	for i := len(in.closers) - 1; i >= 0; i-- {
		if err := in.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	in.closers = nil
	return first
}

// counter counts the bytes read from a file into its progress: one atomic
// add per read of up to 64 KiB, nothing per line.
type counter struct {
	r      io.Reader
	in     *File
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
