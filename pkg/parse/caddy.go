package parse

import (
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// caddyParser reads Caddy v2's logs. Caddy logs through zap, one entry a
// line, with one of two encoders:
//
//	{"level":"error","ts":1597924637.9056916,"logger":"http.log.error","msg":"dial tcp [::1]:8050: connect: connection refused","request":{...},"duration":0.0042,"status":502}
//	2023/01/11 10:00:00.123	ERROR	http.log.error	dial tcp 127.0.0.1:8000: connect: connection refused	{"request": {...}, "status": 502}
//
// JSON is what Caddy writes when stderr is not a terminal (systemd, docker)
// and with `format json`; the tab-separated console encoder is its default on
// a terminal and `format console`. The error log (logger http.log.error,
// or http.log.error.NAME for a site with its own log), the access log
// (http.log.access.NAME) and the reverse proxy's own entries
// (http.handlers.reverse_proxy, with "upstream" and "error") all take this
// shape; they differ in their logger and fields.
//
// Fields, in this order and where present: logger, status, upstream, error,
// method, uri, host, remote_ip, duration. The last five come from the
// entry's "request" object; remote_ip falls back to the host part of
// remote_addr, which older releases logged instead. Numbers (status,
// duration) are kept as written. Level is lower case whatever the
// encoder's level_format. Message is msg. Strings are copies decoded from
// the JSON, not slices of the record.
//
// Time: ts is float seconds by default and may be configured to other
// forms (time_format): milliseconds or nanoseconds since the epoch, an
// ISO 8601 / RFC 3339 string, or wall time "2006/01/02 15:04:05[.000]".
// A time without a zone is taken in ctx.Location. An unreadable ts leaves
// Time zero; the entry still parses.
//
// A record that does not start like one of the two layouts is rejected
// before any JSON is decoded, so other formats' lines cost a few byte
// comparisons.
type caddyParser struct{}

var _ Parser = caddyParser{}

func (caddyParser) Format() Format { return FormatCaddy }

// Starts is always true: zap writes one entry a line and escapes the
// newlines inside its values.
func (caddyParser) Starts(string) bool { return true }

// RecordEnds is always true, for the same reason.
func (caddyParser) RecordEnds(string, bool) bool { return true }

func (caddyParser) Parse(rec string, ctx *Context, ev *Event) bool {
	resetEvent(ev, FormatCaddy, rec)
	var ok bool
	if strings.HasPrefix(rec, caddyJSONStart) {
		ok = parseCaddyJSON(rec, ctx, ev)
	} else {
		ok = parseCaddyConsole(rec, ctx, ev)
	}
	if !ok {
		clearEvent(ev)
	}
	return ok
}

// caddyJSONStart is how every entry of zap's JSON encoder begins with
// Caddy's encoder configuration: the level key comes first.
const caddyJSONStart = `{"level":`

// caddyEntry is what sigtail reads of an entry. Values that Caddy writes
// as numbers, and ts whose type depends on time_format, stay raw.
type caddyEntry struct {
	Level    string          `json:"level"`
	TS       json.RawMessage `json:"ts"`
	Logger   string          `json:"logger"`
	Msg      *string         `json:"msg"`
	Status   json.RawMessage `json:"status"`
	Upstream string          `json:"upstream"`
	Error    string          `json:"error"`
	Duration json.RawMessage `json:"duration"`
	Latency  json.RawMessage `json:"latency"` // older releases' name for duration
	Request  struct {
		RemoteIP   string `json:"remote_ip"`
		RemoteAddr string `json:"remote_addr"`
		Method     string `json:"method"`
		Host       string `json:"host"`
		URI        string `json:"uri"`
	} `json:"request"`
}

// decodeCaddy decodes one JSON object. A value of an unexpected type (an
// "error" that is an object, say) is left empty rather than losing the
// entry; anything that is not a JSON object fails.
func decodeCaddy(s string, e *caddyEntry) bool {
	// zap escapes invalid UTF-8, so raw invalid bytes mean the line is not
	// zap's, or is damaged; decoding would also turn each into a
	// three-byte U+FFFD, making values longer than the record.
	if !utf8.ValidString(s) {
		return false
	}
	err := json.Unmarshal([]byte(s), e)
	var typeErr *json.UnmarshalTypeError
	return err == nil || errors.As(err, &typeErr)
}

func parseCaddyJSON(rec string, ctx *Context, ev *Event) bool {
	var e caddyEntry
	if !decodeCaddy(rec, &e) || e.Msg == nil {
		return false
	}
	ev.Level = caddyLevelOf(e.Level)
	ev.Message = *e.Msg
	ev.Time, _ = caddyRawTime(e.TS, ctx)
	if e.Logger != "" {
		ev.addField("logger", e.Logger)
	}
	addCaddyFields(ev, &e)
	return true
}

// parseCaddyConsole reads zap's console layout, tab-separated:
// TIME, LEVEL, [LOGGER,] MESSAGE[, {JSON fields}]. Entries of Caddy's root
// logger ("using provided configuration") have no logger column.
func parseCaddyConsole(rec string, ctx *Context, ev *Event) bool {
	if rec == "" || !isDigit(rec[0]) {
		return false
	}
	tab := strings.IndexByte(rec[:min(len(rec), caddyMaxTimeLen+1)], '\t')
	if tab < 0 {
		return false
	}
	t, ok := caddyConsoleTime(rec[:tab], ctx)
	if !ok {
		return false
	}
	rest := rec[tab+1:]
	tab = strings.IndexByte(rest, '\t')
	if tab < 0 {
		return false
	}
	level, ok := caddyLevel(stripColor(rest[:tab]))
	if !ok {
		return false
	}
	rest = rest[tab+1:]
	ev.Time, ev.Level = t, level

	// The fields object, when the entry has fields, is the last column.
	var e caddyEntry
	hasFields := false
	if i := strings.LastIndex(rest, "\t{"); i >= 0 && strings.HasSuffix(rest, "}") && decodeCaddy(rest[i+1:], &e) {
		rest, hasFields = rest[:i], true
	}
	// Of two or more columns left, the first is the logger: logger names
	// are dotted words (http.log.error) and never hold a space.
	if i := strings.IndexByte(rest, '\t'); i > 0 && strings.IndexByte(rest[:i], ' ') < 0 {
		ev.addField("logger", rest[:i])
		rest = rest[i+1:]
	}
	ev.Message = rest
	if hasFields {
		addCaddyFields(ev, &e)
	}
	return true
}

// addCaddyFields appends the fields after logger, in their fixed order.
func addCaddyFields(ev *Event, e *caddyEntry) {
	if v := string(e.Status); v != "" && digitsAt(v, 0) == len(v) {
		ev.addField("status", v)
	}
	if e.Upstream != "" {
		ev.addField("upstream", e.Upstream)
	}
	if e.Error != "" {
		ev.addField("error", e.Error)
	}
	r := &e.Request
	if r.Method != "" {
		ev.addField("method", r.Method)
	}
	if r.URI != "" {
		ev.addField("uri", r.URI)
	}
	if r.Host != "" {
		ev.addField("host", r.Host)
	}
	if ip := r.RemoteIP; ip != "" {
		ev.addField("remote_ip", ip)
	} else if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil && host != "" {
		ev.addField("remote_ip", host)
	}
	d := e.Duration
	if len(d) == 0 {
		d = e.Latency
	}
	if v, ok := caddyScalar(d); ok {
		ev.addField("duration", v)
	}
}

// caddyScalar is a raw JSON number as written, or a JSON string's value
// (duration_format string writes "1.5ms").
func caddyScalar(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil || s == "" {
			return "", false
		}
		return s, true
	}
	if raw[0] == '-' || isDigit(raw[0]) {
		return string(raw), true
	}
	return "", false
}

