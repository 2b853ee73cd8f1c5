package parse

import (
	"strings"
	"time"
)

// nginxErrorParser reads nginx's error_log:
//
//	2026/11/24 10:00:00 [error] 1234#1234: *456 MESSAGE[ (ERRNO: TEXT)][ while ACTION][, client: ...]
//
// with the time in ctx.Location, and the stderr form "nginx: [emerg] MESSAGE"
// (no time, no pid). Either may come wrapped in a syslog header
// ("<187>Nov 24 10:00:00 host nginx: 2026/11/24 ..."), which is dropped: the
// inner line has the better time.
//
// The context suffix that ngx_http_log_error appends is not escaped, and the
// request line, Host and Referer in it are client-controlled, so it is read
// left to right, each field in the one order nginx writes them, never by
// searching for the last occurrence of a key (see messages/nginx.md §2).
//
// A record is one line, except that "FastCGI sent in stderr: "..."" copies
// the application's text raw, newlines included; Starts and RecordEnds let
// the Joiner keep such a message together without delaying other lines.
type nginxErrorParser struct{}

var _ Parser = nginxErrorParser{}

func (nginxErrorParser) Format() Format { return FormatNginxError }

// Starts is true for a line that begins with an nginx time, "nginx: [", or
// a syslog header around either.
func (nginxErrorParser) Starts(line string) bool {
	if nginxTimeAt(line) || strings.HasPrefix(line, "nginx: [") {
		return true
	}
	if len(line) > 0 && line[0] == '[' {
		if _, rest, ok := nginxLevelAt(line); ok {
			hash := digitsAt(rest, 0)
			return hash > 0 && hash < len(rest) && rest[hash] == '#'
		}
		end := strings.IndexByte(line, ']')
		return end >= 2 && strings.HasPrefix(line[end:], "]: ") && nginxLevel(line[1:end])
	}
	if len(line) == 0 || (line[0] != '<' && !month3ok(line) && !isDigit(line[0])) {
		return false
	}
	sl, ok := parseSyslog(line, nil)
	return ok && nginxTimeAt(sl.msg)
}

// RecordEnds is true unless the line leaves a FastCGI stderr text open (no
// ", client: " after it yet), in which case the record ends with the line
// that closes it, or with the next header.
func (nginxErrorParser) RecordEnds(line string, first bool) bool {
	if !first {
		return strings.Contains(line, ", client: ")
	}
	i := strings.LastIndex(line, nginxStderrMark)
	return i < 0 || strings.Contains(line[i:], ", client: ")
}

const nginxStderrMark = ` sent in stderr: "`

func month3ok(s string) bool { _, ok := month3(s); return ok }

func (nginxErrorParser) Parse(rec string, ctx *Context, ev *Event) bool {
	resetEvent(ev, FormatNginxError, rec)
	if parseNginxError(rec, ctx, ev) {
		return true
	}
	if len(rec) > 0 && !nginxTimeAt(rec) {
		if sl, ok := parseSyslog(rec, ctx); ok && parseNginxError(sl.msg, ctx, ev) {
			return true
		}
	}
	clearEvent(ev)
	return false
}

// nginxLevels are err_levels[] of src/core/ngx_log.c.
func nginxLevel(s string) bool {
	switch s {
	case "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug":
		return true
	}
	return false
}

// nginxTimeAt reports whether s starts with "YYYY/MM/DD HH:MM:SS [".
func nginxTimeAt(s string) bool {
	return len(s) > 21 && s[4] == '/' && s[7] == '/' && s[10] == ' ' && s[13] == ':' &&
		s[16] == ':' && s[19] == ' ' && s[20] == '[' && isDigit(s[0]) && isDigit(s[3])
}

