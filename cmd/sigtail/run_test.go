package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the daemon's writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestRunConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("files:\n  - path: /x\n    fromat: gunicorn\n"), 0o644)
	badFormat := filepath.Join(dir, "format.yaml")
	os.WriteFile(badFormat, []byte("files:\n  - path: /x\n    format: apache\n"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--config", bad}, `:3:5: files[0].fromat: unknown key`},
		{[]string{"run", "--config", badFormat}, `unknown format "apache"`},
		{[]string{"run", "--config", filepath.Join(dir, "missing.yaml")}, "missing.yaml: no such file"},
	} {
		code, _, stderr := runCmd(t, "", tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestRunFollowsAndStops: `sigtail run` on a file reports what is appended
// to it, and a stop (SIGTERM's context) drains and saves positions.
func TestRunFollowsAndStops(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	os.WriteFile(logPath, nil, 0o644)
	pos := filepath.Join(dir, "positions.json")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"run", "--file", logPath, "--positions", pos, "--listen", "127.0.0.1:0", "--kernel=false", "--probe=false", "--timezone", "UTC"},
			strings.NewReader(""), &out, &errb)
	}()
	// Wait until it follows the file, then append.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errb.String(), `"event":"open"`) {
		if time.Now().After(deadline) {
			t.Fatalf("not following:\n%s", errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// /healthz and /metrics answer on the address it logged.
	addr := regexp.MustCompile(`"addr":"([^"]+)"`).FindStringSubmatch(errb.String())
	if addr == nil {
		t.Fatalf("no listen address logged:\n%s", errb.String())
	}
	for path, want := range map[string]string{"/healthz": "ok", "/metrics": "sigtail_output_errors_total"} {
		resp, err := http.Get("http://" + addr[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %q, want %q", path, resp.StatusCode, body, want)
		}
	}
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(timeoutLine)
	f.Close()
	for !strings.Contains(out.String(), `"rule":"gunicorn.worker_timeout"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no incident:\n%s\n%s", out.String(), errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d after stop:\n%s", code, errb.String())
	}
	b, err := os.ReadFile(pos)
	if err != nil || !strings.Contains(string(b), fmt.Sprintf(`"offset": %d`, len(timeoutLine))) {
		t.Errorf("positions after stop: %s %v", b, err)
	}
}

// TestRunHealthzDegraded: a configured log that cannot be read (here a
// directory) makes /healthz answer 503 with a JSON body naming it and the
// reason; the reason is logged once however often it is retried.
func TestRunHealthzDegraded(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "error.log")
	os.WriteFile(good, nil, 0o644)
	bad := filepath.Join(dir, "nginx")
	os.Mkdir(bad, 0o755)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"run", "--file", good, "--file", bad, "--positions", "none", "--listen", "127.0.0.1:0", "--kernel=false", "--probe=false"},
			strings.NewReader(""), &out, &errb)
	}()
	deadline := time.Now().Add(15 * time.Second)
	var addr []string
	for addr == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no listen address logged:\n%s", errb.String())
		}
		time.Sleep(5 * time.Millisecond)
		addr = regexp.MustCompile(`"addr":"([^"]+)"`).FindStringSubmatch(errb.String())
	}
	// Until both have been tried: the good one open, the bad one refused
	// ("not opened yet" before that).
	type sourceHealth struct {
		Source, Reason string
		OK             bool
	}
	var health struct {
		Status  string
		Sources []sourceHealth
	}
	var code int
	var body string
	got := map[string]string{}
	for {
		resp, err := http.Get("http://" + addr[1] + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		code, body = resp.StatusCode, string(b)
		health.Sources = nil // a reason left out when ok must not stay from the last answer
		if err := json.Unmarshal(b, &health); err != nil {
			t.Fatalf("GET /healthz: %d %s: %v", code, body, err)
		}
		clear(got)
		for _, s := range health.Sources {
			got[s.Source] = fmt.Sprint(s.OK, " ", s.Reason)
		}
		if got[good] == "true " && strings.HasPrefix(got[bad], "false is a directory") || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code != http.StatusServiceUnavailable || health.Status != "degraded" || !strings.HasPrefix(got[bad], "false is a directory") || got[good] != "true " {
		t.Errorf("GET /healthz: %d %s, want 503 naming %s as a directory and %s ok", code, body, bad, good)
	}
	time.Sleep(2500 * time.Millisecond) // at least one retry (1 s backoff)
	cancel()
	if c := <-done; c != 0 {
		t.Fatalf("exit %d after stop:\n%s", c, errb.String())
	}
	if n := strings.Count(errb.String(), "is a directory"); n != 1 || !strings.Contains(errb.String(), `{"level":"error","component":"daemon","source":"`+bad) {
		t.Errorf("the directory was reported %d times, want once:\n%s", n, errb.String())
	}
}
