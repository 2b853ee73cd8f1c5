package parse

import "testing"

// BenchmarkStream is the per-line cost of the whole reading step (envelope,
// join, format per record, parse) against the step it replaced (a Joiner
// and the parser of the file's detected format), on the same lines in the
// same run: compare stream/X with joiner/X.
func BenchmarkStream(b *testing.B) {
	cases := []struct {
		name   string
		format Format
		lines  []string
	}{
		{"gunicorn", FormatGunicorn, []string{
			"[2026-11-24 10:00:00 +0000] [1234] [INFO] Booting worker with pid: 1235",
			"[2026-11-24 10:00:01 +0000] [1235] [INFO] Autorestarting worker after current request.",
			"[2026-11-24 10:00:02 +0000] [1234] [CRITICAL] WORKER TIMEOUT (pid:1235)",
		}},
		{"access", FormatNginxAccess, []string{
			`203.0.113.7 - - [24/Nov/2026:10:00:00 +0000] "GET /api HTTP/1.1" 200 157 "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36" 0.012 0.012`,
			`203.0.113.8 - - [24/Nov/2026:10:00:01 +0000] "GET /static/app.js HTTP/1.1" 304 0 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36" 0.000 -`,
		}},
		{"nginx-error", FormatNginxError, []string{
			`2026/11/24 10:00:00 [error] 1234#1234: *456 upstream prematurely closed connection while reading response header from upstream, client: 203.0.113.7, server: example.com, request: "GET /api HTTP/1.1", upstream: "http://10.0.0.12:8080/api", host: "example.com"`,
		}},
	}
	for _, c := range cases {
		var size int64
		for _, l := range c.lines {
			size += int64(len(l)) + 1
		}
		b.Run("stream/"+c.name, func(b *testing.B) {
			s := NewStream(StreamConfig{Reference: testCtx.Reference})
			b.ReportAllocs()
			b.SetBytes(size)
			var off int64
			for b.Loop() {
				for _, l := range c.lines {
					s.Add(l, off)
					off++
				}
			}
		})
		b.Run("joiner/"+c.name, func(b *testing.B) {
			p := For(c.format)
			j := NewJoiner(p, 0, 0)
			var ev Event
			b.ReportAllocs()
			b.SetBytes(size)
			var off int64
			for b.Loop() {
				for _, l := range c.lines {
					for _, r := range j.Add(l, off) {
						p.Parse(r.Text, testCtx, &ev)
					}
					off++
				}
			}
		})
	}
}