func parseNginxError(s string, ctx *Context, ev *Event) bool {
	var body string
	switch {
	case nginxTimeAt(s):
		y, ok1 := num4(s, 0)
		mo, ok2 := num2(s, 5)
		d, ok3 := num2(s, 8)
		h, m, sec, ok4 := clock(s, 11)
		if !ok1 || !ok2 || !ok3 || !ok4 || !validDate(y, time.Month(mo), d) {
			return false
		}
		ev.Time = time.Date(y, time.Month(mo), d, h, m, sec, 0, location(ctx))
		var ok bool
		if body, ok = nginxLevelPID(s[20:], ev); !ok {
			ev.Time = time.Time{}
			return false
		}
	case strings.HasPrefix(s, "nginx: ["):
		level, rest, ok := nginxLevelAt(s[len("nginx: "):])
		if !ok {
			return false
		}
		ev.Level = level
		body = rest
	case len(s) > 0 && s[0] == '[':
		// A line without its time: "[error] 12#12: *5 ..." as pasted from
		// the middle of a log, or nginx 0.7's console form "[emerg]: ...".
		var ok bool
		if body, ok = nginxLevelPID(s, ev); ok {
			break
		}
		end := strings.IndexByte(s, ']')
		if end < 2 || !strings.HasPrefix(s[end:], "]: ") || !nginxLevel(s[1:end]) {
			return false
		}
		ev.Level = s[1:end]
		body = s[end+3:]
	default:
		return false
	}
	nginxBody(body, ev)
	return true
}

// nginxLevelPID reads "[level] PID#TID: [*CID ]" into ev and returns the
// message after it.
func nginxLevelPID(s string, ev *Event) (string, bool) {
	level, rest, ok := nginxLevelAt(s)
	if !ok {
		return "", false
	}
	hash := digitsAt(rest, 0)
	if hash == 0 || hash >= len(rest) || rest[hash] != '#' {
		return "", false
	}
	colon := digitsAt(rest, hash+1)
	if colon == hash+1 || colon >= len(rest) || rest[colon] != ':' {
		return "", false
	}
	pid, ok := atoi(rest[:hash])
	if !ok {
		return "", false
	}
	ev.Level, ev.PID = level, pid
	ev.addField("tid", rest[hash+1:colon])
	body := rest[colon+1:]
	if len(body) > 0 && body[0] == ' ' {
		body = body[1:]
	}
	// "*N ": the connection serial, only for connection-bound messages.
	if len(body) > 1 && body[0] == '*' {
		if end := digitsAt(body, 1); end > 1 && end < len(body) && body[end] == ' ' {
			ev.addField("connection", body[1:end])
			body = body[end+1:]
		}
	}
	return body, true
}

// nginxLevelAt reads "[level] " and returns what follows.
func nginxLevelAt(s string) (level, rest string, ok bool) {
	end := strings.IndexByte(s, ']')
	if end < 2 || s[0] != '[' || end+1 >= len(s) || s[end+1] != ' ' || !nginxLevel(s[1:end]) {
		return "", "", false
	}
	return s[1:end], s[end+2:], true
}

// nginxBody splits the text after the header into Message, the context
// fields, errno and action.
func nginxBody(body string, ev *Event) {
	at, ctxFields := nginxContext(body)
	msg := body
	if at >= 0 {
		msg = body[:at]
	}
	ev.Message = msg
	ev.Fields = append(ev.Fields, ctxFields.list[:ctxFields.n]...)

	// " while ACTION" is the last thing before the context, and only the
	// context handler writes it.
	head := msg
	action := ""
	if at >= 0 {
		if w := strings.LastIndex(msg, " while "); w >= 0 {
			head, action = msg[:w], msg[w+len(" while "):]
		}
	}
	// " (ERRNO: TEXT)" closes the message text (ngx_log_errno).
	if strings.HasSuffix(head, ")") {
		if p := strings.LastIndex(head, " ("); p >= 0 {
			if end := digitsAt(head, p+2); end > p+2 && strings.HasPrefix(head[end:], ": ") {
				ev.addField("errno", head[p+2:end])
			}
		}
	}
	if action != "" {
		ev.addField("action", action)
	}
}

// nginxFields holds the context fields without allocating.
type nginxFields struct {
	list [12]Field
	n    int
}

