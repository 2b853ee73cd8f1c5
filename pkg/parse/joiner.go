package parse

// Record is one record made of one or more physical lines.
type Record struct {
	// Text is the record's lines joined with "\n", without a trailing
	// newline. A one-line record's Text is the line itself, not a copy.
	Text string
	// Offset is the byte offset of the record's first line, as passed to Add.
	Offset int64
	// Lines is how many lines Text holds.
	Lines int
	// Truncated is set when continuation lines were dropped because the
	// record reached the Joiner's maxLines or maxBytes; Dropped counts them.
	// Lines+Dropped is the record's physical length.
	Truncated bool
	Dropped   int
}

// Default caps of a Joiner, used when NewJoiner is given a value below 1.
// A Python traceback is rarely over a hundred lines; a /dev/kmsg record's
// dictionary is a handful.
const (
	DefaultMaxLines = 500
	DefaultMaxBytes = 64 << 10
)

// recordEnder is the optional method a Parser implements when it can tell
// from a line that the record the line belongs to is complete, so that the
// Joiner need not wait for the next record's first line: RecordEnds(line,
// first) where first is true for a record's first line. The parsers of this
// package implement it (always true for nginx-access, true for nginx-error
// unless a FastCGI stderr text is left open, true for syslog-framed
// Gunicorn lines and journal JSON). A Parser without it gets its records
// when the next one starts, or on Flush.
type recordEnder interface {
	RecordEnds(line string, first bool) bool
}

// Joiner turns physical lines into records for a Parser: a line for which
// Parser.Starts is false is added to the record before it. It keeps the
// first lines of a record that grows past its caps and drops (and counts)
// the rest, so one runaway traceback cannot hold unbounded memory.
//
// For single-line formats every Add returns the line's own record at once.
// For multi-line formats (Gunicorn, the kernel, nginx error records that
// carry a FastCGI stderr text) a record is returned when the next one
// starts, so a reader that follows a live file must call Flush when input
// has been idle for a while, or the last record waits for the next line.
//
// A Joiner is not safe for concurrent use.
type Joiner struct {
	p        Parser
	ender    recordEnder // nil when p cannot tell
	maxLines int
	maxBytes int

	pending bool
	rec     Record // the pending record; Text holds its first line
	buf     []byte // the pending record's text once it has a second line
	out     []Record
}

// NewJoiner returns a Joiner for p that caps records at maxLines lines and
// maxBytes bytes (values below 1 select DefaultMaxLines and DefaultMaxBytes).
// A record's first line is always kept whole, whatever its length; the
// caps apply to the continuation lines after it.
func NewJoiner(p Parser, maxLines, maxBytes int) *Joiner {
	if maxLines < 1 {
		maxLines = DefaultMaxLines
	}
	if maxBytes < 1 {
		maxBytes = DefaultMaxBytes
	}
	j := &Joiner{p: p, maxLines: maxLines, maxBytes: maxBytes, out: make([]Record, 0, 2)}
	j.ender, _ = p.(recordEnder)
	return j
}

// Add takes the next physical line (without its newline) and the byte offset
// where it starts, and returns the records this line completed, oldest first.
// The returned slice is reused: it is valid only until the next call to Add
// or Flush.
func (j *Joiner) Add(line string, offset int64) []Record {
	j.out = j.out[:0]
	if j.pending && !j.p.Starts(line) {
		j.continueWith(line)
		if j.ender != nil && j.ender.RecordEnds(line, false) {
			j.out = append(j.out, j.take())
		}
		return j.out
	}
	// A line that does not start a record but has nothing before it (the
	// head of a file, or the line after a complete record) starts one all
	// the same, so that it is not lost.
	if j.pending {
		j.out = append(j.out, j.take())
	}
	j.pending = true
	j.rec = Record{Text: line, Offset: offset, Lines: 1}
	if j.ender != nil && j.ender.RecordEnds(line, true) {
		j.out = append(j.out, j.take())
	}
	return j.out
}

// continueWith adds a continuation line to the pending record, or drops it
// when the record is at its caps.
func (j *Joiner) continueWith(line string) {
	j.buf = j.rec.grow(j.buf, line, j.maxLines, j.maxBytes)
}

// grow adds a continuation line to r, whose text past its first line is
// kept in buf, or drops it (and counts it) when r is at its caps; it
// returns buf.
func (r *Record) grow(buf []byte, line string, maxLines, maxBytes int) []byte {
	size := len(r.Text)
	if len(buf) > 0 {
		size = len(buf)
	}
	if r.Truncated || r.Lines >= maxLines || size+1+len(line) > maxBytes {
		// Once a line is dropped, every later one is too: a record with a
		// hole in its middle would read as something it is not.
		r.Truncated = true
		r.Dropped++
		return buf
	}
	if len(buf) == 0 {
		buf = append(buf[:0], r.Text...)
	}
	buf = append(buf, '\n')
	buf = append(buf, line...)
	r.Lines++
	return buf
}

// take ends the pending record and returns it.
func (j *Joiner) take() Record {
	r := j.rec
	if len(j.buf) > 0 {
		r.Text = string(j.buf)
		j.buf = j.buf[:0]
	}
	j.pending = false
	j.rec = Record{}
	return r
}

// Flush ends the pending record, if any, and returns it: at the end of the
// input, or when the caller decides the input has been idle long enough.
// The returned slice is valid until the next call to Add or Flush.
func (j *Joiner) Flush() []Record {
	j.out = j.out[:0]
	if j.pending {
		j.out = append(j.out, j.take())
	}
	return j.out
}

// Pending reports whether a record is waiting for more lines.
func (j *Joiner) Pending() bool { return j.pending }
