package parse

import (
	"testing"
	"time"
)

func TestGunicornParse(t *testing.T) {
	p := For(FormatGunicorn)
	tests := []struct {
		name string
		rec  string
		want wantEvent
	}{
		{"header", "[2026-11-24 10:00:00 +0000] [1234] [CRITICAL] WORKER TIMEOUT (pid:1235)",
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "CRITICAL", pid: 1234, message: "WORKER TIMEOUT (pid:1235)", fields: "-"}},
		{"zone kept", "[2026-11-24 10:00:00 -0500] [1] [INFO] x",
			wantEvent{ok: true, time: "2026-11-24T10:00:00-05:00", level: "INFO", pid: 1, message: "x"}},
		{"half-hour zone", "[2026-11-24 10:00:00 +0530] [1] [INFO] x",
			wantEvent{ok: true, time: "2026-11-24T10:00:00+05:30", level: "INFO", pid: 1, message: "x"}},
		{"trailing space kept", "[2026-11-24 10:00:00 +0000] [7] [DEBUG] Closing connection. ",
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "DEBUG", pid: 7, message: "Closing connection. "}},
		{"empty message", "[2026-11-24 10:00:00 +0000] [7] [INFO]",
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "INFO", pid: 7, message: ""}},
		{"traceback joined", "[2026-11-24 10:00:00 +0000] [7] [ERROR] Error handling request /x\nTraceback (most recent call last):\nSystemExit: 1",
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "ERROR", pid: 7, message: "Error handling request /x\nTraceback (most recent call last):\nSystemExit: 1"}},
		{"empty header message then traceback", "[2026-11-24 10:00:00 +0000] [7] [ERROR]\nValueError: x",
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "ERROR", pid: 7, message: "\nValueError: x"}},
		{"headerless", "Failed to find attribute 'app' in 'myapp'.",
			wantEvent{ok: true, time: "zero", message: "Failed to find attribute 'app' in 'myapp'.", fields: "-"}},
		{"invalid date is headerless", "[2026-02-30 10:00:00 +0000] [7] [INFO] x",
			wantEvent{ok: true, time: "zero", message: "[2026-02-30 10:00:00 +0000] [7] [INFO] x"}},
		{"lowercase level is headerless", "[2026-11-24 10:00:00 +0000] [7] [info] x",
			wantEvent{ok: true, time: "zero", message: "[2026-11-24 10:00:00 +0000] [7] [info] x"}},
		{"colon zone is headerless", "[2026-11-24 10:00:00 +00:00] [7] [INFO] x",
			wantEvent{ok: true, time: "zero", message: "[2026-11-24 10:00:00 +00:00] [7] [INFO] x"}},
		{"blank", "  \n ", wantEvent{ok: false}},
		{"empty", "", wantEvent{ok: false}},
		{"syslog", "May  1 12:00:00 host gunicorn.myapp.app.error: [4711] Starting gunicorn 23.0.0",
			wantEvent{ok: true, time: "2026-05-01T12:00:00Z", pid: 4711, message: "Starting gunicorn 23.0.0", fields: "host=host tag=gunicorn.myapp.app.error"}},
		{"syslog rsyslog escapes", "May  1 12:00:00 h gunicorn.a.error: [1] Error handling request /boom#012Traceback (most recent call last):#012#011x#012ValueError: #1 #0",
			wantEvent{ok: true, time: "2026-05-01T12:00:00Z", pid: 1, message: "Error handling request /boom\nTraceback (most recent call last):\n\tx\nValueError: #1 #0", fields: "host=h tag=gunicorn.a.error"}},
		{"syslog with PRI gives level", "<10>May  1 12:00:00 h gunicorn.a.error: [1] WORKER TIMEOUT (pid:2)",
			wantEvent{ok: true, time: "2026-05-01T12:00:00Z", level: "CRITICAL", pid: 1, message: "WORKER TIMEOUT (pid:2)", fields: "host=h tag=gunicorn.a.error"}},
		{"wire datagram", "<11>gunicorn.myapp.app.error: [28627] Error handling request /boom\nTraceback (most recent call last):\nValueError: x\x00",
			wantEvent{ok: true, time: "zero", level: "ERROR", pid: 28627, message: "Error handling request /boom\nTraceback (most recent call last):\nValueError: x", fields: "-"}},
		{"syslog access tag is headerless", "May  1 12:00:00 h gunicorn.a.access: [1] 10.0.0.7 - - x",
			wantEvent{ok: true, time: "zero", message: "May  1 12:00:00 h gunicorn.a.access: [1] 10.0.0.7 - - x", fields: "-"}},
		{"syslog without pid is headerless", "May  1 12:00:00 h gunicorn.a.error: no pid",
			wantEvent{ok: true, time: "zero", message: "May  1 12:00:00 h gunicorn.a.error: no pid", fields: "-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkEvent(t, p, testCtx, tt.rec, tt.want) })
	}
}

