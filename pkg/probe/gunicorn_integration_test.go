package probe

import (
	"fmt"
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
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(wsgiApp), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "gunicorn.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	args = append(args, "--bind", "unix:"+filepath.Join(dir, "g.sock"), "app:app")
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s %s: %v", bin, strings.Join(args, " "), err)
	}
	pid := cmd.Process.Pid
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
	return pid
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
