package parse

import (
	"encoding/json"
	"strings"
	"time"
)

// Gunicorn's error log is Python logging, so what a record looks like
// depends on the release and on the logging configuration. Beside the
// default header (gunicornHeader) the parser reads:
//
//	2012-05-20 16:39:46 [23845] [INFO] Listening at: ...        0.x – 19.1.0: datefmt without brackets and zone
//	2024-01-15 10:30:00,123 [12] [ERROR] gunicorn.error: msg     logconfig "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"
//	[ERROR] gunicorn.error: msg                                   "[%(levelname)s] %(name)s: %(message)s" (no time)
//	INFO:gunicorn.error:msg                                       logging.basicConfig() in the app duplicating Gunicorn's records
//	{"asctime": "...", "levelname": "CRITICAL", "name": "gunicorn.error", "message": "..."}   python-json-logger
//
// A logger name is taken off the message only when it is one of
// Gunicorn's own ("gunicorn.error", "gunicorn.access"), so that
// signatures anchored at the start of Gunicorn's message match in every
// layout; it is kept as the field "logger".

// pyLevel reports whether s is a Python logging level name.
func pyLevel(s string) bool {
	switch s {
	case "DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL":
		return true
	}
	return false
}

// gunicornVariantStarts reports whether line begins a record in one of the
// layouts above.
func gunicornVariantStarts(line string) bool {
	if len(line) == 0 {
		return false
	}
	switch c := line[0]; {
	case isDigit(c):
		_, _, ok := oldGunicornHeader(line, nil)
		return ok
	case c == '[':
		_, _, ok := levelFirst(line)
		return ok
	case c >= 'A' && c <= 'Z':
		_, _, _, ok := basicConfigHeader(line)
		return ok
	case c == '{':
		return pyJSONLike(line)
	}
	return false
}

// gunicornVariant parses rec as one of the layouts above.
func gunicornVariant(rec string, ctx *Context, ev *Event) bool {
	if len(rec) == 0 {
		return false
	}
	switch c := rec[0]; {
	case isDigit(c):
		if h, n, ok := oldGunicornHeader(rec, ctx); ok {
			ev.Time, ev.PID, ev.Level = h.time, h.pid, h.level
			ev.Message = loggerName(rec[n:], ev)
			return true
		}
	case c == '[':
		if level, n, ok := levelFirst(rec); ok {
			ev.Level = level
			ev.Message = loggerName(rec[n:], ev)
			return true
		}
	case c >= 'A' && c <= 'Z':
		if level, logger, n, ok := basicConfigHeader(rec); ok {
			ev.Level = level
			ev.addField("logger", logger)
			ev.Message = rec[n:]
			return true
		}
	case c == '{':
		return pyJSON(rec, ctx, ev)
	}
	return false
}

// oldGunicornHeader reads "YYYY-MM-DD HH:MM:SS[,mmm] [PID] [LEVEL] ": the
// header of Gunicorn up to 19.1.0, and of logconfigs that print asctime
// with Python's default datefmt. The time has no zone: ctx.Location's.
func oldGunicornHeader(s string, ctx *Context) (h gunicornHead, msg int, ok bool) {
	if len(s) < len("2012-05-20 16:39:46 [1] [X]") || s[4] != '-' || s[7] != '-' || s[10] != ' ' {
		return h, 0, false
	}
	y, ok1 := num4(s, 0)
	mo, ok2 := num2(s, 5)
	d, ok3 := num2(s, 8)
	hh, mm, ss, ok4 := clock(s, 11)
	if !ok1 || !ok2 || !ok3 || !ok4 || !validDate(y, time.Month(mo), d) {
		return h, 0, false
	}
	i := 19
	ns := 0
	if i < len(s) && (s[i] == ',' || s[i] == '.') {
		end := digitsAt(s, i+1)
		if end == i+1 {
			return h, 0, false
		}
		ns = fraction(s[i+1 : end])
		i = end
	}
	if i+2 >= len(s) || s[i] != ' ' || s[i+1] != '[' {
		return h, 0, false
	}
	if h.pid, h.level, msg, ok = pidLevel(s, i+2); !ok {
		return h, 0, false
	}
	if msg < len(s) && s[msg] == ' ' {
		msg++
	}
	if ctx != nil {
		h.time = time.Date(y, time.Month(mo), d, hh, mm, ss, ns, location(ctx))
	}
	return h, msg, true
}

