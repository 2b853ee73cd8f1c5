package probe

import (
	"cmp"
	"slices"

	"github.com/sigtail/sigtail/pkg/incident"
)

// Finding is one thing a person should change or look at, tied to the
// knowledge page's insight and to the configuration parameter that fixes
// it.
type Finding struct {
	Check    string            `json:"check"` // stable id: workers.excessive
	Severity incident.Severity `json:"severity"`
	Title    string            `json:"title"`
	// Insight is the knowledge page's insight title, verbatim, and Rule the
	// catalog rule (rules.yaml) that carries it.
	Insight string `json:"insight"`
	Rule    string `json:"rule"`
	// Master is the master's pid; 0 for a finding about the whole host.
	Master      int    `json:"master,omitempty"`
	Measured    string `json:"measured"`
	Parameter   string `json:"parameter,omitempty"` // Gunicorn's setting and flag: workers (-w)
	Current     string `json:"current,omitempty"`
	Recommended string `json:"recommended,omitempty"`
	Why         string `json:"why"`
	Command     string `json:"command,omitempty"` // to look closer
}

// NotChecked is a check that could not be made, and why.
type NotChecked struct {
	Master int    `json:"master,omitempty"`
	Check  string `json:"check"`
	Why    string `json:"why"`
}

// Report is what Audit found.
type Report struct {
	Findings   []Finding    `json:"findings"`
	NotChecked []NotChecked `json:"not_checked,omitempty"`
}

// Max is the highest severity found; SeverityNone when nothing was.
func (r Report) Max() incident.Severity {
	s := incident.SeverityNone
	for _, f := range r.Findings {
		s = max(s, f.Severity)
	}
	return s
}

// Check is one kind of finding: what it is called and which insight and
// rule it stands for. The insight titles are the knowledge page's, as
// rules.yaml lists them (a test of cmd/sigtail holds them to the catalog).
type Check struct {
	ID, Title, Insight, Rule string
}

// Checks lists every check Audit makes, in the order of the README's table.
func Checks() []Check {
	return []Check{
		{"workers.excessive", "More workers than the CPUs can run", "Excessive worker count degrades performance instead of improving it", "gunicorn.excessive_workers"},
		{"workers.single", "A single worker", "Single Gunicorn worker insufficient for production without benchmarking", "nginx.client_abort_burst"},
		{"workers.low", "Fewer workers than CPUs", "Low worker count causes request handling degradation", "nginx.client_abort_share"},
		{"workers.missing", "Fewer live workers than configured", "Insufficient system resources prevent Gunicorn worker initialization", "gunicorn.worker_boot_failure"},
		{"processes.extra", "More processes than configured workers", "Gunicorn spawns more processes than configured causing performance degradation", "gunicorn.process_proliferation"},
		{"memory.workers", "The workers need more memory than there is", "Excessive Gunicorn workers cause OS thrashing and performance degradation", "gunicorn.os_thrashing"},
		{"memory.host", "The Gunicorn sites together need more memory than the host has", "Hosting multiple sites on 1GB RAM server causes memory exhaustion", "gunicorn.worker_memory_error"},
		{"memory.leak", "A worker holds far more memory than its siblings", "Application memory leak causes OOM after extended uptime", "gunicorn.worker_oom"},
		{"recycle.no_jitter", "max_requests without max_requests_jitter", "Limit worker connections to prevent memory accumulation", "gunicorn.worker_memory_recycling"},
		{"timeout.default", "The default 30 s timeout with sync workers", "Worker timeout kills unresponsive workers after 30 seconds", "gunicorn.worker_timeout"},
		{"workers.io_wait", "Sync workers wait on I/O while requests queue", "Requests queue in connection backlog when workers are saturated", "nginx.upstream_backlog_full"},
		{"workers.saturated", "Every worker busy while requests queue", "Requests queue in connection backlog when workers are saturated", "nginx.upstream_backlog_full"},
		{"cpu.spike", "A worker at 100% CPU", "Gunicorn CPU spike to 100% causes severe page load delays", "gunicorn.cpu_spike"},
		{"log.error_discarded", "The error log is thrown away", "Worker boot failures hidden at default log level", "gunicorn.boot_failures_hidden"},
		{"log.no_access", "No access log", "Worker timeout kills process without logging request URI", "gunicorn.request_killed_by_timeout"},
		{"preload.off", "Many workers without --preload", "Insufficient server memory prevents worker processes from starting", "gunicorn.worker_oom"},
		{"threads.async", "Threads with an async worker class", "Worker and thread tuning controls memory vs CPU tradeoff", "gunicorn.worker_thread_tuning"},
	}
}

// checkByID finds a check; an id missing from Checks (a typo here, which
// the tests catch) still gives a finding, titled by its id.
func checkByID(id string) Check {
	for _, c := range Checks() {
		if c.ID == id {
			return c
		}
	}
	return Check{ID: id, Title: id}
}

// auditor collects the findings of one snapshot.
type auditor struct {
	snap *Snapshot
	r    Report
}

func (a *auditor) add(id string, sev incident.Severity, master int, f Finding) {
	c := checkByID(id)
	f.Check, f.Severity, f.Master = c.ID, sev, master
	f.Title, f.Insight, f.Rule = c.Title, c.Insight, c.Rule
	a.r.Findings = append(a.r.Findings, f)
}

func (a *auditor) skip(id string, master int, why string) {
	a.r.NotChecked = append(a.r.NotChecked, NotChecked{Master: master, Check: id, Why: why})
}

// Audit evaluates a snapshot. It is pure: the same snapshot gives the same
// report. Findings come host first, then by master, the most severe first.
func Audit(s *Snapshot) Report {
	a := &auditor{snap: s}
	for _, m := range s.Masters {
		a.workerCount(m)
		a.processes(m)
		a.memory(m)
		a.leak(m)
		a.recycling(m)
		a.timeout(m)
		a.queue(m)
		a.cpuSpike(m)
		a.logs(m)
		a.preload(m)
		a.threads(m)
	}
	a.hostMemory()
	slices.SortStableFunc(a.r.Findings, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(x.Master, y.Master), cmp.Compare(y.Severity, x.Severity))
	})
	if a.r.Findings == nil {
		a.r.Findings = []Finding{}
	}
	return a.r
}
