package scan_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
	"github.com/sigtail/sigtail/pkg/scan"
)

// inputSet is the inputs of one scenario the other tests scan, and what
// a plain scan of them gives (superseded incidents kept).
type inputSet struct {
	name  string
	paths []string
	plain *scan.Result
}

var (
	scenariosOnce sync.Once
	scenariosDir  string
	scenariosAll  []inputSet
)

// everyScenarioScanned is everyScenario with each scanned once, shared by
// the tests that compare other ways of scanning with it.
func everyScenarioScanned(t *testing.T) []inputSet {
	scenariosOnce.Do(func() {
		dir, err := os.MkdirTemp("", "scan-scenarios")
		if err != nil {
			t.Fatal(err)
		}
		scenariosDir = dir
		cfg := config(t)
		cfg.Superseded = true
		for _, in := range everyScenario(t, dir) {
			if in.plain, err = scan.Run(context.Background(), cfg, in.paths); err != nil {
				t.Fatal(err)
			}
			scenariosAll = append(scenariosAll, in)
		}
	})
	if scenariosAll == nil {
		t.Fatal("scenarios not scanned")
	}
	return scenariosAll
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if scenariosDir != "" {
		os.RemoveAll(scenariosDir)
	}
	os.Exit(code)
}

// everyScenario lists the inputs of every scenario the scan's tests use:
// each case of the insight scenarios, the scenario folders (sample logs,
// rotations) and the real servers' logs.
func everyScenario(t *testing.T, tmp string) []inputSet {
	var out []inputSet
	for _, path := range scenarioFiles(t) {
		for _, s := range parseScenarios(t, path) {
			dir, err := os.MkdirTemp(tmp, "case")
			if err != nil {
				t.Fatal(err)
			}
			paths, err := s.Write(dir)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, inputSet{name: s.File + "/" + s.Name, paths: paths})
		}
	}
	for _, dir := range caseDirs(t) {
		out = append(out, inputSet{name: dir, paths: inputs(t, dir)})
	}
	dirs, err := os.ReadDir(realDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		var files []string
		for _, name := range realLogNames {
			if p := filepath.Join(realDir, d.Name(), name); fileExists(p) {
				files = append(files, p)
			}
		}
		out = append(out, inputSet{name: d.Name(), paths: files})
	}
	if len(out) < 100 {
		t.Fatalf("only %d scenarios found", len(out))
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// summary is what must not change between two ways of running a scan:
// each incident's id, status, count and span, sorted.
func summary(incs []*incident.Incident) []string {
	var out []string
	for _, inc := range incs {
		out = append(out, fmt.Sprintf("%s %s %s %d %s %s %s", inc.ID, inc.Rule, inc.Status, inc.Count, inc.FirstSeen, inc.LastSeen, inc.SupersededBy))
	}
	slices.Sort(out)
	return out
}

// TestEmitSameIncidents: over every scenario, streaming incidents through
// Emit gives the incidents a scan without it gives, with superseded ones
// left out or kept; Result holds what Emit was handed, in that order; and
// what went out before the end of the input was final.
func TestEmitSameIncidents(t *testing.T) {
	base := config(t)
	streamed := 0
	for i, in := range everyScenarioScanned(t) {
		for _, superseded := range []bool{false, true} {
			if superseded && i%3 != 0 {
				continue // the filter's other side, on a third of them
			}
			cfg := base
			cfg.Superseded = superseded
			var want []*incident.Incident
			for _, inc := range in.plain.Incidents {
				if superseded || inc.Status != incident.StatusSuperseded {
					want = append(want, inc)
				}
			}
			var got []*incident.Incident
			cfg.Emit = func(inc *incident.Incident) { got = append(got, inc) }
			res, err := scan.Run(context.Background(), cfg, in.paths)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, res.Incidents) {
				t.Errorf("%s: Result.Incidents is not what Emit was handed, in order", in.name)
			}
			if a, b := summary(res.Incidents), summary(want); !slices.Equal(a, b) {
				t.Errorf("%s (superseded kept: %v): with Emit:\n%s\nwithout:\n%s", in.name, superseded, strings.Join(a, "\n"), strings.Join(b, "\n"))
			}
			for _, inc := range res.Incidents {
				if inc.Status != incident.StatusResolved && inc.Status != incident.StatusSuperseded {
					break // the rest, at the end
				}
				streamed++
			}
		}
	}
	if streamed == 0 {
		t.Error("no scenario had an incident final before its end")
	}
}

