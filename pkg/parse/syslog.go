package parse

import (
	"strings"
	"time"
)

// syslogLine is a syslog or journal text line split into its header and
// message: "[<PRI>]TIMESTAMP HOST TAG[PID]: MESSAGE", where TIMESTAMP is BSD
// ("Nov 24 10:00:00", no year, no zone) or RFC 3339 ("2026-11-24T10:00:00.123456+00:00",
// rsyslog's RSYSLOG_FileFormat, `journalctl -o short-iso`). Parsers that read
// other programs' lines through syslog (Gunicorn's --log-syslog, nginx's
// error_log syslog:, the kernel via rsyslog or journald) share it.
type syslogLine struct {
	pri  int // the <PRI> value, -1 when absent
	time time.Time
	host string // "" when the writer left it out
	tag  string
	pid  string // the digits of TAG[PID], "" when absent
	msg  string // everything after "TAG: ", later lines included
}

// parseSyslog splits line (a record; only its first line holds the header).
// It resolves the time through ctx: a BSD timestamp needs ctx.Reference for
// its year and takes ctx.Location as its zone.
func parseSyslog(line string, ctx *Context) (sl syslogLine, ok bool) {
	sl.pri = -1
	s := line
	if len(s) > 0 && s[0] == '<' {
		pri, n, ok := parsePRI(s)
		if !ok {
			return sl, false
		}
		sl.pri = pri
		s = s[n:]
	}
	var n int
	sl.time, n, ok = syslogTime(s, ctx)
	if !ok || n >= len(s) || s[n] != ' ' {
		return sl, false
	}
	s = s[n+1:]
	// "HOST TAG: msg", or "TAG: msg" when the writer left the host out (a
	// host name never ends in ':').
	if tag, pid, rest, ok := syslogTag(s); ok {
		sl.tag, sl.pid, sl.msg = tag, pid, rest
		return sl, true
	}
	sp := strings.IndexByte(s, ' ')
	if sp <= 0 || strings.IndexByte(s[:sp], '\n') >= 0 {
		return sl, false
	}
	sl.host = s[:sp]
	tag, pid, rest, ok := syslogTag(s[sp+1:])
	if !ok {
		return sl, false
	}
	sl.tag, sl.pid, sl.msg = tag, pid, rest
	return sl, true
}

// parsePRI reads "<N>" with N in 0..191 (facility 23, severity 7).
func parsePRI(s string) (pri, n int, ok bool) {
	if len(s) < 3 || s[0] != '<' {
		return 0, 0, false
	}
	end := digitsAt(s, 1)
	if end == 1 || end > 4 || end >= len(s) || s[end] != '>' {
		return 0, 0, false
	}
	pri, _ = atoi(s[1:end])
	if pri > 191 {
		return 0, 0, false
	}
	return pri, end + 1, true
}

// syslogTag reads "TAG: ", "TAG[PID]: " or a TAG with its colon at the end
// of the line. A tag holds no space, '[' or ':'.
func syslogTag(s string) (tag, pid, rest string, ok bool) {
	i := 0
	for i < len(s) && s[i] != ':' && s[i] != '[' && s[i] != ' ' && s[i] != '\n' {
		i++
	}
	if i == 0 || i == len(s) {
		return "", "", "", false
	}
	tag = s[:i]
	if s[i] == '[' {
		end := digitsAt(s, i+1)
		if end == i+1 || end >= len(s) || s[end] != ']' {
			return "", "", "", false
		}
		pid = s[i+1 : end]
		i = end + 1
	}
	if i >= len(s) || s[i] != ':' {
		return "", "", "", false
	}
	i++
	if i < len(s) && s[i] == ' ' {
		i++
	} else if i < len(s) && s[i] != '\n' {
		return "", "", "", false
	}
	return tag, pid, s[i:], true
}

// syslogTime reads a BSD or RFC 3339 timestamp at the start of s.
func syslogTime(s string, ctx *Context) (time.Time, int, bool) {
	if len(s) > 0 && isDigit(s[0]) {
		t, n, sep, ok := isoTime(s, ctx)
		if !ok || sep == ',' {
			return time.Time{}, 0, false
		}
		return t, n, true
	}
	return bsdTime(s, ctx)
}

// bsdTime reads "Mmm dd HH:MM:SS" (day space- or zero-padded).
func bsdTime(s string, ctx *Context) (time.Time, int, bool) {
	if len(s) < 15 || s[3] != ' ' || s[6] != ' ' {
		return time.Time{}, 0, false
	}
	mon, ok := month3(s)
	if !ok {
		return time.Time{}, 0, false
	}
	var day int
	if s[4] == ' ' {
		if !isDigit(s[5]) {
			return time.Time{}, 0, false
		}
		day = int(s[5] - '0')
	} else if day, ok = num2(s, 4); !ok {
		return time.Time{}, 0, false
	}
	h, m, sec, ok := clock(s, 7)
	if !ok || day < 1 || day > 31 {
		return time.Time{}, 0, false
	}
	return yearless(ctx, mon, day, h, m, sec, 0), 15, true
}

// isoTime reads "YYYY-MM-DDTHH:MM:SS[.frac|,frac][zone]". sep is the byte
// before the fraction ('.' or ','), 0 when there is none; a missing zone
// means ctx.Location.
func isoTime(s string, ctx *Context) (t time.Time, n int, sep byte, ok bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') {
		return time.Time{}, 0, 0, false
	}
	y, ok1 := num4(s, 0)
	mo, ok2 := num2(s, 5)
	d, ok3 := num2(s, 8)
	h, mi, sec, ok4 := clock(s, 11)
	if !ok1 || !ok2 || !ok3 || !ok4 || !validDate(y, time.Month(mo), d) {
		return time.Time{}, 0, 0, false
	}
	n = 19
	ns := 0
	if n < len(s) && (s[n] == '.' || s[n] == ',') {
		sep = s[n]
		end := digitsAt(s, n+1)
		if end == n+1 {
			return time.Time{}, 0, 0, false
		}
		ns = fraction(s[n+1 : end])
		n = end
	}
	loc := location(ctx)
	if off, zn, ok := zoneOffset(s[n:]); ok {
		loc = fixedZone(off)
		n += zn
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, loc), n, sep, true
}

// looksSyslog is a cheap test for a syslog header at the start of line,
// without resolving its time.
func looksSyslog(line string) bool {
	_, ok := parseSyslog(line, nil)
	return ok
}
