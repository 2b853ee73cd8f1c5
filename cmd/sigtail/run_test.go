package main

import (
	"bytes"
	"context"
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