func TestGunicornSyslogNoReference(t *testing.T) {
	checkEvent(t, For(FormatGunicorn), &Context{}, "May  1 12:00:00 h gunicorn.a.error: [1] x",
		wantEvent{ok: true, time: "zero", pid: 1, message: "x", fields: "host=h tag=gunicorn.a.error"})
}

func TestGunicornSyslogLocation(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no zoneinfo:", err)
	}
	ctx := &Context{Location: ny, Reference: testCtx.Reference}
	checkEvent(t, For(FormatGunicorn), ctx, "May  1 12:00:00 h gunicorn.a.error: [1] x",
		wantEvent{ok: true, time: "2026-05-01T12:00:00-04:00", pid: 1, message: "x", fields: "host=h tag=gunicorn.a.error"})
}

func TestGunicornStarts(t *testing.T) {
	p := For(FormatGunicorn)
	for line, want := range map[string]bool{
		"[2026-11-24 10:00:00 +0000] [1234] [INFO] Booting worker with pid: 1235": true,
		"May  1 12:00:00 host gunicorn.myapp.app.error: [4711] x":                 true,
		"May  1 12:00:00 host systemd[1]: other program":                          true,
		"<11>gunicorn.myapp.app.error: [28627] Error":                             true,
		"Traceback (most recent call last):":                                      false,
		`  File "/srv/app.py", line 1, in <module>`:                               false,
		"Failed to find attribute 'app' in 'myapp'.":                              false,
		"Error: No application module specified.":                                 false,
		"--- Logging error ---":                                                   false,
		"  workers: 3":                                                            false,
		"[INFO] not a header":                                                     false,
		"":                                                                        false,
	} {
		if got := p.Starts(line); got != want {
			t.Errorf("Starts(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestGunicornEvidence(t *testing.T) {
	for line, want := range map[string]bool{
		"[2026-11-24 10:00:00 +0000] [1234] [INFO] x":               true,
		"May  1 12:00:00 host gunicorn.myapp.app.error: [4711] x":   true,
		"<14>gunicorn.myapp.app.error: [28585] Starting":            true,
		"May  1 12:00:00 host gunicorn.myapp.app.access: [4711] x":  false,
		"May  1 12:00:00 host kernel: x":                            false,
		"Failed to find attribute 'app' in 'myapp'.":                false,
		"Traceback (most recent call last):":                        false,
		"May  1 12:00:00 host gunicorn.myapp.app.error: no pid":     false,
		"<14>gunicorn.myapp.app.error: no pid":                      false,
		"[2026-11-24 10:00:00 +0000] [1234] [INFO]":                 true,
		"[2026-11-24 10:00:00 +0000] [1234] [INFO]x":                false,
		"[2026-11-24 10:00:00 +0000] [] [INFO] x":                   false,
		"[2026-11-24 10:00:00 +0000] [99999999999999999999] [INFO]": false,
	} {
		if got := gunicornEvidence(line); got != want {
			t.Errorf("gunicornEvidence(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestUnescapeRsyslog(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          "plain",
		"a#012b":         "a\nb",
		"a#011b#015":     "a\tb\r",
		"#177":           "\x7f",
		"issue #123":     "issue #123",
		"#08":            "#08",
		"#089":           "#089",
		"#0":             "#0",
		"x#012":          "x\n",
		"#012#012":       "\n\n",
		"path#/a#040b":   "path#/a#040b", // #040 is a space: rsyslog does not escape it
		"#0a1 and #0121": "#0a1 and \n1",
	} {
		if got := unescapeRsyslog(in); got != want {
			t.Errorf("unescapeRsyslog(%q) = %q, want %q", in, got, want)
		}
	}
}

// A reused Event must not keep anything from the record before.
func TestGunicornReuseEvent(t *testing.T) {
	p := For(FormatGunicorn)
	var ev Event
	p.Parse("May  1 12:00:00 h gunicorn.a.error: [1] x", testCtx, &ev)
	p.Parse("bare line", testCtx, &ev)
	if len(ev.Fields) != 0 || ev.PID != 0 || !ev.Time.IsZero() || ev.Message != "bare line" {
		t.Errorf("stale state after reuse: %+v", ev)
	}
}
