package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

const timeoutLine = "[2026-11-24 10:00:00 +0000] [1234] [CRITICAL] WORKER TIMEOUT (pid:1235)\n"

func TestScanExitStatus(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "error.log")
	os.WriteFile(bad, []byte(timeoutLine), 0o644)
	clean := filepath.Join(dir, "clean.log")
	os.WriteFile(clean, []byte("[2026-11-24 10:00:00 +0000] [1234] [INFO] Booting worker with pid: 1235\n"), 0o644)
	missing := filepath.Join(dir, "missing.log")

	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string // substring, "" for none expected
		stderr   string
		nostdout bool
	}{
		{"incident at critical", []string{"scan", bad}, 1, `"rule":"gunicorn.worker_timeout"`, "", false},
		{"fail-on none", []string{"scan", "--fail-on", "none", bad}, 0, `"severity":"critical"`, "", false},
		{"clean log", []string{"scan", clean}, 0, "", "", true},
		{"unreadable file named, others scanned", []string{"scan", missing, bad}, 2, `"rule":"gunicorn.worker_timeout"`, missing, false},
		{"no files", []string{"scan"}, 2, "", "at least one FILE", true},
		{"bad flag", []string{"scan", "--output", "xml", bad}, 2, "", "--output", true},
		{"bad severity", []string{"scan", "--fail-on", "urgent", bad}, 2, "", "urgent", true},
		{"unknown command", []string{"frobnicate"}, 2, "", "unknown command", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if tt.stdout != "" && !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout)
			}
			if tt.nostdout && stdout != "" {
				t.Errorf("stdout should be empty:\n%s", stdout)
			}
			if tt.stderr != "" && !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr)
			}
		})
	}
}

// TestScanStdinAndGzip: "-" reads standard input, gzip is read by content.
func TestScanStdinAndGzip(t *testing.T) {
	code, stdout, _ := runCmd(t, timeoutLine, "scan", "-")
	if code != 1 || !strings.Contains(stdout, `"sources":["-"]`) {
		t.Errorf("stdin scan: exit %d, stdout %s", code, stdout)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(timeoutLine))
	zw.Close()
	p := filepath.Join(t.TempDir(), "error.log.2.gz")
	os.WriteFile(p, gz.Bytes(), 0o644)
	code, stdout, _ = runCmd(t, "", "scan", p)
	var inc map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &inc); err != nil || code != 1 {
		t.Fatalf("gzip scan: exit %d, output %q: %v", code, stdout, err)
	}
	for _, key := range []string{"id", "rule", "title", "summary", "severity", "status", "first_seen", "last_seen", "count", "host", "sources", "fields", "evidence", "remediation", "diagnostics", "insights"} {
		if _, ok := inc[key]; !ok {
			t.Errorf("incident lacks %q: %s", key, stdout)
		}
	}
}

func TestScanText(t *testing.T) {
	p := filepath.Join(t.TempDir(), "error.log")
	os.WriteFile(p, []byte(timeoutLine), 0o644)
	code, stdout, _ := runCmd(t, "", "scan", "--output", "text", p)
	if code != 1 || !strings.Contains(stdout, "CRITICAL") || !strings.Contains(stdout, "what to do:") || !strings.Contains(stdout, "1 incident(s): 1 critical") {
		t.Errorf("exit %d, text output:\n%s", code, stdout)
	}
}

func TestLint(t *testing.T) {
	code, stdout, stderr := runCmd(t, "", "lint")
	if code != 0 || !strings.Contains(stdout, "ok:") {
		t.Fatalf("built-in catalog: exit %d\n%s%s", code, stdout, stderr)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "signatures"), 0o755)
	os.WriteFile(filepath.Join(dir, "signatures", "g.yaml"), []byte(`signatures:
  - id: gunicorn.worker_timeout
    description: x
    formats: [gunicorn]
    pattern: 'WORKER TIMEOUT (pid'
    samples: {match: [{line: a}], no_match: [{line: b}]}
  - id: gunicorn.worker_timeout
    description: y
    formats: [gunicron]
    pattern: 'x'
    samples: {match: [{line: a}], no_match: [{line: b}]}
`), 0o644)
	os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte("rules:\n  - id: r.x\n    title: t\n    severity: critical\n    insights: [i]\n    when: {signatures: [gunicorn.nope]}\n"), 0o644)
	code, _, stderr = runCmd(t, "", "lint", "--catalog", dir)
	if code != 1 {
		t.Errorf("broken catalog: exit %d, want 1", code)
	}
	for _, want := range []string{
		"signatures/g.yaml:7:5: gunicorn.worker_timeout: duplicate signature id",
		"signatures/g.yaml:7:5: gunicorn.worker_timeout: unknown format \"gunicron\"",
		"rules.yaml:6:11: r.x: unknown signature \"gunicorn.nope\"",
	} {
		if !strings.Contains(stderr, filepath.Join(dir, want)) && !strings.Contains(stderr, want) {
			t.Errorf("lint output lacks %q:\n%s", want, stderr)
		}
	}
	// scan refuses to start on it.
	code, _, stderr = runCmd(t, "", "scan", "--catalog", dir, "-")
	if code != 2 || !strings.Contains(stderr, "not scanning") {
		t.Errorf("scan with a broken catalog: exit %d\n%s", code, stderr)
	}
}

func TestTestCommand(t *testing.T) {
	code, stdout, _ := runCmd(t, "", "test", strings.TrimSpace(timeoutLine))
	if code != 0 || !strings.Contains(stdout, `=> gunicorn.worker_timeout  pid="1235"`) {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
	code, stdout, _ = runCmd(t, "", "test", "[2026-11-24 10:00:00 +0000] [1234] [DEBUG] Arbiter booted")
	if code != 1 || !strings.Contains(stdout, "0 matched") {
		t.Errorf("a line matching nothing: exit %d:\n%s", code, stdout)
	}
}

func TestCatalogExplain(t *testing.T) {
	code, stdout, _ := runCmd(t, "", "catalog", "explain", "gunicorn.worker_timeout")
	if code != 0 || !strings.Contains(stdout, "gunicorn.worker_timeout") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
	code, _, stderr := runCmd(t, "", "catalog", "explain", "no.such_rule")
	if code != 2 || !strings.Contains(stderr, "no.such_rule") {
		t.Errorf("unknown id: exit %d: %s", code, stderr)
	}
}
