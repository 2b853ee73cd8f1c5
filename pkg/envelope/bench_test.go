package envelope

import (
	"testing"
	"time"
	"unsafe"
)

var benchCtx = Context{Location: time.UTC, Reference: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}

// plainLines are producer lines every recogniser must turn down at once.
var plainLines = []string{
	`[2026-11-24 10:00:00 +0000] [12] [CRITICAL] WORKER TIMEOUT (pid:14)`,
	`10.0.0.7 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/8.5.0"`,
	`2026/11/24 10:00:00 [error] 12#12: *3 connect() failed (111: Connection refused) while connecting to upstream`,
}

func benchLines(b *testing.B, lines []string) {
	b.Helper()
	u := NewUnwrapper(benchCtx)
	var n int
	for _, l := range lines {
		n += len(l)
	}
	b.SetBytes(int64(n / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	var off int64
	j := 0
	for b.Loop() {
		u.Add(lines[j], off)
		off += int64(len(lines[j])) + 1
		if j++; j == len(lines) {
			j = 0
		}
	}
}

func BenchmarkUnwrapPlain(b *testing.B) { benchLines(b, plainLines) }

func BenchmarkUnwrapJournalShort(b *testing.B) {
	benchLines(b, []string{
		`Nov 24 10:00:02 web-1 gunicorn[1940]: [2026-11-24 10:00:02 +0000] [1940] [ERROR] Exception in worker process`,
		`Nov 24 10:00:02 web-1 gunicorn[1940]:   File "/srv/app/wsgi.py", line 3, in <module>`,
	})
}

func BenchmarkUnwrapDockerJSON(b *testing.B) {
	benchLines(b, []string{
		`{"log":"[2024-05-01 10:00:00 +0000] [1] [INFO] Booting worker with pid: 7\n","stream":"stderr","time":"2024-05-01T10:00:00.123456789Z"}`,
		`{"log":"  File \"/app/wsgi.py\", line 1, in \u003cmodule\u003e\n","stream":"stderr","time":"2024-05-01T10:00:00.223456789Z"}`,
	})
}

func BenchmarkUnwrapCRI(b *testing.B) {
	benchLines(b, []string{
		`2024-05-01T10:00:00.123456789Z stderr F [2024-05-01 10:00:00 +0000] [1] [INFO] Booting worker with pid: 7`,
		`2024-05-01T10:00:00.223456789+02:00 stdout F 10.0.0.7 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8.5.0"`,
	})
}

func BenchmarkUnwrapComposeForego(b *testing.B) {
	benchLines(b, []string{
		`nginx-proxy                | nginx.1    | 2020/12/17 05:34:04 [error] 101#101: *10 connect() failed (111: Connection refused)`,
	})
}

// TestZeroAlloc holds the hot paths to no allocation: plain lines, and the
// wrappers whose fields are all substrings of the line.
func TestZeroAlloc(t *testing.T) {
	cases := map[string][]string{
		"plain": plainLines,
		"journald": {
			`Nov 24 10:00:02 web-1 gunicorn[1940]: [2026-11-24 10:00:02 +0000] [1940] [ERROR] Exception in worker process`,
		},
		"cri": {
			`2024-05-01T10:00:00.123456789Z stderr F [2024-05-01 10:00:00 +0000] [1] [INFO] Booting worker with pid: 7`,
		},
		"compose+forego": {
			`nginx-proxy                | nginx.1    | 2020/12/17 05:34:04 [error] 101#101: *10 connect() failed`,
		},
		"heroku": {
			`2020-02-22T16:00:00.446358+00:00 app[web.1]: [2020-02-22 16:00:00 +0000] [4] [INFO] Reason: Worker failed to boot.`,
		},
		"docker-json": {
			`{"log":"[2024-05-01 10:00:00 +0000] [1] [INFO] Booting worker with pid: 7\n","stream":"stderr","time":"2024-05-01T10:00:00.123456789Z"}`,
		},
	}
	for name, lines := range cases {
		u := NewUnwrapper(benchCtx)
		for _, l := range lines {
			u.Add(l, 0) // grow the reused slice first
		}
		allocs := testing.AllocsPerRun(100, func() {
			for _, l := range lines {
				u.Add(l, 0)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, allocs)
		}
	}
}

// TestPlainIsSameString checks that a plain line comes back as the very
// string passed in, not a copy.
func TestPlainIsSameString(t *testing.T) {
	u := NewUnwrapper(benchCtx)
	for _, l := range plainLines {
		got := u.Add(l, 7)
		if len(got) != 1 || got[0].Env.N != 0 || got[0].Offset != 7 || got[0].Text != l {
			t.Fatalf("%q: %+v", l, got)
		}
		if unsafe.StringData(got[0].Text) != unsafe.StringData(l) {
			t.Errorf("%q came back as a copy", l)
		}
	}
}
