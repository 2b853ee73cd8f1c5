package envelope

import (
	"encoding/json"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the JSON envelopes: docker's json-file records, journalctl
// -o json entries and Cloud Logging LogEntry exports. Each is first told by
// its keys with a substring test, so that a producer's own JSON (Caddy, an
// app's structured log) is passed over without being decoded.

// jsonLine reads a JSON envelope at the top of a stream. It reports false
// when the line is not one, and the line then goes on as a producer line.
func (u *Unwrapper) jsonLine(p *peel, s string, off int64) bool {
	switch {
	case strings.HasPrefix(s, `{"log":`) || strings.Contains(s, `"log":`) && strings.Contains(s, `"stream":`):
		return u.dockerJSON(p, s, off)
	case strings.Contains(s, `"__REALTIME_TIMESTAMP"`) && strings.Contains(s, `"MESSAGE"`):
		return u.journalJSON(p, s, off)
	case (strings.Contains(s, `"textPayload"`) || strings.Contains(s, `"jsonPayload"`)) &&
		(strings.Contains(s, `"logName"`) || strings.Contains(s, `"insertId"`)):
		return u.gcpJSON(p, s, off)
	}
	return false
}

// dockerJSON reads a json-file record. Docker cuts a line longer than its
// 16 KiB buffer into several records and ends only the last one's "log" with
// "\n", so records are re-joined per stream until one ends a line.
func (u *Unwrapper) dockerJSON(p *peel, s string, off int64) bool {
	it, ok := newObject(s)
	if !ok {
		return false
	}
	var logRaw, streamRaw, timeRaw string
	for {
		k, v, more := it.next()
		if !more {
			break
		}
		switch k {
		case "log":
			logRaw = v
		case "stream":
			streamRaw = v
		case "time":
			timeRaw = v
		}
	}
	if !it.end() || len(logRaw) < 2 || logRaw[0] != '"' || timeRaw == "" {
		return false
	}
	var stream string
	switch streamRaw {
	case `"stdout"`:
		stream = "stdout"
	case `"stderr"`:
		stream = "stderr"
	default:
		return false
	}
	ts, ok := decodeString(timeRaw)
	if !ok {
		return false
	}
	t, ok := parseFullISO(ts)
	if !ok {
		return false
	}
	log, complete, ok := dockerLog(logRaw)
	if !ok || !p.env.push(DockerJSON) {
		return false
	}
	p.env.Time = t
	p.env.Stream = stream
	p.keyString(stream)
	p.rebase(log)
	if complete {
		u.complete(p, DockerJSON, stream, off, log)
	} else {
		u.hold(DockerJSON, stream, off, p.env, log)
	}
	return true
}

// dockerLog decodes the "log" value and says whether it ends a line. The
// common record, a line without escapes but its final "\n", is returned as a
// substring of the record.
func dockerLog(raw string) (log string, complete, ok bool) {
	if n := len(raw); n >= 4 && raw[n-3:] == `\n"` && strings.IndexByte(raw[1:n-3], '\\') < 0 {
		return strings.TrimSuffix(raw[1:n-3], "\r"), true, true
	}
	log, ok = decodeString(raw)
	if !ok {
		return "", false, false
	}
	if strings.HasSuffix(log, "\n") {
		return strings.TrimSuffix(log[:len(log)-1], "\r"), true, true
	}
	return log, false, true
}

// journalFields are the journal fields an envelope keeps, as journalctl -o
// json and -o export give them.
type journalFields struct {
	msg, realtime, host, ident, comm, pid, syslogPID, unit, prio string
	lineBreak                                                    string
	hasMsg                                                       bool
}

func (f *journalFields) set(k, v string) {
	switch k {
	case "MESSAGE":
		f.msg, f.hasMsg = v, true
	case "__REALTIME_TIMESTAMP":
		f.realtime = v
	case "_HOSTNAME":
		f.host = v
	case "SYSLOG_IDENTIFIER":
		f.ident = v
	case "_COMM":
		f.comm = v
	case "_PID":
		f.pid = v
	case "SYSLOG_PID":
		f.syslogPID = v
	case "_SYSTEMD_UNIT":
		f.unit = v
	case "PRIORITY":
		f.prio = v
	case "_LINE_BREAK":
		f.lineBreak = v
	}
}

// emit hands the message on. journald cuts a stdout line longer than
// LineMax= into entries marked _LINE_BREAK=line-max; only the JSON and
// export forms show the mark, and there the pieces are re-joined per
// writer like docker's partials.
func (f *journalFields) emit(u *Unwrapper, p *peel, kind Kind, off int64) {
	msg := f.msg
	if f.lineBreak == "line-max" {
		u.hold(kind, p.env.Key, off, p.env, msg)
		return
	}
	msg = strings.TrimSuffix(msg, "\n")
	p.rebase(msg)
	u.complete(p, kind, p.env.Key, off, msg)
}

// apply records the fields as layer kind. The key has journalctl's short
// shape, "host ident[pid]", so that the same writer has the same key
// whichever output mode it was read in.
func (f *journalFields) apply(p *peel, kind Kind) bool {
	if !p.env.push(kind) {
		return false
	}
	if t, ok := parseEpochMicros(f.realtime); ok {
		p.env.Time = t
	}
	p.env.Host = f.host
	p.env.Program = f.ident
	if p.env.Program == "" {
		p.env.Program = f.comm
	}
	p.env.PID = f.pid
	if p.env.PID == "" || !allDigits(p.env.PID) {
		p.env.PID = f.syslogPID
	}
	if !allDigits(p.env.PID) {
		p.env.PID = ""
	}
	p.env.Unit = f.unit
	if len(f.prio) == 1 && isDigit(f.prio[0]) {
		p.env.Level = f.prio
	}
	id := p.env.Program
	if id == "" {
		id = p.env.Unit
	}
	var b strings.Builder
	b.Grow(len(p.env.Host) + len(id) + len(p.env.PID) + 3)
	if p.env.Host != "" {
		b.WriteString(p.env.Host)
		b.WriteByte(' ')
	}
	b.WriteString(id)
	if p.env.PID != "" {
		b.WriteByte('[')
		b.WriteString(p.env.PID)
		b.WriteByte(']')
	}
	p.keyString(b.String())
	return true
}

// journalJSON reads a journalctl -o json entry.
func (u *Unwrapper) journalJSON(p *peel, s string, off int64) bool {
	it, ok := newObject(s)
	if !ok {
		return false
	}
	var f journalFields
	var msgRaw string
	for {
		k, v, more := it.next()
		if !more {
			break
		}
		if k == "MESSAGE" {
			msgRaw = v
			continue
		}
		f.set(k, jsonText(v))
	}
	if !it.end() || msgRaw == "" || f.realtime == "" {
		return false
	}
	msg, ok := journalMessage(msgRaw)
	if !ok || !f.apply(p, JournalJSON) {
		return false
	}
	f.msg = msg
	f.emit(u, p, JournalJSON, off)
	return true
}

// journalMessage decodes MESSAGE, which journalctl writes as a string, as
// an array of byte values when it is not printable UTF-8 (an ANSI colour is
// enough), as null when it is 4096 bytes or more and --all was not given,
// and as an array of those when the field repeats (the first one is kept).
// A null comes back as an empty message: the entry was there.
func journalMessage(raw string) (string, bool) {
	switch raw[0] {
	case '"':
		return decodeString(raw)
	case 'n':
		return "", raw == "null"
	case '[':
	default:
		return "", false
	}
	i := skipWS(raw, 1)
	if i >= len(raw) {
		return "", false
	}
	switch c := raw[i]; {
	case c == ']':
		return "", true
	case c == '"' || c == '[' || c == 'n':
		end, ok := skipValue(raw, i)
		if !ok {
			return "", false
		}
		return journalMessage(raw[i:end])
	}
	b := make([]byte, 0, len(raw)/3)
	for {
		i = skipWS(raw, i)
		v, j := 0, i
		for j < len(raw) && isDigit(raw[j]) && j-i < 4 {
			v = v*10 + int(raw[j]-'0')
			j++
		}
		if j == i || v > 255 {
			return "", false
		}
		b = append(b, byte(v))
		i = skipWS(raw, j)
		if i >= len(raw) {
			return "", false
		}
		if raw[i] == ']' {
			return string(b), true
		}
		if raw[i] != ',' {
			return "", false
		}
		i++
	}
}

// jsonText returns a string value, or the first string of an array of them
// (a repeated journal field); "" for anything else.
func jsonText(raw string) string {
	if raw == "" {
		return ""
	}
	if raw[0] == '[' {
		i := skipWS(raw, 1)
		if i < len(raw) && raw[i] == '"' {
			if end, ok := skipValue(raw, i); ok {
				raw = raw[i:end]
			}
		}
	}
	if raw[0] != '"' {
		return ""
	}
	s, _ := decodeString(raw)
	return s
}

// gcpEntry is the part of a Cloud Logging LogEntry an envelope keeps.
type gcpEntry struct {
	TextPayload *string         `json:"textPayload"`
	JSONPayload json.RawMessage `json:"jsonPayload"`
	Severity    string          `json:"severity"`
	Timestamp   string          `json:"timestamp"`
	LogName     string          `json:"logName"`
	Resource    struct {
		Type   string            `json:"type"`
		Labels map[string]string `json:"labels"`
	} `json:"resource"`
}

// gcpJSON reads a LogEntry as exported to GCS, Pub/Sub or by gcloud
// --format=json one entry a line. A non-JSON stdout line is textPayload; a
// JSON one is jsonPayload, whose message (or msg) is the text.
func (u *Unwrapper) gcpJSON(p *peel, s string, off int64) bool {
	var e gcpEntry
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return false
	}
	var text string
	switch {
	case e.TextPayload != nil:
		text = *e.TextPayload
	case len(e.JSONPayload) > 0 && e.JSONPayload[0] == '{':
		var payload map[string]json.RawMessage
		if err := json.Unmarshal(e.JSONPayload, &payload); err != nil {
			return false
		}
		text = string(e.JSONPayload)
		for _, k := range [...]string{"message", "msg"} {
			if v, ok := payload[k]; ok && len(v) > 0 && v[0] == '"' {
				if m, ok := decodeString(string(v)); ok {
					text = m
					break
				}
			}
		}
	default:
		return false
	}
	if !p.env.push(GCPJSON) {
		return false
	}
	if t, ok := parseFullISO(e.Timestamp); ok {
		p.env.Time = t
	}
	p.env.Level = e.Severity
	l := e.Resource.Labels
	ctr, pod := l["container_name"], l["pod_name"]
	p.env.Program = ctr
	for _, k := range [...]string{"service_name", "module_id", "function_name", "job_name"} {
		if p.env.Program != "" {
			break
		}
		p.env.Program = l[k]
	}
	p.env.Container = ctr
	if pod != "" && ctr != "" {
		p.env.Container = pod + "/" + ctr
	}
	p.env.Host = l["node_name"]
	if p.env.Host == "" {
		p.env.Host = l["instance_id"]
	}
	if name := e.LogName; strings.HasSuffix(name, "stdout") || strings.HasSuffix(name, "stderr") {
		if n := len(name) - 6; n > 0 && (name[n-1] == '/' || strings.HasSuffix(name[:n], "%2F")) {
			p.env.Stream = name[n:]
		}
	}
	switch {
	case p.env.Container != "":
		p.keyString(p.env.Container)
	case p.env.Program != "":
		p.keyString(p.env.Program)
	default:
		p.keyString(e.LogName)
	}
	text = strings.TrimSuffix(text, "\n")
	p.rebase(text)
	text = p.splitFirst(stripInnerANSI(p, text))
	u.finish(p, text, off)
	return true
}

