package parse

import (
	"strings"
	"testing"
	"time"
)

func TestNginxErrorParse(t *testing.T) {
	p := For(FormatNginxError)
	const T = "2026/11/24 10:00:00"
	tests := []struct {
		name string
		rec  string
		want wantEvent
	}{
		{"full upstream line",
			T + ` [error] 1234#1234: *456 upstream prematurely closed connection while reading response header from upstream, client: 203.0.113.7, server: example.com, request: "GET /api HTTP/1.1", upstream: "http://10.0.0.12:8080/api", host: "example.com"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "error", pid: 1234,
				message: "upstream prematurely closed connection while reading response header from upstream",
				fields:  "tid=1234 connection=456 client=203.0.113.7 server=example.com request=GET /api HTTP/1.1 upstream=http://10.0.0.12:8080/api host=example.com action=reading response header from upstream"}},
		{"errno kept in message",
			T + ` [error] 1234#0: *5 connect() failed (111: Connection refused) while connecting to upstream, client: 203.0.113.7, server: , request: "GET / HTTP/2.0", upstream: "http://10.0.0.12:8080/"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "error", pid: 1234,
				message: "connect() failed (111: Connection refused) while connecting to upstream",
				fields:  "tid=0 connection=5 client=203.0.113.7 server= request=GET / HTTP/2.0 upstream=http://10.0.0.12:8080/ errno=111 action=connecting to upstream"}},
		{"no connection, no context",
			T + ` [emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address already in use)`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "emerg", pid: 1,
				message: "bind() to 0.0.0.0:80 failed (98: Address already in use)", fields: "tid=1 errno=98"}},
		{"no request yet: server is the listen address",
			T + ` [info] 9#9: *1 client closed connection while waiting for request, client: 203.0.113.7, server: 0.0.0.0:80`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "info", pid: 9,
				message: "client closed connection while waiting for request",
				fields:  "tid=9 connection=1 client=203.0.113.7 server=0.0.0.0:80 action=waiting for request"}},
		{"no while: body read",
			T + ` [info] 9#9: *1 client prematurely closed connection, client: 203.0.113.7, server: x, request: "POST /u HTTP/1.1", host: "x"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "info", pid: 9,
				message: "client prematurely closed connection",
				fields:  "tid=9 connection=1 client=203.0.113.7 server=x request=POST /u HTTP/1.1 host=x"}},
		{"referrer forging a second upstream",
			T + ` [error] 9#9: *1 m, client: 1.2.3.4, server: s, request: "GET /a HTTP/1.1", upstream: "http://real/", host: "h", referrer: "x", upstream: "http://evil/"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "error", pid: 9, message: "m",
				fields: `tid=9 connection=1 client=1.2.3.4 server=s request=GET /a HTTP/1.1 upstream=http://real/ host=h referrer=x", upstream: "http://evil/`}},
		{"invalid request line carrying an upstream",
			T + ` [info] 9#9: *1 client sent invalid request while reading client request line, client: 1.2.3.4, server: s, request: "GET /x", upstream: "http://evil/ HTTP/1.1"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "info", pid: 9,
				message: "client sent invalid request while reading client request line",
				fields:  `tid=9 connection=1 client=1.2.3.4 server=s request=GET /x", upstream: "http://evil/ HTTP/1.1 action=reading client request line`}},
		{"quote and comma in a valid target",
			T + ` [error] 9#9: *1 m, client: 1.2.3.4, server: s, request: "GET /p?q=",upstream:"x HTTP/1.1", upstream: "http://real/p?q=",upstream:"x", host: "h"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "error", pid: 9, message: "m",
				fields: `tid=9 connection=1 client=1.2.3.4 server=s request=GET /p?q=",upstream:"x HTTP/1.1 upstream=http://real/p?q=",upstream:"x host=h`}},
		{"client context forged inside the message",
			T + ` [error] 9#9: *1 FastCGI sent in stderr: "x, client: 6.6.6.6, server: evil" while reading upstream, client: 1.2.3.4, server: s, request: "GET / HTTP/1.1", upstream: "fastcgi://127.0.0.1:9000", host: "h"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "error", pid: 9,
				message: `FastCGI sent in stderr: "x, client: 6.6.6.6, server: evil" while reading upstream`,
				fields:  "tid=9 connection=1 client=1.2.3.4 server=s request=GET / HTTP/1.1 upstream=fastcgi://127.0.0.1:9000 host=h action=reading upstream"}},
		{"cut inside the referrer",
			T + ` [error] 9#9: *1 m, client: 1.2.3.4, server: s, request: "GET / HTTP/1.1", host: "h", referrer: "http://a/very/long`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "error", pid: 9, message: "m",
				fields: "tid=9 connection=1 client=1.2.3.4 server=s request=GET / HTTP/1.1 host=h referrer=http://a/very/long"}},
		{"cut inside the host",
			T + ` [error] 9#9: *1 m, client: 1.2.3.4, server: s, request: "GET / HTTP/1.1", upstream: "http://u/", host: "exa`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "error", pid: 9, message: "m",
				fields: "tid=9 connection=1 client=1.2.3.4 server=s request=GET / HTTP/1.1 upstream=http://u/ host=exa"}},
		{"cut inside the request",
			T + ` [error] 9#9: *1 m while reading upstream, client: 1.2.3.4, server: s, request: "GET /aaaa`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "error", pid: 9, message: "m while reading upstream",
				fields: "tid=9 connection=1 client=1.2.3.4 server=s request=GET /aaaa action=reading upstream"}},
		{"cut inside the message",
			T + ` [error] 9#9: *1 FastCGI sent in stderr: "PHP message: aaaa`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "error", pid: 9,
				message: `FastCGI sent in stderr: "PHP message: aaaa`, fields: "tid=9 connection=1"}},
		{"stream udp",
			T + ` [error] 9#9: *6 upstream timed out (110: Connection timed out) while proxying connection, udp client: 1.2.3.4, server: 0.0.0.0:53, upstream: "10.0.0.53:53", bytes from/to client:40/0, bytes from/to upstream:0/40`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "error", pid: 9,
				message: "upstream timed out (110: Connection timed out) while proxying connection",
				fields:  "tid=9 connection=6 client=1.2.3.4 server=0.0.0.0:53 upstream=10.0.0.53:53 bytes_from_client=40 bytes_to_client=0 bytes_from_upstream=0 bytes_to_upstream=40 errno=110 action=proxying connection"}},
		{"stderr form", `nginx: [emerg] bind() to 0.0.0.0:80 failed (13: Permission denied)`,
			wantEvent{ok: true, time: "zero", level: "emerg", message: "bind() to 0.0.0.0:80 failed (13: Permission denied)", fields: "errno=13"}},
		{"syslog with PRI", `<187>Nov 24 10:00:00 web1 nginx: ` + T + ` [error] 1#1: *2 no live upstreams while connecting to upstream, client: 1.2.3.4, server: s, request: "GET / HTTP/1.1", upstream: "http://backend/", host: "h"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "error", pid: 1, message: "no live upstreams while connecting to upstream",
				fields: "tid=1 connection=2 client=1.2.3.4 server=s request=GET / HTTP/1.1 upstream=http://backend/ host=h action=connecting to upstream"}},
		{"syslog without PRI", `Nov 24 10:00:01 web1 nginx: ` + T + ` [alert] 1#1: worker process 1240 exited on signal 9`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", level: "alert", pid: 1, message: "worker process 1240 exited on signal 9", fields: "tid=1"}},
		{"syslog of another program", `Nov 24 10:00:01 web1 systemd[1]: nginx.service: Failed.`, wantEvent{ok: false}},
		{"unknown level", T + ` [fatal] 1#1: x`, wantEvent{ok: false}},
		{"no tid", T + ` [error] 1: x`, wantEvent{ok: false}},
		{"bad date", `2026/13/24 10:00:00 [error] 1#1: x`, wantEvent{ok: false}},
		{"stderr without level", `nginx: configuration file /etc/nginx/nginx.conf test failed`, wantEvent{ok: false}},
		{"empty", ``, wantEvent{ok: false}},
		{"continuation line", `Stack trace:`, wantEvent{ok: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkEvent(t, p, testCtx, tt.rec, tt.want) })
	}
}