// caddyLevel reads a zap level name in any case ("error", "ERROR") and
// returns it in lower case, without allocating.
func caddyLevel(s string) (string, bool) {
	for _, l := range caddyLevels {
		if strings.EqualFold(s, l) {
			return l, true
		}
	}
	return "", false
}

var caddyLevels = [...]string{"debug", "info", "warn", "error", "dpanic", "panic", "fatal"}

// caddyLevelOf is caddyLevel for the JSON encoder, which names the level
// whatever it is: an unknown name is kept, in lower case.
func caddyLevelOf(s string) string {
	if l, ok := caddyLevel(s); ok {
		return l
	}
	return strings.ToLower(s)
}

// stripColor removes the ANSI colour that zap's CapitalColorLevelEncoder
// puts around the level ("\x1b[31mERROR\x1b[0m").
func stripColor(s string) string {
	if !strings.HasPrefix(s, "\x1b[") {
		return s
	}
	m := strings.IndexByte(s, 'm')
	if m < 0 {
		return s
	}
	return strings.TrimSuffix(s[m+1:], "\x1b[0m")
}

// caddyMaxTimeLen bounds the console encoder's time column: the longest
// form, RFC 3339 with nanoseconds and an offset, is 35 bytes.
const caddyMaxTimeLen = 40

