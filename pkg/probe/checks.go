package probe

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sigtail/sigtail/pkg/incident"
)

// The checks of Audit, one method each. Every check reads the snapshot
// only; what it cannot decide it says in NotChecked.

// Thresholds, in one place so the README can quote them.
const (
	memoryWarnShare  = 0.8      // projected memory at this share of the limit: warning
	leakRatio        = 2.0      // a worker with this multiple of its siblings' median...
	leakMinExcess    = 64 << 20 // ...and at least this much more is suspect
	spikeShare       = 0.9      // CPU over the interval at this share of one CPU
	spikeMinInterval = 0.5      // seconds: shorter intervals say too little about CPU
	preloadMinWorker = 4        // from this many workers, loading the app once pays
)

// recommendedWorkers is Gunicorn's (2 × CPUs) + 1, at least 2 so that one
// slow request does not stop the app.
func recommendedWorkers(cpus float64) int {
	return max(2, int(math.Floor(2*cpus))+1)
}

// workerCount is the worker count checks judge: the configured one when
// known, else the live one; desc says both.
func workerCount(m *Master) (n int, desc string) {
	live := m.LiveWorkers()
	w := m.Settings.Get("workers")
	if c, ok := w.Int(); ok {
		return c, fmt.Sprintf("workers %d configured (%s), %d live", c, sourceOf(w), live)
	}
	return live, fmt.Sprintf("workers %d live, configured %s", live, w.String())
}

// sourceOf is where a setting came from, with its caveat.
func sourceOf(s Setting) string {
	src := s.Origin()
	if src == "" {
		src = "source unknown"
	}
	if s.Caveat != "" {
		src += "; " + s.Caveat
	}
	return src
}

// classKind sorts a worker class into sync, gthread, async or other.
func classKind(m *Master) (string, bool) {
	c := m.Settings.Get("worker_class")
	if !c.Known() {
		return "", false
	}
	threads, ok := m.Settings.Get("threads").Int()
	if !ok {
		threads = 1
	}
	v := strings.ToLower(c.Value)
	switch {
	case v == "sync" || strings.HasSuffix(v, "syncworker") || v == "egg:gunicorn#sync":
		if threads > 1 {
			return "gthread", true // Gunicorn switches sync to gthread when threads > 1
		}
		return "sync", true
	case v == "gthread" || strings.HasSuffix(v, "threadworker"):
		return "gthread", true
	}
	for _, a := range []string{"gevent", "eventlet", "tornado", "uvicorn", "aiohttp", "meinheld"} {
		if strings.Contains(v, a) {
			return "async", true
		}
	}
	return "other", true
}

// cpus is how many CPUs the master can use, and a description.
func (a *auditor) cpus(m *Master) (float64, string, bool) {
	cpus, ok := EffectiveCPUs(a.snap.Host.OnlineCPUs, m.Cgroup)
	if !ok {
		return 0, "", false
	}
	desc := fmt.Sprintf("%d online CPUs", a.snap.Host.OnlineCPUs)
	if m.Cgroup.CPUSet > 0 && m.Cgroup.CPUSet < a.snap.Host.OnlineCPUs {
		desc += fmt.Sprintf(", cpuset of %d", m.Cgroup.CPUSet)
	}
	if m.Cgroup.CPUQuota > 0 {
		desc += fmt.Sprintf(", cgroup CPU quota %s (/%s)", fmtCPUs(m.Cgroup.CPUQuota), m.Cgroup.CPUQuotaFile)
	} else {
		desc += ", no cgroup CPU quota"
	}
	return cpus, desc, true
}

