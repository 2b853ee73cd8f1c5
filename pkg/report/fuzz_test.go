package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/report"
	"github.com/sigtail/sigtail/pkg/workers"
)

// FuzzWrite puts arbitrary text everywhere a log or a catalog can put
// text, at arbitrary times: Write must not fail, and no <script of the
// input may reach the page (only the page's own two tags).
func FuzzWrite(f *testing.F) {
	f.Add("Gunicorn worker killed", "gunicorn.worker_oom", "[2026-11-24 09:58:40 +0000] [1001] [WARNING] Worker with pid 1003 was terminated due to signal 9", "/var/log/gunicorn/error.log", "1003", "dmesg -T | grep -w 1003", int64(1795514320), int64(time.Second))
	f.Add(hostile, `</script><script>alert(1)</script>`, `<!--<script>`, `"><img src=x onerror=alert(2)>`, `</title><SCRIPT>`, "`${alert(3)}`\u2028\u2029", int64(-62135596800), int64(-1))
	f.Fuzz(func(t *testing.T, title, rule, line, src, val, cmd string, sec, dur int64) {
		first := time.Unix(sec, 0).UTC()
		inc := &incident.Incident{
			ID: val, Rule: rule, Title: title, Summary: line,
			Severity:  incident.Severity(len(title)%6 - 1),
			Status:    incident.Status(rule),
			FirstSeen: first, LastSeen: first.Add(time.Duration(dur)),
			Count: len(line), Host: val,
			Sources:         []string{src, line},
			Fields:          map[string]string{val: line, rule: title},
			Values:          map[string][]string{rule: {val, line}},
			Evidence:        []incident.Evidence{{Time: first, Source: src, Signature: rule, Line: line}, {Source: line, Signature: val, Line: title}},
			EvidenceDropped: len(cmd),
			Remediation:     cmd,
			Diagnostics:     []incident.Command{{Command: cmd, Why: line}},
			Parameters:      []incident.Parameter{{Name: val, Value: cmd, Why: title}},
			Insights:        []string{title},
			Related:         []string{rule},
			References:      []string{line, cmd},
		}
		d := &report.Data{
			Title: title, Host: val,
			GeneratedAt: first, Since: first.Add(-time.Duration(dur)),
			Files:     []report.File{{Name: src, Format: rule, Err: line}},
			Incidents: []*incident.Incident{inc, {ID: title, Rule: val, Sources: []string{cmd}}},
			Workers: []workers.Point{
				{Time: first, Source: src, Kind: rule, PID: val, Live: len(cmd)},
				{Time: first.Add(time.Duration(dur)), Source: src, Kind: workers.KindExit, PID: line},
			},
		}
		var buf bytes.Buffer
		if err := report.Write(&buf, d); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(strings.ToLower(buf.String()), "<script"); n != scriptTags {
			t.Errorf("%d <script in the page, want the page's own %d", n, scriptTags)
		}
	})
}
