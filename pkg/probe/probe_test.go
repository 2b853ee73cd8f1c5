package probe

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*/want.txt from what the probe says")

// t0 is the time of the fake trees' first sample: their boot time
// (btime 1764748800, 2025-12-03T08:00:00Z) plus 10 hours.
var t0 = time.Unix(1764748800, 0).UTC().Add(10 * time.Hour)

// sampleCase samples a fake tree twice, a second apart (CPU times do not
// move in a fake tree: every worker is idle).
func sampleCase(t *testing.T, name string) *Snapshot {
	t.Helper()
	p := New(filepath.Join("testdata", name, "root"), Options{FS: caseFS(t, filepath.Join("testdata", name))})
	if _, err := p.Sample(t0); err != nil {
		t.Fatalf("first sample: %v", err)
	}
	s, err := p.Sample(t0.Add(time.Second))
	if err != nil {
		t.Fatalf("second sample: %v", err)
	}
	return s
}

// render is what a golden file holds: the evidence lines, then each
// finding and each check not made.
func render(s *Snapshot, r Report) string {
	var b strings.Builder
	for _, l := range s.Evidence() {
		fmt.Fprintln(&b, l)
	}
	fmt.Fprintln(&b, "--- findings")
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "[%s] %s master=%d: %s\n  insight: %s (%s)\n  measured: %s\n  %s: %s -> %s\n  why: %s\n", f.Severity, f.Check, f.Master, f.Title, f.Insight, f.Rule, f.Measured, f.Parameter, f.Current, f.Recommended, f.Why)
		if f.Command != "" {
			fmt.Fprintf(&b, "  command: %s\n", f.Command)
		}
	}
	for _, n := range r.NotChecked {
		fmt.Fprintf(&b, "not checked: %s master=%d: %s\n", n.Check, n.Master, n.Why)
	}
	return b.String()
}

