package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sigtail/sigtail"
	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/probe"
)

// fakeRoot is a fake /proc and /sys tree of package probe's tests.
func fakeRoot(name string) string {
	return filepath.Join("..", "..", "pkg", "probe", "testdata", name, "root")
}

// noGunicorn is a process table with init alone.
func noGunicorn(t *testing.T) string {
	dir := t.TempDir()
	p := filepath.Join(dir, "proc", "1")
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	stat := "1 (systemd) S 0 1 1 0 -1 4194560 100 0 0 0 10 10 0 0 20 0 1 0 1 100000 1000 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	os.WriteFile(filepath.Join(p, "stat"), []byte(stat), 0o644)
	os.WriteFile(filepath.Join(p, "cmdline"), []byte("/sbin/init\x00"), 0o644)
	return dir
}

func TestAuditCommand(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings
		stderr string
	}{
		{"text, two samples", []string{"--root", fakeRoot("configfile"), "--interval", "10ms"}, 0, []string{
			"master 1200 (/srv/shop/venv/bin/python /srv/shop/venv/bin/gunicorn -c gunicorn.conf.py",
			"[warning] Sync workers wait on I/O while requests queue",
			"insight      Requests queue in connection backlog when workers are saturated (rule",
			"change       worker_class (-k): now sync; recommended gevent (or gthread with --threads 4)",
			"[warning] The error log is thrown away",
			"2 findings (0 critical, 2 warning, 0 info) on 1 master",
		}, ""},
		{"fail-on warning", []string{"--root", fakeRoot("configfile"), "--interval", "10ms", "--fail-on", "warning"}, 1, nil, ""},
		{"one sample", []string{"--root", fakeRoot("configfile"), "--interval", "0"}, 0, []string{
			"(one sample)", "not checked: workers.saturated: requests are queued but the workers' CPU use needs two samples",
		}, ""},
		{"critical on a 1 GB host", []string{"--root", fakeRoot("host1g_two_sites"), "--interval", "0"}, 1, []string{
			"[critical] The Gunicorn sites together need more memory than the host has",
			"Hosting multiple sites on 1GB RAM server causes memory exhaustion",
		}, ""},
		{"fail-on none", []string{"--root", fakeRoot("host1g_two_sites"), "--interval", "0", "--fail-on", "none"}, 0, nil, ""},
		{"no process table", []string{"--root", "/nonexistent/host"}, 2, nil,
			"reading the process table /nonexistent/host/proc: no such file or directory; point --root at the directory that holds the host's proc/ and sys/ (default /)"},
		{"an empty directory", []string{"--root", t.TempDir()}, 2, nil, "reading the process table"},
		{"no master", []string{"--root", noGunicorn(t)}, 0, []string{"no Gunicorn master found among 1 processes", "0 findings"}, ""},
		{"bad output", []string{"--output", "yaml"}, 2, nil, `invalid argument "yaml" for "--output" flag: want one of text, json`},
		{"bad severity", []string{"--fail-on", "urgent"}, 2, nil, "urgent"},
		{"an argument", []string{"/proc"}, 2, nil, "audit: takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "", append([]string{"audit"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			if tt.stderr != "" && !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr)
			}
			if tt.code == exitErr && strings.Count(strings.TrimSpace(stderr), "\n") > 0 && !strings.Contains(stderr, "Usage") {
				t.Errorf("an error for people is one line:\n%s", stderr)
			}
		})
	}
}

// TestAuditCommandJSON: one JSON object with the snapshot, the findings
// and a summary.
func TestAuditCommandJSON(t *testing.T) {
	code, stdout, stderr := runCmd(t, "", "audit", "--root", fakeRoot("environ_unreadable"), "--output", "json", "--interval", "10ms", "--fail-on", "warning")
	if code != exitFound {
		t.Fatalf("exit %d, want 1: %s", code, stderr)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	var got struct {
		IntervalSeconds float64 `json:"interval_seconds"`
		Masters         []struct {
			PID      int `json:"pid"`
			Settings map[string]struct {
				Value, Source, Caveat string
			} `json:"settings"`
			Workers []struct {
				RSS uint64 `json:"rss_bytes"`
			} `json:"workers"`
		} `json:"masters"`
		Findings   []probe.Finding `json:"findings"`
		Unreadable []struct {
			Path, Error string
		} `json:"unreadable"`
		Summary map[string]int `json:"summary"`
	}
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Error("more than one JSON value")
	}
	if len(got.Masters) != 1 || got.Masters[0].PID != 1700 || len(got.Masters[0].Workers) != 1 || got.Masters[0].Workers[0].RSS != 150<<20 {
		t.Fatalf("masters: %+v", got.Masters)
	}
	if w := got.Masters[0].Settings["workers"]; w.Value != "1" || w.Source != "command line" {
		t.Errorf("workers setting: %+v", w)
	}
	if got.IntervalSeconds <= 0 {
		t.Error("interval_seconds not set")
	}
	var checks []string
	for _, f := range got.Findings {
		checks = append(checks, f.Check)
	}
	if !slices.Contains(checks, "workers.single") || got.Summary["warning"] != 1 {
		t.Errorf("findings %v, summary %v", checks, got.Summary)
	}
	var denied []string
	for _, u := range got.Unreadable {
		denied = append(denied, u.Path)
	}
	// The fake tree is read through os.DirFS: its deny list is a probe
	// test's, so here everything reads.
	if len(denied) != 0 {
		t.Errorf("unreadable: %v", denied)
	}
}

// TestAuditInsightsInCatalog holds every audit check to the catalog: its
// rule exists and lists its insight, verbatim.
func TestAuditInsightsInCatalog(t *testing.T) {
	cat, err := catalog.Load(sigtail.Catalog, "")
	if err != nil {
		t.Fatalf("loading the built-in catalog: %v", err)
	}
	rules := map[string]*catalog.Rule{}
	for _, r := range cat.Rules {
		rules[r.ID] = r
	}
	for _, c := range probe.Checks() {
		r, ok := rules[c.Rule]
		if !ok {
			t.Errorf("check %s: rule %s is not in rules.yaml", c.ID, c.Rule)
			continue
		}
		if !slices.Contains(r.Insights, c.Insight) {
			t.Errorf("check %s: rule %s does not list the insight %q (it lists %q)", c.ID, c.Rule, c.Insight, r.Insights)
		}
	}
}
