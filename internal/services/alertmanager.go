// Package services starts the real services the tests talk to, where a
// user has them: Debian's prometheus-alertmanager. A test that needs one
// it cannot find is skipped with what to install.
package services

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

const alertmanagerBin = "/usr/bin/prometheus-alertmanager"

// Alertmanager runs Debian's prometheus-alertmanager on a free
// loopback port with clustering off, a temporary config and storage, for
// at most a minute, and returns its base URL once it is ready.
func Alertmanager(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(alertmanagerBin); err != nil {
		t.Skipf("no %s (apt-get install prometheus-alertmanager; .ci/run does)", alertmanagerBin)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	os.WriteFile(cfg, []byte("route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n"), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	var logs bytes.Buffer
	cmd := exec.CommandContext(ctx, alertmanagerBin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("alertmanager's log:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(20 * time.Second); ; {
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		select {
		case <-exited:
			t.Fatalf("alertmanager exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager not ready at %s", base)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Alert is what GET /api/v2/alerts returns, the parts checked.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// Alerts returns the alerts named alertname that Alertmanager at base holds.
func Alerts(t testing.TB, base, alertname string) []Alert {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts?filter=" + url.QueryEscape(fmt.Sprintf("alertname=%q", alertname)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []Alert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
