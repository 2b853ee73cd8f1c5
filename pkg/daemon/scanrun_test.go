package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/internal/scenario"
	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/checkpoint"
	"github.com/sigtail/sigtail/pkg/correlate"
	"github.com/sigtail/sigtail/pkg/daemon"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/scan"
	"github.com/sigtail/sigtail/pkg/sink"
)

// The same logs give the same incidents from `scan` and from `run
// --from-start`: both read through parse.Stream, merge the logs in event
// time, and correlate with one engine. These tests run both on every
// scenario of testdata and compare each incident's rule, first seen,
// count and evidence.

const testHost = "test-host"

// story is what a person is told: every incident as it ended (the last
// snapshot of each id; what was superseded is told by the incident that
// took it over), as "rule first_seen count evidence...".
func story(incs []*incident.Incident) []string {
	last := map[string]*incident.Incident{}
	for _, inc := range incs {
		last[inc.ID] = inc
	}
	var out []string
	for _, inc := range last {
		if inc.Status == incident.StatusSuperseded {
			continue
		}
		var ev []string
		for _, e := range inc.Evidence {
			ev = append(ev, fmt.Sprintf("%s@%d:%s", filepath.Base(e.Source), e.Offset, e.Signature))
		}
		slices.Sort(ev)
		out = append(out, fmt.Sprintf("%s %s %d [%s]", inc.Rule, inc.FirstSeen.UTC().Format(time.RFC3339), inc.Count, strings.Join(ev, " ")))
	}
	slices.Sort(out)
	return out
}

// scanFiles is `sigtail scan` of paths.
func scanFiles(t *testing.T, cat *catalog.Catalog, set *match.Set, paths []string) []*incident.Incident {
	t.Helper()
	res, err := scan.Run(context.Background(), scan.Config{
		Catalog: cat, Set: set, Location: time.UTC, MaxLine: 64 << 10, Log: zerolog.Nop(),
		Correlate: correlate.Options{Host: testHost},
	}, paths)
	if err != nil {
		t.Fatal(err)
	}
	return res.Incidents
}

// runFiles is `sigtail run --from-start` of paths, with a clock that
// stands still at clock (the year of yearless timestamps, as a scan takes
// it from the files' time): the engine's time is the logs' time only, as
// in the scan. It runs until every line is read and every log is caught
// up, stops, and returns what the daemon told, brought up to date with the
// state it saved at the stop (an update that update_every throttled is in
// the state, not yet in the output), and settled as a scan's end of input
// settles it (the daemon itself lets time decide).
func runFiles(t *testing.T, cat *catalog.Catalog, set *match.Set, paths []string, clock time.Time) []*incident.Incident {
	t.Helper()
	var files []daemon.FileSource
	want := map[string]float64{}
	for _, p := range paths {
		files = append(files, daemon.FileSource{Path: p})
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want[p] = float64(strings.Count(string(data), "\n"))
	}
	store, err := checkpoint.Open(filepath.Join(t.TempDir(), "positions.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := &memSink{}
	metrics := daemon.NewMetrics()
	opts := correlate.Options{Host: testHost}
	d := daemon.New(daemon.Config{
		Files: files, Catalog: cat, Set: set, Location: time.UTC, Positions: store,
		Sinks: []sink.Sink{out}, Metrics: metrics, Log: zerolog.Nop(), Now: func() time.Time { return clock },
		Tick: 10 * time.Millisecond, Poll: 5 * time.Millisecond, IdleFlush: 30 * time.Millisecond, FromStart: true,
		Correlate: opts,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for _, p := range paths {
		for testutil.ToFloat64(metrics.Lines.WithLabelValues(p)) < want[p] {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the daemon read %v of %v lines", p, testutil.ToFloat64(metrics.Lines.WithLabelValues(p)), want[p])
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond) // every log caught up, the merge drained
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out.mu.Lock()
	told := slices.Clone(out.incs)
	out.mu.Unlock()
	var saved struct {
		Engine json.RawMessage `json:"engine"`
	}
	if err := json.Unmarshal(store.State(), &saved); err != nil {
		t.Fatalf("saved state: %v", err)
	}
	eng := correlate.New(cat, opts)
	if err := eng.Restore(saved.Engine); err != nil {
		t.Fatal(err)
	}
	keep := func(inc *incident.Incident) { told = append(told, inc) }
	eng.Flush(keep)
	eng.Settle(keep)
	return append(told, eng.Open()...)
}

// copyLogs copies src files into a new directory, keeping their names and
// giving them mtime, and returns the copies' paths.
func copyLogs(t *testing.T, srcs []string, mtime time.Time) []string {
	t.Helper()
	dir := t.TempDir()
	var out []string
	for _, src := range srcs {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Base(src))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mtime, mtime)
		out = append(out, p)
	}
	return out
}

func compareStories(t *testing.T, cat *catalog.Catalog, set *match.Set, paths []string, clock time.Time) {
	t.Helper()
	scanned := story(scanFiles(t, cat, set, paths))
	ran := story(runFiles(t, cat, set, paths, clock))
	if !slices.Equal(scanned, ran) {
		t.Errorf("scan and run differ\nscan: %q\nrun:  %q", scanned, ran)
	}
}

// TestScanAndRunScenarios: every insight scenario, every real capture and
// the shipped sample give the same incidents from scan and run.
func TestScanAndRunScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon on every scenario")
	}
	cat, set := builtin(t)
	t.Run("sample", func(t *testing.T) {
		t.Parallel()
		srcs, _ := filepath.Glob("../../testdata/sample/*.log")
		mtime := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
		compareStories(t, cat, set, copyLogs(t, srcs, mtime), mtime)
	})
	reals, _ := filepath.Glob("../../testdata/real/*/")
	for _, dir := range reals {
		srcs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		if len(srcs) == 0 {
			continue
		}
		t.Run("real/"+filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			mtime := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
			compareStories(t, cat, set, copyLogs(t, srcs, mtime), mtime)
		})
	}
	files, _ := filepath.Glob("../../testdata/insights/*.txt")
	for _, f := range files {
		cases, err := scenario.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			t.Run(c.File+"/"+c.Name, func(t *testing.T) {
				t.Parallel()
				paths, err := c.Write(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				compareStories(t, cat, set, paths, scenario.ModTime)
			})
		}
	}
}
