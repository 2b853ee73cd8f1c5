package parse

import (
	"strings"
	"testing"
)

// TestMainFormat: the format most records of a file are read in, which
// scan reports per file.
func TestMainFormat(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  Format
	}{
		{"gunicorn with traceback", []string{
			"[2026-11-24 10:00:00 +0000] [1] [ERROR] Exception in worker process",
			"Traceback (most recent call last):",
			`  File "x.py", line 1, in <module>`,
			"ModuleNotFoundError: No module named 'myapp'",
		}, FormatGunicorn},
		{"gunicorn syslog", []string{
			"May  1 12:00:00 h gunicorn.myapp.app.error: [4711] Starting gunicorn 23.0.0",
			"May  1 12:00:01 h gunicorn.myapp.app.error: [4711] Booting worker with pid: 4712",
		}, FormatGunicorn},
		{"gunicorn headerless only", []string{
			"Failed to find attribute 'app' in 'myapp'.",
			"Error: No application module specified.",
		}, FormatUnknown},
		{"nginx error", []string{
			"2026/11/24 10:00:00 [error] 1#1: *2 upstream timed out (110: Connection timed out) while reading upstream, client: 1.2.3.4, server: s",
			"2026/11/24 10:00:00 [notice] 1#1: signal process started",
		}, FormatNginxError},
		{"nginx stderr", []string{"nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)"}, FormatNginxError},
		{"nginx via syslog: tie with kernel goes to nginx-error", []string{
			"<187>Nov 24 10:00:00 web1 nginx: 2026/11/24 10:00:00 [error] 1#1: x",
		}, FormatNginxError},
		{"nginx access", []string{
			`1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`,
			`1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-" "-"`,
		}, FormatNginxAccess},
		{"dmesg", []string{"[    0.000000] Linux version 6.8.0", "[    5.1] x"}, FormatKernel},
		{"kmsg", []string{"6,1,2,-;x", " SUBSYSTEM=acpi", "6,2,3,-;y"}, FormatKernel},
		{"syslog mixed with gunicorn lines", []string{
			"Nov 24 10:00:00 web1 kernel: x",
			"Nov 24 10:00:00 web1 gunicorn.a.error: [1] y",
			"Nov 24 10:00:00 web1 systemd[1]: z",
		}, FormatKernel},
		{"majority wins", []string{
			"[2026-11-24 10:00:00 +0000] [1] [INFO] x",
			"[    5.1] x",
			"[    5.2] y",
		}, FormatKernel},
		{"blank lines skipped", []string{"", "  ", "[2026-11-24 10:00:00 +0000] [1] [INFO] x"}, FormatGunicorn},
		{"garbage", []string{"hello", "world", "{not json", "\x00\x01\x02"}, FormatUnknown},
		{"nothing", nil, FormatUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mainFormat(tt.lines); got != tt.want {
				t.Errorf("Detect = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFor(t *testing.T) {
	for _, f := range Formats {
		p := For(f)
		if p == nil || p.Format() != f {
			t.Errorf("For(%q) = %v", f, p)
		}
	}
	if For(FormatUnknown) != nil || For("syslog") != nil {
		t.Error("For of an unknown format is not nil")
	}
}

// Every default parser reads the lines of the others' golden files without
// panicking, and none of them claims the formats that are plainly not its own.
func TestParsersRejectEachOther(t *testing.T) {
	samples := map[Format]string{
		FormatGunicorn:    "[2026-11-24 10:00:00 +0000] [1] [INFO] x",
		FormatNginxError:  "2026/11/24 10:00:00 [error] 1#1: x",
		FormatNginxAccess: `1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`,
		FormatKernel:      "6,1,2,-;x",
	}
	var ev Event
	for pf, p := range parsers {
		for sf, line := range samples {
			if pf == sf || pf == FormatGunicorn { // Gunicorn keeps headerless records
				continue
			}
			if p.Parse(line, testCtx, &ev) {
				t.Errorf("%s parser accepted a %s line: %q", pf, sf, strings.TrimSpace(line))
			}
		}
	}
}