func (a *auditor) workerCount(m *Master) {
	n, ndesc := workerCount(m)
	cpus, cdesc, ok := a.cpus(m)
	if !ok {
		a.skip("workers.excessive", m.PID, "the number of online CPUs is unknown")
		return
	}
	rec := recommendedWorkers(cpus)
	kind, _ := classKind(m)
	w := m.Settings.Get("workers")
	switch {
	case n > rec:
		why := fmt.Sprintf("Gunicorn's rule of thumb is (2 × CPUs) + 1 = %d workers for %s. More processes than that take turns on the same CPUs: context switches, caches and memory grow while throughput does not, and requests get slower.", rec, fmtCPUs(cpus))
		online := a.snap.Host.OnlineCPUs
		if cpus < float64(online) && n <= 2*online+1 {
			why += fmt.Sprintf(" This is the container trap: %d is about right for the host's %d CPUs, but the master's cgroup lets it use %s, so the workers are throttled together.", n, online, fmtCPUs(cpus))
			if strings.Contains(w.Expr, "cpu_count") {
				why += " multiprocessing.cpu_count() counts the host's CPUs, not the cgroup's quota."
			}
		}
		a.add("workers.excessive", incident.SeverityWarning, m.PID, Finding{
			Measured:    fmt.Sprintf("%s; %s", ndesc, cdesc),
			Parameter:   "workers (-w)",
			Current:     strconv.Itoa(n),
			Recommended: strconv.Itoa(rec),
			Why:         why,
		})
	case n == 1:
		sev := incident.SeverityWarning
		why := "One sync worker serves one request at a time: every other request waits in the backlog, a slow request stalls the site, and the worker's restart (timeout, max_requests, deploy) leaves nobody to answer."
		if kind == "async" || kind == "gthread" {
			sev = incident.SeverityInfo
			why = "One worker process is one CPU at most and a single point of failure: while it restarts nobody answers. Benchmark before running production on it."
		}
		a.add("workers.single", sev, m.PID, Finding{
			Measured:    fmt.Sprintf("%s; %s", ndesc, cdesc),
			Parameter:   "workers (-w)",
			Current:     "1",
			Recommended: strconv.Itoa(rec),
			Why:         why + fmt.Sprintf(" (2 × CPUs) + 1 = %d is where to start.", rec),
		})
	case n > 1 && float64(n) < math.Floor(cpus):
		a.add("workers.low", incident.SeverityInfo, m.PID, Finding{
			Measured:    fmt.Sprintf("%s; %s", ndesc, cdesc),
			Parameter:   "workers (-w)",
			Current:     strconv.Itoa(n),
			Recommended: strconv.Itoa(rec),
			Why:         fmt.Sprintf("Fewer workers than CPUs leave CPUs idle while requests wait; (2 × CPUs) + 1 = %d keeps every CPU busy while some workers wait on I/O.", rec),
		})
	}
	if c, ok := w.Int(); ok {
		live := m.LiveWorkers()
		if live < c && m.PrevLiveWorkers >= 0 && m.PrevLiveWorkers < c {
			a.add("workers.missing", incident.SeverityWarning, m.PID, Finding{
				Measured:    fmt.Sprintf("%d workers live now and %d at the previous sample, %d configured (%s)", live, m.PrevLiveWorkers, c, sourceOf(w)),
				Parameter:   "workers (-w)",
				Current:     fmt.Sprintf("%d of %d live", live, c),
				Recommended: fmt.Sprintf("%d live: find why workers do not stay up", c),
				Why:         "Gunicorn replaces a dead worker within a second; missing in two samples means workers die as they boot (import errors, memory, the boot timeout) or were removed with SIGTTOU. The error log says which.",
				Command:     "sigtail scan /var/log/gunicorn/error.log",
			})
		}
	}
}

func (a *auditor) processes(m *Master) {
	c, known := m.Settings.Get("workers").Int()
	live := m.LiveWorkers()
	extraWorkers := known && live > c && m.PrevLiveWorkers > c
	if len(m.Others) == 0 && !extraWorkers {
		return
	}
	var parts []string
	for i, o := range m.Others {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(m.Others)-5))
			break
		}
		parts = append(parts, fmt.Sprintf("%d (child of %d: %s)", o.PID, o.PPID, truncate(o.Cmdline, 60)))
	}
	measured := fmt.Sprintf("%d processes under master %d: %d workers", 1+live+len(m.Others), m.PID, live)
	if known {
		measured += fmt.Sprintf(" (%d configured)", c)
	}
	if len(m.Others) > 0 {
		measured += fmt.Sprintf(", %s: %s", plural(len(m.Others), "other process"), strings.Join(parts, ", "))
		measured = strings.Replace(measured, "other processs", "other processes", 1)
	}
	kind, ok := classKind(m)
	if !ok {
		kind = "unknown"
	}
	a.add("processes.extra", incident.SeverityWarning, m.PID, Finding{
		Measured:    measured,
		Parameter:   "worker_class (-k)",
		Current:     kind,
		Recommended: "keep the class; move forking work (multiprocessing, ProcessPoolExecutor, subprocess) out of requests, into a task queue",
		Why:         "Processes forked by application code inside sync workers are invisible to Gunicorn: they are not counted, not recycled and not timed out, and they compete with the workers for CPU and memory. More workers than configured that stay for two samples come from SIGTTIN or a reload that did not finish.",
		Command:     fmt.Sprintf("pstree -p %d", m.PID),
	})
}

