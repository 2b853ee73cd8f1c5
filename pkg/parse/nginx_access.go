package parse

import (
	"strings"
	"time"
)

// nginxAccessParser reads nginx's predefined `combined` access log format,
//
//	$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
//
// and the usual extensions that only add values at the end: `main`
// (combined + "$http_x_forwarded_for"), timing values (`$request_time
// $upstream_response_time`) and `key=value` pairs (`rt=0.123 urt="0.051"`).
// Gunicorn's default access_log_format is the same layout and reads too.
// Formats that change the order need NewNginxAccess.
//
// Trailing values are named by their key when they have one. Unnamed ones
// are extra1, extra2, ... in order. Because most configurations append
// $request_time and then $upstream_response_time without a key, the first
// unnamed, unquoted value that looks like seconds ("0.123", or an upstream
// list such as "0.001, 0.215" or "-, 0.2 : 0.1") is also exposed as
// request_time and the second as upstream_response_time. This is a
// heuristic: a format that logs the two the other way round, or logs other
// decimal numbers there, gets wrong names; give such formats to
// NewNginxAccess.
//
// Values are kept as logged, nginx's \xHH escapes included.
type nginxAccessParser struct{}

var _ Parser = nginxAccessParser{}

func (nginxAccessParser) Format() Format                      { return FormatNginxAccess }
func (nginxAccessParser) Starts(string) bool                  { return true }
func (nginxAccessParser) RecordEnds(line string, _ bool) bool { return true }

// maxTrailing bounds the fields taken from the end of a line, so a line of
// ten thousand spaces cannot make ten thousand fields.
const maxTrailing = 32

// extraKeys names unnamed trailing values without formatting a number for
// each line.
var extraKeys = [maxTrailing]string{
	"extra1", "extra2", "extra3", "extra4", "extra5", "extra6", "extra7", "extra8",
	"extra9", "extra10", "extra11", "extra12", "extra13", "extra14", "extra15", "extra16",
	"extra17", "extra18", "extra19", "extra20", "extra21", "extra22", "extra23", "extra24",
	"extra25", "extra26", "extra27", "extra28", "extra29", "extra30", "extra31", "extra32",
}

func (nginxAccessParser) Parse(rec string, ctx *Context, ev *Event) bool {
	resetEvent(ev, FormatNginxAccess, rec)
	if !parseCombined(rec, ev) {
		clearEvent(ev)
		return false
	}
	return true
}

