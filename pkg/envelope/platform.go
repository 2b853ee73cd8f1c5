package envelope

import (
	"strings"
	"time"
)

// This file holds the prefixes of supervisord's own log and of copies from
// Google Cloud's log consoles.

// supervisordLevels are supervisor's level names (supervisor/loggers.py).
var supervisordLevels = [...]string{"CRIT", "ERRO", "WARN", "INFO", "DEBG", "TRAC", "BLAT"}

// supervisordLine reads supervisord's main log, "2024-10-18 05:52:57,379
// WARN exited: gunicorn (exit status 3; not expected)". The message is the
// inner text, so that "exited: ... (exit status 3" reaches the signatures.
// Gunicorn with a %(asctime)s logging format writes the same stamp, but
// follows it with "[pid]", never with one of supervisor's level words.
func (u *Unwrapper) supervisordLine(p *peel, s string) (string, bool) {
	if len(s) < 29 || s[13] != ':' || s[19] != ',' || s[23] != ' ' || s[28] != ' ' {
		return s, false
	}
	level := s[24:28]
	known := false
	for _, l := range supervisordLevels {
		if level == l {
			known = true
			break
		}
	}
	if !known || len(s) > 29 && s[29] == '[' {
		return s, false
	}
	y, ok1 := num(s, 0, 4)
	mo, ok2 := num(s, 5, 2)
	d, ok3 := num(s, 8, 2)
	h, m, sec, ok4 := clock(s, 11)
	ms, ok5 := num(s, 20, 3)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !validDate(y, mo, d) || !p.env.push(Supervisord) {
		return s, false
	}
	p.env.Time = time.Date(y, time.Month(mo), d, h, m, sec, ms*1e6, u.ctx.loc())
	p.env.Program = "supervisord"
	p.env.Level = level
	p.keyString("supervisord")
	return s[29:], true
}

// gcpLetters maps the severity letter of the legacy Logs Viewer copy to its
// severity; "A" is what the viewer showed for DEFAULT ("any").
func gcpLetter(c byte) string {
	switch c {
	case 'A':
		return "DEFAULT"
	case 'D':
		return "DEBUG"
	case 'I':
		return "INFO"
	case 'N':
		return "NOTICE"
	case 'W':
		return "WARNING"
	case 'E':
		return "ERROR"
	case 'C':
		return "CRITICAL"
	}
	return ""
}

// gcpLegacy reads a line copied from the legacy Logs Viewer: a severity
// letter and two spaces.
func gcpLegacy(p *peel, s string) (string, bool) {
	level := gcpLetter(s[0])
	if level == "" || !p.env.push(GCPConsole) {
		return s, false
	}
	p.env.Level = level
	return s[3:], true
}

var gcpSeverities = [...]string{"DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"}

// gcpExplorer reads a line copied from Logs Explorer:
// "DEFAULT 2024-04-07T07:56:06.463491Z msg".
func (u *Unwrapper) gcpExplorer(p *peel, s string) (string, bool) {
	sp := strings.IndexByte(s, ' ')
	if sp < 4 || sp > 9 || len(s) < sp+21 || !isDigit(s[sp+1]) {
		return s, false
	}
	level := s[:sp]
	known := false
	for _, l := range gcpSeverities {
		if level == l {
			known = true
			break
		}
	}
	if !known {
		return s, false
	}
	rest := s[sp+1:]
	st, ok := parseISO(rest, u.ctx.loc())
	if !ok || st.zone == zoneNone || st.n >= len(rest) || rest[st.n] != ' ' || !p.env.push(GCPConsole) {
		return s, false
	}
	p.env.Level = level
	p.env.Time = st.t
	return rest[st.n+1:], true
}