// TestEmitStreams: an incident that resolves long before the end of the
// input reaches Emit before the input ends. Standard input is a pipe that
// the test finishes writing only once Emit has had the incident.
func TestEmitStreams(t *testing.T) {
	cfg := config(t)
	pr, pw := io.Pipe()
	cfg.Stdin = pr
	first := make(chan *incident.Incident, 1)
	var emitted []*incident.Incident
	cfg.Emit = func(inc *incident.Incident) {
		if len(emitted) == 0 {
			first <- inc
		}
		emitted = append(emitted, inc)
	}
	line := func(ts time.Time, rest string) string {
		return ts.Format("[2006-01-02 15:04:05 -0700]") + " " + rest + "\n"
	}
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	early := line(t0, "[1000] [CRITICAL] WORKER TIMEOUT (pid:2001)") +
		line(t0, "[2001] [INFO] Worker exiting (pid: 2001)") +
		line(t0.Add(time.Second), "[2050] [INFO] Booting worker with pid: 2050")
	// An hour later: the first incident is over, and the scan knows it
	// once a record of that time reaches correlation.
	later := line(t0.Add(time.Hour), "[1000] [CRITICAL] WORKER TIMEOUT (pid:2050)") +
		line(t0.Add(time.Hour), "[2050] [INFO] Worker exiting (pid: 2050)") +
		line(t0.Add(time.Hour+time.Second), "[2080] [INFO] Booting worker with pid: 2080")
	var rest strings.Builder
	for i := range 2000 {
		rest.WriteString(line(t0.Add(time.Hour+time.Duration(i)*time.Second), "[1000] [DEBUG] Closing connection."))
	}
	done := make(chan error, 1)
	var res *scan.Result
	go func() {
		var err error
		res, err = scan.Run(context.Background(), cfg, []string{"-"})
		done <- err
	}()
	io.WriteString(pw, early)
	io.WriteString(pw, later)
	select {
	case inc := <-first:
		if inc.Rule != "gunicorn.worker_timeout" || inc.Status != incident.StatusResolved || inc.Fields["pid"] != "2001" {
			t.Errorf("first incident emitted: %s %s pid %s, want the resolved timeout of 2001", inc.Rule, inc.Status, inc.Fields["pid"])
		}
	case <-time.After(20 * time.Second):
		t.Error("no incident emitted while the input was still open")
	}
	io.WriteString(pw, rest.String())
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The second is over by the end of the input (half an hour of
	// records after it): it goes out then.
	if len(res.Incidents) != 2 || res.Incidents[0].Fields["pid"] != "2001" || res.Incidents[1].Fields["pid"] != "2050" {
		t.Errorf("incidents: %v", summary(res.Incidents))
	}
}

// TestProgress: Progress ends at TotalBytes, for plain and gzip inputs,
// and moves while the scan runs.
func TestProgress(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	var b bytes.Buffer
	t0 := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for i := range 15000 {
		fmt.Fprintf(&b, `10.0.%d.%d - - [%s] "GET /api/items/%d HTTP/1.1" 200 %d "-" "curl/8.5.0" %.3f %.3f`+"\n",
			rng.IntN(256), rng.IntN(256), t0.Add(time.Duration(i)*time.Second).Format("02/Jan/2006:15:04:05 -0700"), rng.IntN(1e6), rng.IntN(50000), rng.Float64()/4, rng.Float64()/4)
	}
	plain := filepath.Join(dir, "access.log")
	os.WriteFile(plain, b.Bytes(), 0o644)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b.Bytes())
	zw.Close()
	gz := filepath.Join(dir, "other-access.log.gz")
	os.WriteFile(gz, z.Bytes(), 0o644)

	for _, paths := range [][]string{{plain}, {gz}, {plain, gz, plain}} {
		total, known := scan.TotalBytes(paths)
		if !known || total <= 0 {
			t.Fatalf("TotalBytes(%q) = %d, %v", paths, total, known)
		}
		cfg := config(t)
		cfg.Progress = new(atomic.Int64)
		var during []int64
		cfg.Observe = func(*parse.Event, []match.Hit) {
			if len(during) < 1 {
				during = append(during, cfg.Progress.Load())
			}
		}
		if _, err := scan.Run(context.Background(), cfg, paths); err != nil {
			t.Fatal(err)
		}
		if got := cfg.Progress.Load(); got != total {
			t.Errorf("%q: progress %d after the scan, want %d", paths, got, total)
		}
		if len(during) == 0 || during[0] <= 0 || during[0] >= total {
			t.Errorf("%q: progress at the first record %v, want between 0 and %d", paths, during, total)
		}
	}
}

// kept are the Gunicorn worker signatures a report follows, some used by
// no rule.
var kept = []string{"gunicorn.worker_booting", "gunicorn.worker_exiting", "gunicorn.worker_sigkill", "gunicorn.worker_signal",
	"gunicorn.worker_sigterm", "gunicorn.worker_exit_code", "gunicorn.worker_core_dump", "gunicorn.starting"}