func parseCombined(line string, ev *Event) bool {
	sp := strings.IndexByte(line, ' ')
	if sp < 0 {
		return false
	}
	var vhost string
	if !strings.HasPrefix(line[sp:], " - ") {
		// "$host $remote_addr - ...": the vhost layout of nginx-proxy and
		// of many multi-site configurations puts the server name first.
		sp2 := strings.IndexByte(line[sp+1:], ' ')
		if sp2 <= 0 || !strings.HasPrefix(line[sp+1+sp2:], " - ") {
			return false
		}
		vhost, line = line[:sp], line[sp+1:]
		sp = sp2
	}
	addr := line[:sp]
	s := line[sp+3:]
	// $remote_user is escaped but may hold spaces; it ends at the first
	// " [" that opens a valid $time_local.
	var user string
	var t time.Time
	for off := 0; ; {
		i := strings.Index(s[off:], "[")
		if i < 0 {
			return false
		}
		i += off
		off = i + 1
		if i > 0 && s[i-1] != ' ' {
			continue
		}
		if tt, ok := timeLocal(s[i+1:]); ok && len(s) >= i+1+timeLocalLen+3 && s[i+1+timeLocalLen:i+1+timeLocalLen+3] == `] "` {
			if i == 0 {
				user = ""
			} else {
				user = s[:i-1]
			}
			t = tt
			s = s[i+1:]
			break
		}
	}
	timeLocalV := s[:timeLocalLen]
	s = s[timeLocalLen+2:] // past "] "
	request, n, ok := quotedValue(s)
	if !ok {
		return false
	}
	s = s[n:]
	// " $status $body_bytes_sent "
	if len(s) < 6 || s[0] != ' ' {
		return false
	}
	end := digitsAt(s, 1)
	if end != 4 || end >= len(s) || s[end] != ' ' {
		return false
	}
	status := s[1:end]
	s = s[end+1:]
	end = digitsAt(s, 0)
	if end == 0 && strings.HasPrefix(s, "-") {
		end = 1
	}
	if end == 0 || !strings.HasPrefix(s[end:], ` "`) {
		return false
	}
	bytes := s[:end]
	s = s[end+1:]
	referer, n, ok := quotedValue(s)
	if !ok || !strings.HasPrefix(s[n:], ` "`) {
		return false
	}
	s = s[n+1:]
	agent, n, ok := quotedValue(s)
	if !ok {
		return false
	}
	s = s[n:]
	if s != "" && s[0] != ' ' {
		return false
	}

	ev.Time = t
	ev.Message = request
	ev.addField("remote_addr", addr)
	if vhost != "" {
		ev.addField("host", vhost)
	}
	ev.addField("remote_user", user)
	ev.addField("time_local", timeLocalV)
	ev.addField("request", request)
	addRequestParts(ev, request)
	ev.addField("status", status)
	ev.addField("body_bytes_sent", bytes)
	ev.addField("http_referer", referer)
	ev.addField("http_user_agent", agent)
	addTrailing(ev, s)
	return true
}

// addRequestParts splits a request line into method, uri and protocol.
// The URI may hold spaces (nginx does not escape them), so the method ends
// at the first space and the protocol starts after the last one. Lines
// that are no request (a TLS handshake sent to a plain port) give empty
// parts.
func addRequestParts(ev *Event, r string) {
	var method, uri, proto string
	if sp := strings.IndexByte(r, ' '); sp > 0 {
		method, uri = r[:sp], r[sp+1:]
		if last := strings.LastIndexByte(uri, ' '); last >= 0 && strings.HasPrefix(uri[last+1:], "HTTP/") {
			uri, proto = uri[:last], uri[last+1:]
		}
	}
	ev.addField("method", method)
	ev.addField("uri", uri)
	ev.addField("protocol", proto)
}

// quotedValue reads `"..."` at the start of s and returns the inner text
// and the bytes used. A quote preceded by an odd number of backslashes is
// part of the value: nginx writes quotes as \x22, but escape=json and
// Gunicorn write \".
func quotedValue(s string) (string, int, bool) {
	if len(s) == 0 || s[0] != '"' {
		return "", 0, false
	}
	i := closingQuote(s, 1)
	if i < 0 {
		return "", 0, false
	}
	return s[1:i], i + 1, true
}

// closingQuote finds the first unescaped '"' at or after from.
func closingQuote(s string, from int) int {
	for i := from; i < len(s); {
		j := strings.IndexByte(s[i:], '"')
		if j < 0 {
			return -1
		}
		j += i
		bs := 0
		for k := j - 1; k >= from && s[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return j
		}
		i = j + 1
	}
	return -1
}

// addTrailing names the values after $http_user_agent.
func addTrailing(ev *Event, s string) {
	unnamed, durations := 0, 0
	for taken := 0; taken < maxTrailing; taken++ {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return
		}
		key, val, quoted, n := trailingValue(s)
		if n == 0 {
			return
		}
		s = s[n:]
		if key != "" {
			ev.addField(key, val)
			continue
		}
		ev.addField(extraKeys[unnamed], val)
		unnamed++
		if !quoted && durations < 2 && durationLike(val) {
			if durations == 0 {
				ev.addField("request_time", val)
			} else {
				ev.addField("upstream_response_time", val)
			}
			durations++
		}
	}
}

