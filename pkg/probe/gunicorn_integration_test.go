package probe

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests start real Gunicorn masters (Debian's gunicorn package) and
// audit them through the real /proc.

const wsgiApp = `def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]
`

// startGunicorn starts Gunicorn with args plus a unix socket bind in a
// temporary directory, in its own process group, killed at the end of the
// test. It returns the master's pid.
func startGunicorn(t *testing.T, args ...string) int {
	t.Helper()
	pid, _ := startGunicornApp(t, wsgiApp, "", args...)
	return pid
}

// startGunicornApp starts Gunicorn as startGunicorn does, serving app (the
// source of app.py, whose WSGI callable is app) on bind; an empty bind is
// a unix socket in the temporary directory, whose path is returned as
// sock.
func startGunicornApp(t *testing.T, app, bind string, args ...string) (pid int, sock string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real Gunicorn masters: not with -short")
	}
	bin, err := exec.LookPath("gunicorn")
	if err != nil {
		t.Skip("gunicorn is not installed (apt-get install gunicorn): ", err)
	}
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil {
		t.Skipf("%s --version fails, so it cannot run here: %v: %s", bin, err, out)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "gunicorn.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	if bind == "" {
		sock = filepath.Join(dir, "g.sock")
		bind = "unix:" + sock
	}
	args = append(args, "--bind", bind, "app:app")
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s %s: %v", bin, strings.Join(args, " "), err)
	}
	pid = cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		// TERM the master (it stops its workers), then KILL the whole
		// group whatever happened: no process outlives the test.
		_ = syscall.Kill(pid, syscall.SIGTERM)
		exited := false
		select {
		case <-done:
			exited = true
		case <-time.After(10 * time.Second):
		}
		_ = syscall.Kill(-pid, syscall.SIGKILL) // workers left behind, if any
		if !exited {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Errorf("gunicorn master %d did not exit", pid)
			}
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "gunicorn.log"))
			t.Logf("gunicorn's log:\n%s", b)
		}
	})
	return pid, sock
}