// TestObserveKeep: over every scenario, Observe sees the hits of kept
// signatures no rule uses, and they change no incident; without Keep it
// sees none of them.
func TestObserveKeep(t *testing.T) {
	base := config(t)
	used := map[string]bool{}
	for _, r := range base.Catalog.Rules {
		for _, id := range r.Signatures {
			used[id] = true
		}
	}
	var unused []string
	for _, id := range kept {
		if _, ok := base.Set.Signature(id); !ok {
			t.Fatalf("no signature %s", id)
		}
		if !used[id] {
			unused = append(unused, id)
		}
	}
	if len(unused) == 0 {
		t.Fatal("every kept signature is a rule's: the test shows nothing")
	}
	seen := map[string]int{} // unused kept signature -> records observed
	base.Superseded = true
	for i, in := range everyScenarioScanned(t) {
		cfg := base
		cfg.Keep = kept
		cfg.Observe = func(ev *parse.Event, hits []match.Hit) {
			if len(hits) == 0 {
				t.Errorf("%s: observed a record without hits", in.name)
			}
			for _, h := range hits {
				if slices.Contains(unused, h.Signature.ID) {
					seen[h.Signature.ID]++
				}
			}
		}
		res, err := scan.Run(context.Background(), cfg, in.paths)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(res.Incidents)
		b, _ := json.Marshal(in.plain.Incidents)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: with kept signatures the incidents differ:\n%s", in.name, diffLines(string(b), string(a)))
		}

		// Without Keep, Observe sees only what correlation sees (one
		// scenario in ten is enough to tell).
		if i%10 != 0 {
			continue
		}
		cfg.Keep = nil
		cfg.Observe = func(ev *parse.Event, hits []match.Hit) {
			for _, h := range hits {
				if slices.Contains(unused, h.Signature.ID) {
					t.Errorf("%s: %s observed without Keep", in.name, h.Signature.ID)
				}
			}
		}
		if _, err := scan.Run(context.Background(), cfg, in.paths); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range unused {
		if seen[id] == 0 {
			t.Logf("no scenario holds a record of %s", id)
		}
	}
	if len(seen) == 0 {
		t.Errorf("no record of a kept signature (%v) was observed", unused)
	}
}

// TestObserveOrder: Observe sees the records of several logs in event-time
// order, the kept-only ones among the others.
func TestObserveOrder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	g := write("error.log", `[2026-11-24 10:00:01 +0000] [1000] [INFO] Starting gunicorn 23.0.0
[2026-11-24 10:00:02 +0000] [2001] [INFO] Booting worker with pid: 2001
[2026-11-24 10:00:10 +0000] [1000] [ERROR] Worker (pid:2001) exited with code 1
[2026-11-24 10:00:20 +0000] [2002] [INFO] Booting worker with pid: 2002
[2026-11-24 10:00:40 +0000] [1000] [CRITICAL] WORKER TIMEOUT (pid:2002)
[2026-11-24 10:00:50 +0000] [1000] [ERROR] Worker (pid:2002) exited with code 1
`)
	n := write("nginx-error.log", `2026/11/24 10:00:05 [error] 812#812: *1 connect() to unix:/run/gunicorn.sock failed (111: Connection refused) while connecting to upstream, client: 198.51.100.23, server: shop.example.com, request: "GET / HTTP/1.1", upstream: "http://unix:/run/gunicorn.sock:/", host: "shop.example.com"
2026/11/24 10:00:15 [error] 812#812: *2 connect() to unix:/run/gunicorn.sock failed (111: Connection refused) while connecting to upstream, client: 198.51.100.23, server: shop.example.com, request: "GET / HTTP/1.1", upstream: "http://unix:/run/gunicorn.sock:/", host: "shop.example.com"
2026/11/24 10:00:45 [error] 812#812: *3 connect() to unix:/run/gunicorn.sock failed (111: Connection refused) while connecting to upstream, client: 198.51.100.23, server: shop.example.com, request: "GET / HTTP/1.1", upstream: "http://unix:/run/gunicorn.sock:/", host: "shop.example.com"
`)
	cfg := config(t)
	cfg.Keep = kept
	var got []string
	cfg.Observe = func(ev *parse.Event, hits []match.Hit) {
		got = append(got, ev.Time.Format("15:04:05")+" "+filepath.Base(ev.Source))
	}
	if _, err := scan.Run(context.Background(), cfg, []string{g, n}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"10:00:01 error.log", "10:00:02 error.log", "10:00:05 nginx-error.log", "10:00:10 error.log", "10:00:15 nginx-error.log",
		"10:00:20 error.log", "10:00:40 error.log", "10:00:45 nginx-error.log", "10:00:50 error.log",
	}
	if !slices.Equal(got, want) {
		t.Errorf("observed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
