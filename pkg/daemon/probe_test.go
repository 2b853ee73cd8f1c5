package daemon_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/pkg/daemon"
	"github.com/sigtail/sigtail/pkg/probe"
	"github.com/sigtail/sigtail/pkg/sink"
)

// TestProbeRealGunicorn: the daemon's probe follows a real Gunicorn master
// with more workers than this host's CPUs can run: /metrics counts its
// workers through a SIGKILL of one and its respawn, the excess is an
// incident, and the master's end is one.
func TestProbeRealGunicorn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Gunicorn master")
	}
	bin, err := exec.LookPath("gunicorn")
	if err != nil {
		t.Skip("gunicorn is not installed (apt-get install gunicorn)")
	}
	workers := 2*runtime.NumCPU() + 2 // more than 2 x CPUs + 1
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.py"), []byte("def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n"), 0o644)
	cmd := exec.Command(bin, "--workers", strconv.Itoa(workers), "--bind", "unix:"+filepath.Join(dir, "g.sock"), "app:app")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	master := cmd.Process.Pid
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { syscall.Kill(-master, syscall.SIGKILL); <-exited })

	cat, set := builtin(t)
	out := &memSink{}
	m := daemon.NewMetrics()
	d := daemon.New(daemon.Config{
		Catalog: cat, Set: set, Location: time.UTC, Sinks: []sink.Sink{out}, Metrics: m, Log: zerolog.Nop(),
		Probe: probe.New("/", probe.Options{}), ProbeEvery: 200 * time.Millisecond, Tick: 50 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	label := strconv.Itoa(master)
	live := func() float64 {
		return testutil.ToFloat64(m.ProbeWorkers.WithLabelValues(label, "idle")) + testutil.ToFloat64(m.ProbeWorkers.WithLabelValues(label, "working"))
	}
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("waited 20 s for %s; incidents %v", what, out.rules())
			}
		}
	}
	waitUntil("every worker counted", func() bool { return live() == float64(workers) })
	if got := testutil.ToFloat64(m.ProbeConfigured.WithLabelValues(label)); got != float64(workers) {
		t.Errorf("gunicorn_workers_configured %v, want %d", got, workers)
	}
	if testutil.ToFloat64(m.ProbeUp) != 1 {
		t.Errorf("gunicorn_up is not 1")
	}
	waitUntil("the excess an incident", func() bool {
		return strings.Contains(strings.Join(out.rules(), " "), "gunicorn.excessive_workers:open")
	})

	// A worker killed is counted out, then its replacement in.
	children, _ := os.ReadFile("/proc/" + label + "/task/" + label + "/children")
	first, _ := strconv.Atoi(strings.Fields(string(children))[0])
	syscall.Kill(first, syscall.SIGKILL)
	waitUntil("the worker replaced", func() bool {
		now, _ := os.ReadFile("/proc/" + label + "/task/" + label + "/children")
		return !strings.Contains(" "+string(now)+" ", " "+strconv.Itoa(first)+" ") && live() == float64(workers)
	})

	// The master and its workers gone: no workers of it on /metrics (other
	// tests' masters may run: gunicorn_up is not looked at), and an incident.
	syscall.Kill(-master, syscall.SIGKILL)
	<-exited
	waitUntil("the master's end an incident", func() bool { return strings.Contains(strings.Join(out.rules(), " "), "gunicorn.master_vanished:open") })
	if n := live(); n != 0 {
		t.Errorf("%v workers of a master gone on /metrics", n)
	}
}
