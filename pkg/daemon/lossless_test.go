package daemon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/pkg/checkpoint"
	"github.com/sigtail/sigtail/pkg/daemon"
	"github.com/sigtail/sigtail/pkg/sink"
)

// Each of these was a way the daemon lost or delayed a line.

// TestDefaultStartKeepsPosition: with the default start at the end of
// each file, a file that got no new line still has a position once
// followed, so what is written while sigtail is stopped is read after the
// next start.
func TestDefaultStartKeepsPosition(t *testing.T) {
	cat, set := builtin(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	os.WriteFile(logPath, []byte("[2026-11-24 09:00:00 +0000] [1] [INFO] Starting gunicorn 23.0.0\n"), 0o644)
	posPath := filepath.Join(dir, "positions.json")
	runOnce := func(wait func(*memSink) bool) *memSink {
		store, err := checkpoint.Open(posPath)
		if err != nil {
			t.Fatal(err)
		}
		out := &memSink{}
		d := daemon.New(daemon.Config{
			Files: []daemon.FileSource{{Path: logPath}}, Catalog: cat, Set: set, Location: time.UTC, Positions: store,
			Sinks: []sink.Sink{out}, Log: zerolog.Nop(),
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- d.Run(ctx) }()
		for deadline := time.Now().Add(10 * time.Second); !wait(out); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("waited 10 s; incidents %v", out.rules())
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return out
	}
	// First start: followed from its end, nothing new, stopped.
	start := time.Now()
	runOnce(func(*memSink) bool { return time.Since(start) > 700*time.Millisecond })
	// Written while stopped.
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("[2026-11-24 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:42)\n")
	f.Close()
	runOnce(func(out *memSink) bool {
		return strings.Contains(strings.Join(out.rules(), " "), "gunicorn.worker_timeout:open")
	})
}

// TestLoneTimeoutInBusyLog: a WORKER TIMEOUT among a steady 100 lines/s
// is an incident while the log is still busy, not once it falls silent
// (the time it takes is BenchmarkLatency's business).
func TestLoneTimeoutInBusyLog(t *testing.T) {
	cat, set := builtin(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	os.WriteFile(logPath, nil, 0o644)
	out := &memSink{}
	d := daemon.New(daemon.Config{
		Files: []daemon.FileSource{{Path: logPath}}, Catalog: cat, Set: set, Location: time.UTC,
		Sinks: []sink.Sink{out}, Log: zerolog.Nop(),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	defer f.Close()
	stop := make(chan struct{})
	written := make(chan time.Time, 1)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			ts := time.Now().UTC().Format("2006-01-02 15:04:05 -0700")
			if n == 150 {
				fmt.Fprintf(f, "[%s] [1] [CRITICAL] WORKER TIMEOUT (pid:4242)\n", ts)
				written <- time.Now()
				continue
			}
			fmt.Fprintf(f, "[%s] [7] [INFO] request served in 3 ms\n", ts)
		}
	}()
	at := <-written
	for !strings.Contains(strings.Join(out.rules(), " "), "gunicorn.worker_timeout:open") {
		if time.Since(at) > 20*time.Second {
			t.Fatalf("no incident while the log went on being written for 20 s after the line")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	cancel()
	<-done
}

// TestStopWritesWhatWasRead: a SIGKILL line (whose rule yields to others)
// read just before SIGTERM is an incident in the output, with no positions
// kept at all.
func TestStopWritesWhatWasRead(t *testing.T) {
	cat, set := builtin(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	os.WriteFile(logPath, []byte("[2026-11-24 10:00:00 +0000] [1] [ERROR] Worker (pid:77) was sent SIGKILL! Perhaps out of memory?\n"), 0o644)
	out := &memSink{}
	m := daemon.NewMetrics()
	d := daemon.New(daemon.Config{
		Files: []daemon.FileSource{{Path: logPath}}, Catalog: cat, Set: set, Location: time.UTC, FromStart: true,
		Sinks: []sink.Sink{out}, Metrics: m, Log: zerolog.Nop(),
	})
	runUntil(t, d, func() bool { return len(out.rules()) > 0 }, "no incident for the SIGKILL line")
	if got := strings.Join(out.rules(), " "); !strings.Contains(got, "gunicorn.worker_oom_sigkill:open") {
		t.Errorf("incidents %s", got)
	}
}
