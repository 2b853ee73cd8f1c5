package workers

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sigtail/sigtail"
	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
)

// set is the default catalog narrowed to what the counter needs, as a
// caller that keeps only the signatures it uses would have it.
var set = sync.OnceValues(func() (*match.Set, error) {
	cat, err := catalog.Load(sigtail.Catalog, "")
	if err != nil {
		return nil, err
	}
	all, err := match.Compile(cat)
	if err != nil {
		return nil, err
	}
	return all.Subset(func(id string) bool { return slices.Contains(Signatures, id) }), nil
})

// record is one parsed record of a log with its hits.
type record struct {
	ev   parse.Event
	hits []match.Hit
}

// records runs lines through the pipeline every command drives: the
// Stream joins tracebacks, the matcher finds the signatures.
func records(t *testing.T, lines []string) []record {
	t.Helper()
	s, err := set()
	if err != nil {
		t.Fatal(err)
	}
	ps := parse.NewStream(parse.StreamConfig{Location: time.UTC})
	m := match.NewMatcher(s)
	var out []record
	take := func(evs []*parse.Event) {
		for _, ev := range evs {
			out = append(out, record{ev: *ev, hits: m.Match(ev, nil)})
		}
	}
	var off int64
	for _, l := range lines {
		take(ps.Add(l, off))
		off += int64(len(l)) + 1
	}
	take(ps.Flush())
	return out
}

