package report_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/report"
	"github.com/sigtail/sigtail/pkg/workers"
)

// hostile is a request line as an attacker would send it, so that it lands
// in the access log and from there in an incident's evidence.
const hostile = `GET /<script>alert(1)</script>?q="><img src=x onerror=alert(2)> HTTP/1.1`

func at(hms string) time.Time {
	t, err := time.Parse(time.DateTime, "2026-11-24 "+hms)
	if err != nil {
		panic(err)
	}
	return t
}

// sampleData is a small scan's worth: an incident seen in three logs, one
// still open, one superseded, one from the process table, a file that
// could not be read, and a worker series with two masters.
func sampleData() *report.Data {
	return &report.Data{
		Title:       "sigtail scan",
		Host:        "web-1",
		GeneratedAt: time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC),
		Since:       at("09:50:00"),
		Files: []report.File{
			{Name: "/var/log/gunicorn/error.log", Format: "gunicorn", Lines: 333, Records: 180, Hits: 41},
			{Name: "/var/log/nginx/access.log", Format: "nginx-access", Lines: 1055, Records: 1055, Hits: 97},
			{Name: "/var/log/kern.log", Format: "kernel", Lines: 144, Records: 144, Hits: 12},
			{Name: "/var/log/nginx/old.log.gz", Err: "gzip: invalid header"},
		},
		Incidents: []*incident.Incident{
			{
				ID: "f1885e13f8659215", Rule: "gunicorn.worker_oom",
				Title:    "Gunicorn worker killed by the kernel OOM killer",
				Summary:  "The kernel OOM killer killed Gunicorn worker 1003 (gunicorn); the master reaped it as SIGKILL",
				Severity: incident.SeverityCritical, Status: incident.StatusResolved,
				FirstSeen: at("09:58:40"), LastSeen: at("09:58:41"), Count: 4, Host: "web-1",
				Sources: []string{"/var/log/kern.log", "/var/log/gunicorn/error.log", "/var/log/nginx/access.log"},
				Fields:  map[string]string{"pid": "1003", "signal": "9", "status": "502"},
				Values:  map[string][]string{"status": {"502", "504"}},
				Evidence: []incident.Evidence{
					{Time: at("09:58:40").Add(512492 * time.Microsecond), Source: "/var/log/kern.log", LineNo: 67, Signature: "kernel.oom_kill",
						Line: "[ 8018.512492] Out of memory: Killed process 1003 (gunicorn) total-vm:2768120kB, anon-rss:2712304kB"},
					{Time: at("09:58:40"), Source: "/var/log/gunicorn/error.log", LineNo: 7, Signature: "gunicorn.worker_sigkill",
						Line: "[2026-11-24 09:58:40 +0000] [1001] [WARNING] Worker with pid 1003 was terminated due to signal 9"},
					{Time: at("09:58:41"), Source: "/var/log/nginx/access.log", LineNo: 60, Signature: "nginx.access_502,nginx.access_5xx",
						Line: `198.51.100.40 - - [24/Nov/2026:09:58:41 +0000] "` + hostile + `" 502 166 "-" "curl/8.5"`},
				},
				EvidenceDropped: 1,
				Remediation:     "The kernel ran out of memory and killed this worker.\n1. Check the kernel's OOM report.\n2. Recycle workers with max_requests.",
				Diagnostics: []incident.Command{
					{Command: "dmesg -T | grep -w 1003", Why: "The kernel's lines about this worker."},
					{Command: "free -m", Why: "Memory left on the host now."},
				},
				Parameters: []incident.Parameter{{Name: "max_requests", Value: "1000", Why: "Restart each worker after this many requests."}},
				Insights:   []string{"Gunicorn worker terminated by OOM killer due to memory exhaustion"},
				Related:    []string{"kernel.oom_kill", "nginx.bad_gateway_burst"},
				References: []string{"https://docs.gunicorn.org/en/stable/settings.html#max-requests", "javascript:alert(3)"},
			},
			{
				ID: "2b0c6a41d9e07f13", Rule: "gunicorn.worker_timeout",
				Title:    "Gunicorn workers timed out",
				Severity: incident.SeverityCritical, Status: incident.StatusOpen,
				FirstSeen: at("10:10:31"), LastSeen: at("10:10:35"), Count: 3,
				Sources: []string{"/var/log/gunicorn/error.log"},
				Evidence: []incident.Evidence{
					{Time: at("10:10:31"), Source: "/var/log/gunicorn/error.log", LineNo: 150, Signature: "gunicorn.worker_timeout",
						Line: "[2026-11-24 10:10:31 +0000] [2201] [CRITICAL] WORKER TIMEOUT (pid:2203)"},
				},
				Remediation: "Raise timeout or move the slow work out of the request.",
			},
			{
				ID: "9d1e22c0aa71b5e0", Rule: "nginx.slow_request_share",
				Title:    "Many slow requests",
				Severity: incident.SeverityWarning, Status: incident.StatusSuperseded, SupersededBy: "2b0c6a41d9e07f13",
				FirstSeen: at("10:10:14"), LastSeen: at("10:14:59"), Count: 14,
				Sources:  []string{"/var/log/nginx/access.log"},
				Evidence: []incident.Evidence{},
			},
			{
				ID: "50e1b7f3c2d84a96", Rule: "probe.workers_below_config",
				Title:    "Fewer workers than configured",
				Severity: incident.SeverityInfo, Status: incident.StatusResolved,
				FirstSeen: at("10:30:03"), LastSeen: at("10:30:03"), Count: 1,
				Sources: []string{"probe"},
				Fields:  map[string]string{"live": "2", "configured": "3"},
			},
		},
		Workers: []workers.Point{
			{Time: at("09:55:00"), Source: "/var/log/gunicorn/error.log", Kind: workers.KindMaster, PID: "1001", Live: 0},
			{Time: at("09:55:00"), Source: "/var/log/gunicorn/error.log", Kind: workers.KindBoot, PID: "1002", Live: 1},
			{Time: at("09:55:00"), Source: "/var/log/gunicorn/error.log", Kind: workers.KindBoot, PID: "1003", Live: 2},
			{Time: at("09:55:00"), Source: "/var/log/gunicorn/error.log", Kind: workers.KindBoot, PID: "1004", Live: 3},
			{Time: at("09:58:40"), Source: "/var/log/gunicorn/error.log", Kind: workers.KindExit, PID: "1003", Live: 2},
			{Time: at("09:58:40"), Source: "/var/log/gunicorn/error.log", Kind: workers.KindBoot, PID: "1021", Live: 3},
			{Time: at("10:00:01"), Source: "/var/log/gunicorn/error.log", Kind: workers.KindMaster, PID: "2001", Live: 0},
			{Time: at("10:00:01"), Source: "/var/log/gunicorn/error.log", Kind: workers.KindBoot, PID: "2002", Live: 1},
			{Time: at("10:10:31"), Source: "/var/log/gunicorn/error.log", Kind: workers.KindExit, PID: "2002", Live: 0},
		},
	}
}

func render(t testing.TB, d *report.Data) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Write(&buf, d); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