// workerMemory is the median memory of a master's workers and which
// measure it is (PSS or RSS).
func workerMemory(m *Master) (uint64, string, bool) {
	if len(m.Workers) == 0 {
		return 0, "", false
	}
	var mem []uint64
	kind := "PSS"
	for _, w := range m.Workers {
		v, k := w.Memory()
		if k == "RSS" {
			kind = "RSS"
		}
		mem = append(mem, v)
	}
	if kind == "RSS" {
		mem = mem[:0]
		for _, w := range m.Workers {
			mem = append(mem, w.RSS)
		}
	}
	return median(mem), kind, true
}

func median(v []uint64) uint64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// projected is the memory a master needs with its configured workers.
func projected(m *Master) (total uint64, desc string, ok bool) {
	per, kind, ok := workerMemory(m)
	if !ok || per == 0 {
		return 0, "", false
	}
	n, _ := workerCount(m)
	self, _ := m.Memory()
	total = uint64(n)*per + self
	return total, fmt.Sprintf("%d workers × %s (median %s) + master %s = %s", n, fmtBytes(per), kind, fmtBytes(self), fmtBytes(total)), true
}

func (a *auditor) memory(m *Master) {
	total, desc, ok := projected(m)
	if !ok {
		a.skip("memory.workers", m.PID, "no worker memory measured")
		return
	}
	limit, limitDesc := a.snap.Host.MemTotal, fmt.Sprintf("the host's %s (MemTotal)", fmtBytes(a.snap.Host.MemTotal))
	if l := m.Cgroup.MemoryLimit; l > 0 && (limit == 0 || l < limit) {
		limit, limitDesc = l, fmt.Sprintf("the cgroup's limit of %s (/%s)", fmtBytes(l), m.Cgroup.MemoryLimitFile)
	}
	if limit == 0 {
		a.skip("memory.workers", m.PID, "neither the host's memory nor a cgroup limit is known")
		return
	}
	share := float64(total) / float64(limit)
	if share < memoryWarnShare {
		return
	}
	sev := incident.SeverityWarning
	if share >= 1 {
		sev = incident.SeverityCritical
	}
	per, kind, _ := workerMemory(m)
	self, _ := m.Memory()
	fit := 1
	if budget := memoryWarnShare*float64(limit) - float64(self); budget > float64(per) {
		fit = max(1, int(budget/float64(per)))
	}
	n, _ := workerCount(m)
	why := "Each worker is a process with its own copy of the app. Near the limit the kernel reclaims and swaps (thrashing) and then the OOM killer takes workers: 'Worker (pid:N) was sent SIGKILL! Perhaps out of memory?'."
	if kind == "RSS" {
		why += " (RSS counts pages shared with the master in every worker, so this is an upper bound; PSS could not be read.)"
	}
	if p, ok := m.Settings.Get("preload_app").Bool(); ok && !p {
		why += " --preload loads the app once in the master and lets workers share it copy-on-write."
	}
	a.add("memory.workers", sev, m.PID, Finding{
		Measured:    fmt.Sprintf("%s, %.0f%% of %s", desc, share*100, limitDesc),
		Parameter:   "workers (-w)",
		Current:     strconv.Itoa(n),
		Recommended: fmt.Sprintf("%d (what fits in %.0f%% of %s at %s each)", fit, memoryWarnShare*100, fmtBytes(limit), fmtBytes(per)),
		Why:         why,
	})
}

