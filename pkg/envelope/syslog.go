package envelope

import (
	"strings"
	"time"
)

// This file holds the headers of the syslog family: journalctl's short
// forms, rsyslog's traditional and high-precision file formats, RFC 3164 and
// RFC 5424 with their <PRI>, and the ISO-stamped prefixes that share their
// first bytes (CRI, Heroku, docker -t, aws logs tail).

// severityDigits turns a syslog severity into the digit string journald
// prints as PRIORITY, without allocating.
var severityDigits = [8]string{"0", "1", "2", "3", "4", "5", "6", "7"}

// hostTag is the part of a syslog header after the stamp:
// "host ident[pid]: " or, without a host (journalctl --no-hostname, a
// <PRI>tag: datagram), "ident[pid]: ".
type hostTag struct {
	host, ident, pid string
	keyEnd           int // "host ident[pid]" is s[:keyEnd]
	msg              int // where the message starts
}

func splitHostTag(s string) (h hostTag, ok bool) {
	tok := s
	if i := strings.IndexByte(s, ' '); i >= 0 {
		tok = s[:i]
	}
	if ident, pid, ok := tagToken(tok); ok {
		h.ident, h.pid, h.keyEnd = ident, pid, len(tok)-1
		h.msg = msgStart(s, len(tok))
		return h, true
	}
	if len(tok) == len(s) || !validHost(tok) {
		return h, false
	}
	rest := s[len(tok)+1:]
	tok2 := rest
	if i := strings.IndexByte(rest, ' '); i >= 0 {
		tok2 = rest[:i]
	}
	ident, pid, ok := tagToken(tok2)
	if !ok {
		return h, false
	}
	h.host, h.ident, h.pid = tok, ident, pid
	end := len(tok) + 1 + len(tok2)
	h.keyEnd = end - 1
	h.msg = msgStart(s, end)
	return h, true
}

// msgStart skips the one space after "tag:"; rsyslog's sp-if-no-1st-sp and
// journalctl's ": " both put exactly one there, and more spaces belong to
// the message (a traceback's indentation).
func msgStart(s string, i int) int {
	if i < len(s) && s[i] == ' ' {
		return i + 1
	}
	return i
}

// tagToken reads "ident:" or "ident[pid]:".
func tagToken(tok string) (ident, pid string, ok bool) {
	if len(tok) < 2 || len(tok) > 130 || tok[len(tok)-1] != ':' {
		return "", "", false
	}
	t := tok[:len(tok)-1]
	if t[len(t)-1] == ']' {
		i := strings.LastIndexByte(t, '[')
		if i <= 0 || i+2 > len(t)-1 {
			return "", "", false
		}
		pid = t[i+1 : len(t)-1]
		for j := 0; j < len(pid); j++ {
			if !isDigit(pid[j]) {
				return "", "", false
			}
		}
		t = t[:i]
	}
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c <= ' ' || c == 0x7f, c == ':', c == '[', c == ']', c == '"', c == '{', c == '}', c == '|', c == '=':
			return "", "", false
		}
	}
	return t, pid, true
}

