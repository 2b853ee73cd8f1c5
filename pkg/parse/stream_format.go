package parse

import (
	"strings"

	"github.com/sigtail/sigtail/pkg/envelope"
)

// classify returns the format whose record text starts, FormatUnknown when
// it starts none (a continuation line, or text of no known format). For a
// single-line format it parses text whole into s.scratch while checking,
// and says so, so that the line is not parsed twice.
func (s *Stream) classify(k *keyState, text string, env *envelope.Envelope) (Format, bool) {
	if s.cfg.Format != FormatUnknown {
		if p := s.parser(s.cfg.Format); p != nil && p.Starts(text) {
			return s.cfg.Format, false
		}
		return FormatUnknown, false
	}
	if text == "" || text[0] == ' ' || text[0] == '\t' {
		// No format's record starts with blanks: a traceback's "  File"
		// line, a kernel dictionary line.
		return FormatUnknown, false
	}
	if k.format != FormatUnknown {
		if ok, parsed := s.sniff(k.format, text, env); ok {
			return k.format, parsed
		}
	}
	hint := formatHint(env)
	if hint != FormatUnknown && hint != k.format {
		if ok, parsed := s.sniff(hint, text, env); ok {
			return hint, parsed
		}
	}
	for _, f := range formatOrder {
		if f == k.format || f == hint {
			continue
		}
		if ok, parsed := s.sniff(f, text, env); ok {
			return f, parsed
		}
	}
	return FormatUnknown, false
}

// sniff reports whether text begins a record of format f, by that format's
// own header (never by a parser's leniency: Gunicorn's parser takes any
// text, nginx access's Starts is always true).
func (s *Stream) sniff(f Format, text string, env *envelope.Envelope) (ok, parsed bool) {
	p := s.parser(f)
	if p == nil {
		return false, false
	}
	switch f {
	case FormatGunicorn:
		if _, _, ok := gunicornHeader(text); ok {
			return true, false
		}
		if gunicornVariantStarts(text) {
			return true, false
		}
		if gunicornSyslogProgram(env) {
			// The body of a --log-syslog record, its "gunicorn.NAME.error:"
			// tag taken off by the envelope.
			_, _, ok := gunicornPID(text)
			return ok, false
		}
		return gunicornEvidence(text), false
	case FormatNginxError:
		return p.Starts(text), false
	case FormatKernel:
		var ev = s.scratch
		resetEvent(ev, FormatKernel, text)
		_, _, ok := parseKernelLine(text, &s.ctx, ev)
		return ok, false
	}
	// Single-line formats (nginx access, Caddy): parsing is the check.
	ok = p.Parse(text, &s.ctx, s.scratch)
	return ok, ok
}

// formatHint is the format the envelope's program, container or unit name
// points to, FormatUnknown when it names none. It only orders the formats
// tried: identifiers are whatever started the process ("wsgi.sh",
// "python3"), so a name never excludes a format.
func formatHint(env *envelope.Envelope) Format {
	if env.N == 0 {
		return FormatUnknown
	}
	for _, name := range [...]string{env.Program, env.Container, env.Unit} {
		switch {
		case name == "":
		case name == "kernel", strings.HasPrefix(name, "systemd"):
			// systemd's own lines (coredump, oomd, unit results) come with
			// kernel events and are read with them, as the kernel format's
			// signatures expect.
			return FormatKernel
		case strings.Contains(name, "gunicorn"):
			return FormatGunicorn
		case strings.Contains(name, "nginx"):
			return FormatNginxError
		case strings.Contains(name, "caddy"):
			return FormatCaddy
		}
	}
	return FormatUnknown
}

// gunicornSyslogProgram reports whether the envelope's program is the tag
// of Gunicorn's --log-syslog error records.
func gunicornSyslogProgram(env *envelope.Envelope) bool {
	return isGunicornErrorTag(env.Program)
}

// parse parses rec as format f into ev; false when f is unknown or its
// parser refuses the record and no other format takes it.
func (s *Stream) parse(f Format, rec string, env *envelope.Envelope, ev *Event) bool {
	if f == FormatUnknown {
		return false
	}
	if f == FormatGunicorn && gunicornSyslogProgram(env) {
		resetEvent(ev, FormatGunicorn, rec)
		if gunicornSyslogBody(rec, ev) {
			return true
		}
	}
	if s.parser(f).Parse(rec, &s.ctx, ev) {
		return true
	}
	// The forced format did not take it: a stray line of another format
	// (a syslog file holds many).
	for _, g := range formatOrder {
		if g == f || g == FormatGunicorn {
			// Gunicorn's parser takes any text as a headerless record:
			// such text is matched as text instead.
			continue
		}
		if p := s.parser(g); p != nil && p.Parse(rec, &s.ctx, ev) {
			return true
		}
	}
	return false
}

