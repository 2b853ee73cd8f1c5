// Package parse turns raw log records into events.
//
// Every parser is a pure function of its input: no I/O, no clock, no global
// state. What a parser needs to know about the world that the line does not
// say (the zone of a zoneless timestamp, the year of a yearless one, the boot
// time of a boot-relative one) comes in through Context. Lines of no known
// format are never dropped here: Parse reports them as not parsed and the
// caller counts them.
//
// For returns the parser of a format. A Stream is the one step from
// physical lines to events that every command drives: it takes lines out
// of their envelopes, joins records per writer (a Gunicorn header and its
// traceback, a /dev/kmsg record and its dictionary lines) with caps so that
// a runaway record cannot grow without bound, and chooses each record's
// format.
package parse

import (
	"time"

	"github.com/sigtail/sigtail/pkg/envelope"
)

// Format names a log format. The names are the ones users write in
// configuration and in a signature's `formats` list.
type Format string

// The formats sigtail knows.
const (
	FormatUnknown     Format = ""
	FormatGunicorn    Format = "gunicorn"     // Gunicorn error log (glogging error_fmt), with traceback continuation lines
	FormatNginxError  Format = "nginx-error"  // nginx error_log
	FormatNginxAccess Format = "nginx-access" // nginx access_log, combined or a log_format
	FormatKernel      Format = "kernel"       // dmesg, dmesg -T, /dev/kmsg records, syslog/journal kernel lines
	FormatCaddy       Format = "caddy"        // Caddy v2 logs: JSON (zap) and the console encoder
)

// Formats lists every known format, in a stable order.
var Formats = []Format{FormatGunicorn, FormatNginxError, FormatNginxAccess, FormatKernel, FormatCaddy}

// Valid reports whether f is a known format.
func (f Format) Valid() bool {
	for _, k := range Formats {
		if f == k {
			return true
		}
	}
	return false
}

// Field is one named value a format carries beside its message, such as
// nginx's `upstream` or an access log's `status`.
type Field struct {
	Key, Value string
}

// Event is one parsed record. Strings in an Event share memory with the
// record they were parsed from.
type Event struct {
	Format Format
	// Time is the event's own time, from the record. It is zero when the
	// record carries no time that Context can resolve (for example a raw
	// dmesg line when the boot time is unknown).
	Time time.Time
	// Uptime is the time since boot for kernel records that carry one
	// (dmesg, /dev/kmsg); zero otherwise.
	Uptime time.Duration
	// Level is the severity as the format spells it (INFO, error, warn, 3...).
	Level string
	// PID is the pid of the process that wrote the record (Gunicorn's
	// [pid], nginx's pid#tid); 0 when the format has none.
	PID int
	// Message is what signatures match against by default: for Gunicorn the
	// text after the level plus any continuation lines joined with "\n"; for
	// nginx error the text up to the ", client: " context; for the kernel the
	// text after the timestamp/header; for access logs the request line.
	Message string
	// Fields holds the format's own named values, in the order they appear.
	Fields []Field
	// Raw is the whole record as read, continuation lines included.
	Raw string
	// Lines is how many physical lines the record spans.
	Lines int

	// Env is what the envelopes around the record said (journald, docker,
	// compose...): its time, host, program, container. Set by Stream, not by
	// parsers; nil for a record that came in none (most: a plain file pays
	// nothing for it).
	Env *envelope.Envelope `json:",omitempty"`

	// Source names where the record came from (a path, "-", a unit). It is
	// set by the caller, not by parsers.
	Source string
	// Offset is the byte offset of the record's first line in Source; set by
	// the caller.
	Offset int64
	// LineNo is the 1-based number of the record's first line in Source,
	// when the caller counts lines (0 otherwise); set by the caller.
	LineNo int64
}

// Unparsed reports whether the record is text of no known format that
// is not its envelope's own: a process manager's or platform's own lines
// (supervisord's log, `systemctl status`, Heroku's router and dyno
// manager) are read as text on purpose, an app's print or a line of an
// unknown layout is not understood.
func (e *Event) Unparsed() bool {
	if e.Format != FormatUnknown {
		return false
	}
	env := e.Env
	return env == nil || !(env.Has(envelope.Supervisord) || env.Has(envelope.SystemctlStatus) ||
		(env.Has(envelope.Heroku) && env.Program == "heroku"))
}

// Get returns the value of the named field. "message", "level" and "raw"
// name the Event's own members; any other key is looked up in Fields.
func (e *Event) Get(key string) (string, bool) {
	switch key {
	case "message":
		return e.Message, true
	case "level":
		return e.Level, e.Level != ""
	case "raw":
		return e.Raw, true
	case "program":
		if e.Env == nil {
			return "", false
		}
		return e.Env.Program, e.Env.Program != ""
	case "container":
		if e.Env == nil {
			return "", false
		}
		return e.Env.Container, e.Env.Container != ""
	case "unit":
		if e.Env == nil {
			return "", false
		}
		return e.Env.Unit, e.Env.Unit != ""
	}
	for i := range e.Fields {
		if e.Fields[i].Key == key {
			return e.Fields[i].Value, true
		}
	}
	return "", false
}

// Context is what a parser needs to know that the record itself does not say.
type Context struct {
	// Location is the zone of timestamps that carry none (nginx error log,
	// syslog). nil means UTC.
	Location *time.Location
	// Reference is the latest time the log can be from (for a file, its
	// modification time). Formats without a year take the year that puts
	// the event at or before Reference. Zero means the year of the event is
	// unknown and such records get a zero Time.
	Reference time.Time
	// BootTime is when the host booted, for boot-relative kernel timestamps.
	// Zero means unknown.
	BootTime time.Time
}