// object walks the members of one JSON object without decoding the
// values; docker and journald records are flat, and most of their values
// are not needed.
type object struct {
	s   string
	i   int
	bad bool
}

func newObject(s string) (object, bool) {
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return object{}, false
	}
	return object{s: s, i: i + 1}, true
}

// next returns the next member: its key (decoded) and its raw value.
func (o *object) next() (key, val string, ok bool) {
	if o.bad || o.i < 0 {
		return "", "", false
	}
	i := skipWS(o.s, o.i)
	if i < len(o.s) && o.s[i] == '}' {
		o.i = -(i + 1) // done; end() checks what follows
		return "", "", false
	}
	if i < len(o.s) && o.s[i] == ',' {
		i = skipWS(o.s, i+1)
	}
	kEnd, ok := skipValue(o.s, i)
	if !ok || o.s[i] != '"' {
		o.bad = true
		return "", "", false
	}
	key, ok = decodeString(o.s[i:kEnd])
	i = skipWS(o.s, kEnd)
	if !ok || i >= len(o.s) || o.s[i] != ':' {
		o.bad = true
		return "", "", false
	}
	i = skipWS(o.s, i+1)
	vEnd, ok := skipValue(o.s, i)
	if !ok {
		o.bad = true
		return "", "", false
	}
	val = o.s[i:vEnd]
	i = skipWS(o.s, vEnd)
	if i >= len(o.s) || o.s[i] != ',' && o.s[i] != '}' {
		o.bad = true
		return "", "", false
	}
	o.i = i
	return key, val, true
}

