package parse

import (
	"testing"
	"time"
)

func TestCaddy(t *testing.T) {
	p := For(FormatCaddy)
	tests := []struct {
		name, rec string
		want      wantEvent
	}{
		{"json error 502",
			`{"level":"error","ts":1795514400.9056916,"logger":"http.log.error","msg":"dial tcp [::1]:8050: connect: connection refused","request":{"remote_ip":"203.0.113.7","remote_port":"62798","proto":"HTTP/1.1","method":"POST","host":"shop.example.com","uri":"/api/cart","headers":{"Content-Length":["188"]}},"duration":0.004200834,"status":502,"err_id":"cz7f5y089","err_trace":"reverseproxy.statusError (reverseproxy.go:783)"}`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00.9056916Z", level: "error", message: "dial tcp [::1]:8050: connect: connection refused",
				fields: "logger=http.log.error status=502 method=POST uri=/api/cart host=shop.example.com remote_ip=203.0.113.7 duration=0.004200834"}},
		{"remote_addr of Caddy before 2.5",
			`{"level":"error","ts":1795514400,"logger":"http.log.error","msg":"EOF","request":{"remote_addr":"[2001:db8::7]:62798","method":"GET","host":"h","uri":"/"},"status":502}`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "error", message: "EOF",
				fields: "logger=http.log.error status=502 method=GET uri=/ host=h remote_ip=2001:db8::7"}},
		{"reverse proxy abort",
			`{"level":"warn","ts":1795514400.5,"logger":"http.handlers.reverse_proxy","msg":"aborting with incomplete response","upstream":"localhost:3030","duration":0.002,"request":{"remote_ip":"203.0.113.7","method":"GET","host":"h","uri":"/events"},"error":"reading: context canceled"}`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00.5Z", level: "warn", message: "aborting with incomplete response",
				fields: "logger=http.handlers.reverse_proxy upstream=localhost:3030 error=reading: context canceled method=GET uri=/events host=h remote_ip=203.0.113.7 duration=0.002"}},
		{"root logger, escapes",
			`{"level":"info","ts":1795514400,"msg":"tab\there \"quoted\" \u00e9"}`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "info", message: "tab\there \"quoted\" é", fields: "-"}},
		{"ts iso8601 string",
			`{"level":"error","ts":"2026-11-24T11:00:00.250+0100","logger":"http.log.error","msg":"no upstreams available","status":503}`,
			wantEvent{ok: true, time: "2026-11-24T11:00:00.25+01:00", level: "error", message: "no upstreams available", fields: "logger=http.log.error status=503"}},
		{"upper-case level", `{"level":"ERROR","ts":1795514400,"msg":"x"}`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "error", message: "x", fields: "-"}},
		{"milliseconds", `{"level":"info","ts":1795514400250.5,"msg":"x"}`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00.2505Z", level: "info", message: "x", fields: "-"}},
		{"unreadable ts", `{"level":"info","ts":true,"msg":"x"}`,
			wantEvent{ok: true, time: "zero", level: "info", message: "x", fields: "-"}},
		{"json without msg", `{"level":"info","ts":1795514400}`, wantEvent{ok: false}},
		{"json cut short", `{"level":"info","ts":1795514400,"msg":"x`, wantEvent{ok: false}},
		{"json with more after it", `{"level":"info","msg":"x"}{}`, wantEvent{ok: false}},
		{"journal json", `{"MESSAGE":"x","PRIORITY":"3"}`, wantEvent{ok: false}},
		{"console",
			"2026/11/24 10:00:00.123\tERROR\thttp.log.error\tdial tcp 127.0.0.1:8000: connect: connection refused\t{\"request\": {\"remote_ip\": \"127.0.0.1\", \"method\": \"GET\", \"host\": \"localhost\", \"uri\": \"/\"}, \"duration\": 0.001, \"status\": 502}",
			wantEvent{ok: true, time: "2026-11-24T10:00:00.123Z", level: "error", message: "dial tcp 127.0.0.1:8000: connect: connection refused",
				fields: "logger=http.log.error status=502 method=GET uri=/ host=localhost remote_ip=127.0.0.1 duration=0.001"}},
		{"console without fraction, lower-case level",
			"2021/12/31 23:59:59\terror\thttp.handlers.reverse_proxy\taborting with incomplete response\t{\"error\": \"context canceled\"}",
			wantEvent{ok: true, time: "2021-12-31T23:59:59Z", level: "error", message: "aborting with incomplete response",
				fields: "logger=http.handlers.reverse_proxy error=context canceled"}},
		{"console colour, no fields", "2026/11/24 10:00:00.123\t\x1b[34mINFO\x1b[0m\ttls\tfinished cleaning storage units",
			wantEvent{ok: true, time: "2026-11-24T10:00:00.123Z", level: "info", message: "finished cleaning storage units", fields: "logger=tls"}},
		{"console root logger", "2026/11/24 10:00:00.123\tINFO\tusing adjacent Caddyfile",
			wantEvent{ok: true, time: "2026-11-24T10:00:00.123Z", level: "info", message: "using adjacent Caddyfile", fields: "-"}},
		{"console epoch", "1795514400.5\twarn\thttp\tserver running",
			wantEvent{ok: true, time: "2026-11-24T10:00:00.5Z", level: "warn", message: "server running", fields: "logger=http"}},
		{"console fields that do not decode stay in the message", "2026/11/24 10:00:00.123\tERROR\thttp.log.error\tEOF\t{\"request\": {",
			wantEvent{ok: true, time: "2026-11-24T10:00:00.123Z", level: "error", message: "EOF\t{\"request\": {", fields: "logger=http.log.error"}},
		{"console unknown level", "2026/11/24 10:00:00.123\tNOTICE\thttp\tx", wantEvent{ok: false}},
		{"console spaces for tabs", "2026/11/24 10:00:00.123 ERROR http.log.error x", wantEvent{ok: false}},
		{"console bad date", "2026/02/30 10:00:00.123\tERROR\thttp.log.error\tx", wantEvent{ok: false}},
		{"nginx error", "2026/11/24 10:00:00 [error] 1#1: *2 connect() failed (111: Connection refused) while connecting to upstream", wantEvent{ok: false}},
		{"gunicorn", "[2026-11-24 10:00:00 +0000] [1234] [CRITICAL] WORKER TIMEOUT (pid:1235)", wantEvent{ok: false}},
		{"empty", "", wantEvent{ok: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkEvent(t, p, testCtx, tt.rec, tt.want)
		})
	}
}