// TestAuditTestdata runs every fake tree under testdata/ and compares what
// the probe and the audit say with want.txt (go test -update rewrites it).
func TestAuditTestdata(t *testing.T) {
	ents, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join("testdata", e.Name(), "root")); err != nil {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			s := sampleCase(t, e.Name())
			got := render(s, Audit(s))
			wantFile := filepath.Join("testdata", e.Name(), "want.txt")
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from what the probe says now (go test -update to accept):\n%s", wantFile, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	in := func(lines []string) map[string]int {
		m := map[string]int{}
		for _, l := range lines {
			m[l]++
		}
		return m
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	wm, gm := in(wl), in(gl)
	var b strings.Builder
	for _, l := range wl {
		if gm[l] == 0 {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range gl {
		if wm[l] == 0 {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}

func findMaster(t *testing.T, s *Snapshot, pid int) *Master {
	t.Helper()
	for _, m := range s.Masters {
		if m.PID == pid {
			return m
		}
	}
	t.Fatalf("no master %d among %d", pid, len(s.Masters))
	return nil
}

func findFinding(r Report, check string, master int) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Check == check && f.Master == master {
			return f, true
		}
	}
	return Finding{}, false
}

// TestAuditCases states, case by case, the facts each fake tree is for.
func TestAuditCases(t *testing.T) {
	type setting struct {
		name, value string
		source      Source
		unknown     bool
		expr        string // for unknown values
		caveat      string // a substring
	}
	type finding struct {
		check, recommended string
		master             int
		absent             bool
	}
	tests := []struct {
		name       string
		master     int
		workers    int
		settings   []setting
		findings   []finding
		unreadable []string // paths
		check      func(t *testing.T, s *Snapshot, m *Master)
	}{
		{
			name: "quota_9workers", master: 812, workers: 9,
			settings: []setting{
				{name: "workers", value: "9", source: SourceCommandLine},
				{name: "bind", value: "0.0.0.0:8000", source: SourceCommandLine},
				{name: "timeout", value: "30", source: SourceDefault},
			},
			findings: []finding{
				{check: "workers.excessive", recommended: "3", master: 812},
				{check: "memory.workers", absent: true, master: 812},
				{check: "workers.saturated", absent: true, master: 812}, // queue 0
			},
			check: func(t *testing.T, s *Snapshot, m *Master) {
				if m.Cgroup.Version != 1 || m.Cgroup.CPUQuota != 1 || m.Cgroup.MemoryLimit != 2<<30 || m.Cgroup.CPUSet != 4 {
					t.Errorf("cgroup = %+v, want v1, quota 1 CPU, 2 GiB, cpuset 4", m.Cgroup)
				}
				if f, _ := findFinding(Audit(s), "workers.excessive", 812); !strings.Contains(f.Why, "container trap") {
					t.Errorf("why = %q, want the container trap named", f.Why)
				}
				if len(m.Listeners) != 1 || m.Listeners[0].Queue != 0 || m.Listeners[0].Max != 2048 {
					t.Errorf("listeners = %+v, want 0.0.0.0:8000 with queue 0 of 2048", m.Listeners)
				}
			},
		},
		{
			name: "host1g_two_sites", master: 901, workers: 4,
			settings: []setting{
				{name: "workers", value: "4", source: SourceCommandLine},
				{name: "bind", value: "unix:/run/site-a.sock", source: SourceCommandLine},
			},
			findings: []finding{
				{check: "memory.host", master: 0, recommended: "master 901: 2, master 951: 1"},
				{check: "memory.workers", master: 901},
				{check: "memory.leak", master: 901, recommended: "1000, with max_requests_jitter = 100"},
				{check: "recycle.no_jitter", master: 951, recommended: "50"},
				{check: "memory.workers", master: 951, absent: true},
			},
			check: func(t *testing.T, s *Snapshot, m *Master) {
				b := findMaster(t, s, 951)
				if got := b.Settings.Get("workers"); got.Value != "2" || got.Where != "-w" {
					t.Errorf("site b workers = %+v, want 2 from -w2", got)
				}
				if got := b.Settings.Get("bind"); got.Value != "unix:/run/site-b.sock" || got.Where != "--bind" {
					t.Errorf("site b bind = %+v, want from --bind=", got)
				}
				if m.Cgroup.Version != 2 || m.Cgroup.CPUQuota != 0 || m.Cgroup.MemoryLimit != 0 {
					t.Errorf("cgroup = %+v, want v2 without limits", m.Cgroup)
				}
				if s.Host.MemTotal != 1<<30 {
					t.Errorf("MemTotal = %d", s.Host.MemTotal)
				}
				f, _ := findFinding(Audit(s), "memory.host", 0)
				if f.Severity.String() != "critical" {
					t.Errorf("memory.host severity %s, want critical", f.Severity)
				}
			},
		},
		{
			name: "configfile", master: 1200, workers: 5,
			settings: []setting{
				{name: "workers", source: SourceConfigFile, unknown: true, expr: "multiprocessing.cpu_count() * 2 + 1"},
				{name: "timeout", value: "90", source: SourceEnv},          // GUNICORN_CMD_ARGS over the file's 60
				{name: "graceful_timeout", value: "45", source: SourceEnv}, // --graceful-timeout=45
				{name: "max_requests", value: "1000", source: SourceConfigFile},
				{name: "max_requests_jitter", value: "50", source: SourceConfigFile},
				{name: "worker_class", value: "sync", source: SourceConfigFile},
				{name: "bind", value: "0.0.0.0:8000", source: SourceConfigFile},
				{name: "backlog", value: "64", source: SourceConfigFile},
				{name: "preload_app", value: "True", source: SourceConfigFile},
				{name: "accesslog", value: "/var/log/shop/access.log", source: SourceConfigFile},
				{name: "loglevel", source: SourceConfigFile, unknown: true, expr: "under the condition at line"},
				{name: "config", value: "/srv/shop/gunicorn.conf.py", source: SourceCommandLine},
			},
			findings: []finding{
				{check: "log.error_discarded", master: 1200, recommended: "/var/log/gunicorn/error.log"},
				{check: "workers.io_wait", master: 1200, recommended: "gevent (or gthread with --threads 4)"},
				{check: "recycle.no_jitter", master: 1200, absent: true},
				{check: "timeout.default", master: 1200, absent: true},
				{check: "preload.off", master: 1200, absent: true},
				{check: "workers.excessive", master: 1200, absent: true}, // 5 live on 2 CPUs
			},
			check: func(t *testing.T, s *Snapshot, m *Master) {
				if len(m.Listeners) != 1 || m.Listeners[0].Queue != 7 || m.Listeners[0].Max != 64 {
					t.Errorf("listeners = %+v, want queue 7 of at most 64", m.Listeners)
				}
				if m.ConfigFile != "/srv/shop/gunicorn.conf.py" || m.Stderr != "/dev/null" {
					t.Errorf("config %q, stderr %q", m.ConfigFile, m.Stderr)
				}
			},
		},
		{
			name: "proctitle", master: 1500, workers: 3,
			settings: []setting{
				{name: "workers", source: SourceUnknown, unknown: true, caveat: "setproctitle"},
				{name: "timeout", source: SourceUnknown, unknown: true, caveat: "setproctitle"},
			},
			findings: []finding{
				{check: "processes.extra", master: 1500},
				{check: "timeout.default", master: 1500, absent: true},
				{check: "workers.excessive", master: 1500, absent: true},
			},
			check: func(t *testing.T, s *Snapshot, m *Master) {
				if m.Title != "gunicorn: master [blog]" {
					t.Errorf("title = %q", m.Title)
				}
				for _, w := range m.Workers {
					if w.PID == 1513 {
						t.Error("zombie worker 1513 counted as live")
					}
				}
				if len(m.Others) != 1 || m.Others[0].PID != 1520 || m.Others[0].PPID != 1511 {
					t.Errorf("others = %+v, want the multiprocessing child 1520 of worker 1511", m.Others)
				}
			},
		},
		{
			name: "environ_unreadable", master: 1700, workers: 1,
			settings: []setting{
				{name: "workers", value: "1", source: SourceCommandLine}, // --workers=1, whatever GUNICORN_CMD_ARGS says
				{name: "timeout", value: "30", source: SourceDefault, caveat: "GUNICORN_CMD_ARGS not readable"},
				{name: "config", source: SourceUnknown, unknown: true},
			},
			findings: []finding{
				{check: "workers.single", master: 1700, recommended: "5"}, // quota 2 CPUs of 4
			},
			unreadable: []string{"proc/1700/environ", "proc/1700/cwd", "proc/1700/smaps_rollup", "proc/1700/fd"},
			check: func(t *testing.T, s *Snapshot, m *Master) {
				if m.PSS != 0 || m.Workers[0].PSS != 0 || m.Workers[0].RSS != 150<<20 {
					t.Errorf("PSS must be unknown and RSS read: master %+v worker %+v", m.Process, m.Workers[0])
				}
				if len(m.Listeners) != 1 || m.Listeners[0].Queue != 0 {
					t.Errorf("listeners = %+v, want 127.0.0.1:9000 matched by port", m.Listeners)
				}
				if m.UID != 33 {
					t.Errorf("uid = %d", m.UID)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sampleCase(t, tt.name)
			m := findMaster(t, s, tt.master)
			if m.LiveWorkers() != tt.workers {
				t.Errorf("live workers = %d, want %d", m.LiveWorkers(), tt.workers)
			}
			for _, want := range tt.settings {
				got := m.Settings.Get(want.name)
				if got.Source != want.source || got.Unknown != want.unknown || want.value != "" && got.Value != want.value ||
					!strings.Contains(got.Expr, want.expr) || !strings.Contains(got.Caveat, want.caveat) {
					t.Errorf("setting %s = %+v, want %+v", want.name, got, want)
				}
			}
			r := Audit(s)
			for _, want := range tt.findings {
				got, ok := findFinding(r, want.check, want.master)
				switch {
				case want.absent && ok:
					t.Errorf("unexpected finding %s: %+v", want.check, got)
				case !want.absent && !ok:
					t.Errorf("no finding %s for master %d; findings: %+v", want.check, want.master, r.Findings)
				case !want.absent && want.recommended != "" && got.Recommended != want.recommended:
					t.Errorf("%s recommends %q, want %q", want.check, got.Recommended, want.recommended)
				}
			}
			for _, p := range tt.unreadable {
				found := false
				for _, u := range s.Unreadable {
					found = found || u.Path == p && u.Err == "permission denied"
				}
				if !found {
					t.Errorf("%s not listed as unreadable: %+v", p, s.Unreadable)
				}
			}
			if tt.check != nil {
				tt.check(t, s, m)
			}
		})
	}
}

// TestAuditNoProc is the one error Sample returns: no process table.
func TestAuditNoProc(t *testing.T) {
	_, err := New(t.TempDir(), Options{}).Sample(t0)
	if err == nil || !strings.Contains(err.Error(), "reading the process table") {
		t.Fatalf("err = %v", err)
	}
}
