package parse

import (
	"strings"
	"time"
)

// gunicornParser reads Gunicorn's error log. Its records are a header line
//
//	[2026-11-24 10:00:00 +0000] [1234] [CRITICAL] WORKER TIMEOUT (pid:1235)
//
// (glogging's error_fmt with its bracketed datefmt, the same in every
// release from 19.9 to 26.1) followed by any number of unprefixed lines:
// tracebacks, the `  setting: value` dump after "Current configuration:",
// and whatever Python or Gunicorn printed straight to stderr ("Error: ...",
// "Failed to find attribute 'app' in 'myapp'.", "--- Logging error ---"
// blocks). Those lines belong to the header before them.
//
// It also reads the --log-syslog form as it lands in syslog or journal text,
//
//	May  1 12:00:00 host gunicorn.myapp.app.error: [4711] message
//
// and as the raw datagram "<11>gunicorn.myapp.app.error: [4711] message\x00".
// That form has no level name: the level comes from <PRI> when present, and
// rsyslog's "#012" escapes are turned back into newlines.
//
// Records without any header (stderr output before the first record, or a
// file that holds only stderr) still parse, with an empty Level, PID 0 and
// zero Time, so that a boot failure whose only trace is a bare
// "Failed to find attribute ..." line still reaches the signatures. Detect
// does not count such records as evidence of the format.
type gunicornParser struct{}

var _ Parser = gunicornParser{}

func (gunicornParser) Format() Format { return FormatGunicorn }

// Starts is true for a bracketed header and for any syslog-framed line: in
// a syslog file every line is its own record (rsyslog escapes embedded
// newlines), while in Gunicorn's own log nothing but a header starts one.
func (gunicornParser) Starts(line string) bool {
	if _, _, ok := gunicornHeader(line); ok {
		return true
	}
	if gunicornVariantStarts(line) {
		return true
	}
	if len(line) > 0 && line[0] == '<' {
		if _, _, ok := gunicornWire(line); ok {
			return true
		}
	}
	return looksSyslog(line)
}

// RecordEnds reports that a syslog-framed line needs no continuation, so the
// Joiner hands it on at once. A bracketed header may always be followed by a
// traceback, and the raw datagram form can carry real newlines.
func (gunicornParser) RecordEnds(line string, first bool) bool {
	if !first || len(line) == 0 || line[0] == '[' {
		return false
	}
	if line[0] == '{' {
		return pyJSONLike(line)
	}
	if line[0] == '<' {
		if _, _, ok := gunicornWire(line); ok {
			return false
		}
	}
	return looksSyslog(line)
}

func (gunicornParser) Parse(rec string, ctx *Context, ev *Event) bool {
	if strings.TrimSpace(rec) == "" {
		clearEvent(ev)
		return false
	}
	resetEvent(ev, FormatGunicorn, rec)
	if h, n, ok := gunicornHeader(rec); ok {
		ev.Time, ev.PID, ev.Level = h.time, h.pid, h.level
		ev.Message = loggerName(rec[n:], ev)
		return true
	}
	if gunicornVariant(rec, ctx, ev) {
		return true
	}
	if pri, n, ok := gunicornWire(rec); ok && gunicornSyslogBody(rec[n:], ev) {
		ev.Level = gunicornSyslogLevel(pri)
		return true
	}
	if sl, ok := parseSyslog(rec, ctx); ok && isGunicornErrorTag(sl.tag) {
		if sl.host != "" {
			ev.addField("host", sl.host)
		}
		ev.addField("tag", sl.tag)
		if sl.pri >= 0 {
			ev.Level = gunicornSyslogLevel(sl.pri)
		}
		ev.Time = sl.time
		if gunicornSyslogBody(sl.msg, ev) {
			return true
		}
		ev.Fields = ev.Fields[:0]
		ev.Level, ev.Time = "", time.Time{}
	}
	// No header: keep the text so nothing is lost.
	ev.Message = rec
	return true
}

// gunicornEvidence reports whether line is a Gunicorn record header in any of
// its forms; Detect counts only these.
func gunicornEvidence(line string) bool {
	if _, _, ok := gunicornHeader(line); ok {
		return true
	}
	if gunicornVariantStarts(line) {
		return true
	}
	if _, n, ok := gunicornWire(line); ok {
		_, _, ok = gunicornPID(line[n:])
		return ok
	}
	sl, ok := parseSyslog(line, nil)
	if !ok || !isGunicornErrorTag(sl.tag) {
		return false
	}
	_, _, ok = gunicornPID(sl.msg)
	return ok
}

type gunicornHead struct {
	time  time.Time
	pid   int
	level string
}