func at(hms string) time.Time {
	t, err := time.Parse(time.DateTime, "2026-11-24 "+hms)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSignaturesInCatalog(t *testing.T) {
	s, err := set()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range Signatures {
		if _, ok := s.Signature(id); !ok {
			t.Errorf("signature %s is not in the default catalog", id)
		}
	}
}

func TestCounter(t *testing.T) {
	const log = "/var/log/gunicorn/error.log"
	type want struct {
		points  []Point // Source is log unless set
		live    int
		masters int
	}
	tests := []struct {
		name  string
		lines []string
		want  want
	}{
		{
			name: "20.1 start, OOM kill, replacement, planned stop",
			lines: []string{
				"[2026-11-24 09:55:00 +0000] [1001] [INFO] Starting gunicorn 20.1.0",
				"[2026-11-24 09:55:00 +0000] [1001] [INFO] Listening at: unix:/run/gunicorn.sock (1001)",
				"[2026-11-24 09:55:00 +0000] [1001] [INFO] Using worker: sync",
				"[2026-11-24 09:55:00 +0000] [1002] [INFO] Booting worker with pid: 1002",
				"[2026-11-24 09:55:00 +0000] [1003] [INFO] Booting worker with pid: 1003",
				"[2026-11-24 09:58:40 +0000] [1001] [WARNING] Worker with pid 1003 was terminated due to signal 9",
				"[2026-11-24 09:58:40 +0000] [1021] [INFO] Booting worker with pid: 1021",
				"[2026-11-24 09:59:30 +0000] [1001] [INFO] Handling signal: term",
				"[2026-11-24 09:59:30 +0000] [1002] [INFO] Worker exiting (pid: 1002)",
				"[2026-11-24 09:59:30 +0000] [1021] [INFO] Worker exiting (pid: 1021)",
				"[2026-11-24 09:59:31 +0000] [1001] [INFO] Shutting down: Master",
			},
			want: want{
				points: []Point{
					{Time: at("09:55:00"), Kind: KindMaster, PID: "1001", Live: 0},
					{Time: at("09:55:00"), Kind: KindBoot, PID: "1002", Live: 1},
					{Time: at("09:55:00"), Kind: KindBoot, PID: "1003", Live: 2},
					{Time: at("09:58:40"), Kind: KindExit, PID: "1003", Live: 1},
					{Time: at("09:58:40"), Kind: KindBoot, PID: "1021", Live: 2},
					{Time: at("09:59:30"), Kind: KindExit, PID: "1002", Live: 1},
					{Time: at("09:59:30"), Kind: KindExit, PID: "1021", Live: 0},
				},
				live: 0, masters: 1,
			},
		},
		{
			name: "boot failure: a worker's own exit and the master's line about it count once, tracebacks in between",
			lines: []string{
				"[2026-11-24 10:00:01 +0000] [2001] [INFO] Starting gunicorn 23.0.0",
				"[2026-11-24 10:00:01 +0000] [2002] [INFO] Booting worker with pid: 2002",
				"[2026-11-24 10:00:01 +0000] [2003] [INFO] Booting worker with pid: 2003",
				"[2026-11-24 10:00:02 +0000] [2002] [ERROR] Exception in worker process",
				"Traceback (most recent call last):",
				`  File "/srv/shop/wsgi.py", line 3, in <module>`,
				"    from dotenv import load_dotenv",
				"ModuleNotFoundError: No module named 'dotenv'",
				"[2026-11-24 10:00:02 +0000] [2002] [INFO] Worker exiting (pid: 2002)",
				"[2026-11-24 10:00:02 +0000] [2001] [ERROR] Worker (pid:2002) exited with code 3",
				"[2026-11-24 10:00:02 +0000] [2001] [ERROR] Worker (pid:2003) exited with code 3",
			},
			want: want{
				points: []Point{
					{Time: at("10:00:01"), Kind: KindMaster, PID: "2001", Live: 0},
					{Time: at("10:00:01"), Kind: KindBoot, PID: "2002", Live: 1},
					{Time: at("10:00:01"), Kind: KindBoot, PID: "2003", Live: 2},
					{Time: at("10:00:02"), Kind: KindExit, PID: "2002", Live: 1},
					{Time: at("10:00:02"), Kind: KindExit, PID: "2003", Live: 0},
				},
				masters: 1,
			},
		},
		{
			name: "21-23 print exit codes twice; SIGTERM, a core dump and SIGABRT all end a worker",
			lines: []string{
				"[2026-11-24 10:04:00 +0000] [2202] [INFO] Booting worker with pid: 2202",
				"[2026-11-24 10:04:00 +0000] [2203] [INFO] Booting worker with pid: 2203",
				"[2026-11-24 10:04:00 +0000] [2204] [INFO] Booting worker with pid: 2204",
				"[2026-11-24 10:04:00 +0000] [2205] [INFO] Booting worker with pid: 2205",
				"[2026-11-24 10:10:31 +0000] [2201] [CRITICAL] WORKER TIMEOUT (pid:2202)",
				"[2026-11-24 10:10:31 +0000] [2201] [ERROR] Worker (pid:2202) exited with code 1",
				"[2026-11-24 10:10:31 +0000] [2201] [ERROR] Worker (pid:2202) exited with code 1.",
				"[2026-11-24 10:20:00 +0000] [2201] [ERROR] Worker (pid:2203) was sent SIGTERM!",
				"[2026-11-24 10:35:12 +0000] [2201] [ERROR] Worker (pid:2204) was sent code 139!",
				"[2026-11-24 10:36:00 +0000] [2201] [WARNING] Worker (pid:2205) was sent SIGABRT!",
			},
			want: want{
				points: []Point{
					{Time: at("10:04:00"), Kind: KindBoot, PID: "2202", Live: 1},
					{Time: at("10:04:00"), Kind: KindBoot, PID: "2203", Live: 2},
					{Time: at("10:04:00"), Kind: KindBoot, PID: "2204", Live: 3},
					{Time: at("10:04:00"), Kind: KindBoot, PID: "2205", Live: 4},
					{Time: at("10:10:31"), Kind: KindExit, PID: "2202", Live: 3},
					{Time: at("10:20:00"), Kind: KindExit, PID: "2203", Live: 2},
					{Time: at("10:35:12"), Kind: KindExit, PID: "2204", Live: 1},
					{Time: at("10:36:00"), Kind: KindExit, PID: "2205", Live: 0},
				},
			},
		},
		{
			name: "a new master starts the count again; workers of the old one left no line",
			lines: []string{
				"[2026-11-24 10:02:00 +0000] [2101] [INFO] Starting gunicorn 23.0.0",
				"[2026-11-24 10:02:00 +0000] [2102] [INFO] Booting worker with pid: 2102",
				"[2026-11-24 10:02:00 +0000] [2103] [INFO] Booting worker with pid: 2103",
				"[2026-11-24 10:04:00 +0000] [2201] [INFO] Starting gunicorn 23.0.0",
				"[2026-11-24 10:04:00 +0000] [2202] [INFO] Booting worker with pid: 2202",
			},
			want: want{
				points: []Point{
					{Time: at("10:02:00"), Kind: KindMaster, PID: "2101", Live: 0},
					{Time: at("10:02:00"), Kind: KindBoot, PID: "2102", Live: 1},
					{Time: at("10:02:00"), Kind: KindBoot, PID: "2103", Live: 2},
					{Time: at("10:04:00"), Kind: KindMaster, PID: "2201", Live: 0},
					{Time: at("10:04:00"), Kind: KindBoot, PID: "2202", Live: 1},
				},
				live: 1, masters: 2,
			},
		},
		{
			name: "a log first seen mid-life: an unknown worker's exit is marked once, at zero",
			lines: []string{
				"[2026-11-24 10:40:07 +0000] [2302] [INFO] Autorestarting worker after current request.",
				"[2026-11-24 10:40:08 +0000] [2302] [INFO] Worker exiting (pid: 2302)",
				"[2026-11-24 10:40:09 +0000] [2303] [INFO] Worker exiting (pid: 2303)",
				"[2026-11-24 10:40:09 +0000] [2401] [INFO] Booting worker with pid: 2401",
				"[2026-11-24 10:40:09 +0000] [2401] [INFO] Booting worker with pid: 2401",
			},
			want: want{
				points: []Point{
					{Time: at("10:40:08"), Kind: KindExit, PID: "2302", Live: 0},
					{Time: at("10:40:09"), Kind: KindBoot, PID: "2401", Live: 1},
				},
				live: 1,
			},
		},
		{
			name: "lines that are not about workers change nothing",
			lines: []string{
				"[2026-11-24 10:10:31 +0000] [2201] [CRITICAL] WORKER TIMEOUT (pid:2203)",
				"[2026-11-24 10:50:00 +0000] [3001] [ERROR] Connection in use: ('127.0.0.1', 8000)",
				`2026/11/24 10:10:31 [error] 812#812: *4411 upstream prematurely closed connection while reading response header from upstream, client: 203.0.113.7, server: shop.example.com, request: "GET /api/reports/export HTTP/1.1", upstream: "http://unix:/run/gunicorn.sock:/api/reports/export", host: "shop.example.com"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCounter(WithSeries(100))
			for _, r := range records(t, tt.lines) {
				before := len(c.Series())
				changed := c.Observe(log, &r.ev, r.hits)
				if recorded := len(c.Series()) > before; changed != recorded {
					t.Errorf("%q: Observe reported changed=%v, recorded a point: %v", r.ev.Raw, changed, recorded)
				}
			}
			for i := range tt.want.points {
				tt.want.points[i].Source = log
			}
			if got := c.Series(); !slices.Equal(got, tt.want.points) {
				t.Errorf("series:\n got %v\nwant %v", got, tt.want.points)
			}
			if got := c.Live(log); got != tt.want.live {
				t.Errorf("Live = %d, want %d", got, tt.want.live)
			}
			if got := c.Masters(log); got != tt.want.masters {
				t.Errorf("Masters = %d, want %d", got, tt.want.masters)
			}
		})
	}
}

func TestLogsCountedApart(t *testing.T) {
	c := NewCounter()
	a := records(t, []string{
		"[2026-11-24 10:04:00 +0000] [2202] [INFO] Booting worker with pid: 2202",
		"[2026-11-24 10:04:00 +0000] [2203] [INFO] Booting worker with pid: 2203",
	})
	b := records(t, []string{
		"[2026-11-24 10:04:01 +0000] [2202] [INFO] Worker exiting (pid: 2202)",
	})
	for _, r := range a {
		c.Observe("a.log", &r.ev, r.hits)
	}
	for _, r := range b {
		if !c.Observe("b.log", &r.ev, r.hits) {
			t.Error("the first line of a new log about workers should report a change (the gauge's series at 0)")
		}
	}
	if c.Live("a.log") != 2 || c.Live("b.log") != 0 || c.Live("never.log") != 0 {
		t.Errorf("Live a=%d b=%d never=%d, want 2 0 0", c.Live("a.log"), c.Live("b.log"), c.Live("never.log"))
	}
	if c.Series() != nil {
		t.Errorf("a Counter without WithSeries kept %d points", len(c.Series()))
	}
}

func TestSeriesCap(t *testing.T) {
	var lines []string
	for pid := 100; pid < 105; pid++ {
		lines = append(lines, fmt.Sprintf("[2026-11-24 10:04:00 +0000] [1] [INFO] Booting worker with pid: %d", pid))
	}
	c := NewCounter(WithSeries(3))
	for _, r := range records(t, lines) {
		c.Observe("x.log", &r.ev, r.hits)
	}
	var pids []string
	for _, p := range c.Series() {
		pids = append(pids, p.PID)
	}
	if want := []string{"102", "103", "104"}; !slices.Equal(pids, want) {
		t.Errorf("series kept pids %v, want the newest %v", pids, want)
	}
	if c.Dropped() != 2 {
		t.Errorf("Dropped = %d, want 2", c.Dropped())
	}
	if c.Live("x.log") != 5 {
		t.Errorf("Live = %d, want 5: the cap is on the series, not the count", c.Live("x.log"))
	}
}

// TestSampleLog follows the repository's sample Gunicorn log (see its
// README's timeline): five masters, three sync workers, none left after
// the last start, which booted no worker. At 10:30:01 the line about
// 2302's SIGKILL was lost to the logging deadlock, so from there the log
// says four: the counter knows only what the log says.
func TestSampleLog(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "sample", "gunicorn-error.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	const src = "gunicorn-error.log"
	c := NewCounter(WithSeries(1000))
	most := 0
	for _, r := range records(t, lines) {
		c.Observe(src, &r.ev, r.hits)
		most = max(most, c.Live(src))
	}
	if most != 4 || c.Live(src) != 0 || c.Masters(src) != 5 {
		t.Errorf("most live %d, live at the end %d, masters %d; want 4, 0, 5", most, c.Live(src), c.Masters(src))
	}
	ps := c.Series()
	if !slices.IsSortedFunc(ps, func(a, b Point) int { return a.Time.Compare(b.Time) }) {
		t.Error("series not in time order")
	}
	after := func(hms string) int {
		n := 0
		for _, p := range ps {
			if !p.Time.After(at(hms)) {
				n = p.Live
			}
		}
		return n
	}
	for hms, want := range map[string]int{"09:55:00": 3, "09:58:40": 3, "09:59:30": 0, "10:00:02": 0, "10:04:00": 3, "10:10:40": 3, "10:30:03": 4, "10:49:59": 4, "10:50:00": 0} {
		if got := after(hms); got != want {
			t.Errorf("live at %s = %d, want %d", hms, got, want)
		}
	}
}