// hostMemory adds up every master on the host: several sites on one small
// host each sized as if alone.
func (a *auditor) hostMemory() {
	if len(a.snap.Masters) < 2 || a.snap.Host.MemTotal == 0 {
		return
	}
	var total uint64
	var parts, recs []string
	type site struct {
		m     *Master
		total uint64
	}
	var sites []site
	for _, m := range a.snap.Masters {
		t, _, ok := projected(m)
		if !ok {
			continue
		}
		total += t
		sites = append(sites, site{m, t})
		n, _ := workerCount(m)
		parts = append(parts, fmt.Sprintf("master %d: %d workers, %s", m.PID, n, fmtBytes(t)))
	}
	if len(sites) < 2 {
		return
	}
	memTotal := a.snap.Host.MemTotal
	share := float64(total) / float64(memTotal)
	if share < memoryWarnShare {
		return
	}
	sev := incident.SeverityWarning
	if share >= 1 {
		sev = incident.SeverityCritical
	}
	scale := memoryWarnShare / share
	for _, s := range sites {
		n, _ := workerCount(s.m)
		recs = append(recs, fmt.Sprintf("master %d: %d", s.m.PID, max(1, int(float64(n)*scale))))
	}
	a.add("memory.host", sev, 0, Finding{
		Measured:    fmt.Sprintf("%d Gunicorn masters need %s, %.0f%% of the host's %s (MemTotal): %s", len(sites), fmtBytes(total), share*100, fmtBytes(memTotal), strings.Join(parts, "; ")),
		Parameter:   "workers (-w) of each master",
		Recommended: strings.Join(recs, ", "),
		Why:         "Each site was sized as if it had the host to itself. Together they run the host out of memory: swapping first, then the OOM killer. Fewer workers per site, --preload, or a bigger host.",
	})
}

func (a *auditor) leak(m *Master) {
	if len(m.Workers) < 2 {
		return
	}
	type cand struct {
		w        Process
		mem, med uint64
	}
	var worst *cand
	for i, w := range m.Workers {
		var rest []uint64
		for j, o := range m.Workers {
			if j != i {
				rest = append(rest, o.RSS)
			}
		}
		med := median(rest)
		if med == 0 || float64(w.RSS) < leakRatio*float64(med) || w.RSS-med < leakMinExcess {
			continue
		}
		if worst == nil || w.RSS > worst.mem {
			worst = &cand{w, w.RSS, med}
		}
	}
	if worst == nil {
		return
	}
	age := ""
	if !worst.w.Started.IsZero() && !a.snap.Time.IsZero() {
		age = fmt.Sprintf(", up %s", fmtAge(a.snap.Time.Sub(worst.w.Started)))
	}
	mr := m.Settings.Get("max_requests")
	cur, _ := mr.Int()
	rec := "1000, with max_requests_jitter = 100"
	why := "A worker that keeps growing while its siblings do not is holding on to memory (a leak, or a cache without bound); after long enough uptime the OOM killer ends it, mid-request."
	if cur > 0 {
		rec = fmt.Sprintf("lower than %d, and find what grows", cur)
		why += " max_requests already recycles workers, yet this one grew this much before its turn."
	} else {
		why += " max_requests recycles each worker after that many requests, so what it leaks is returned."
	}
	a.add("memory.leak", incident.SeverityWarning, m.PID, Finding{
		Measured:    fmt.Sprintf("worker %d has RSS %s%s; the other workers' median is %s (%.1f×)", worst.w.PID, fmtBytes(worst.mem), age, fmtBytes(worst.med), float64(worst.mem)/float64(worst.med)),
		Parameter:   "max_requests (--max-requests)",
		Current:     mr.String(),
		Recommended: rec,
		Why:         why,
		Command:     fmt.Sprintf("grep -E '^(Rss|Pss|Anonymous)' /proc/%d/smaps_rollup", worst.w.PID),
	})
}

func (a *auditor) recycling(m *Master) {
	mr, ok1 := m.Settings.Get("max_requests").Int()
	j, ok2 := m.Settings.Get("max_requests_jitter").Int()
	if !ok1 || !ok2 || mr <= 0 || j > 0 {
		return
	}
	jw := m.Settings.Get("max_requests_jitter")
	a.add("recycle.no_jitter", incident.SeverityWarning, m.PID, Finding{
		Measured:    fmt.Sprintf("max_requests %d (%s), max_requests_jitter %d (%s)", mr, sourceOf(m.Settings.Get("max_requests")), j, sourceOf(jw)),
		Parameter:   "max_requests_jitter (--max-requests-jitter)",
		Current:     "0",
		Recommended: strconv.Itoa(max(1, mr/10)),
		Why:         fmt.Sprintf("With load spread evenly, every worker reaches max_requests at about the same moment and they all restart together: for that moment no worker accepts and nginx answers 502. The jitter adds a random 0..N to each worker's limit (%d to %d requests here) so they recycle one at a time.", mr, mr+max(1, mr/10)),
	})
}

