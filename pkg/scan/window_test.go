package scan_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/scan"
)

// fourDays writes four days of a host's logs (2026-11-21 to 24) in their
// real formats, each day with the same failures at the same hours: a
// Gunicorn error log rotated daily (error.log.3.gz, error.log.2.gz,
// error.log.1, error.log) with a failed request and its traceback at 12:00:10
// and a WORKER TIMEOUT at 13:00; an nginx error log (zoneless times) with a
// refused connection at 15:00; an access log with a burst of 502s at 16:00;
// a syslog kernel log (yearless times) with an OOM kill at 09:12:40. Each
// file is dated when its last line was written.
func fourDays(t *testing.T) (dir string, paths []string) {
	t.Helper()
	dir = t.TempDir()
	day0 := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	end := day0.Add(4*24*time.Hour - time.Second)
	write := func(name string, gz bool, mtime time.Time, text string) {
		p := filepath.Join(dir, name)
		data := []byte(text)
		if gz {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(data)
			zw.Close()
			data = b.Bytes()
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	every := func(from, to time.Time, step time.Duration, line func(time.Time) string, extra map[time.Time][]string) string {
		var b strings.Builder
		var at []time.Time
		for ts := range extra {
			at = append(at, ts)
		}
		slices.SortFunc(at, time.Time.Compare)
		for ts := from; !ts.After(to); ts = ts.Add(step) {
			for len(at) > 0 && !at[0].After(ts) {
				for _, l := range extra[at[0]] {
					b.WriteString(l + "\n")
				}
				at = at[1:]
			}
			b.WriteString(line(ts) + "\n")
		}
		return b.String()
	}
	gts := func(ts time.Time) string { return ts.Format("[2006-01-02 15:04:05 -0700]") }
	names := []string{"error.log.3.gz", "error.log.2.gz", "error.log.1", "error.log"}
	for d := range 4 {
		from := day0.Add(time.Duration(d) * 24 * time.Hour)
		to := from.Add(24*time.Hour - 30*time.Second)
		pid := 2001 + d*10
		req, kill := from.Add(12*time.Hour+10*time.Second), from.Add(13*time.Hour)
		text := every(from, to, 30*time.Second, func(ts time.Time) string {
			return gts(ts) + " [1000] [DEBUG] Closing connection."
		}, map[time.Time][]string{
			req: {
				gts(req) + fmt.Sprintf(" [%d] [ERROR] Error handling request /api/items", pid),
				"Traceback (most recent call last):",
				`  File "/srv/shop/venv/lib/python3.11/site-packages/gunicorn/workers/sync.py", line 134, in handle`,
				"    self.handle_request(listener, req, client, addr)",
				`  File "/srv/shop/app/views.py", line 40, in items`,
				"    return db.query(Item).all()",
				"sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) server closed the connection unexpectedly",
			},
			kill: {
				gts(kill) + fmt.Sprintf(" [1000] [CRITICAL] WORKER TIMEOUT (pid:%d)", pid+1),
				gts(kill) + fmt.Sprintf(" [%d] [INFO] Worker exiting (pid: %d)", pid+1, pid+1),
			},
		})
		write(names[d], d < 2, to, text)
	}
	nginxErr := map[time.Time][]string{}
	access := map[time.Time][]string{}
	kern := map[time.Time][]string{}
	for d := range 4 {
		from := day0.Add(time.Duration(d) * 24 * time.Hour)
		ts := from.Add(15 * time.Hour)
		nginxErr[ts] = []string{ts.Format("2006/01/02 15:04:05") + fmt.Sprintf(` [error] 812#812: *%d connect() to unix:/run/gunicorn.sock failed (111: Connection refused) while connecting to upstream, client: 198.51.100.23, server: shop.example.com, request: "GET / HTTP/1.1", upstream: "http://unix:/run/gunicorn.sock:/", host: "shop.example.com"`, 5100+d)}
		ts = from.Add(16 * time.Hour)
		for i := range 5 {
			at := ts.Add(time.Duration(i) * time.Second)
			access[ts] = append(access[ts], `198.51.100.23 - - [`+at.Format("02/Jan/2006:15:04:05 -0700")+`] "GET / HTTP/1.1" 502 166 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0" 0.001 0.001`)
		}
		ts = from.Add(9*time.Hour + 12*time.Minute + 40*time.Second)
		kp := 1766 + d
		kern[ts] = []string{
			ts.Format("Jan _2 15:04:05") + " web-1 kernel: [40212.300121] celery invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0",
			ts.Format("Jan _2 15:04:05") + fmt.Sprintf(" web-1 kernel: [40212.300561] Out of memory: Killed process %d (python3) total-vm:412044kB, anon-rss:201340kB, file-rss:3120kB, shmem-rss:0kB, UID:1001 pgtables:812kB oom_score_adj:0", kp),
		}
	}
	write("nginx-error.log", false, end, every(day0, end, time.Minute, func(ts time.Time) string {
		return ts.Format("2006/01/02 15:04:05") + " [notice] 812#812: signal process started"
	}, nginxErr))
	write("nginx-access.log", false, end, every(day0, end, time.Minute, func(ts time.Time) string {
		return `203.0.113.9 - - [` + ts.Format("02/Jan/2006:15:04:05 -0700") + `] "GET /api/items HTTP/1.1" 200 812 "-" "curl/8.5.0" 0.012 0.012`
	}, access))
	write("kern.log", false, end, every(day0, end, 2*time.Minute, func(ts time.Time) string {
		return ts.Format("Jan _2 15:04:05") + " web-1 kernel: [ 9610.101112] usb 1-1: new high-speed USB device number 2 using xhci_hcd"
	}, kern))
	return dir, paths
}

// TestWindow scans four days of logs through windows of event time: a
// scan gives exactly the incidents of the window (those of a whole scan
// that lie in it), the same whether the window's shortcuts skip and seek
// or every file is read and filtered, and the shortcuts spare what they
// should.
func TestWindow(t *testing.T) {
	_, paths := fourDays(t)
	base := config(t)
	day := func(d, h int) time.Time { return time.Date(2026, 11, 21+d, h, 0, 0, 0, time.UTC) }
	whole, err := scan.Run(context.Background(), base, paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range whole.Files {
		if f.Err != nil || f.Unparsed > 0 || f.Skipped != "" || f.Start != 0 {
			t.Fatalf("whole scan: %+v", f)
		}
	}
	rules := map[string]int{}
	for _, inc := range whole.Incidents {
		rules[inc.Rule]++
	}
	for _, r := range []string{"gunicorn.request_error", "gunicorn.worker_timeout", "nginx.upstream_refused", "nginx.bad_gateway_burst", "kernel.oom_kill"} {
		if rules[r] != 4 {
			t.Fatalf("whole scan: %d incident(s) of %s, want one a day (%v)", rules[r], r, rules)
		}
	}
	// stats of a path by its base name
	type want struct {
		skipped scan.SkipReason
		seek    bool // read from past its start
		stopped bool
	}
	tests := []struct {
		name         string
		since, until time.Time
		files        map[string]want
	}{
		{"since noon of the third day", day(2, 12), time.Time{}, map[string]want{
			"error.log.3.gz":  {skipped: scan.SkipBeforeSince}, // dated two days and more before
			"error.log.2.gz":  {},                              // too close to Since for its date to tell: read
			"error.log.1":     {seek: true},
			"error.log":       {},
			"nginx-error.log": {seek: true}, "nginx-access.log": {seek: true}, "kern.log": {seek: true},
		}},
		{"since the morning of the last day", day(3, 6), time.Time{}, map[string]want{
			"error.log.3.gz":  {skipped: scan.SkipBeforeSince},
			"error.log.2.gz":  {skipped: scan.SkipBeforeSince},
			"error.log.1":     {skipped: scan.SkipBeforeSince}, // by its last records
			"error.log":       {seek: true},
			"nginx-error.log": {seek: true}, "nginx-access.log": {seek: true}, "kern.log": {seek: true},
		}},
		{"until the evening of the second day", time.Time{}, day(1, 18), map[string]want{
			"error.log.3.gz":  {},
			"error.log.2.gz":  {stopped: true},
			"error.log.1":     {skipped: scan.SkipAfterUntil},
			"error.log":       {skipped: scan.SkipAfterUntil},
			"nginx-error.log": {stopped: true}, "nginx-access.log": {stopped: true}, "kern.log": {stopped: true},
		}},
		{"from noon of the second day to 14:00 of the third", day(1, 12), day(2, 14), map[string]want{
			"error.log.3.gz":  {}, // dated less than a day before Since: read
			"error.log.2.gz":  {},
			"error.log.1":     {stopped: true},
			"error.log":       {skipped: scan.SkipAfterUntil},
			"nginx-error.log": {seek: true, stopped: true}, "nginx-access.log": {seek: true, stopped: true}, "kern.log": {seek: true, stopped: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wantIDs []string
			for _, inc := range whole.Incidents {
				if !inc.FirstSeen.Before(tt.since) && (tt.until.IsZero() || !inc.LastSeen.After(tt.until)) {
					wantIDs = append(wantIDs, inc.ID+" "+inc.Rule)
				}
			}
			cfg := base
			cfg.Since, cfg.Until = tt.since, tt.until
			cfg.Progress = new(atomic.Int64)
			res, err := scan.Run(context.Background(), cfg, paths)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, inc := range res.Incidents {
				got = append(got, inc.ID+" "+inc.Rule)
			}
			slices.Sort(got)
			slices.Sort(wantIDs)
			if !slices.Equal(got, wantIDs) {
				t.Errorf("incidents:\n%s\nwant those of the whole scan in the window:\n%s", strings.Join(got, "\n"), strings.Join(wantIDs, "\n"))
			}
			for _, f := range res.Files {
				w := tt.files[filepath.Base(f.Name)]
				if f.Err != nil || f.Unparsed > 0 {
					t.Errorf("%s: %v, %d unparsed", f.Name, f.Err, f.Unparsed)
				}
				if f.Skipped != w.skipped || (f.Start > 0) != w.seek || f.Stopped != w.stopped {
					t.Errorf("%s: skipped %q, start %d, stopped %v; want skipped %q, seek %v, stopped %v",
						filepath.Base(f.Name), f.Skipped, f.Start, f.Stopped, w.skipped, w.seek, w.stopped)
				}
				if f.Skipped != "" && (f.Lines != 0 || f.Records != 0) {
					t.Errorf("%s: skipped, yet %d line(s) read", f.Name, f.Lines)
				}
			}
			if total, _ := scan.TotalBytes(paths); cfg.Progress.Load() != total {
				t.Errorf("progress %d, want the total %d", cfg.Progress.Load(), total)
			}

			// Read whole and filtered, the same incidents, to the byte.
			full := cfg
			scan.NoSeek(&full)
			ref, err := scan.Run(context.Background(), full, paths)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range ref.Files {
				if f.Skipped == scan.SkipBeforeSince || f.Start != 0 {
					t.Errorf("%s: skipped or sought without the shortcuts", f.Name)
				}
			}
			a, _ := json.MarshalIndent(res.Incidents, "", " ")
			b, _ := json.MarshalIndent(ref.Incidents, "", " ")
			if !bytes.Equal(a, b) {
				t.Errorf("with the window's shortcuts, incidents differ from a whole read filtered:\n%s", diffLines(string(b), string(a)))
			}
		})
	}
}

// TestWindowSeekStart: the binary search starts a file at a line that
// begins a record a margin before Since, with nothing in the window before
// it, and line numbers still count from the file's start.
func TestWindowSeekStart(t *testing.T) {
	dir, paths := fourDays(t)
	cfg := config(t)
	cfg.Since = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	p := filepath.Join(dir, "nginx-error.log")
	res, err := scan.Run(context.Background(), cfg, []string{p})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Files[0]
	data, _ := os.ReadFile(p)
	if f.Start <= 0 || data[f.Start-1] != '\n' {
		t.Fatalf("start %d: not past a prefix at a line's start", f.Start)
	}
	first, err := time.Parse("2006/01/02 15:04:05", string(data[f.Start:f.Start+19]))
	if err != nil {
		t.Fatal(err)
	}
	if !first.Before(cfg.Since.Add(-time.Minute)) || first.Before(cfg.Since.Add(-3*time.Hour)) {
		t.Errorf("reading starts at a record of %s: want it a little more than a minute before %s (4 KiB of lines)", first, cfg.Since)
	}
	all := int64(bytes.Count(data, []byte{'\n'}))
	if f.Lines >= all/4 {
		t.Errorf("%d of %d lines read: the prefix was not skipped", f.Lines, all)
	}
	if len(res.Incidents) != 1 {
		t.Fatalf("%d incidents, want the last day's refused connection", len(res.Incidents))
	}
	ev := res.Incidents[0].Evidence[0]
	lines := bytes.Split(data, []byte{'\n'})
	if ev.LineNo < 1 || !strings.Contains(string(lines[ev.LineNo-1]), "connect() to unix:/run/gunicorn.sock failed") ||
		int64(bytes.Count(data[:ev.Offset], []byte{'\n'}))+1 != ev.LineNo {
		t.Errorf("evidence at line %d, offset %d: not the line of the record", ev.LineNo, ev.Offset)
	}
	_ = paths
}

// TestWindowStdin: standard input cannot seek; the window filters it, to
// the incidents a scan of the same file gives.
func TestWindowStdin(t *testing.T) {
	dir, _ := fourDays(t)
	p := filepath.Join(dir, "error.log")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(t)
	cfg.Since = time.Date(2026, 11, 24, 12, 30, 0, 0, time.UTC)
	cfg.Until = time.Date(2026, 11, 24, 20, 0, 0, 0, time.UTC)
	fromFile, err := scan.Run(context.Background(), cfg, []string{p})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Stdin = bytes.NewReader(data)
	cfg.Progress = new(atomic.Int64)
	fromStdin, err := scan.Run(context.Background(), cfg, []string{"-"})
	if err != nil {
		t.Fatal(err)
	}
	sum := func(incs []*incident.Incident) []string {
		var out []string
		for _, inc := range incs {
			out = append(out, fmt.Sprintf("%s %s %d %s", inc.Rule, inc.FirstSeen, inc.Count, inc.Status))
		}
		return out
	}
	if a, b := sum(fromStdin.Incidents), sum(fromFile.Incidents); !slices.Equal(a, b) || len(a) != 1 {
		t.Errorf("stdin:\n%s\nfile:\n%s\nwant the one WORKER TIMEOUT", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	f := fromStdin.Files[0]
	if f.Start != 0 || f.Skipped != "" || !f.Stopped {
		t.Errorf("stdin: %+v", f)
	}
	if _, known := scan.TotalBytes([]string{"-"}); known {
		t.Error("TotalBytes of stdin is known")
	}
	if got := cfg.Progress.Load(); got <= 0 || got > int64(len(data)) {
		t.Errorf("progress %d over %d bytes of stdin", got, len(data))
	}
}