func TestNginxErrorLocation(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no zoneinfo:", err)
	}
	checkEvent(t, For(FormatNginxError), &Context{Location: ny}, `2026/07/01 10:00:00 [notice] 1#1: start worker process 2`,
		wantEvent{ok: true, time: "2026-07-01T10:00:00-04:00", level: "notice", pid: 1, message: "start worker process 2", fields: "tid=1"})
	checkEvent(t, For(FormatNginxError), nil, `2026/07/01 10:00:00 [notice] 1#1: x`,
		wantEvent{ok: true, time: "2026-07-01T10:00:00Z", level: "notice", pid: 1, message: "x", fields: "tid=1"})
}

// A line cut at 2047 bytes anywhere must still parse, with a Message that
// is a prefix of the full one.
func TestNginxErrorCutEverywhere(t *testing.T) {
	p := For(FormatNginxError)
	full := `2026/11/24 10:00:00 [error] 1234#1234: *88 connect() failed (111: Connection refused) while connecting to upstream, client: 203.0.113.7, server: example.com, request: "GET /api HTTP/1.1", subrequest: "/auth", upstream: "http://10.0.0.12:8080/api", host: "example.com", referrer: "https://example.com/"`
	const header = len(`2026/11/24 10:00:00 [error] 1234#1234: *88 `)
	var ev Event
	for n := header; n <= len(full); n++ {
		rec := full[:n]
		if !p.Parse(rec, testCtx, &ev) {
			t.Fatalf("cut at %d: not parsed: %q", n, rec)
		}
		if !strings.HasPrefix("connect() failed (111: Connection refused) while connecting to upstream", ev.Message) &&
			!strings.HasPrefix(ev.Message, "connect() failed (111: Connection refused) while connecting to upstream") {
			t.Errorf("cut at %d: Message %q", n, ev.Message)
		}
		for _, f := range ev.Fields {
			if !strings.Contains(rec, f.Value) {
				t.Errorf("cut at %d: field %s=%q not from the record", n, f.Key, f.Value)
			}
		}
	}
}

