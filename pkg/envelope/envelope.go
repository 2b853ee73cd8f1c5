// Package envelope takes off the wrappers a log line picks up between the
// program that wrote it and the file sigtail reads, so that the Gunicorn,
// nginx, kernel and Caddy parsers see the producer's own text.
//
// A Gunicorn line may reach us inside a docker json-file record, inside a
// CRI file, behind a compose prefix and a forego prefix, after a journald or
// syslog header, as a Heroku logplex line, pasted from a web page as HTML, or
// several of these at once. The Unwrapper hides all of that: it recognises
// each wrapper by its exact shape, peels them outermost first, keeps what
// they say (time, host, program, unit, container, pid, stream, platform
// level) in an Envelope, re-joins what a wrapper split (docker 16 KiB
// partials, CRI P chunks, Heroku 10000-byte chunks, journald export entries)
// and splits what a wrapper joined (rsyslog #012 escapes, multi-line journal
// messages). It also gives every line a Key naming its writer, so that the
// traceback joiner downstream does not mix two processes that interleave on
// one stream.
//
// Recognisers are strict on purpose: a producer line that merely starts with
// a date, a bracket or a word must come back untouched, because mistaking it
// for a wrapper would eat the producer's own timestamp or level. Plain lines
// cost a first-byte dispatch and a few fixed-position checks, with no
// allocation.
//
// The package never reads files or clocks: what a line does not say (the
// zone of a zoneless stamp, the year of a syslog stamp) comes from Context.
package envelope

import "time"

// Kind names one envelope layer.
type Kind string

// The envelope layers the Unwrapper knows.
const (
	JournalShort    Kind = "journald"         // journalctl short, short-iso, short-iso-precise, short-precise, short-unix
	JournalJSON     Kind = "journald-json"    // journalctl -o json (MESSAGE as string, byte array, or null; __REALTIME_TIMESTAMP)
	JournalExport   Kind = "journald-export"  // journalctl -o export (KEY=value lines, blank line between entries; binary values)
	SystemctlStatus Kind = "systemctl-status" // header, Loaded:/Active:/Main PID:/Process:/CGroup: lines, then a journal tail in short form
	Syslog          Kind = "syslog"           // rsyslog traditional and RSYSLOG_FileFormat, with optional <PRI>; #012/#011 escapes
	RFC5424         Kind = "rfc5424"          // <PRI>1 TS HOST APP PROCID MSGID SD MSG, with optional octet-count prefix; Heroku drains omit SD
	DockerJSON      Kind = "docker-json"      // json-file driver {"log":...,"stream":...,"time":...} with 16 KiB partials
	DockerTime      Kind = "docker-t"         // docker logs -t / kubectl --timestamps / Azure App Service: RFC3339 nano prefix
	CRI             Kind = "cri"              // TIME STREAM P|F[:tags] MSG, P chunks re-joined until F
	Compose         Kind = "compose"          // docker compose v1 and v2 `name  | ` prefixes
	KubectlPrefix   Kind = "kubectl-prefix"   // [pod/NAME/CONTAINER]
	Stern           Kind = "stern"            // [NS ]POD CONTAINER MSG
	K9s             Kind = "k9s"              // │ ... │ pane copy
	Heroku          Kind = "heroku"           // 2020-02-22T16:00:00.284950+00:00 app[web.1]: msg
	Procfile        Kind = "procfile"         // honcho/foreman `HH:MM:SS web.1  | `, forego `web.1 | `
	Supervisord     Kind = "supervisord"      // supervisord's own log: 2024-10-18 05:52:57,379 WARN exited: ...
	GCPJSON         Kind = "gcp-json"         // Cloud Logging LogEntry JSON
	GCPConsole      Kind = "gcp-console"      // legacy viewer copy "E  msg", Logs Explorer copy "DEFAULT 2024-04-07T07:56:06.463491Z msg"
	AWSTail         Kind = "aws-logs-tail"    // aws logs tail: ISO µs+00:00 STREAM msg (detailed) or ISO short
	HTML            Kind = "html"             // <font ...>…</font>, <b>, entities from pasted HTML
	ANSI            Kind = "ansi"             // ANSI escapes stripped (anywhere in the line)
)

// Envelope is what the wrappers of one line said. Strings are substrings of
// the line where possible (no allocation), else freshly allocated; never a
// reused buffer.
type Envelope struct {
	Layers    [6]Kind   // outermost first
	N         int       // how many of Layers are set
	Time      time.Time // the innermost layer time that has one (zero when none says); zone resolved through Context
	Host      string
	Program   string // syslog tag / journald identifier / compose service / container / dyno source ("app", "heroku"), forego process name, k8s container
	PID       string // digits, "" when none
	Unit      string // systemd unit (journal JSON/export _SYSTEMD_UNIT, systemctl status unit)
	Container string // compose/CRI/kubectl/stern container or pod/container, Heroku dyno (web.1)
	Stream    string // stdout/stderr where said
	Level     string // platform level where said (GCP severity, supervisord level, journald PRIORITY digits)
	// Key is equal for lines of the same writer (same unit+pid, same
	// container, same dyno) and "" for a plain line. Continuation lines
	// (tracebacks) are joined per Key downstream, so two processes
	// interleaving on one stream get different keys.
	Key string
}

// Has reports whether layer k is among e's layers.
func (e *Envelope) Has(k Kind) bool {
	for i := 0; i < e.N && i < len(e.Layers); i++ {
		if e.Layers[i] == k {
			return true
		}
	}
	return false
}

// push records layer k below the ones already set. It reports false when
// all slots are taken, which also bounds how deep the peeling goes.
func (e *Envelope) push(k Kind) bool {
	if e.N >= len(e.Layers) {
		return false
	}
	e.Layers[e.N] = k
	e.N++
	return true
}

// Context is what a line does not say.
type Context struct {
	// Location is the zone of zoneless stamps (syslog, journald short,
	// supervisord, honcho); nil means UTC.
	Location *time.Location
	// Reference is the latest time the log can be from (a file's mtime). It
	// gives the year of yearless stamps (BSD syslog, journald short) and the
	// date of honcho's HH:MM:SS. Zero means unknown, and such stamps then
	// give a zero Time.
	Reference time.Time
}

// Line is one producer line with its envelope.
type Line struct {
	Text   string // the producer's text with every envelope removed
	Offset int64  // byte offset (as passed to Add) of the first physical line it came from
	Env    Envelope
}
