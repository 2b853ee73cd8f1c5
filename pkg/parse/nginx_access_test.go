package parse

import (
	"errors"
	"strings"
	"testing"
)

const combinedFields = "remote_addr=203.0.113.7 remote_user=- time_local=24/Nov/2026:10:00:00 +0000 request=GET /api HTTP/1.1 method=GET uri=/api protocol=HTTP/1.1 status=502 body_bytes_sent=157 http_referer=- http_user_agent=curl/8.5.0"

func TestNginxAccessParse(t *testing.T) {
	p := For(FormatNginxAccess)
	const L = `203.0.113.7 - - [24/Nov/2026:10:00:00 +0000] "GET /api HTTP/1.1" 502 157 "-" "curl/8.5.0"`
	tests := []struct {
		name string
		rec  string
		want wantEvent
	}{
		{"combined", L, wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: "GET /api HTTP/1.1", fields: combinedFields}},
		{"main", L + ` "198.51.100.9"`, wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: "GET /api HTTP/1.1",
			fields: combinedFields + " extra1=198.51.100.9"}},
		{"timings", L + ` 0.052 0.050`, wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: "GET /api HTTP/1.1",
			fields: combinedFields + " extra1=0.052 request_time=0.052 extra2=0.050 upstream_response_time=0.050"}},
		{"xff then timings", L + ` "-" 3.002 1.001, 2.000`, wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: "GET /api HTTP/1.1",
			fields: combinedFields + " extra1=- extra2=3.002 request_time=3.002 extra3=1.001, 2.000 upstream_response_time=1.001, 2.000"}},
		{"quoted number is not a duration", L + ` "0.5"`, wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: "GET /api HTTP/1.1",
			fields: combinedFields + " extra1=0.5"}},
		{"integers are not durations", L + ` 12 0`, wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: "GET /api HTTP/1.1",
			fields: combinedFields + " extra1=12 extra2=0"}},
		{"key=value", L + ` rt=0.123 uct="0.000" urt="0.051, 0.002" empty= ua=-`, wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: "GET /api HTTP/1.1",
			fields: combinedFields + " rt=0.123 uct=0.000 urt=0.051, 0.002 empty= ua=-"}},
		{"spaces in user and uri", `1.2.3.4 - john doe [24/Nov/2026:10:00:00 +0000] "GET /a b HTTP/1.1" 400 0 "-" "-"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: "GET /a b HTTP/1.1",
				fields: "remote_addr=1.2.3.4 remote_user=john doe time_local=24/Nov/2026:10:00:00 +0000 request=GET /a b HTTP/1.1 method=GET uri=/a b protocol=HTTP/1.1 status=400 body_bytes_sent=0 http_referer=- http_user_agent=-"}},
		{"empty request", `1.2.3.4 - - [24/Nov/2026:10:00:00 -0500] "" 400 0 "-" "-"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00-05:00", message: "",
				fields: "remote_addr=1.2.3.4 remote_user=- time_local=24/Nov/2026:10:00:00 -0500 request= method= uri= protocol= status=400 body_bytes_sent=0 http_referer=- http_user_agent=-"}},
		{"escapes kept", `1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET /?q=\x22a\x22 HTTP/1.1" 200 1 "-" "a\x5Cb"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: `GET /?q=\x22a\x22 HTTP/1.1`,
				fields: `remote_addr=1.2.3.4 remote_user=- time_local=24/Nov/2026:10:00:00 +0000 request=GET /?q=\x22a\x22 HTTP/1.1 method=GET uri=/?q=\x22a\x22 protocol=HTTP/1.1 status=200 body_bytes_sent=1 http_referer=- http_user_agent=a\x5Cb`}},
		{"backslash-escaped quotes (gunicorn)", `1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 - "x\"y" "ua \\"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: "GET / HTTP/1.1",
				fields: `remote_addr=1.2.3.4 remote_user=- time_local=24/Nov/2026:10:00:00 +0000 request=GET / HTTP/1.1 method=GET uri=/ protocol=HTTP/1.1 status=200 body_bytes_sent=- http_referer=x\"y http_user_agent=ua \\`}},
		{"bracket in user", `1.2.3.4 - a [b [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: "GET / HTTP/1.1",
				fields: "remote_addr=1.2.3.4 remote_user=a [b time_local=24/Nov/2026:10:00:00 +0000 request=GET / HTTP/1.1 method=GET uri=/ protocol=HTTP/1.1 status=200 body_bytes_sent=1 http_referer=- http_user_agent=-"}},
		{"truncated", `1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200`, wantEvent{ok: false}},
		{"bad status", `1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 20 1 "-" "-"`, wantEvent{ok: false}},
		{"bad time", `1.2.3.4 - - [24/Foo/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`, wantEvent{ok: false}},
		{"junk after agent", L + `x`, wantEvent{ok: false}},
		{"unterminated agent", `1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl`, wantEvent{ok: false}},
		{"error log line", `2026/11/24 10:00:00 [error] 1#1: x`, wantEvent{ok: false}},
		{"empty", ``, wantEvent{ok: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkEvent(t, p, testCtx, tt.rec, tt.want) })
	}
}

func TestNginxAccessTrailingCap(t *testing.T) {
	rec := `1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"` + strings.Repeat(" x", 1000)
	var ev Event
	if !For(FormatNginxAccess).Parse(rec, testCtx, &ev) {
		t.Fatal("not parsed")
	}
	if n := len(ev.Fields); n != 11+maxTrailing {
		t.Errorf("%d fields, want %d", n, 11+maxTrailing)
	}
}