// validHost accepts the host names, addresses and short names rsyslog and
// journald print.
func validHost(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlpha(c) || isDigit(c) || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// hasEscapes reports whether msg holds rsyslog's "#ooo" escapes of control
// characters (#012 newline, #011 tab).
func hasEscapes(msg string) bool {
	for i := strings.IndexByte(msg, '#'); i >= 0; {
		if _, ok := octalEscape(msg, i); ok {
			return true
		}
		j := strings.IndexByte(msg[i+1:], '#')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// octalEscape reads "#ooo" at s[i] when it encodes a control character.
func octalEscape(s string, i int) (byte, bool) {
	if i+4 > len(s) || s[i] != '#' {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i+1 : i+4]) {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + int(c-'0')
	}
	if v >= 0o40 && v != 0o177 {
		return 0, false
	}
	return byte(v), true
}

// unescape turns rsyslog's "#012" back into a newline (and the other
// control characters likewise), so that the lines of a multi-line record
// come back one by one.
func unescape(msg string) string {
	b := make([]byte, 0, len(msg))
	for i := 0; i < len(msg); {
		if c, ok := octalEscape(msg, i); ok {
			b = append(b, c)
			i += 4
			continue
		}
		b = append(b, msg[i])
		i++
	}
	return string(b)
}

// syslogBody records a syslog-family header that ends at rest[h.msg] and
// returns the message. kind is the caller's guess, overridden by #012
// escapes (only rsyslog writes them).
func (u *Unwrapper) syslogBody(p *peel, s, rest string, h hostTag, kind Kind, t time.Time, pri int) (string, bool) {
	msg := rest[h.msg:]
	escaped := hasEscapes(msg)
	if escaped {
		// Only rsyslog escapes; the BSD stamps of this stream are its.
		kind, u.bsdKind = Syslog, Syslog
	}
	outer := p.env.N == 0 && p.raw && len(s) == len(p.base)
	if !p.env.push(kind) {
		return s, false
	}
	if h.host != "" {
		p.env.Host = h.host
	}
	p.env.Program = h.ident
	p.env.PID = h.pid
	if pri >= 0 {
		p.env.Level = severityDigits[pri&7]
	}
	if !t.IsZero() {
		p.env.Time = t
	}
	p.keyAt(rest, 0, h.keyEnd)
	if escaped {
		msg = unescape(msg)
		p.rebase(msg)
		msg = p.splitFirst(msg)
	} else if kind == JournalShort && outer {
		p.contPrefix = len(s) - len(msg)
	}
	if pri >= 0 && strings.HasSuffix(msg, "\x00") {
		// Python's SysLogHandler ends each datagram with a NUL.
		msg = msg[:len(msg)-1]
		p.rebase(msg)
	}
	return msg, true
}

// bsdLine reads "Mmm dd HH:MM:SS[.µs] host ident[pid]: msg" (journalctl
// short and short-precise, rsyslog traditional, RFC 3164 after its <PRI>).
// pri is the <PRI> already read, -1 when none.
func (u *Unwrapper) bsdLine(p *peel, s string, pri int) (string, bool) {
	b, ok := parseBSD(s)
	if !ok || b.n >= len(s) || s[b.n] != ' ' {
		return s, false
	}
	rest := s[b.n+1:]
	h, ok := splitHostTag(rest)
	if !ok {
		return s, false
	}
	// journald pads the day with a zero, rsyslog with a space; days from 10
	// on look the same in both, and then the last proof decides.
	kind := u.bsdKind
	switch {
	case pri >= 0:
		kind = Syslog
	case b.digits > 0:
		kind = JournalShort
	case b.pad == padZero:
		kind, u.bsdKind = JournalShort, JournalShort
	case b.pad == padSpace || b.pad == padNone:
		kind, u.bsdKind = Syslog, Syslog
	}
	var t time.Time
	if outer := p.env.Time; !outer.IsZero() {
		t = nearYear(outer, u.ctx.loc(), b.mon, b.day, b.h, b.m, b.s, b.ns)
	} else {
		t = u.ctx.yearless(b.mon, b.day, b.h, b.m, b.s, b.ns)
	}
	return u.syslogBody(p, s, rest, h, kind, t, pri)
}

// unixLine reads journalctl -o short-unix: "1700000000.123456 host ident[pid]: msg".
func (u *Unwrapper) unixLine(p *peel, s string) (string, bool) {
	sec, ok := num(s, 0, 10)
	if !ok || len(s) < 19 || s[10] != '.' {
		return s, false
	}
	us, ok := num(s, 11, 6)
	if !ok || s[17] != ' ' {
		return s, false
	}
	rest := s[18:]
	h, ok := splitHostTag(rest)
	if !ok {
		return s, false
	}
	t := time.Unix(int64(sec), int64(us)*1000).UTC()
	return u.syslogBody(p, s, rest, h, JournalShort, t, -1)
}

// parsePRI reads "<N>" with N a syslog priority (0..191).
func parsePRI(s string) (pri, n int, ok bool) {
	if len(s) < 3 || s[0] != '<' {
		return 0, 0, false
	}
	for i := 1; i < len(s) && i <= 4; i++ {
		c := s[i]
		if c == '>' {
			if i == 1 || pri > 191 {
				return 0, 0, false
			}
			return pri, i + 1, true
		}
		if !isDigit(c) {
			return 0, 0, false
		}
		pri = pri*10 + int(c-'0')
	}
	return 0, 0, false
}

// priLine reads a line that starts with a syslog <PRI>: RFC 5424, or RFC
// 3164 with a BSD or ISO stamp, or a bare "tag: msg" as Python's
// SysLogHandler sends it (no stamp, no host).
func (u *Unwrapper) priLine(p *peel, s string) (string, bool) {
	pri, n, ok := parsePRI(s)
	if !ok || n >= len(s) {
		return s, false
	}
	rest := s[n:]
	if len(rest) > 2 && rest[0] == '1' && rest[1] == ' ' {
		return u.rfc5424(p, s, rest[2:], pri)
	}
	if monthOf(rest) > 0 {
		return u.bsdLine(p, rest, pri)
	}
	if st, ok := parseISO(rest, u.ctx.loc()); ok {
		if st.zone == zoneNone || st.n >= len(rest) || rest[st.n] != ' ' {
			return s, false
		}
		r := rest[st.n+1:]
		h, ok := splitHostTag(r)
		if !ok {
			return s, false
		}
		return u.syslogBody(p, rest, r, h, Syslog, st.t, pri)
	}
	h, ok := splitHostTag(rest)
	if !ok || h.host != "" {
		return s, false
	}
	return u.syslogBody(p, rest, rest, h, Syslog, time.Time{}, pri)
}

// octetCounted reads RFC 6587 framing, "LEN <PRI>...", as TCP and HTTPS
// drains (Heroku's among them) send it.
func (u *Unwrapper) octetCounted(p *peel, s string) (string, bool) {
	i := 0
	for i < len(s) && i < 10 && isDigit(s[i]) {
		i++
	}
	if i == 0 || i+2 >= len(s) || s[i] != ' ' || s[i+1] != '<' {
		return s, false
	}
	return u.priLine(p, s[i+1:])
}

// rfc5424 reads "TS HOST APP PROCID MSGID [SD] MSG" after "<PRI>1 ". Heroku
// drains leave the structured data out altogether instead of writing "-",
// so a message may follow MSGID directly; a strict SD parse tells them apart.
func (u *Unwrapper) rfc5424(p *peel, s, r string, pri int) (string, bool) {
	var t time.Time
	i := 0
	switch {
	case len(r) > 1 && r[0] == '-' && r[1] == ' ':
		i = 2
	default:
		st, ok := parseISO(r, u.ctx.loc())
		if !ok || st.n >= len(r) || r[st.n] != ' ' {
			return s, false
		}
		t, i = st.t, st.n+1
	}
	keyStart := i
	var fields [4]string // HOST APP PROCID MSGID
	for f := range fields {
		if f > 0 {
			if i >= len(r) || r[i] != ' ' {
				return s, false
			}
			i++
		}
		j := i
		for j < len(r) && r[j] > ' ' && r[j] < 0x7f {
			j++
		}
		if j == i || j-i > 255 {
			return s, false
		}
		fields[f], i = r[i:j], j
	}
	keyEnd := keyStart + len(fields[0]) + 1 + len(fields[1]) + 1 + len(fields[2])
	// r[i] is the space after MSGID, or the end.
	msg := ""
	if i < len(r) {
		i++
		switch sd := r[i:]; {
		case sd == "-":
			i = len(r)
		case strings.HasPrefix(sd, "- "):
			i += 2
		case sd != "" && sd[0] == '[':
			if n, ok := structuredData(sd); ok && (n == len(sd) || sd[n] == ' ') {
				i += min(n+1, len(sd))
			}
		}
		msg = r[i:]
	}
	msg = strings.TrimPrefix(msg, "\ufeff")
	if !p.env.push(RFC5424) {
		return s, false
	}
	if !t.IsZero() {
		p.env.Time = t
	}
	if fields[0] != "-" {
		p.env.Host = fields[0]
	}
	if fields[1] != "-" {
		p.env.Program = fields[1]
	}
	if procid := fields[2]; procid != "-" {
		if allDigits(procid) {
			p.env.PID = procid
		} else {
			p.env.Container = procid
		}
	}
	p.env.Level = severityDigits[pri&7]
	if fields[0] == "-" && fields[1] == "-" && fields[2] == "-" {
		p.keyString("")
	} else {
		p.keyAt(r, keyStart, keyEnd)
	}
	return msg, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// structuredData reads RFC 5424 SD-ELEMENTs, [id name="value" ...]..., and
// returns how many bytes they take.
func structuredData(s string) (int, bool) {
	i := 0
	for i < len(s) && s[i] == '[' {
		i++
		start := i
		for i < len(s) && sdName(s[i]) {
			i++
		}
		if i == start {
			return 0, false
		}
		for i < len(s) && s[i] == ' ' {
			i++
			start = i
			for i < len(s) && sdName(s[i]) {
				i++
			}
			if i == start || i+1 >= len(s) || s[i] != '=' || s[i+1] != '"' {
				return 0, false
			}
			i += 2
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(s) {
				return 0, false
			}
			i++
		}
		if i >= len(s) || s[i] != ']' {
			return 0, false
		}
		i++
	}
	return i, i > 0
}

func sdName(c byte) bool {
	return c > ' ' && c < 0x7f && c != '=' && c != ']' && c != '"'
}

// isoLine reads the wrappers whose line starts with an RFC 3339 stamp, but
// CRI and Heroku, which are outermost and re-join chunks (see isoTop). They
// differ in what follows the stamp and in the stamp itself, which is how
// they are told apart:
//   - docker -t: 7 to 9 fraction digits (docker and kubectl 9, Azure 7);
//     rsyslog and journald never print more than 6;
//   - rsyslog RSYSLOG_FileFormat / journalctl short-iso: zoned, then a
//     syslog "host ident[pid]: ";
//   - aws logs tail: 6 digits and +00:00 then a stream name (detailed), or
//     no fraction and no zone (short).
func (u *Unwrapper) isoLine(p *peel, s string) (string, bool) {
	st, ok := parseISO(s, u.ctx.loc())
	if !ok {
		return s, false
	}
	if st.n == len(s) {
		// docker logs -t of an empty line.
		if st.digits >= 7 && st.zone != zoneNone && p.env.push(DockerTime) {
			p.env.Time = st.t
			return "", true
		}
		return s, false
	}
	if s[st.n] != ' ' {
		return s, false
	}
	rest := s[st.n+1:]
	if st.zone == zoneNone {
		if st.digits == 0 && st.n == 19 && rest != "" && p.top() && p.env.push(AWSTail) {
			p.env.Time = st.t
			return rest, true
		}
		return s, false
	}
	if st.digits >= 7 {
		if !p.env.push(DockerTime) {
			return s, false
		}
		p.env.Time = st.t
		return rest, true
	}
	if h, ok := splitHostTag(rest); ok {
		// RSYSLOG_FileFormat always has a fraction and a colon in its
		// offset; journalctl short-iso has no fraction, and older
		// journalctl wrote "+0100". short-iso-precise of a current
		// journalctl cannot be told from rsyslog, and is called syslog.
		kind := JournalShort
		if st.digits > 0 && st.zone == zoneColon {
			kind = Syslog
		}
		return u.syslogBody(p, s, rest, h, kind, st.t, -1)
	}
	if st.digits == 6 && st.zone == zoneColon && st.offset == 0 {
		// aws logs tail --format detailed: the stream name, then the message.
		sp := strings.IndexByte(rest, ' ')
		if sp <= 0 || rest[0] == '[' || rest[0] == '{' || !p.top() || !p.env.push(AWSTail) {
			return s, false
		}
		p.env.Time = st.t
		p.env.Container = rest[:sp]
		p.keyAt(rest, 0, sp)
		return rest[sp+1:], true
	}
	return s, false
}