func (f *nginxFields) add(k, v string) {
	if f.n < len(f.list) {
		f.list[f.n] = Field{Key: k, Value: v}
		f.n++
	}
}

// nginxContext finds where the context suffix starts in body and reads it.
// The message before it may itself contain ", client: " (a FastCGI stderr
// text is copied raw), so each candidate is read in full and the first
// one that reads cleanly to the end of the record wins; failing that, the
// first whose client is a plausible address (a line cut at 2047 bytes does
// not read cleanly), and failing that there is no context.
func nginxContext(body string) (int, nginxFields) {
	loose, looseF := -1, nginxFields{}
	// Reading a candidate costs a scan of the rest of the record, so only
	// the first few are tried: a record that repeats "client: " thousands
	// of times must not cost quadratic time on the hot path.
	for off, tries := 0, 0; off < len(body) && tries < maxContextTries; tries++ {
		i := strings.Index(body[off:], "client: ")
		if i < 0 {
			break
		}
		i += off
		off = i + 1
		start := -1
		switch {
		case i >= 2 && body[i-2:i] == ", ":
			start = i - 2
		case i >= 6 && body[i-6:i] == ", udp ":
			start = i - 6
		default:
			continue
		}
		f, clean := nginxSuffix(body[i+len("client: "):])
		if clean {
			return start, f
		}
		if loose < 0 && f.n > 0 && plausibleAddr(f.list[0].Value) {
			loose, looseF = start, f
		}
	}
	return loose, looseF
}

const maxContextTries = 8

// plausibleAddr: an addr_text is an IP address or "unix:", never with a
// space or quote.
func plausibleAddr(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \"\n")
}

// Context keys, in the order ngx_http_log_error_handler writes them.
const (
	nkServer     = ", server: "
	nkRequest    = `, request: "`
	nkSubrequest = `, subrequest: "`
	nkUpstream   = `, upstream: "`
	nkHost       = `, host: "`
	nkReferrer   = `, referrer: "`
	nkBytes      = ", bytes from/to client:"
)

// nginxSuffix reads the context after "client: ". clean is true when every
// field had its expected shape and the reading ended at the end of the text.
func nginxSuffix(s string) (f nginxFields, clean bool) {
	end := strings.Index(s, ", ")
	if end < 0 {
		end = len(s)
	}
	client := s[:end]
	f.add("client", client)
	clean = plausibleAddr(client)
	s = s[end:]
	if s == "" {
		return f, clean
	}
	if !strings.HasPrefix(s, nkServer) {
		return f, false
	}
	s = s[len(nkServer):]
	// The server name or listen address has no space; it ends at the next
	// field or at the end of the line.
	end = len(s)
	for _, k := range [...]string{nkRequest, nkUpstream, nkHost, nkReferrer, nkBytes} {
		if i := strings.Index(s, k); i >= 0 && i < end {
			end = i
		}
	}
	f.add("server", s[:end])
	if strings.ContainsAny(s[:end], " \"\n") {
		clean = false
	}
	s = s[end:]

	requestOK := true
	if strings.HasPrefix(s, nkRequest) {
		v, rest, wellFormed, ok := nginxRequestValue(s[len(nkRequest):])
		f.add("request", v)
		requestOK = wellFormed
		clean = clean && ok
		s = rest
	}
	if strings.HasPrefix(s, nkSubrequest) {
		v, rest, ok := quotedUntil(s[len(nkSubrequest):], nkUpstream, nkHost, nkReferrer)
		f.add("subrequest", v)
		clean = clean && ok
		s = rest
	}
	// Only an upstream that follows a well-formed request line is nginx's
	// own: a raw invalid request line can carry a forged one.
	if requestOK && strings.HasPrefix(s, nkUpstream) {
		v, rest, ok := quotedUntil(s[len(nkUpstream):], nkHost, nkReferrer, nkBytes)
		f.add("upstream", v)
		clean = clean && ok
		s = rest
	}
	if strings.HasPrefix(s, nkHost) {
		v, rest, ok := quotedUntil(s[len(nkHost):], nkReferrer)
		f.add("host", v)
		clean = clean && ok
		s = rest
	}
	if strings.HasPrefix(s, nkReferrer) {
		// The referrer is last and entirely the client's: it runs to the
		// closing quote at the end of the line, or to the cut.
		v := s[len(nkReferrer):]
		v = strings.TrimSuffix(v, `"`)
		f.add("referrer", v)
		return f, clean
	}
	if strings.HasPrefix(s, nkBytes) {
		// Stream module: ", bytes from/to client:1/2, bytes from/to upstream:3/4".
		rest := s[len(nkBytes):]
		c, rest := cutPrefixed(rest, ", bytes from/to upstream:")
		u := rest
		fc, tc, _ := strings.Cut(c, "/")
		fu, tu, _ := strings.Cut(u, "/")
		f.add("bytes_from_client", fc)
		f.add("bytes_to_client", tc)
		f.add("bytes_from_upstream", fu)
		f.add("bytes_to_upstream", tu)
		return f, clean
	}
	return f, clean && s == ""
}