func (a *auditor) timeout(m *Master) {
	t := m.Settings.Get("timeout")
	kind, ok := classKind(m)
	if !t.Known() || !ok || t.Source != SourceDefault || kind != "sync" {
		return
	}
	a.add("timeout.default", incident.SeverityInfo, m.PID, Finding{
		Measured:    fmt.Sprintf("timeout %s with %s workers", t.String(), kind),
		Parameter:   "timeout (-t)",
		Current:     "30 (default)",
		Recommended: "30 if no legitimate request takes longer; else above the longest one, and below nginx's proxy_read_timeout (60 s)",
		Why:         "A sync worker holds one request at a time, and one that takes longer than 30 s is killed with its worker (WORKER TIMEOUT, then SIGKILL) and answered 502. Nothing says 30 s was chosen: check it against the app's slowest legitimate request, and keep it below nginx's proxy_read_timeout so Gunicorn, not nginx, ends a hung request.",
	})
}

func (a *auditor) queue(m *Master) {
	var queued []string
	var known bool
	total := 0
	for _, l := range m.Listeners {
		if l.Queue < 0 {
			continue
		}
		known = true
		if l.Queue > 0 {
			total += l.Queue
			q := fmt.Sprintf("accept queue %d on %s", l.Queue, l.Bind)
			if l.Max > 0 {
				q += fmt.Sprintf(" (at most %d)", l.Max)
			}
			queued = append(queued, q)
		}
	}
	if !known {
		why := "the bind address is unknown"
		if b := m.Settings.Get("bind"); b.Known() {
			why = "no listener found"
		}
		for _, l := range m.Listeners {
			why = l.Bind + ": " + l.Why
			break
		}
		a.skip("workers.saturated", m.PID, why)
		return
	}
	if total == 0 {
		return
	}
	var sampled, idle int
	for _, w := range m.Workers {
		if w.Sampled {
			sampled++
			if !w.Working() {
				idle++
			}
		}
	}
	if sampled == 0 {
		a.skip("workers.saturated", m.PID, "requests are queued but the workers' CPU use needs two samples")
		return
	}
	measured := fmt.Sprintf("%s; %d of %d workers used no CPU over %.1f s", strings.Join(queued, ", "), idle, sampled, a.snap.IntervalSeconds)
	note := " Time spent in this queue is not in nginx's $upstream_response_time nor in Gunicorn's request time."
	kind, _ := classKind(m)
	if kind == "sync" && idle*2 >= sampled {
		a.add("workers.io_wait", incident.SeverityWarning, m.PID, Finding{
			Measured:    measured,
			Parameter:   "worker_class (-k)",
			Current:     "sync",
			Recommended: "gevent (or gthread with --threads 4)",
			Why:         "Connections wait to be accepted while most sync workers use no CPU: they are busy waiting on I/O (a database, an API), one request each. A non-blocking worker class keeps serving while requests wait." + note,
		})
		return
	}
	n, _ := workerCount(m)
	rec := "more CPUs or hosts: the workers are busy with CPU"
	if cpus, _, ok := a.cpus(m); ok && n < recommendedWorkers(cpus) {
		rec = strconv.Itoa(recommendedWorkers(cpus))
	}
	a.add("workers.saturated", incident.SeverityWarning, m.PID, Finding{
		Measured:    measured,
		Parameter:   "workers (-w)",
		Current:     strconv.Itoa(n),
		Recommended: rec,
		Why:         "Every worker is busy and connections wait in the listen backlog; when it fills nginx gets errors (EAGAIN on a unix socket, timeouts on TCP)." + note,
	})
}