// trailingValue reads one `key=value`, `key="value"`, `"value"` or bare
// value. Bare values continue over an nginx upstream list: "0.001, 0.215"
// and "0.001 : 0.200" are one value.
func trailingValue(s string) (key, val string, quoted bool, n int) {
	if k := keyLen(s); k > 0 && k < len(s) && s[k] == '=' {
		key = s[:k]
		s = s[k+1:]
		n = k + 1
	}
	if len(s) > 0 && s[0] == '"' {
		if v, m, ok := quotedValue(s); ok {
			return key, v, true, n + m
		}
	}
	end := bareEnd(s)
	if end == 0 && key == "" {
		return "", "", false, 0
	}
	return key, s[:end], false, n + end
}

// keyLen is the length of a name at the start of s ([A-Za-z_][A-Za-z0-9_.-]*).
func keyLen(s string) int {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' ||
			i > 0 && (isDigit(c) || c == '-' || c == '.') {
			i++
			continue
		}
		break
	}
	return i
}

// bareEnd finds the end of an unquoted value, joining upstream lists.
func bareEnd(s string) int {
	i := 0
	for {
		sp := strings.IndexByte(s[i:], ' ')
		if sp < 0 {
			return len(s)
		}
		sp += i
		switch {
		case sp > 0 && s[sp-1] == ',' && sp+1 < len(s) && s[sp+1] != ' ':
			i = sp + 1 // "a, b"
		case strings.HasPrefix(s[sp:], " : ") && sp+3 < len(s):
			i = sp + 3 // "a : b"
		default:
			return sp
		}
	}
}

// durationLike reports whether v is seconds as nginx logs them ("0.123"),
// or a list of them with "-" for phases not reached.
func durationLike(v string) bool {
	// One pass over the bytes: this runs on every access line.
	numeric := false
	for v != "" {
		j := 0
		for j < len(v) && v[j] != ',' && v[j] != ':' {
			j++
		}
		el := v[:j]
		if j < len(v) {
			v = v[j+1:]
		} else {
			v = ""
		}
		for el != "" && el[0] == ' ' {
			el = el[1:]
		}
		for el != "" && el[len(el)-1] == ' ' {
			el = el[:len(el)-1]
		}
		if el == "-" {
			continue
		}
		dot := strings.IndexByte(el, '.')
		if dot <= 0 || dot == len(el)-1 || digitsAt(el, 0) != dot || digitsAt(el, dot+1) != len(el) {
			return false
		}
		numeric = true
	}
	return numeric
}

const timeLocalLen = len("24/Nov/2026:10:00:00 +0000")

// timeLocal reads $time_local, "24/Nov/2026:10:00:00 +0000".
func timeLocal(s string) (time.Time, bool) {
	if len(s) < timeLocalLen || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}
	d, ok1 := num2(s, 0)
	mon, ok2 := month3(s[3:])
	y, ok3 := num4(s, 7)
	h, m, sec, ok4 := clock(s, 12)
	off, zn, ok5 := zoneOffset(s[21:timeLocalLen])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || zn != 5 || !validDate(y, mon, d) {
		return time.Time{}, false
	}
	return time.Date(y, mon, d, h, m, sec, 0, fixedZone(off)), true
}

// timeISO8601 reads $time_iso8601, "2026-11-24T10:00:00+00:00".
func timeISO8601(s string) (time.Time, bool) {
	t, n, sep, ok := isoTime(s, nil)
	if !ok || sep != 0 || n != len(s) || n < 20 {
		return time.Time{}, false
	}
	return t, true
}

// msecTime reads $msec, "1764000000.123" (seconds since the epoch with
// milliseconds), in ctx.Location.
func msecTime(s string, ctx *Context) (time.Time, bool) {
	sec, frac, _ := strings.Cut(s, ".")
	n, ok := atoi(sec)
	if !ok || digitsAt(frac, 0) != len(frac) {
		return time.Time{}, false
	}
	return time.Unix(int64(n), int64(fraction(frac))).In(location(ctx)), true
}