func TestNginxErrorJoin(t *testing.T) {
	p := For(FormatNginxError)
	const T = "2026/11/24 10:00:00"
	lines := []string{
		T + ` [error] 1#1: *1 FastCGI sent in stderr: "PHP message: Fatal`,
		`Stack trace:`,
		`#0 {main}" while reading response header from upstream, client: 1.2.3.4, server: s, request: "GET / HTTP/1.1", upstream: "fastcgi://127.0.0.1:9000", host: "h"`,
		T + ` [error] 1#1: *2 upstream timed out (110: Connection timed out) while reading upstream, client: 1.2.3.4, server: s`,
	}
	j := NewJoiner(p, 0, 0)
	if got := j.Add(lines[0], 0); len(got) != 0 {
		t.Fatalf("open FastCGI text returned at once: %v", got)
	}
	if got := j.Add(lines[1], 1); len(got) != 0 {
		t.Fatalf("middle line returned a record: %v", got)
	}
	got := j.Add(lines[2], 2)
	if len(got) != 1 || got[0].Lines != 3 || got[0].Offset != 0 {
		t.Fatalf("closing line: %+v", got)
	}
	var ev Event
	if !p.Parse(got[0].Text, testCtx, &ev) || ev.Message != "FastCGI sent in stderr: \"PHP message: Fatal\nStack trace:\n#0 {main}\" while reading response header from upstream" {
		t.Errorf("joined record: %q", ev.Message)
	}
	if got := j.Add(lines[3], 3); len(got) != 1 || got[0].Lines != 1 {
		t.Fatalf("plain line not returned at once: %+v", got)
	}
	if j.Pending() {
		t.Error("pending after a complete line")
	}
}

func TestNginxErrorStarts(t *testing.T) {
	p := For(FormatNginxError)
	for line, want := range map[string]bool{
		"2026/11/24 10:00:00 [error] 1#1: x": true,
		"nginx: [emerg] x":                   true,
		"<187>Nov 24 10:00:00 web1 nginx: 2026/11/24 10:00:00 [error] x": true,
		"Nov 24 10:00:00 web1 nginx: 2026/11/24 10:00:00 [error] x":      true,
		"Nov 24 10:00:00 web1 nginx: not an nginx line":                  false,
		"Stack trace:": false,
		"#0 {main}":    false,
		"":             false,
		"2026/11/24":   false,
	} {
		if got := p.Starts(line); got != want {
			t.Errorf("Starts(%q) = %v, want %v", line, got, want)
		}
	}
}