func (a *auditor) cpuSpike(m *Master) {
	iv := a.snap.IntervalSeconds
	if iv < spikeMinInterval {
		if iv == 0 {
			a.skip("cpu.spike", m.PID, "one sample: CPU use needs two")
		} else {
			a.skip("cpu.spike", m.PID, fmt.Sprintf("an interval of %.2f s is too short to tell a spike", iv))
		}
		return
	}
	var hot []string
	var first int
	for _, w := range m.Workers {
		if share := w.CPUDeltaSeconds / iv; w.Sampled && share >= spikeShare {
			if first == 0 {
				first = w.PID
			}
			hot = append(hot, fmt.Sprintf("worker %d at %.0f%%", w.PID, share*100))
		}
	}
	if len(hot) == 0 {
		return
	}
	a.add("cpu.spike", incident.SeverityWarning, m.PID, Finding{
		Measured:    fmt.Sprintf("%s of one CPU over %.1f s", strings.Join(hot, ", "), iv),
		Parameter:   "workers (-w)",
		Current:     strconv.Itoa(m.LiveWorkers()),
		Recommended: "unchanged: profile the worker",
		Why:         "A worker pinned at 100% is running application code (a loop, a regex, serialisation); page loads wait behind it. The knowledge page tried 1, 3, 9 and 17 workers: the worker count does not fix it, the code does.",
		Command:     fmt.Sprintf("py-spy dump --pid %d", first),
	})
}

func (a *auditor) logs(m *Master) {
	el := m.Settings.Get("errorlog")
	if el.Known() && el.Value == "-" {
		switch {
		case m.Stderr == "":
			a.skip("log.error_discarded", m.PID, "where the master's stderr goes could not be read")
		case m.Stderr == "/dev/null":
			a.add("log.error_discarded", incident.SeverityWarning, m.PID, Finding{
				Measured:    fmt.Sprintf("errorlog %s, and the master's stderr is /dev/null", el.String()),
				Parameter:   "errorlog (--error-logfile)",
				Current:     "- (stderr, discarded)",
				Recommended: "/var/log/gunicorn/error.log",
				Why:         "Gunicorn's error log (WORKER TIMEOUT, workers failing to boot, tracebacks) goes to stderr, and stderr goes nowhere: failures leave no trace for a person or for sigtail.",
			})
		}
	}
	al := m.Settings.Get("accesslog")
	if al.Known() && al.Value == "" {
		a.add("log.no_access", incident.SeverityInfo, m.PID, Finding{
			Measured:    "accesslog " + al.String(),
			Parameter:   "accesslog (--access-logfile)",
			Current:     "None",
			Recommended: "/var/log/gunicorn/access.log (with rt=%(L)s in access_log_format)",
			Why:         "Gunicorn keeps no record of the time each request took inside the workers, so the endpoints that come close to the timeout cannot be found. (The request a WORKER TIMEOUT aborted is never in it, the worker died before writing the line: that one is only in nginx's log.)",
		})
	}
}

func (a *auditor) preload(m *Master) {
	p, ok := m.Settings.Get("preload_app").Bool()
	n, _ := workerCount(m)
	if !ok || p || n < preloadMinWorker {
		return
	}
	measured := fmt.Sprintf("preload_app %s with %d workers", m.Settings.Get("preload_app").String(), n)
	if per, kind, ok := workerMemory(m); ok {
		measured += fmt.Sprintf(" of %s (%s) each", fmtBytes(per), kind)
	}
	a.add("preload.off", incident.SeverityInfo, m.PID, Finding{
		Measured:    measured,
		Parameter:   "preload_app (--preload)",
		Current:     "False",
		Recommended: "True",
		Why:         "Without it every worker imports the app itself: one copy of the app's memory per worker, and an import error repeats in every worker. With it the master loads the app once and workers share those pages copy-on-write. (Not with --reload, and open connections made at import must not be shared.)",
	})
}

func (a *auditor) threads(m *Master) {
	kind, ok := classKind(m)
	t, ok2 := m.Settings.Get("threads").Int()
	if !ok || !ok2 || kind != "async" || t <= 1 {
		return
	}
	a.add("threads.async", incident.SeverityInfo, m.PID, Finding{
		Measured:    fmt.Sprintf("worker_class %s with threads %d", m.Settings.Get("worker_class").Value, t),
		Parameter:   "threads (--threads)",
		Current:     strconv.Itoa(t),
		Recommended: "1",
		Why:         "threads only applies to the gthread worker; an async worker (gevent, eventlet) serves many requests in one thread already. Worker processes give CPU parallelism at the cost of memory; threads share memory but not the GIL.",
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
