package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/sink"
)

// TestOutputConfigErrors: the outputs: section is decoded strictly, and
// every problem names the output and what is wrong.
func TestOutputConfigErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "empty-token"), nil, 0o600)
	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"unknown key", "outputs:\n  - type: journald\n    url: http://x\n", `:3:5: outputs[0]: journald output: unknown key "url" (it takes type, name, spool,`},
		{"misspelt key", "outputs:\n  - type: loki\n    url: http://x\n    tenat: a\n", `unknown key "tenat"`},
		{"unknown type", "outputs:\n  - type: kafka\n", `:2:5: outputs[0]: unknown output type "kafka" (one of alertmanager, journald, loki, stdout, webhook)`},
		{"no type", "outputs:\n  - url: http://x\n", "output has no type"},
		{"not a mapping", "outputs: [stdout]\n", "an output is a mapping"},
		{"bad size", "outputs:\n  - type: journald\n    spool_max_bytes: 12 apples\n", `size "12 apples"`},
		{"bad duration", "outputs:\n  - type: alertmanager\n    url: http://x\n    resend: soon\n", "soon"},
		{"no url", "outputs:\n  - type: webhook\n", "outputs[0] (webhook, line 2): no url"},
		{"bad url", "outputs:\n  - type: loki\n    url: loki:3100\n", "want http:// or https://"},
		{"bad encoding", "outputs:\n  - type: loki\n    url: http://x\n    encoding: xml\n", `unknown Loki encoding "xml"`},
		{"password alone", "outputs:\n  - type: loki\n    url: http://x\n    password_env: HOME\n", "a password without a username"},
		{"token and user", "outputs:\n  - type: loki\n    url: http://x\n    username: u\n    token_env: HOME\n", "a token and a username"},
		{"missing token file", "outputs:\n  - type: loki\n    url: http://x\n    token_file: " + dir + "/none\n", "reading the token"},
		{"empty token file", "outputs:\n  - type: loki\n    url: http://x\n    token_file: " + dir + "/empty-token\n", "is empty"},
		{"unset variable", "outputs:\n  - type: webhook\n    url: http://x\n    secret_env: SIGTAIL_TEST_UNSET\n", "the secret variable SIGTAIL_TEST_UNSET is not set"},
		{"two sources", "outputs:\n  - type: webhook\n    url: http://x\n    token_env: A\n    token_file: /b\n", "token_file and token_env both given"},
		{"same name", "outputs:\n  - type: stdout\n  - type: journald\n    name: stdout\n", `outputs[1] (journald, line 3): a second output named "stdout"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := filepath.Join(dir, "c.yaml")
			os.WriteFile(cfg, []byte(tt.yaml+"spool_dir: "+filepath.Join(dir, "spool")+"\n"), 0o644)
			code, _, stderr := runCmd(t, "", "run", "--config", cfg, "--file", filepath.Join(dir, "x.log"), "--positions", "none", "--listen", "none", "--kernel=false", "--probe=false")
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q, want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestOutputFlag(t *testing.T) {
	for _, tt := range []struct {
		in, typ, url, err string
	}{
		{"stdout", "stdout", "", ""},
		{"journald", "journald", "", ""},
		{"loki=http://127.0.0.1:3100/loki/api/v1/push", "loki", "http://127.0.0.1:3100/loki/api/v1/push", ""},
		{"webhook=https://h.example/x?a=b", "webhook", "https://h.example/x?a=b", ""},
		{"loki", "", "", "give its URL as loki=URL"},
		{"journald=/run/x", "", "", "journald takes no URL"},
		{"syslog", "", "", `unknown output type "syslog"`},
	} {
		o, err := parseOutputFlag(tt.in)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.in, err, tt.err)
			}
		case err != nil || o.Type != tt.typ || o.URL != tt.url:
			t.Errorf("%s: %+v %v", tt.in, o, err)
		}
	}
	// On the command line, a bad --output is a usage error.
	code, _, stderr := runCmd(t, "", "run", "--output", "kafka", "--positions", "none", "--listen", "none")
	if code != 2 || !strings.Contains(stderr, `unknown output type "kafka"`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "4096": 4096, "64KiB": 64 << 10, "256MiB": 256 << 20, "1GiB": 1 << 30,
		"10 MB": 10e6, "5KB": 5000, "12B": 12, "-1": -1, "1.5MiB": -1, "MiB": -1, "9999999GiB": -1} {
		got, err := parseByteSize(in)
		if (want < 0) != (err != nil) || (err == nil && got != want) {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

// TestBuildOutputs: names default to the type (type-2 for a second one),
// spools to spool_dir/NAME, and no outputs means stdout.
func TestBuildOutputs(t *testing.T) {
	dir := t.TempDir()
	d := &outputDeps{stdout: io.Discard, spoolDir: dir, host: "h", version: "test", metrics: sink.NewMetrics(nil), log: zerolog.Nop()}
	sinks, err := buildOutputs(nil, d)
	if err != nil || len(sinks) != 1 {
		t.Fatalf("default outputs: %v %v", sinks, err)
	}
	if _, ok := sinks[0].(*sink.JSON); !ok {
		t.Errorf("default output %T, want stdout JSON", sinks[0])
	}
	sinks, err = buildOutputs([]outputConfig{{Type: "journald"}, {Type: "journald", Socket: "/x"}, {Type: "webhook", URL: "http://127.0.0.1:1/", Spool: filepath.Join(dir, "mine")}}, d)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sinks {
		s.Close()
	}
	for _, p := range []string{"journald", "journald-2", "mine"} {
		if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || !fi.IsDir() {
			t.Errorf("no spool %s: %v", p, err)
		}
	}
}

// TestRunOutputs: `sigtail run` with outputs from the config sends each
// incident to stdout and to a webhook (with the token from the
// environment), and stops cleanly.
func TestRunOutputs(t *testing.T) {
	var mu sync.Mutex
	var got []incident.Incident
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer from-env" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var inc incident.Incident
		if err := json.NewDecoder(r.Body).Decode(&inc); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, inc)
		mu.Unlock()
	}))
	defer srv.Close()
	t.Setenv("SIGTAIL_TEST_TOKEN", "from-env")
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	os.WriteFile(logPath, nil, 0o644)
	cfg := filepath.Join(dir, "sigtail.yaml")
	os.WriteFile(cfg, []byte(`
outputs:
  - type: stdout
  - type: webhook
    url: `+srv.URL+`
    token_env: SIGTAIL_TEST_TOKEN
    min_backoff: 10ms
spool_dir: `+filepath.Join(dir, "spool")+`
`), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"run", "--config", cfg, "--file", logPath, "--positions", "none", "--listen", "none", "--kernel=false", "--probe=false", "--timezone", "UTC"},
			strings.NewReader(""), &out, &errb)
	}()
	deadline := time.Now().Add(30 * time.Second) // the engine holds the record a few seconds
	for !strings.Contains(errb.String(), `"event":"open"`) {
		if time.Now().After(deadline) {
			t.Fatalf("not following:\n%s", errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(timeoutLine)
	f.Close()
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 && strings.Contains(out.String(), `"rule":"gunicorn.worker_timeout"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no incident on both outputs:\n%s\n%s", out.String(), errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if got[0].Rule != "gunicorn.worker_timeout" || got[0].Status != incident.StatusOpen {
		t.Errorf("webhook got %+v", got[0])
	}
}
