package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigtail/sigtail/internal/services"
)

// TestRunRestartKeepsIncidents: an incident open when `sigtail run` stops
// (SIGTERM cancels the same context) is still open after the next start: a
// real Alertmanager keeps the alert active past the endsAt the first run
// gave it (the second run announces it again at once and resends it),
// nothing is resolved, and the next record joins the same incident.
func TestRunRestartKeepsIncidents(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: runs prometheus-alertmanager")
	}
	am := services.Alertmanager(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	host := fmt.Sprintf("restart-%d", time.Now().UnixNano())
	cfg := filepath.Join(dir, "sigtail.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`files: [{path: %q}]
kernel: false
probe: false
positions: %q
spool_dir: %q
listen: none
timezone: UTC
host: %s
outputs:
  - type: stdout
  - type: alertmanager
    url: %s
    resend: 1s
`, logPath, filepath.Join(dir, "positions.json"), filepath.Join(dir, "spool"), host, am)), 0o644)
	// Two WORKER TIMEOUTs of one incident, two minutes apart, recent enough
	// for Alertmanager to show them.
	first := time.Now().UTC().Add(-3 * time.Minute).Truncate(time.Second)
	line := func(at time.Time, pid int) string {
		return fmt.Sprintf("[%s] [1234] [CRITICAL] WORKER TIMEOUT (pid:%d)\n", at.Format("2006-01-02 15:04:05 -0700"), pid)
	}
	os.WriteFile(logPath, []byte(line(first, 1235)), 0o644)

	start := func() (*syncBuffer, func() string) {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errb syncBuffer
		done := make(chan int)
		go func() {
			done <- run(ctx, []string{"run", "--config", cfg, "--from-start"}, strings.NewReader(""), &out, &errb)
		}()
		return &out, func() string {
			cancel()
			if code := <-done; code != 0 {
				t.Fatalf("exit %d after stop:\n%s", code, errb.String())
			}
			return errb.String()
		}
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("waited 20 s for %s", what)
			}
		}
	}
	active := func() []services.Alert {
		var out []services.Alert
		for _, a := range services.Alerts(t, am, "gunicorn.worker_timeout") {
			if a.Labels["host"] == host && a.Status.State == "active" {
				out = append(out, a)
			}
		}
		return out
	}

	out1, stop1 := start()
	waitFor("the incident on stdout", func() bool { return strings.Contains(out1.String(), `"status":"open"`) })
	waitFor("the alert in Alertmanager", func() bool { return len(active()) == 1 })
	id := active()[0].Annotations["incident_id"]
	stop1()

	// Stopped longer than the first run's endsAt (4 resends of 1 s) and
	// started again: the alert is still active, announced again.
	time.Sleep(5 * time.Second)
	out2, stop2 := start()
	time.Sleep(6 * time.Second)
	if a := active(); len(a) != 1 || a[0].Annotations["incident_id"] != id {
		t.Fatalf("after the restart: active alerts %+v, want the one of incident %s", a, id)
	}
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(line(first.Add(2*time.Minute), 1236))
	f.Close()
	waitFor("the next record to join the incident", func() bool { return strings.Contains(out2.String(), `"status":"updated"`) })
	stop2()
	for _, l := range strings.Split(strings.TrimSpace(out2.String()), "\n") {
		var inc struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Count  int    `json:"count"`
		}
		if err := json.Unmarshal([]byte(l), &inc); err != nil {
			t.Fatalf("stdout: %v: %s", err, l)
		}
		if inc.ID != id || inc.Status != "updated" || inc.Count != 2 {
			t.Errorf("after the restart: %s, want only an update of %s with count 2", l, id)
		}
	}
	if a := active(); len(a) != 1 {
		t.Errorf("active alerts after the second stop: %+v, want the incident's", a)
	}
}
