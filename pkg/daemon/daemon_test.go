package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail"
	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/checkpoint"
	"github.com/sigtail/sigtail/pkg/daemon"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/sink"
)

// memSink keeps incidents in memory.
type memSink struct {
	mu   sync.Mutex
	incs []*incident.Incident
}

func (m *memSink) Send(_ context.Context, inc *incident.Incident) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.incs = append(m.incs, inc)
	return nil
}
func (m *memSink) Close() error { return nil }
func (m *memSink) rules() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, i := range m.incs {
		out = append(out, i.Rule+":"+string(i.Status))
	}
	return out
}

var _ sink.Sink = (*memSink)(nil)

// TestDaemonInProcess: the daemon follows a file, raises incidents, keeps
// the gunicorn_workers gauge, and saves positions on stop.
func TestDaemonInProcess(t *testing.T) {
	cat, err := catalog.Load(sigtail.Catalog, "")
	if err != nil {
		t.Fatal(err)
	}
	set, err := match.Compile(cat)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	os.WriteFile(logPath, nil, 0o644)
	store, _ := checkpoint.Open(filepath.Join(dir, "positions.json"))
	out := &memSink{}
	metrics := daemon.NewMetrics()
	d := daemon.New(daemon.Config{
		Files: []daemon.FileSource{{Path: logPath}}, Catalog: cat, Set: set, Location: time.UTC,
		Positions: store, Sinks: []sink.Sink{out}, Metrics: metrics, Log: zerolog.Nop(),
		Tick: 20 * time.Millisecond, Poll: 5 * time.Millisecond, IdleFlush: 50 * time.Millisecond, FromStart: true,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()

	lines := `[2026-11-24 10:00:00 +0000] [100] [INFO] Starting gunicorn 23.0.0
[2026-11-24 10:00:00 +0000] [101] [INFO] Booting worker with pid: 101
[2026-11-24 10:00:00 +0000] [102] [INFO] Booting worker with pid: 102
[2026-11-24 10:00:00 +0000] [103] [INFO] Booting worker with pid: 103
[2026-11-24 10:10:40 +0000] [100] [CRITICAL] WORKER TIMEOUT (pid:101)
[2026-11-24 10:10:40 +0000] [101] [INFO] Worker exiting (pid: 101)
`
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(lines)
	f.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(strings.Join(out.rules(), " "), "gunicorn.worker_timeout:open") {
		if time.Now().After(deadline) {
			t.Fatalf("no worker timeout incident; got %v", out.rules())
		}
		time.Sleep(5 * time.Millisecond)
	}
	for testutil.ToFloat64(metrics.Workers.WithLabelValues(logPath)) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("gunicorn_workers = %v, want 2", testutil.ToFloat64(metrics.Workers.WithLabelValues(logPath)))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := testutil.ToFloat64(metrics.Lines.WithLabelValues(logPath)); n != 6 {
		t.Errorf("lines read %v, want 6", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Every line was taken by the engine, whose state (the open timeout
	// incident) is saved with the position after the last line.
	store2, _ := checkpoint.Open(filepath.Join(dir, "positions.json"))
	if p, ok := store2.Get(logPath); !ok || p.Offset != int64(len(lines)) {
		t.Errorf("saved position %+v, want offset %d (the end)", p, len(lines))
	}
	if !strings.Contains(string(store2.State()), "gunicorn.worker_timeout") {
		t.Errorf("the open incident is not in the saved state: %.300s", store2.State())
	}
}

// TestDaemonGlobPicksUpNewFiles: a file that appears under a followed glob
// is followed from its first byte.
func TestDaemonGlobPicksUpNewFiles(t *testing.T) {
	// The test catalog: one incident per WORKER TIMEOUT, held by nothing.
	cat, err := catalog.Load(os.DirFS("testdata/catalog"), "testdata/catalog")
	if err != nil {
		t.Fatal(err)
	}
	set, _ := match.Compile(cat)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.log"), nil, 0o644)
	out := &memSink{}
	metrics := daemon.NewMetrics()
	d := daemon.New(daemon.Config{Metrics: metrics,
		Files: []daemon.FileSource{{Path: filepath.Join(dir, "*.log")}}, Catalog: cat, Set: set, Location: time.UTC,
		Sinks: []sink.Sink{out}, Log: zerolog.Nop(), Tick: 20 * time.Millisecond, Poll: 5 * time.Millisecond,
		IdleFlush: 50 * time.Millisecond, GlobEvery: 20 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	// Once a.log is followed, the daemon has started: b.log is new.
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(metrics.FileEvents.WithLabelValues(filepath.Join(dir, "a.log"), "open")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a.log never followed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	os.WriteFile(filepath.Join(dir, "b.log"), []byte("[2026-11-24 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:9)\n"), 0o644)
	for !strings.Contains(strings.Join(out.rules(), " "), "test.each_timeout:open") {
		if time.Now().After(deadline) {
			t.Fatalf("the new file was not followed; got %v", out.rules())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestDaemonCorruptPositions: a positions file that cannot be read does not
// stop the daemon: it is moved aside, every log is followed from its end,
// and a warning incident says so (even where files with no position are
// read from their start: after a reset, that would read everything again).
func TestDaemonCorruptPositions(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	os.WriteFile(logPath, []byte(strings.Replace(timeoutLine, "%d", "5", 1)), 0o644)
	posPath := filepath.Join(dir, "positions.json")
	os.WriteFile(posPath, []byte(`{"version": 1, "sources": {"`), 0o644) // cut short by a full disk
	store, err := checkpoint.Open(posPath)
	if err != nil {
		t.Fatal(err)
	}
	out := &runnerSink{}
	d := testDaemon(t, logPath, store, out)
	runUntil(t, d, func() bool { return out.count() > 0 }, "no incident")
	got := out.sentRules()
	if len(got) != 1 || got[0] != "sigtail.positions_reset:warning:open" {
		t.Errorf("incidents %v, want only the positions reset (the log is followed from its end)", got)
	}
	if m, _ := filepath.Glob(posPath + ".corrupt-*"); len(m) != 1 {
		t.Errorf("moved aside: %v", m)
	}
}
