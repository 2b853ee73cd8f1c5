package parse

import (
	"encoding/json"
	"strconv"
	"time"
)

// parseJournalJSON reads one `journalctl -o json` entry. All values are
// strings, except that a MESSAGE that is not valid UTF-8 comes as an array
// of byte values and a field over 4096 bytes as null (journalctl without
// --all). Unlike the text forms, its strings are copies, not slices of the
// record.
func parseJournalJSON(line string, ctx *Context, ev *Event) bool {
	// Values are decoded one by one, because any of them may be an array
	// or null instead of a string.
	var e struct {
		Message   json.RawMessage `json:"MESSAGE"`
		Priority  json.RawMessage `json:"PRIORITY"`
		Facility  json.RawMessage `json:"SYSLOG_FACILITY"`
		Transport json.RawMessage `json:"_TRANSPORT"`
		Host      json.RawMessage `json:"_HOSTNAME"`
		Ident     json.RawMessage `json:"SYSLOG_IDENTIFIER"`
		Subsystem json.RawMessage `json:"_KERNEL_SUBSYSTEM"`
		Device    json.RawMessage `json:"_KERNEL_DEVICE"`
		SyslogPID json.RawMessage `json:"SYSLOG_PID"`
		PID       json.RawMessage `json:"_PID"`
		Monotonic json.RawMessage `json:"_SOURCE_MONOTONIC_TIMESTAMP"`
		Realtime  json.RawMessage `json:"__REALTIME_TIMESTAMP"`
	}
	if err := json.Unmarshal([]byte(line), &e); err != nil || e.Message == nil {
		return false
	}
	msg, ok := journalValue(e.Message)
	if !ok {
		return false
	}
	str := func(raw json.RawMessage) string {
		v, _ := journalValue(raw)
		return v
	}
	if p := str(e.Priority); p != "" {
		ev.Level = p
		ev.addField("priority", p)
	}
	fac := str(e.Facility)
	if fac == "" && str(e.Transport) == "kernel" {
		fac = "0" // older journald wrote SYSLOG_FACILITY only for userspace records
	}
	if fac != "" {
		ev.addField("facility", fac)
	}
	if h := str(e.Host); h != "" {
		ev.addField("host", h)
	}
	if t := str(e.Ident); t != "" {
		ev.addField("tag", t)
	}
	if v := str(e.Subsystem); v != "" {
		ev.addField("SUBSYSTEM", v)
	}
	if v := str(e.Device); v != "" {
		ev.addField("DEVICE", v)
	}
	pid := str(e.SyslogPID)
	if pid == "" {
		pid = str(e.PID)
	}
	ev.PID, _ = atoi(pid)
	if us, err := strconv.ParseInt(str(e.Monotonic), 10, 64); err == nil && us >= 0 && us <= int64(maxMicros) {
		ev.Uptime = time.Duration(us) * time.Microsecond
	}
	if us, err := strconv.ParseInt(str(e.Realtime), 10, 64); err == nil && us > 0 {
		ev.Time = time.UnixMicro(us).In(location(ctx))
	}
	ev.Message = msg
	return true
}

// journalValue decodes a journal JSON value: a string, an array of byte
// values, or null (empty).
func journalValue(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case '[':
		var b []byte
		var nums []int
		if json.Unmarshal(raw, &nums) != nil {
			return "", false
		}
		for _, n := range nums {
			if n < 0 || n > 255 {
				return "", false
			}
			b = append(b, byte(n))
		}
		return string(b), true
	}
	return "", false
}
