// Package source reads log records from where they live: plain and
// gzip-compressed files, standard input, and (for the daemon) followed
// files, the kernel ring buffer and journald.
//
// All I/O of sigtail's data path is here. A source yields physical lines
// with the byte offset where each starts; it never interprets them. A line
// longer than the configured maximum is cut, counted and delivered, and the
// rest of it skipped, so one huge line never stops or bloats the stream.
package source

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"unsafe"
)

// DefaultMaxLine is the longest line delivered whole; nginx itself cuts
// error lines at 2 KiB and Gunicorn records are rarely over a few KiB.
const DefaultMaxLine = 64 << 10

// LineReader splits a stream into lines, tracking byte offsets.
type LineReader struct {
	r       *bufio.Reader
	max     int
	off     int64 // offset of the next unread byte
	buf     []byte
	Lines   int64 // lines returned
	Cut     int64 // lines longer than max, returned cut
	partial bool  // the last line had no newline (end of input)
	arena   []byte
}

// NewLineReader reads lines of at most maxLine bytes from r; maxLine <= 0
// means DefaultMaxLine. start is the offset of r's first byte in its file.
func NewLineReader(r io.Reader, maxLine int, start int64) *LineReader {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	return &LineReader{r: bufio.NewReaderSize(r, 64<<10), max: maxLine, off: start}
}

// Offset is the offset just past the last line returned.
func (lr *LineReader) Offset() int64 { return lr.off }

// Next returns the next line without its "\n" (and "\r"), the offset of its
// first byte, and whether it was cut. The line is valid until the next call.
// At the end of input Next returns io.EOF; a last line without a newline is
// returned first.
func (lr *LineReader) Next() (line []byte, offset int64, cut bool, err error) {
	offset = lr.off
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.off += int64(len(chunk))
		content := chunk
		if err == nil {
			content = chunk[:len(chunk)-1] // the newline does not count
		}
		if room := lr.max - len(lr.buf); room > 0 {
			take := chunk
			if len(content) > room {
				take = content[:room]
				cut = true
			}
			if len(lr.buf) == 0 && err == nil && !cut {
				// The common case: a whole line in the reader's buffer.
				line = trimEOL(chunk)
				lr.Lines++
				return line, offset, false, nil
			}
			lr.buf = append(lr.buf, take...)
		} else if len(content) > 0 {
			cut = true
		}
		switch {
		case err == nil:
			return lr.finish(offset, cut)
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(lr.buf) == 0 && !cut {
				return nil, offset, false, io.EOF
			}
			lr.partial = true
			return lr.finish(offset, cut)
		default:
			return nil, offset, false, err
		}
	}
}

func (lr *LineReader) finish(offset int64, cut bool) ([]byte, int64, bool, error) {
	lr.Lines++
	if cut {
		lr.Cut++
	}
	return trimEOL(lr.buf), offset, cut, nil
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// arenaSize is the block that String copies lines into: one allocation per
// block instead of one per line.
const arenaSize = 64 << 10

// String returns b (a line Next returned) as a string that stays valid
// after later calls. Short lines are copied into a shared block that is
// never written again once used, so the strings are immutable like any
// other; a block is freed when no string of it is left.
func (lr *LineReader) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaSize/8 {
		return string(b)
	}
	if cap(lr.arena)-len(lr.arena) < len(b) {
		lr.arena = make([]byte, 0, arenaSize)
	}
	start := len(lr.arena)
	lr.arena = append(lr.arena, b...)
	return unsafe.String(&lr.arena[start], len(b))
}
