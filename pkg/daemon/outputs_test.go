package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/checkpoint"
	"github.com/sigtail/sigtail/pkg/daemon"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/sink"
)

// runnerSink records the order of what the daemon does with a sink that
// delivers in the background.
type runnerSink struct {
	mu     sync.Mutex
	events []string
	sent   int
	tries  int
	refuse bool
	rules  []string
}

func (r *runnerSink) log(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *runnerSink) Send(_ context.Context, inc *incident.Incident) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if r.refuse {
		return errors.New("spool full")
	}
	r.sent++
	r.events = append(r.events, "send")
	r.rules = append(r.rules, fmt.Sprintf("%s:%s:%s", inc.Rule, inc.Severity, inc.Status))
	return nil
}

// sentRules are the incidents taken, as rule:severity:status.
func (r *runnerSink) sentRules() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.rules)
}

func (r *runnerSink) Run(ctx context.Context) error {
	r.log("run")
	<-ctx.Done()
	r.log("run stopped")
	return nil
}

func (r *runnerSink) Flush(ctx context.Context) error {
	r.log("flush")
	return nil
}

func (r *runnerSink) Close() error { return nil }

func (r *runnerSink) trace() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, ",")
}

func (r *runnerSink) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent
}

func (r *runnerSink) attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tries
}

var _ sink.Sink = (*runnerSink)(nil)

func testDaemon(t *testing.T, logPath string, store *checkpoint.Store, sinks ...sink.Sink) *daemon.Daemon {
	t.Helper()
	cat, err := catalog.Load(os.DirFS("testdata/catalog"), "testdata/catalog")
	if err != nil {
		t.Fatal(err)
	}
	set, _ := match.Compile(cat)
	return daemon.New(daemon.Config{
		Files: []daemon.FileSource{{Path: logPath}}, Catalog: cat, Set: set, Location: time.UTC, Positions: store,
		Sinks: sinks, Log: zerolog.Nop(), Tick: 20 * time.Millisecond, Poll: 5 * time.Millisecond,
		IdleFlush: 50 * time.Millisecond, FromStart: true,
	})
}

const timeoutLine = "[2026-11-24 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:%d)\n"

// TestDaemonRunsOutputs: a sink that delivers in the background is run
// before the first incident, flushed after the last, and stopped after
// that, in this order.
func TestDaemonRunsOutputs(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	os.WriteFile(logPath, fmt.Appendf(nil, timeoutLine, 9), 0o644)
	out := &runnerSink{}
	d := testDaemon(t, logPath, nil, out)
	runUntil(t, d, func() bool { return out.count() > 0 }, "no incident")
	if got := out.trace(); got != "run,send,flush,run stopped" {
		t.Errorf("order %q, want run,send,flush,run stopped", got)
	}
}

// TestDaemonRefusedIncidentsWait: an incident an output refuses (a full
// spool) waits in the daemon and is offered again; positions go on for
// every log (a new file gets one at once), and the waiting incident is
// saved with them, so a restart delivers it instead of losing it.
func TestDaemonRefusedIncidentsWait(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	os.WriteFile(logPath, fmt.Appendf(nil, timeoutLine, 9), 0o644)
	posPath := filepath.Join(dir, "positions.json")
	store, _ := checkpoint.Open(posPath)
	full := &runnerSink{refuse: true}
	d := testDaemon(t, logPath, store, full)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); full.attempts() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the refused incident was offered %d time(s), want it offered again at each tick", full.attempts())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	store, _ = checkpoint.Open(posPath)
	if p, ok := store.Get(logPath); !ok || p.Offset == 0 {
		t.Errorf("position not saved while an output refused: %+v %v", p, ok)
	}
	if !strings.Contains(string(store.State()), `"unsent"`) {
		t.Errorf("the refused incident is not in the saved state: %.300s", store.State())
	}

	// The next start, with an output that takes it, delivers it.
	ok := &runnerSink{}
	d = testDaemon(t, logPath, store, ok)
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- d.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); ok.count() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the incident refused before the restart was not delivered after it")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := ok.count(); n != 1 {
		t.Errorf("delivered %d incidents after the restart, want 1 (the line was not read again)", n)
	}
}

// runUntil runs d until done reports true (failing with what, after 10 s),
// then stops it as SIGTERM does and checks it stopped cleanly.
func runUntil(t *testing.T, d *daemon.Daemon, done func() bool, what string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- d.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); !done(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			cancel()
			<-stopped
			t.Fatal(what)
		}
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}
