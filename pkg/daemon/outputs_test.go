package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	return nil
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); out.count() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no incident")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := out.trace(); got != "run,send,flush,run stopped" {
		t.Errorf("order %q, want run,send,flush,run stopped", got)
	}
}

// TestDaemonHoldsPositionsOnRefusal: once an output refuses an incident,
// positions are no longer saved past it, so a restart raises it again.
func TestDaemonHoldsPositionsOnRefusal(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		t.Run(fmt.Sprint("refuse=", refuse), func(t *testing.T) {
			dir := t.TempDir()
			logPath := filepath.Join(dir, "error.log")
			os.WriteFile(logPath, fmt.Appendf(nil, timeoutLine, 9), 0o644)
			posPath := filepath.Join(dir, "positions.json")
			store, _ := checkpoint.Open(posPath)
			out := &runnerSink{refuse: refuse}
			d := testDaemon(t, logPath, store, out)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- d.Run(ctx) }()
			for deadline := time.Now().Add(10 * time.Second); out.attempts() == 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no incident")
				}
			}
			time.Sleep(50 * time.Millisecond) // a tick or two: positions saved
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			store, _ = checkpoint.Open(posPath)
			p, ok := store.Get(logPath)
			switch {
			case refuse && ok && p.Offset > 0:
				t.Errorf("position saved past a refused incident: %+v", p)
			case !refuse && (!ok || p.Offset == 0):
				t.Errorf("position not saved: %+v %v", p, ok)
			}
		})
	}
}
