package sink

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sigtail/sigtail/pkg/incident"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sample() []*incident.Incident {
	t := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	return []*incident.Incident{
		{
			ID: "0123456789abcdef", Rule: "gunicorn.worker_timeout", Title: "Gunicorn worker timed out",
			Summary: "2 WORKER TIMEOUT(s): pids 1235,1236", Severity: incident.SeverityCritical, Status: incident.StatusOpen,
			FirstSeen: t, LastSeen: t.Add(90 * time.Second), Count: 2, Host: "web-1",
			Sources: []string{"/var/log/gunicorn/error.log"}, Fields: map[string]string{"pid": "1235"},
			Values: map[string][]string{"pid": {"1235", "1236"}},
			Evidence: []incident.Evidence{
				{Time: t, Source: "/var/log/gunicorn/error.log", Offset: 120, LineNo: 3, Signature: "gunicorn.worker_timeout",
					Line: "[2026-11-24 10:00:00 +0000] [1234] [CRITICAL] WORKER TIMEOUT (pid:1235)"},
				{Time: t.Add(time.Second), Source: "/var/log/gunicorn/error.log", Offset: 200, LineNo: 4, Signature: "gunicorn.request_aborted",
					Line: "[2026-11-24 10:00:01 +0000] [1235] [ERROR] Error handling request /slow\nTraceback (most recent call last):\n  File \"x.py\", line 1, in f\n    sys.exit(1)\n  File \"y.py\", line 2, in g\nSystemExit: 1"},
			},
			EvidenceDropped: 0,
			Remediation:     "Find the slow request.\nRaise --timeout.",
			Diagnostics:     []incident.Command{{Command: "py-spy dump --pid PID", Why: "where it hangs"}},
			Parameters:      []incident.Parameter{{Name: "timeout", Value: "60", Why: "above the slowest request"}},
			Insights:        []string{"Worker timeout kills unresponsive workers after 30 seconds"},
		},
		{
			ID: "fedcba9876543210", Rule: "nginx.client_abort_burst", Title: "499 burst", Summary: "8 requests ended with 499",
			Severity: incident.SeverityWarning, Status: incident.StatusResolved, FirstSeen: t, LastSeen: t, Count: 8,
			Sources: []string{"access.log"}, Evidence: []incident.Evidence{{Source: "access.log", Offset: 7, Signature: "nginx.access_499", Line: "x 499"}},
			EvidenceDropped: 7,
		},
		{
			ID: "00ff00ff00ff00ff", Rule: "gunicorn.socket_in_use", Title: "Address already in use",
			Summary: "Gunicorn cannot bind ('127.0.0.1', 8000)", Severity: incident.SeverityCritical,
			Status: incident.StatusSuperseded, SupersededBy: "0123456789abcdef", FirstSeen: t, LastSeen: t.Add(2 * time.Second), Count: 2,
			Host: "web-1", Sources: []string{"/var/log/gunicorn/error.log"},
			Fields: map[string]string{"address": "('127.0.0.1', 8000)", "module": "app:app"},
			Values: map[string][]string{"address": {"('127.0.0.1', 8000)", "('127.0.0.1', 8001)"}},
			Evidence: []incident.Evidence{{Time: t, Source: "/var/log/gunicorn/error.log", Offset: 0, LineNo: 1, Signature: "gunicorn.socket_in_use",
				Line: "[2026-11-24 10:00:00 +0000] [1234] [ERROR] Connection in use: ('127.0.0.1', 8000)"}},
		},
	}
}

func TestOutputs(t *testing.T) {
	for _, tt := range []struct {
		golden string
		sink   func(*bytes.Buffer) Sink
	}{
		{"testdata/incidents.jsonl", func(b *bytes.Buffer) Sink { return NewJSON(b) }},
		{"testdata/incidents.txt", func(b *bytes.Buffer) Sink { return NewText(b) }},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			s := tt.sink(&buf)
			for _, inc := range sample() {
				if err := s.Send(context.Background(), inc); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if *update {
				os.WriteFile(tt.golden, buf.Bytes(), 0o644)
			}
			want, err := os.ReadFile(tt.golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s:\n%s", tt.golden, buf.String())
			}
		})
	}
}

// TestJSONStable: the JSON field names are the documented schema.
func TestJSONStable(t *testing.T) {
	var buf bytes.Buffer
	s := NewJSON(&buf)
	s.Send(context.Background(), sample()[0])
	for _, key := range []string{`"id":`, `"rule":`, `"title":`, `"summary":`, `"severity":"critical"`, `"status":"open"`,
		`"first_seen":"2026-11-24T10:00:00Z"`, `"last_seen":`, `"count":2`, `"host":"web-1"`, `"sources":`, `"fields":`,
		`"evidence":`, `"line_number":3`, `"remediation":`, `"diagnostics":`, `"parameters":`, `"insights":`} {
		if !bytes.Contains(buf.Bytes(), []byte(key)) {
			t.Errorf("JSON lacks %s: %s", key, buf.String())
		}
	}
	if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
		t.Errorf("want exactly one line per incident: %q", buf.String())
	}
}

// TestTextSupersededAndValues: the text format says who superseded an
// incident and shows a field of several values as a list, quoting the
// values that hold a space.
func TestTextSupersededAndValues(t *testing.T) {
	var buf bytes.Buffer
	s := NewText(&buf)
	for _, inc := range sample() {
		s.Send(context.Background(), inc)
	}
	s.Close()
	for _, want := range []string{
		"id 00ff00ff00ff00ff, superseded by 0123456789abcdef, 2 record(s)",
		`fields: address=["('127.0.0.1', 8000)" "('127.0.0.1', 8001)"] module=app:app` + "\n",
		"fields: pid=[1235 1236]\n",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}
	if got, want := textValue("('127.0.0.1', 8000)"), `"('127.0.0.1', 8000)"`; got != want {
		t.Errorf("textValue = %s, want %s", got, want)
	}
	if got := textValue("unix:/run/app.sock,x"); got != "unix:/run/app.sock,x" {
		t.Errorf("textValue of a plain value = %s", got)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("pipe closed") }

func TestWriteErrorsReported(t *testing.T) {
	for _, s := range []Sink{NewJSON(failWriter{}), NewText(failWriter{})} {
		if err := s.Send(context.Background(), sample()[0]); err == nil {
			t.Errorf("%T: Send to a failing writer returned nil", s)
		}
	}
}
