package source

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// File is an opened one-shot input: a plain or gzip file, or stdin.
type File struct {
	// Name is the path as given ("-" for standard input).
	Name string
	// ModTime is the file's modification time: the latest time its lines
	// can be from. Zero for standard input.
	ModTime time.Time
	// Compressed reports a gzip stream; offsets then count decompressed bytes.
	Compressed bool

	r      io.Reader
	closer []io.Closer
}

// Read reads decompressed bytes.
func (f *File) Read(p []byte) (int, error) { return f.r.Read(p) }

// Close closes the file and any decompressor.
func (f *File) Close() error {
	var first error
	for i := len(f.closer) - 1; i >= 0; i-- {
		if err := f.closer[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Open opens path for a one-shot read. "-" is standard input (stdin is not
// owned: closing the File does not close it). Gzip is recognised by its
// magic bytes, not by the name, so a rotated `error.log.2.gz` and a
// misnamed one both work.
func Open(path string, stdin io.Reader) (*File, error) {
	f := &File{Name: path}
	var raw io.Reader
	if path == "-" {
		raw = stdin
	} else {
		fh, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		st, err := fh.Stat()
		if err != nil {
			fh.Close()
			return nil, fmt.Errorf("stat %s: %w", path, err)
		}
		if st.IsDir() {
			fh.Close()
			return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EISDIR}
		}
		f.ModTime = st.ModTime()
		f.closer = append(f.closer, fh)
		raw = fh
	}
	br := bufio.NewReaderSize(raw, 64<<10)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("opening %s as gzip: %w", path, err)
		}
		f.Compressed = true
		f.closer = append(f.closer, zr)
		f.r = zr
		return f, nil
	}
	f.r = br
	return f, nil
}