// waitWorkers samples until master pid has n live workers, and returns
// that sample.
func waitWorkers(t *testing.T, p *Prober, pid, n int) *Master {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := -1
	for time.Now().Before(deadline) {
		s, err := p.Sample(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range s.Masters {
			if m.PID == pid {
				last = m.LiveWorkers()
				if last == n {
					return m
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("master %d: %d live workers after 30 s, want %d", pid, last, n)
	return nil
}

// auditMaster takes two samples interval apart and audits them.
func auditMaster(t *testing.T, p *Prober, pid int, interval time.Duration) (*Snapshot, *Master, Report) {
	t.Helper()
	if _, err := p.Sample(time.Now()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(interval)
	s, err := p.Sample(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s, findMaster(t, s, pid), Audit(s)
}

func TestAuditRealGunicornExcessiveWorkers(t *testing.T) {
	pid := startGunicorn(t, "-w", "12")
	p := New("/", Options{})
	waitWorkers(t, p, pid, 12)
	s, m, r := auditMaster(t, p, pid, 300*time.Millisecond)
	cpus, ok := EffectiveCPUs(s.Host.OnlineCPUs, m.Cgroup)
	if !ok {
		t.Fatal("online CPUs unknown on this host")
	}
	rec := recommendedWorkers(cpus)
	if rec >= 12 {
		t.Skipf("%v CPUs here: 12 workers are not too many", cpus)
	}
	if w := m.Settings.Get("workers"); w.Value != "12" || w.Source != SourceCommandLine {
		t.Errorf("workers setting = %+v", w)
	}
	f, ok := findFinding(r, "workers.excessive", pid)
	if !ok {
		t.Fatalf("no workers.excessive finding; findings: %+v", r.Findings)
	}
	if f.Recommended != strconv.Itoa(rec) {
		t.Errorf("recommended %q, want %d for %v CPUs", f.Recommended, rec, cpus)
	}
	if s.Host.OnlineCPUs == 2 && m.Cgroup.CPUQuota == 0 && f.Recommended != "5" {
		t.Errorf("on 2 CPUs without a quota the recommendation is 5, got %q", f.Recommended)
	}
	for _, w := range m.Workers {
		if w.RSS == 0 || !w.Sampled {
			t.Errorf("worker %+v: want RSS and a CPU delta", w)
		}
	}
	t.Logf("finding: %s: %s -> %s", f.Measured, f.Current, f.Recommended)
}

func TestAuditRealGunicornSingleWorker(t *testing.T) {
	pid := startGunicorn(t, "-w", "1")
	p := New("/", Options{})
	waitWorkers(t, p, pid, 1)
	_, _, r := auditMaster(t, p, pid, 100*time.Millisecond)
	f, ok := findFinding(r, "workers.single", pid)
	if !ok {
		t.Fatalf("no workers.single finding; findings: %+v", r.Findings)
	}
	if f.Insight != "Single Gunicorn worker insufficient for production without benchmarking" {
		t.Errorf("insight %q", f.Insight)
	}
}

func TestAuditRealGunicornMaxRequestsWithoutJitter(t *testing.T) {
	pid := startGunicorn(t, "-w", "2", "--max-requests", "1000")
	p := New("/", Options{})
	waitWorkers(t, p, pid, 2)
	_, _, r := auditMaster(t, p, pid, 100*time.Millisecond)
	f, ok := findFinding(r, "recycle.no_jitter", pid)
	if !ok || f.Recommended != "100" {
		t.Fatalf("recycle.no_jitter = %+v, %v; want recommended 100; findings: %+v", f, ok, r.Findings)
	}
}

// TestAuditRealGunicornRespawn kills a worker with SIGKILL while the master
// is stopped (SIGSTOP), so the dead worker stays a zombie: the probe counts
// one worker fewer. Once the master runs again it reaps and replaces the
// worker, and the probe counts the replacement.
func TestAuditRealGunicornRespawn(t *testing.T) {
	pid := startGunicorn(t, "-w", "3")
	p := New("/", Options{})
	m := waitWorkers(t, p, pid, 3)
	var before []int
	for _, w := range m.Workers {
		before = append(before, w.PID)
	}
	victim := before[1]
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, fmt.Sprintf("worker %d to be a zombie", victim), func() bool {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", victim))
		return err == nil && strings.Contains(string(st), ") Z ")
	})
	m = waitWorkers(t, p, pid, 2)
	for _, w := range m.Workers {
		if w.PID == victim {
			t.Fatalf("zombie worker %d counted as live", victim)
		}
	}
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	m = waitWorkers(t, p, pid, 3)
	var after []int
	for _, w := range m.Workers {
		after = append(after, w.PID)
	}
	if slices.Contains(after, victim) {
		t.Fatalf("workers %v still hold the killed %d", after, victim)
	}
	t.Logf("workers %v, then %v after SIGKILL of %d", before, after, victim)
}

// waitFor polls cond until it holds, for at most 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
	}
}

// leakApp keeps 20 MiB more on each request to /leak, in a module-level
// list: the worker that serves them grows, its siblings do not. It answers
// with its pid and how many chunks it holds.
const leakApp = `import os

LEAK = []

def app(environ, start_response):
    if environ["PATH_INFO"] == "/leak":
        LEAK.append(b"x" * (20 << 20))  # written, so resident
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%d %d\n" % (os.getpid(), len(LEAK))]
`

// TestAuditRealGunicornMemoryLeak makes one of three workers leak and
// checks that memory.leak names it. Sync workers take turns at accept
// (sequential requests spread evenly over them), so the two siblings are
// stopped (SIGSTOP) while the /leak requests are sent: only the leaker can
// accept them. They run again before the audit.
func TestAuditRealGunicornMemoryLeak(t *testing.T) {
	pid, sock := startGunicornApp(t, leakApp, "", "--workers", "3")
	p := New("/", Options{})
	m := waitWorkers(t, p, pid, 3)
	leaker := m.Workers[0].PID
	var siblings []int
	for _, w := range m.Workers[1:] {
		siblings = append(siblings, w.PID)
	}
	cont := func() {
		for _, s := range siblings {
			_ = syscall.Kill(s, syscall.SIGCONT)
		}
	}
	t.Cleanup(cont)
	for _, s := range siblings {
		if err := syscall.Kill(s, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
	}
	defer client.CloseIdleConnections()

	// Leak until the leaker holds at least 3× the larger sibling and
	// 100 MiB more: well past the check's 2× and 64 MiB.
	var leakRSS, sibRSS uint64
	chunks := 0
	for chunks < 20 {
		resp, err := client.Get("http://gunicorn/leak")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /leak: %s, %v: %q", resp.Status, err, body)
		}
		var served int
		if _, err := fmt.Sscanf(string(body), "%d %d", &served, &chunks); err != nil || served != leaker {
			t.Fatalf("GET /leak answered %q (%v): want worker %d, its siblings are stopped", body, err, leaker)
		}
		s, err := p.Sample(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		leakRSS, sibRSS = 0, 0
		for _, w := range findMaster(t, s, pid).Workers {
			if w.PID == leaker {
				leakRSS = w.RSS
			} else {
				sibRSS = max(sibRSS, w.RSS)
			}
		}
		if sibRSS > 0 && leakRSS >= 3*sibRSS && leakRSS-sibRSS >= 100<<20 {
			break
		}
	}
	if leakRSS < 3*sibRSS || leakRSS-sibRSS < 100<<20 {
		t.Fatalf("after %d chunks of 20 MiB worker %d has RSS %s, its siblings up to %s", chunks, leaker, fmtBytes(leakRSS), fmtBytes(sibRSS))
	}
	if leakRSS < uint64(chunks)*20<<20 {
		t.Errorf("worker %d holds %d chunks of 20 MiB but its RSS is %s", leaker, chunks, fmtBytes(leakRSS))
	}
	cont()
	waitFor(t, "the siblings to run again", func() bool {
		s, err := p.Sample(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range findMaster(t, s, pid).Workers {
			if w.State == "T" {
				return false
			}
		}
		return true
	})

	_, m, r := auditMaster(t, p, pid, 300*time.Millisecond)
	if n := m.LiveWorkers(); n != 3 {
		t.Fatalf("%d live workers, want the 3 started", n)
	}
	f, ok := findFinding(r, "memory.leak", pid)
	if !ok {
		t.Fatalf("no memory.leak finding; findings: %+v", r.Findings)
	}
	if f.Insight != "Application memory leak causes OOM after extended uptime" {
		t.Errorf("insight %q", f.Insight)
	}
	if want := fmt.Sprintf("worker %d has RSS ", leaker); !strings.HasPrefix(f.Measured, want) {
		t.Errorf("measured %q, want it to start %q", f.Measured, want)
	}
	for _, s := range siblings {
		if strings.Contains(f.Measured, strconv.Itoa(s)) {
			t.Errorf("measured %q names sibling %d", f.Measured, s)
		}
	}
	if !strings.Contains(f.Command, fmt.Sprintf("/proc/%d/", leaker)) {
		t.Errorf("command %q is not about worker %d", f.Command, leaker)
	}
	t.Logf("%d chunks of 20 MiB: %s", chunks, f.Measured)
}

// sleepApp is a sync app blocked on I/O: 5 s per request, no CPU.
const sleepApp = `import time

def app(environ, start_response):
    time.sleep(5)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"slept\n"]
`

// TestAuditRealGunicornBacklog fills the accept queue of two sync workers
// asleep in the app and checks that the audit says they wait on I/O while
// requests queue. The bind is TCP: the accept queue of a unix socket is not
// in /proc.
func TestAuditRealGunicornBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real Gunicorn masters: not with -short")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bind := l.Addr().String()
	l.Close()
	pid, _ := startGunicornApp(t, sleepApp, bind, "--workers", "2", "--backlog", "64", "--timeout", "30", "--graceful-timeout", "1")
	p := New("/", Options{})
	waitWorkers(t, p, pid, 2)

	// Each worker accepts one connection and sleeps 5 s in it; the rest
	// wait in the accept queue. Nobody reads the answers.
	const clients = 20
	start := time.Now()
	for i := range clients {
		c, err := net.DialTimeout("tcp", bind, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := fmt.Fprintf(c, "GET /slow/%d HTTP/1.1\r\nHost: %s\r\n\r\n", i, bind); err != nil {
			t.Fatal(err)
		}
	}
	want := clients - 2
	queue := func(m *Master) int {
		for _, l := range m.Listeners {
			if l.Bind == bind {
				return l.Queue
			}
		}
		t.Fatalf("master %d has no listener %s: %+v", pid, bind, m.Listeners)
		return 0
	}
	waitFor(t, fmt.Sprintf("an accept queue of %d", want), func() bool {
		s, err := p.Sample(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return queue(findMaster(t, s, pid)) == want
	})
	time.Sleep(100 * time.Millisecond) // the two accepted requests reach time.sleep

	_, m, r := auditMaster(t, p, pid, 500*time.Millisecond)
	if d := time.Since(start); d > 4500*time.Millisecond {
		t.Logf("the audit ended %v after the requests were sent: the first 5 s sleeps may be over", d)
	}
	if q := queue(m); q != want {
		t.Fatalf("accept queue %d at the audit, want %d (%d connections, 2 accepted)", q, want, clients)
	}
	for _, w := range m.Workers {
		if !w.Sampled || w.Working() {
			t.Errorf("worker %+v: want sampled and idle, asleep in the app", w)
		}
	}
	f, ok := findFinding(r, "workers.io_wait", pid)
	if !ok {
		t.Fatalf("no workers.io_wait finding; findings: %+v; not checked: %+v", r.Findings, r.NotChecked)
	}
	if f.Insight != "Requests queue in connection backlog when workers are saturated" {
		t.Errorf("insight %q", f.Insight)
	}
	if wantQ := fmt.Sprintf("accept queue %d on %s (at most 64)", want, bind); !strings.Contains(f.Measured, wantQ) {
		t.Errorf("measured %q, want %q in it", f.Measured, wantQ)
	}
	if !strings.Contains(f.Measured, "2 of 2 workers used no CPU") {
		t.Errorf("measured %q, want both workers idle", f.Measured)
	}
	if f.Current != "sync" {
		t.Errorf("current %q, want sync", f.Current)
	}
	if g, ok := findFinding(r, "workers.saturated", pid); ok {
		t.Errorf("workers.saturated as well as workers.io_wait: %+v", g)
	}
	t.Logf("finding: %s", f.Measured)
}
