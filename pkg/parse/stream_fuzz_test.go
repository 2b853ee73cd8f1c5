package parse

import (
	"strings"
	"testing"
	"time"
)

// FuzzStream: any text, cut into lines, goes through a Stream without a
// panic; every event starts at a line that was given, and once flushed
// nothing is left open.
func FuzzStream(f *testing.F) {
	for _, seed := range []string{
		"[2026-11-24 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:2)\nTraceback (most recent call last):\n  x\nValueError: y",
		"Dec 03 10:00:00 web-1 gunicorn[7]: [2026-12-03 10:00:00 +0000] [7] [ERROR] Exception in worker process\nDec 03 10:00:00 web-1 gunicorn[8]: Traceback (most recent call last):",
		"2026-11-24T10:00:00.1Z stderr P [2026-11-24 10:00:00 +0000] [1] [INF\n2026-11-24T10:00:00.1Z stderr F O] x",
		`{"log":"a","stream":"stderr","time":"2026-11-24T10:00:00Z"}` + "\n" + `{"log":"b\n","stream":"stderr","time":"2026-11-24T10:00:00Z"}`,
		"web-1  | 2026/11/24 10:00:00 [error] 1#1: *2 upstream prematurely closed connection\n\"GET / HTTP/1.1\" 502",
		"2020-06-11T09:27:53.992672+00:00 app[web.1]: [2020-06-11 09:27:53 +0000] [10] [I\nNFO] Worker exiting (pid: 10)",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s := NewStream(StreamConfig{Location: time.UTC, Reference: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)})
		lines := strings.Split(text, "\n")
		check := func(evs []*Event) {
			for _, ev := range evs {
				if ev.Offset < 0 || ev.Offset >= int64(len(lines)) {
					t.Fatalf("event at line %d of %d", ev.Offset, len(lines))
				}
			}
		}
		for i, l := range lines {
			check(s.Add(l, int64(i)))
		}
		check(s.Flush())
		if s.Pending() {
			t.Fatal("a record is still open after Flush")
		}
	})
}