// A console time carries no zone; it is read in ctx.Location.
func TestCaddyConsoleLocation(t *testing.T) {
	loc := time.FixedZone("X", 2*3600)
	var ev Event
	if !For(FormatCaddy).Parse("2026/11/24 10:00:00.123\tINFO\thttp\tx", &Context{Location: loc}, &ev) {
		t.Fatal("not parsed")
	}
	if want := time.Date(2026, 11, 24, 10, 0, 0, 123e6, loc); !ev.Time.Equal(want) {
		t.Errorf("Time = %v, want %v", ev.Time, want)
	}
}

func TestCaddyDetect(t *testing.T) {
	for name, lines := range map[string][]string{
		"json": {
			`{"level":"info","ts":1795514400.1,"msg":"using provided configuration","config_file":"/etc/caddy/Caddyfile","config_adapter":"caddyfile"}`,
			`{"level":"error","ts":1795514400.2,"logger":"http.log.error","msg":"EOF","request":{"remote_ip":"127.0.0.1","method":"GET","host":"h","uri":"/"},"duration":0.01,"status":502}`,
		},
		"console": {
			"2026/11/24 10:00:00.123\tINFO\tusing provided configuration\t{\"config_file\": \"/etc/caddy/Caddyfile\"}",
			"2026/11/24 10:00:00.200\tERROR\thttp.log.error\tEOF\t{\"status\": 502}",
		},
	} {
		if got := mainFormat(lines); got != FormatCaddy {
			t.Errorf("%s: Detect = %q, want caddy", name, got)
		}
	}
}

// Lines of the other formats must cost the Caddy parser next to nothing:
// Detect and a scan of a file of unknown format try it on every line.
func TestCaddyRejectsWithoutAllocating(t *testing.T) {
	p := For(FormatCaddy)
	var ev Event
	for _, rec := range []string{
		`203.0.113.7 - - [24/Nov/2026:10:00:00 +0000] "GET /api HTTP/1.1" 502 157 "-" "curl/8.5.0"`,
		`2026/11/24 10:00:00 [error] 1234#1234: *456 upstream prematurely closed connection while reading response header from upstream`,
		`[2026-11-24 10:00:00 +0000] [1234] [CRITICAL] WORKER TIMEOUT (pid:1235)`,
		`{"MESSAGE":"Out of memory: Killed process 4312 (python3)","PRIORITY":"3"}`,
		`[12345.678901] a.out[40342]: segfault at 0 ip 00000000004005b1`,
	} {
		if n := testing.AllocsPerRun(100, func() { p.Parse(rec, testCtx, &ev) }); n != 0 {
			t.Errorf("Parse(%q): %v allocations, want 0", rec, n)
		}
	}
}