// gunicornHeader reads "[YYYY-MM-DD HH:MM:SS +ZZZZ] [PID] [LEVEL] " and
// returns the index where the message starts. LEVEL is any run of capital
// letters: glogging only writes DEBUG, INFO, WARNING, ERROR and CRITICAL, but
// a logconfig may add levels of its own.
func gunicornHeader(s string) (h gunicornHead, msg int, ok bool) {
	const tsEnd = len("[2026-11-24 10:00:00 +0000]")
	if len(s) < tsEnd+len(" [1] [X]") || s[0] != '[' || s[5] != '-' || s[8] != '-' ||
		s[11] != ' ' || s[20] != ' ' || s[26] != ']' || s[27] != ' ' || s[28] != '[' {
		return h, 0, false
	}
	y, ok1 := num4(s, 1)
	mo, ok2 := num2(s, 6)
	d, ok3 := num2(s, 9)
	hh, mm, ss, ok4 := clock(s, 12)
	off, zn, ok5 := zoneOffset(s[21:26])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || zn != 5 || !validDate(y, time.Month(mo), d) {
		return h, 0, false
	}
	if h.pid, h.level, msg, ok = pidLevel(s, 29); !ok {
		return h, 0, false
	}
	if msg < len(s) && s[msg] == ' ' {
		msg++
	} else if msg < len(s) && s[msg] != '\n' {
		return h, 0, false
	}
	h.time = time.Date(y, time.Month(mo), d, hh, mm, ss, 0, fixedZone(off))
	return h, msg, true
}

// pidLevel reads "PID] [LEVEL]" from s[i:], the part of glogging's header
// after the opening bracket of the pid, and returns where it ends.
func pidLevel(s string, i int) (pid int, level string, end int, ok bool) {
	e := digitsAt(s, i)
	if e == i || e+3 > len(s) || s[e] != ']' || s[e+1] != ' ' || s[e+2] != '[' {
		return 0, "", 0, false
	}
	if pid, ok = atoi(s[i:e]); !ok {
		return 0, "", 0, false
	}
	i = e + 3
	e = i
	for e < len(s) && s[e] >= 'A' && s[e] <= 'Z' {
		e++
	}
	if e == i || e >= len(s) || s[e] != ']' {
		return 0, "", 0, false
	}
	return pid, s[i:e], e + 1, true
}

// gunicornWire reads the "<PRI>gunicorn.NAME.error: " start of a raw
// SysLogHandler datagram and returns where "[PID] ..." begins.
func gunicornWire(s string) (pri, n int, ok bool) {
	pri, n, ok = parsePRI(s)
	if !ok {
		return 0, 0, false
	}
	tag, _, rest, ok := syslogTag(s[n:])
	if !ok || !isGunicornErrorTag(tag) {
		return 0, 0, false
	}
	return pri, len(s) - len(rest), true
}

// isGunicornErrorTag: glogging names its syslog tag
// "gunicorn.<prefix>.error" (access lines use ".access" and are not error
// records).
func isGunicornErrorTag(tag string) bool {
	return len(tag) > len("gunicorn..error") && strings.HasPrefix(tag, "gunicorn.") && strings.HasSuffix(tag, ".error")
}

// gunicornPID reads the "[PID] " that glogging's syslog format puts first.
func gunicornPID(s string) (pid, n int, ok bool) {
	if len(s) < 3 || s[0] != '[' {
		return 0, 0, false
	}
	end := digitsAt(s, 1)
	if end == 1 || end >= len(s) || s[end] != ']' {
		return 0, 0, false
	}
	pid, ok = atoi(s[1:end])
	n = end + 1
	if n < len(s) && s[n] == ' ' {
		n++
	}
	return pid, n, ok
}

// gunicornSyslogBody fills PID and Message from "[PID] message".
func gunicornSyslogBody(s string, ev *Event) bool {
	pid, n, ok := gunicornPID(s)
	if !ok {
		return false
	}
	ev.PID = pid
	msg := s[n:]
	// SysLogHandler ends each datagram with a NUL.
	msg = strings.TrimRight(msg, "\x00")
	ev.Message = unescapeRsyslog(msg)
	return true
}

// gunicornSyslogLevel names the glogging level that SysLogHandler mapped to
// this severity.
func gunicornSyslogLevel(pri int) string {
	switch pri & 7 {
	case 0, 1, 2:
		return "CRITICAL"
	case 3:
		return "ERROR"
	case 4:
		return "WARNING"
	case 5, 6:
		return "INFO"
	}
	return "DEBUG"
}

// unescapeRsyslog undoes rsyslog's control-character escaping, "#" followed
// by three octal digits ("#012" for a newline, "#011" for a tab), which is how
// a traceback sent as one datagram shows up in /var/log/syslog. Only control
// characters are decoded: rsyslog escapes nothing else, so "#123" in a URL
// stays as it is.
func unescapeRsyslog(s string) string {
	i := strings.Index(s, "#0")
	if i < 0 && !strings.Contains(s, "#177") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for i = 0; i+4 <= len(s); i++ {
		if s[i] != '#' {
			continue
		}
		c, ok := octal3(s[i+1 : i+4])
		if !ok || (c >= 0x20 && c != 0x7f) {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteByte(c)
		last = i + 4
		i += 3
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func octal3(s string) (byte, bool) {
	v := 0
	for i := 0; i < 3; i++ {
		c := s[i]
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + int(c-'0')
	}
	return byte(v), v < 256
}
