package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sigtail/sigtail/pkg/incident"
)

// TestJournaldReal writes incidents to the real systemd-journald (started
// by .ci/run, or already running), one of them too large for a datagram,
// and reads them back with `journalctl -o json SIGTAIL_ID=...`, field by
// field.
func TestJournaldReal(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs systemd-journald")
	}
	if c, err := net.Dial("unixgram", DefaultJournalSocket); err != nil {
		t.Skipf("no systemd-journald answers here (.ci/run starts one): %v", err)
	} else {
		c.Close()
	}
	if _, err := exec.LookPath("journalctl"); err != nil {
		t.Skip("no journalctl")
	}
	j, err := NewJournald(JournaldOptions{DeliveryOptions: DeliveryOptions{Name: "journald", Spool: t.TempDir(),
		MinBackoff: 50 * time.Millisecond, Log: zerolog.Nop()}})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	running(t, j)
	run := time.Now().UnixNano()
	small := sample()[0]
	small.ID = fmt.Sprintf("test-%d-small", run)
	small.Status, small.SupersededBy = incident.StatusSuperseded, fmt.Sprintf("test-%d-big", run)
	small.Fields = map[string]string{"pid": "1235", "upstream": "unix:/run/app.sock", "host": "example.org", "x-forwarded": "a",
		"address": "('127.0.0.1', 8000)"}
	small.Values = map[string][]string{"pid": {"1235", "1236"}, "address": {"('127.0.0.1', 8000)", "('127.0.0.1', 8001)"}}
	big := *sample()[0]
	big.ID = fmt.Sprintf("test-%d-big", run)
	big.Evidence = []incident.Evidence{{Source: "/var/log/gunicorn/error.log", LineNo: 9, Signature: "gunicorn.worker_timeout",
		Line: strings.Repeat("Traceback line of a long stack\n", 12000) + "end"}} // 370 KB: a memfd
	for _, inc := range []*incident.Incident{small, &big} {
		if err := j.Send(context.Background(), inc); err != nil {
			t.Fatal(err)
		}
	}
	flushed(t, j, 10*time.Second)

	read := func(id string) map[string]any {
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, err := exec.Command("journalctl", "--no-pager", "--all", "-o", "json", "SIGTAIL_ID="+id).Output()
			if line := strings.TrimSpace(string(out)); err == nil && line != "" {
				if strings.Count(line, "\n") > 0 {
					t.Fatalf("more than one entry for %s", id)
				}
				var e map[string]any
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatalf("journalctl -o json: %v", err)
				}
				return e
			}
			if time.Now().After(deadline) {
				t.Fatalf("entry %s not in the journal: %v %s", id, err, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// journalctl prints a field once as a string, a repeated one as an
	// array of strings.
	asFields := func(e map[string]any) map[string][]string {
		out := map[string][]string{}
		for k, v := range e {
			switch v := v.(type) {
			case string:
				out[k] = []string{v}
			case []any:
				for _, x := range v {
					s, _ := x.(string)
					out[k] = append(out[k], s)
				}
			}
		}
		return out
	}
	e := asFields(read(small.ID))
	checkJournalFields(t, e, small)
	if e["_TRANSPORT"][0] != "journal" {
		t.Errorf("_TRANSPORT = %v, want journal (the native protocol)", e["_TRANSPORT"])
	}
	b := asFields(read(big.ID))
	if ev := b["SIGTAIL_EVIDENCE"]; len(ev) != 1 || !strings.HasSuffix(ev[0], "Traceback line of a long stack\nend") || len(ev[0]) < 370000 {
		t.Errorf("the large entry's evidence came back as %d value(s)", len(ev))
	}
	if b["SIGTAIL_RULE"][0] != big.Rule || b["PRIORITY"][0] != "2" {
		t.Errorf("large entry: rule %v priority %v", b["SIGTAIL_RULE"], b["PRIORITY"])
	}
	// The query the README gives.
	out, err := exec.Command("journalctl", "--no-pager", "-o", "cat", "SIGTAIL_RULE=gunicorn.worker_timeout", "SIGTAIL_ID="+small.ID).Output()
	if err != nil || !strings.Contains(string(out), small.Summary) {
		t.Errorf("journalctl SIGTAIL_RULE=...: %v %q", err, out)
	}
}