// end reports whether the object closed properly with nothing but
// whitespace after it.
func (o *object) end() bool {
	if o.bad || o.i >= 0 {
		return false
	}
	return skipWS(o.s, -o.i) == len(o.s)
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// skipValue returns the index after the JSON value at s[i].
func skipValue(s string, i int) (int, bool) {
	if i >= len(s) {
		return 0, false
	}
	switch s[i] {
	case '"':
		// The closing quote is the first one not escaped, i.e. not after an
		// odd run of backslashes.
		for k := i + 1; ; {
			q := strings.IndexByte(s[k:], '"')
			if q < 0 {
				return 0, false
			}
			q += k
			bs := 0
			for b := q - 1; b > i && s[b] == '\\'; b-- {
				bs++
			}
			if bs%2 == 0 {
				return q + 1, true
			}
			k = q + 1
		}
	case '{', '[':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			case '"':
				end, ok := skipValue(s, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			}
		}
		return 0, false
	}
	j := i
	for j < len(s) && s[j] != ',' && s[j] != '}' && s[j] != ']' && s[j] != ' ' && s[j] != '\t' && s[j] != '\r' && s[j] != '\n' {
		j++
	}
	if j == i {
		return 0, false
	}
	return j, true
}

// decodeString decodes a JSON string literal (quotes included). Without
// escapes it is a substring of raw.
func decodeString(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if strings.IndexByte(body, '\\') < 0 {
		return body, true
	}
	b := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		j := strings.IndexByte(body[i:], '\\')
		if j < 0 {
			b = append(b, body[i:]...)
			break
		}
		b = append(b, body[i:i+j]...)
		i += j + 1
		if i >= len(body) {
			return "", false
		}
		switch body[i] {
		case '"', '\\', '/':
			b = append(b, body[i])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(body, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(body, i+3); ok && i+2 < len(body) && body[i+1] == '\\' && body[i+2] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					}
				}
				if utf16.IsSurrogate(r) {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", false
		}
	}
	return string(b), true
}

func hex4(s string, i int) (rune, bool) {
	if i < 0 || i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case isDigit(c):
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
