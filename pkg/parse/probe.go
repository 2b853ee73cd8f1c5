package parse

import "strings"

// FormatProbe is sigtail's own record of what the process-table probe
// found, so that it goes through matching and correlation like a log
// record:
//
//	probe: check=workers.missing master=812 live=3 configured=4 | master 812 (gunicorn -w 4 app:app): 3 workers live, 4 configured
//
// key=value fields (values without spaces), then " | " and the facts in
// words, which are the record's message and its evidence. No log holds
// such lines: a Stream never guesses this format; only the daemon's probe
// writes it.
const FormatProbe Format = "probe"

// SignatureFormat reports whether a signature may name f: a log format or
// the probe's.
func SignatureFormat(f Format) bool { return f.Valid() || f == FormatProbe }

type probeParser struct{}

func (probeParser) Format() Format     { return FormatProbe }
func (probeParser) Starts(string) bool { return true }

func (probeParser) Parse(rec string, _ *Context, ev *Event) bool {
	rest, ok := strings.CutPrefix(rec, "probe: ")
	if !ok {
		return false
	}
	head, msg, _ := strings.Cut(rest, " | ")
	resetEvent(ev, FormatProbe, rec)
	for _, tok := range strings.Fields(head) {
		if k, v, ok := strings.Cut(tok, "="); ok && k != "" {
			ev.addField(k, v)
		}
	}
	ev.Message = msg
	return true
}