func TestDurationLike(t *testing.T) {
	for v, want := range map[string]bool{
		"0.123": true, "12.000": true, "0.001, 0.215": true, "-, 0.2 : 0.1": true,
		"-": false, "- : -": false, "12": false, ".5": false, "5.": false, "1.2.3": false,
		"0.1a": false, "10.0.0.12:8080": false, "": false,
	} {
		if got := durationLike(v); got != want {
			t.Errorf("durationLike(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestNewNginxAccess(t *testing.T) {
	tests := []struct {
		name, format, line string
		want               wantEvent
	}{
		{"combined as a format",
			`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`,
			`203.0.113.7 - - [24/Nov/2026:10:00:00 +0000] "GET /api HTTP/1.1" 502 157 "-" "curl/8.5.0"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: "GET /api HTTP/1.1", fields: combinedFields}},
		{"key=value timings",
			`'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time urt="$upstream_response_time"'`,
			`1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 504 0 "-" "-" rt=60.001 urt="0.001, 60.000 : 0.002"`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: "GET / HTTP/1.1",
				fields: "remote_addr=1.2.3.4 remote_user=- time_local=24/Nov/2026:10:00:00 +0000 request=GET / HTTP/1.1 method=GET uri=/ protocol=HTTP/1.1 status=504 body_bytes_sent=0 http_referer=- http_user_agent=- request_time=60.001 upstream_response_time=0.001, 60.000 : 0.002"}},
		{"config syntax with several pieces",
			"log_format timed escape=default '$remote_addr [$time_iso8601] '\n    '\"$request\" $status $upstream_response_time $upstream_addr';",
			`1.2.3.4 [2026-11-24T10:00:00+01:00] "GET / HTTP/1.1" 502 0.001, 0.002 : 0.003 10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00+01:00", message: "GET / HTTP/1.1",
				fields: "remote_addr=1.2.3.4 time_iso8601=2026-11-24T10:00:00+01:00 request=GET / HTTP/1.1 method=GET uri=/ protocol=HTTP/1.1 status=502 upstream_response_time=0.001, 0.002 : 0.003 upstream_addr=10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80"}},
		{"msec and braces, no request",
			`${msec} ${status} $uri`,
			`1795514400.250 404 /missing page`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00.25Z", message: "/missing page",
				fields: "msec=1795514400.250 status=404 uri=/missing page"}},
		{"json escape",
			`log_format j escape=json '{"t":"$time_local","r":"$request","ua":"$http_user_agent"}';`,
			`{"t":"24/Nov/2026:10:00:00 +0000","r":"GET /\"x\" HTTP/1.1","ua":"a\\"}`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: `GET /\"x\" HTTP/1.1`,
				fields: `time_local=24/Nov/2026:10:00:00 +0000 request=GET /\"x\" HTTP/1.1 method=GET uri=/\"x\" protocol=HTTP/1.1 http_user_agent=a\\`}},
		{"no message variable", `$remote_addr $status`, `1.2.3.4 200`,
			wantEvent{ok: true, time: "zero", message: "1.2.3.4 200", fields: "remote_addr=1.2.3.4 status=200"}},
		{"leading literal mismatch", `ip=$remote_addr`, `addr=1.2.3.4`, wantEvent{ok: false}},
		{"trailing text", `$remote_addr $status;`, `1.2.3.4 200; more`, wantEvent{ok: false}},
		{"bad time_local", `[$time_local] $status`, `[24/Nov/2026:99:00:00 +0000] 200`, wantEvent{ok: false}},
		{"short time_local", `[$time_local] $status`, `[24/Nov/2026] 200`, wantEvent{ok: false}},
		{"bad msec", `$msec $status`, `abc 200`, wantEvent{ok: false}},
		{"missing literal", `$remote_addr - $status`, `1.2.3.4 200`, wantEvent{ok: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewNginxAccess(tt.format)
			if err != nil {
				t.Fatal(err)
			}
			checkEvent(t, p, testCtx, tt.line, tt.want)
		})
	}
}

func TestNewNginxAccessErrors(t *testing.T) {
	tests := []struct {
		name, format string
		want         []string // substrings of the error text
	}{
		{"adjacent", `$remote_addr$status`, []string{"$status", "$remote_addr", "no literal"}},
		{"adjacent braces", `"${request}${status}"`, []string{"$status", "$request"}},
		{"empty", ``, []string{"is empty"}},
		{"blank config", `log_format main '';`, []string{"has no variables"}},
		{"no variables", `just text`, []string{"has no variables"}},
		{"dollar alone", `$remote_addr $ x`, []string{"not followed by a variable name"}},
		{"unterminated brace", `$remote_addr ${status`, []string{"unterminated ${"}},
		{"bad brace name", `$remote_addr ${st-atus}`, []string{"$st-atus", "not a variable name"}},
		{"unterminated quote", `'$remote_addr`, []string{"unterminated quoted piece"}},
		{"text between pieces", `'$remote_addr' x '$status'`, []string{"outside the quoted pieces"}},
		{"log_format without name", `log_format`, []string{"no name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewNginxAccess(tt.format)
			if err == nil {
				t.Fatalf("NewNginxAccess(%q) = %v, want an error", tt.format, p)
			}
			if !errors.Is(err, ErrLogFormat) {
				t.Errorf("error %v does not wrap ErrLogFormat", err)
			}
			var lfe *LogFormatError
			if !errors.As(err, &lfe) || lfe.Format != tt.format {
				t.Errorf("error %v is not a *LogFormatError naming the input", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
