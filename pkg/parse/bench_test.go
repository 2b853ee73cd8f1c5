package parse

import (
	"testing"
)

// Benchmarks of the per-line hot path. Each reuses one Event, as a caller
// does, so allocs/op counts what Parse itself allocates.

func benchParse(b *testing.B, p Parser, rec string) {
	b.Helper()
	var ev Event
	if !p.Parse(rec, testCtx, &ev) {
		b.Fatalf("not parsed: %q", rec)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	b.ResetTimer()
	for b.Loop() {
		p.Parse(rec, testCtx, &ev)
	}
}

func BenchmarkParseGunicorn(b *testing.B) {
	p := For(FormatGunicorn)
	b.Run("header", func(b *testing.B) {
		benchParse(b, p, "[2026-11-24 10:00:00 +0000] [1234] [CRITICAL] WORKER TIMEOUT (pid:1235)")
	})
	b.Run("zone", func(b *testing.B) {
		benchParse(b, p, "[2026-11-24 10:00:00 -0500] [1234] [INFO] Booting worker with pid: 1235")
	})
	b.Run("traceback", func(b *testing.B) {
		benchParse(b, p, "[2026-11-24 10:05:00 +0000] [4720] [ERROR] Error handling request /slow\nTraceback (most recent call last):\n  File \"/srv/app/views.py\", line 42, in slow\n    time.sleep(60)\nSystemExit: 1")
	})
	b.Run("syslog", func(b *testing.B) {
		benchParse(b, p, "May  1 12:00:00 web1 gunicorn.myapp.app.error: [4711] WORKER TIMEOUT (pid:4713)")
	})
	b.Run("starts", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Starts(`  File "/srv/app/views.py", line 42, in slow`)
		}
	})
}

func BenchmarkParseNginxError(b *testing.B) {
	p := For(FormatNginxError)
	b.Run("upstream", func(b *testing.B) {
		benchParse(b, p, `2026/11/24 10:00:00 [error] 1234#1234: *456 upstream prematurely closed connection while reading response header from upstream, client: 203.0.113.7, server: example.com, request: "GET /api HTTP/1.1", upstream: "http://10.0.0.12:8080/api", host: "example.com"`)
	})
	b.Run("core", func(b *testing.B) {
		benchParse(b, p, `2026/11/24 10:00:00 [alert] 1234#1234: worker process 1240 exited on signal 9`)
	})
}

func BenchmarkParseNginxAccess(b *testing.B) {
	b.Run("combined", func(b *testing.B) {
		benchParse(b, For(FormatNginxAccess), `203.0.113.7 - - [24/Nov/2026:10:00:00 +0000] "GET /api HTTP/1.1" 502 157 "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"`)
	})
	b.Run("timings", func(b *testing.B) {
		benchParse(b, For(FormatNginxAccess), `203.0.113.7 - - [24/Nov/2026:10:00:00 +0100] "GET /api HTTP/1.1" 502 157 "-" "curl/8.5.0" "-" rt=0.123 uct="0.000" urt="0.051"`)
	})
	b.Run("log_format", func(b *testing.B) {
		p, err := NewNginxAccess(`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time urt="$upstream_response_time"`)
		if err != nil {
			b.Fatal(err)
		}
		benchParse(b, p, `203.0.113.7 - - [24/Nov/2026:10:00:00 +0000] "GET /api HTTP/1.1" 502 157 "-" "curl/8.5.0" rt=0.123 urt="0.001, 0.050"`)
	})
}

func BenchmarkParseKernel(b *testing.B) {
	p := For(FormatKernel)
	for name, rec := range map[string]string{
		"dmesg":   "[12345.678901] a.out[40342]: segfault at 0 ip 00000000004005b1 sp 00007ffc5b1be400 error 4 in a.out[400000+1000]",
		"kmsg":    "3,1301,12399000123,-;Out of memory: Killed process 1888 (astar-collator) total-vm:1254255840kB, anon-rss:15096608kB, file-rss:0kB, shmem-rss:0kB, UID:1001 pgtables:16960kB oom_score_adj:0",
		"syslog":  "Nov 24 10:00:00 web1 kernel: [12345.678901] a.out[40342]: segfault at 0 ip 00000000004005b1 sp 00007ffc5b1be400 error 4 in a.out[400000+1000]",
		"rfc3339": "2026-11-24T10:00:00.123456+00:00 web1 kernel: Out of memory: Killed process 4312 (python3)",
		"json":    `{"__REALTIME_TIMESTAMP":"1795514400123456","_TRANSPORT":"kernel","PRIORITY":"6","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"a.out[40342]: segfault at 0"}`,
	} {
		b.Run(name, func(b *testing.B) { benchParse(b, p, rec) })
	}
}

func BenchmarkJoiner(b *testing.B) {
	b.Run("single-line", func(b *testing.B) {
		j := NewJoiner(For(FormatNginxAccess), 0, 0)
		line := `203.0.113.7 - - [24/Nov/2026:10:00:00 +0000] "GET /api HTTP/1.1" 502 157 "-" "curl/8.5.0"`
		b.ReportAllocs()
		for b.Loop() {
			j.Add(line, 0)
		}
	})
	b.Run("gunicorn-headers", func(b *testing.B) {
		j := NewJoiner(For(FormatGunicorn), 0, 0)
		line := "[2026-11-24 10:00:00 +0000] [1234] [INFO] Booting worker with pid: 1235"
		b.ReportAllocs()
		for b.Loop() {
			j.Add(line, 0)
		}
	})
}