// caddyConsoleTime reads the console encoder's time column: Caddy's
// terminal default "2006/01/02 15:04:05.000", or any time_format.
func caddyConsoleTime(s string, ctx *Context) (time.Time, bool) {
	if len(s) >= 19 && s[4] == '/' {
		return caddyWallTime(s, ctx)
	}
	return caddyTime(s, ctx)
}

// caddyRawTime reads ts as the JSON encoder wrote it: a number, or a
// string for the string time formats.
func caddyRawTime(raw json.RawMessage, ctx *Context) (time.Time, bool) {
	if len(raw) == 0 {
		return time.Time{}, false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return time.Time{}, false
		}
		if len(s) >= 19 && s[4] == '/' {
			return caddyWallTime(s, ctx)
		}
		return caddyTime(s, ctx)
	}
	return caddyEpoch(string(raw), ctx)
}

// caddyTime reads an epoch number, an ISO 8601 / RFC 3339 time or a
// common-log time "02/Jan/2006:15:04:05 -0700".
func caddyTime(s string, ctx *Context) (time.Time, bool) {
	if len(s) >= 19 && s[4] == '-' {
		t, n, _, ok := isoTime(s, ctx)
		if !ok || n != len(s) {
			return time.Time{}, false
		}
		return t, true
	}
	if len(s) == timeLocalLen && s[2] == '/' {
		return timeLocal(s)
	}
	return caddyEpoch(s, ctx)
}

// caddyWallTime reads "2006/01/02 15:04:05" with an optional fraction, in
// ctx.Location: the form has no zone (recent releases write it in UTC,
// older ones in local time).
func caddyWallTime(s string, ctx *Context) (time.Time, bool) {
	if len(s) < 19 || s[4] != '/' || s[7] != '/' || s[10] != ' ' {
		return time.Time{}, false
	}
	y, ok1 := num4(s, 0)
	mo, ok2 := num2(s, 5)
	d, ok3 := num2(s, 8)
	h, mi, sec, ok4 := clock(s, 11)
	if !ok1 || !ok2 || !ok3 || !ok4 || !validDate(y, time.Month(mo), d) {
		return time.Time{}, false
	}
	ns := 0
	if len(s) > 19 {
		if s[19] != '.' || len(s) == 20 || digitsAt(s, 20) != len(s) {
			return time.Time{}, false
		}
		ns = fraction(s[20:])
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, location(ctx)), true
}

// caddyEpoch reads a time since the epoch, "1597924637.9056916". zap
// writes floats without an exponent. The unit follows from the size of
// the integer part: seconds (the default, up to 11 digits, the year 5138),
// milliseconds (unix_milli_float), microseconds, or nanoseconds
// (unix_nano).
func caddyEpoch(s string, ctx *Context) (time.Time, bool) {
	ip, frac, _ := strings.Cut(s, ".")
	if ip == "" || len(ip) > 19 || digitsAt(ip, 0) != len(ip) || digitsAt(frac, 0) != len(frac) {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(ip, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var sec, nsec int64
	switch {
	case len(ip) <= 11:
		sec, nsec = n, int64(fraction(frac))
	case len(ip) <= 14:
		sec, nsec = n/1e3, n%1e3*1e6+int64(fraction(frac))/1e3
	case len(ip) <= 17:
		sec, nsec = n/1e6, n%1e6*1e3+int64(fraction(frac))/1e6
	default:
		sec, nsec = n/1e9, n%1e9
	}
	return time.Unix(sec, nsec).In(location(ctx)), true
}