// text makes an event of a record no format's header starts: a fragment
// pasted from the middle of a line, app output between Gunicorn's records,
// a bare traceback. When the envelope names the program (the kernel,
// Gunicorn) it is that program's text. Otherwise a Gunicorn header
// somewhere inside the line (a record spliced into another writer's line)
// or a Python "[LEVEL] " gives its level and where the message starts.
func (s *Stream) text(rec string, env *envelope.Envelope, ev *Event) {
	switch formatHint(env) {
	case FormatKernel:
		resetEvent(ev, FormatKernel, rec)
		ev.Message = rec
		return
	case FormatGunicorn:
		if s.parser(FormatGunicorn).Parse(rec, &s.ctx, ev) {
			return
		}
	}
	first, _, _ := strings.Cut(rec, "\n")
	if req, status, ok := requestFragment(first); ok {
		// What is left of an access-log line: the request and its status.
		resetEvent(ev, FormatNginxAccess, rec)
		ev.Message = req
		ev.addField("request", req)
		ev.addField("status", status)
		return
	}
	resetEvent(ev, FormatUnknown, rec)
	ev.Message = rec
	if n, ok := nginxHeaderTail(first, ev); ok {
		// "rror] 29#29: *27 upstream ...": an nginx error line whose start
		// was lost in a paste.
		resetEvent(ev, FormatNginxError, rec)
		nginxHeaderTail(first, ev)
		nginxBody(rec[n:], ev)
		return
	}
	for i := strings.IndexByte(first, '['); i >= 0; {
		if h, n, ok := gunicornHeader(rec[i:]); ok {
			resetEvent(ev, FormatGunicorn, rec)
			ev.Time, ev.PID, ev.Level = h.time, h.pid, h.level
			ev.Message = loggerName(rec[i+n:], ev)
			return
		}
		if level, n, ok := bracketLevel(first[i:]); ok && ev.Level == "" {
			ev.Level = level
			ev.Message = rec[i+n:]
		}
		j := strings.IndexByte(first[i+1:], '[')
		if j < 0 {
			break
		}
		i += 1 + j
	}
}

// bracketLevel reads "[LEVEL] " with a Python or nginx level name.
func bracketLevel(s string) (string, int, bool) {
	end := strings.IndexByte(s, ']')
	if end < 2 || end > len("[CRITICAL") || end+1 >= len(s) || s[end+1] != ' ' {
		return "", 0, false
	}
	l := s[1:end]
	if !pyLevel(l) && !nginxLevel(l) {
		return "", 0, false
	}
	return l, end + 2, true
}

// requestFragment finds `"METHOD URI HTTP/x.y" STATUS` in a line: the part
// of an access-log line that survives when a paste lost the rest.
func requestFragment(s string) (request, status string, ok bool) {
	h := strings.Index(s, " HTTP/")
	if h < 0 {
		return "", "", false
	}
	open := strings.LastIndexByte(s[:h], '"')
	end := strings.IndexByte(s[h:], '"')
	if open < 0 || end < 0 {
		return "", "", false
	}
	end += h
	rest := s[end+1:]
	if len(rest) < 4 || rest[0] != ' ' || !isDigit(rest[1]) || !isDigit(rest[2]) || !isDigit(rest[3]) ||
		(len(rest) > 4 && rest[4] != ' ') {
		return "", "", false
	}
	return s[open+1 : end], rest[1:4], true
}

// nginxHeaderTail reads what is left of nginx's "[level] PID#TID: *CID "
// when the start of the line is lost: "error] 29#29: *27 " or "] 29#29: ".
// It returns where the message starts.
func nginxHeaderTail(s string, ev *Event) (int, bool) {
	end := strings.IndexByte(s, ']')
	if end < 0 || end > len("[emerg") || !strings.HasPrefix(s[end:], "] ") {
		return 0, false
	}
	word := s[:end]
	level := ""
	for _, l := range [...]string{"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"} {
		if strings.HasSuffix(l, word) {
			level = l
			break
		}
	}
	if level == "" && word != "" {
		return 0, false
	}
	rest := s[end+2:]
	hash := digitsAt(rest, 0)
	if hash == 0 || hash >= len(rest) || rest[hash] != '#' {
		return 0, false
	}
	colon := digitsAt(rest, hash+1)
	if colon == hash+1 || !strings.HasPrefix(rest[colon:], ": ") {
		return 0, false
	}
	if word == level {
		ev.Level = level
	}
	ev.PID, _ = atoi(rest[:hash])
	n := end + 2 + colon + 2
	if m := s[n:]; len(m) > 1 && m[0] == '*' {
		if e := digitsAt(m, 1); e > 1 && e < len(m) && m[e] == ' ' {
			n += e + 1
		}
	}
	return n, true
}

// unwrapLine joins a line of text to the line of text before it when the
// two read as one record of a known format: a line a terminal or a poster
// hard-wrapped (an access-log line cut before its status, a Caddy JSON
// object cut in two). The joined record is ended at once. It reports
// whether it joined them.
func (s *Stream) unwrapLine(k *keyState, text string, l *envelope.Line) bool {
	prev := k.rec.Text
	if len(prev) < 20 || len(text) == 0 {
		return false
	}
	if _, _, ok := requestFragment(prev); ok {
		return false // whole already
	}
	if _, _, ok := requestFragment(text); ok {
		return false
	}
	for _, joined := range [2]string{strings.TrimRight(prev, " ") + " " + text, prev + text} {
		var f Format
		switch {
		case joined[0] == '{' && s.parser(FormatCaddy) != nil && s.parser(FormatCaddy).Parse(joined, &s.ctx, s.scratch):
			f = FormatCaddy
		case s.parser(FormatNginxAccess).Parse(joined, &s.ctx, s.scratch):
			f = FormatNginxAccess
		default:
			if _, _, ok := requestFragment(joined); !ok {
				continue
			}
		}
		k.rec.Text, k.rec.Lines = joined, 2
		k.buf = k.buf[:0]
		k.pf = f
		s.emit(k)
		return true
	}
	return false
}
