package parse

// Parser parses the records of one format. Implementations are pure and safe
// for concurrent use; they never panic on any input.
type Parser interface {
	// Format names the format this parser reads.
	Format() Format
	// Starts reports whether line begins a new record. A line for which it
	// returns false continues the record before it (a Python traceback
	// after a Gunicorn record, a /dev/kmsg " KEY=value" dictionary line).
	// For single-line formats it always returns true.
	Starts(line string) bool
	// Parse fills ev from rec, one record whose physical lines are joined
	// with "\n" and carry no trailing newline. It resets every member of ev
	// that it owns (all but Source and Offset) and returns false when rec is
	// not of this format.
	Parse(rec string, ctx *Context, ev *Event) bool
}