// levelFirst reads "[LEVEL] gunicorn.NAME: " (a logconfig without time):
// the logger name is required, since "[ERROR] " alone starts too many
// other things to be taken as a Gunicorn header.
func levelFirst(s string) (level string, msg int, ok bool) {
	end := 1
	for end < len(s) && s[end] >= 'A' && s[end] <= 'Z' {
		end++
	}
	if end == 1 || end+2 >= len(s) || s[end] != ']' || s[end+1] != ' ' || !pyLevel(s[1:end]) {
		return "", 0, false
	}
	if !strings.HasPrefix(s[end+2:], "gunicorn.") {
		return "", 0, false
	}
	return s[1:end], end + 2, true
}

// basicConfigHeader reads "LEVEL:gunicorn.NAME:", what logging.basicConfig's
// default format makes of Gunicorn's records when an app configures the root
// logger.
func basicConfigHeader(s string) (level, logger string, msg int, ok bool) {
	c := strings.IndexByte(s, ':')
	if c < 4 || c > len("CRITICAL") || !pyLevel(s[:c]) || !strings.HasPrefix(s[c+1:], "gunicorn.") {
		return "", "", 0, false
	}
	rest := s[c+1:]
	e := strings.IndexByte(rest, ':')
	if e < 0 || strings.IndexByte(rest[:e], ' ') >= 0 {
		return "", "", 0, false
	}
	return s[:c], rest[:e], c + 1 + e + 1, true
}

// loggerName takes "gunicorn.error: " or "gunicorn.access: " off the front
// of msg and keeps it as the field "logger".
func loggerName(msg string, ev *Event) string {
	if !strings.HasPrefix(msg, "gunicorn.") {
		return msg
	}
	c := strings.Index(msg, ": ")
	if c < 0 || strings.IndexByte(msg[:c], ' ') >= 0 || strings.IndexByte(msg[:c], '\n') >= 0 {
		return msg
	}
	ev.addField("logger", msg[:c])
	return msg[c+2:]
}

// pyJSONLike is the cheap test for a python-json-logger record: an object
// with a "levelname" and a "message".
func pyJSONLike(s string) bool {
	return len(s) > 2 && s[0] == '{' && strings.Contains(s, `"levelname"`) && strings.Contains(s, `"message"`)
}

// pyJSON reads a python-json-logger record:
//
//	{"asctime": "2024-01-15 10:30:00,123", "levelname": "CRITICAL", "name": "gunicorn.error", "process": 12, "message": "WORKER TIMEOUT (pid:13)"}
//
// "asctime" has Python's default layout (local time, ctx.Location); a
// "timestamp" or "time" key in RFC 3339 is taken when there is no asctime.
// A traceback the formatter put in "exc_info" is appended to the message,
// as the default formatter would print it.
func pyJSON(rec string, ctx *Context, ev *Event) bool {
	if !pyJSONLike(rec) || strings.IndexByte(rec, '\n') >= 0 {
		return false
	}
	var r struct {
		Asctime   string `json:"asctime"`
		Timestamp string `json:"timestamp"`
		Time      string `json:"time"`
		Levelname string `json:"levelname"`
		Name      string `json:"name"`
		Message   string `json:"message"`
		Process   any    `json:"process"`
		ExcInfo   string `json:"exc_info"`
	}
	if err := json.Unmarshal([]byte(rec), &r); err != nil || r.Levelname == "" {
		return false
	}
	ev.Level = r.Levelname
	if r.Name != "" {
		ev.addField("logger", r.Name)
	}
	switch p := r.Process.(type) {
	case float64:
		ev.PID = int(p)
	case string:
		ev.PID, _ = atoi(p)
	}
	switch {
	case r.Asctime != "":
		if h, _, ok := oldGunicornHeader(r.Asctime+" [0] [X] ", ctx); ok {
			ev.Time = h.time
		}
	case r.Timestamp != "" || r.Time != "":
		ts := r.Timestamp
		if ts == "" {
			ts = r.Time
		}
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			ev.Time = t
		}
	}
	ev.Message = r.Message
	if r.ExcInfo != "" {
		ev.Message += "\n" + r.ExcInfo
	}
	return true
}