func cutPrefixed(s, sep string) (before, after string) {
	if i := strings.Index(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):]
	}
	return s, ""
}

// nginxRequestValue reads the request line after `request: "`. A
// well-formed line ("METHOD TARGET HTTP/x.y", no space in the target, which
// nginx 1.21.1+ enforces) ends at its HTTP version. Otherwise (a 400's raw
// line, or nginx <= 1.20 with spaces in the URI) it ends at the first
// `HTTP/x.y"`, so a forged `", upstream: "` inside stays part of it; with no
// version, at the first quote before a known key or the end of the line.
func nginxRequestValue(s string) (v, rest string, wellFormed, ok bool) {
	if n := wellFormedRequest(s); n > 0 {
		return s[:n], s[n+1:], true, true
	}
	for off := 0; ; {
		i := strings.Index(s[off:], `HTTP/`)
		if i < 0 {
			break
		}
		i += off
		off = i + 1
		j := i + len("HTTP/")
		if j+4 <= len(s) && isDigit(s[j]) && s[j+1] == '.' && isDigit(s[j+2]) && s[j+3] == '"' &&
			(j+4 == len(s) || s[j+4] == ',') {
			return s[:j+3], s[j+4:], false, true
		}
	}
	v, rest, ok = quotedUntil(s, nkSubrequest, nkUpstream, nkHost, nkReferrer)
	return v, rest, false, ok
}

// wellFormedRequest returns the length of "METHOD TARGET HTTP/d.d" when s
// starts with one followed by a quote, else 0. This is the shape nginx
// 1.21.1+ requires of any request it processes.
func wellFormedRequest(s string) int {
	i := 0
	for i < len(s) && (s[i] >= 'A' && s[i] <= 'Z' || s[i] == '_' || s[i] == '-') {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != ' ' {
		return 0
	}
	i++
	t := i
	// nginx accepts '"' and ',' in a target; only space and control bytes
	// end or spoil it.
	for i < len(s) && s[i] > ' ' && s[i] != 0x7f {
		i++
	}
	if i == t || i >= len(s) || s[i] != ' ' {
		return 0
	}
	i++
	if len(s) < i+len(`HTTP/1.1"`) || s[i:i+5] != "HTTP/" || !isDigit(s[i+5]) || s[i+6] != '.' ||
		!isDigit(s[i+7]) || s[i+8] != '"' {
		return 0
	}
	return i + 8
}

// quotedUntil reads a value whose closing quote is followed by one of the
// given keys or by the end of the text. A value with no such closing quote
// was cut at 2047 bytes and runs to the end; ok is false then.
func quotedUntil(s string, keys ...string) (v, rest string, ok bool) {
	for off := 0; off < len(s); {
		i := strings.IndexByte(s[off:], '"')
		if i < 0 {
			break
		}
		i += off
		off = i + 1
		after := s[i+1:]
		if after == "" {
			return s[:i], "", true
		}
		for _, k := range keys {
			if strings.HasPrefix(after, k) {
				return s[:i], after, true
			}
		}
	}
	return s, "", false
}
