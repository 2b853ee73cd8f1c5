package probe

import (
	"fmt"
	"strings"
	"time"
)

// This file words a Snapshot for people: one line per fact, for the
// evidence of incidents and for `sigtail audit`.

// Evidence describes the whole snapshot: the host, each master, and what
// could not be read.
func (s *Snapshot) Evidence() []string {
	lines := []string{s.HostLine()}
	for _, m := range s.Masters {
		lines = append(lines, s.MasterEvidence(m)...)
	}
	for _, u := range s.Unreadable {
		if u.PID == 0 {
			lines = append(lines, u.String())
		}
	}
	return lines
}

// HostLine is the host's CPUs and memory.
func (s *Snapshot) HostLine() string {
	h := s.Host
	var parts []string
	if h.OnlineCPUs > 0 {
		parts = append(parts, plural(h.OnlineCPUs, "online CPU"))
	} else {
		parts = append(parts, "online CPUs unknown")
	}
	if h.MemTotal > 0 {
		m := "memory " + fmtBytes(h.MemTotal)
		if h.MemAvailable > 0 {
			m += fmt.Sprintf(" (%s available)", fmtBytes(h.MemAvailable))
		}
		parts = append(parts, m)
	}
	if h.Somaxconn > 0 {
		parts = append(parts, fmt.Sprintf("somaxconn %d", h.Somaxconn))
	}
	return fmt.Sprintf("host: %s; %s", strings.Join(parts, ", "), plural(len(s.Masters), "Gunicorn master"))
}

// MasterEvidence describes one master, its settings, cgroup, listeners,
// each worker and each other process under it, and what could not be read.
func (s *Snapshot) MasterEvidence(m *Master) []string {
	var lines []string
	head := fmt.Sprintf("master %d (%s): %s live", m.PID, truncate(m.Describe(), 80), plural(m.LiveWorkers(), "worker"))
	if c, ok := m.ConfiguredWorkers(); ok {
		head += fmt.Sprintf(", %d configured", c)
	} else {
		head += ", configured " + m.Settings.Get("workers").ValueString()
	}
	if s.Host.OnlineCPUs > 0 {
		head += ", " + plural(s.Host.OnlineCPUs, "online CPU")
	}
	if m.Cgroup.CPUQuota > 0 {
		head += ", cgroup quota " + fmtCPUs(m.Cgroup.CPUQuota)
	}
	if m.Cgroup.MemoryLimit > 0 {
		head += ", cgroup memory limit " + fmtBytes(m.Cgroup.MemoryLimit)
	}
	lines = append(lines, head)

	lines = append(lines, settingsEvidence(m)...)

	if m.Cgroup.Version > 0 {
		cg := fmt.Sprintf("master %d cgroup v%d %s:", m.PID, m.Cgroup.Version, m.Cgroup.Path)
		if m.Cgroup.CPUQuota > 0 {
			cg += fmt.Sprintf(" CPU quota %s (/%s)", fmtCPUs(m.Cgroup.CPUQuota), m.Cgroup.CPUQuotaFile)
		} else {
			cg += " no CPU quota"
		}
		if m.Cgroup.CPUSet > 0 && m.Cgroup.CPUSet < s.Host.OnlineCPUs {
			cg += fmt.Sprintf(", cpuset of %d CPUs", m.Cgroup.CPUSet)
		}
		if m.Cgroup.MemoryLimit > 0 {
			cg += fmt.Sprintf(", memory limit %s (/%s)", fmtBytes(m.Cgroup.MemoryLimit), m.Cgroup.MemoryLimitFile)
		} else {
			cg += ", no memory limit"
		}
		if m.Cgroup.MemoryUsage > 0 {
			cg += ", using " + fmtBytes(m.Cgroup.MemoryUsage)
		}
		lines = append(lines, cg)
	}
	for _, l := range m.Listeners {
		if l.Queue < 0 {
			lines = append(lines, fmt.Sprintf("master %d listens on %s: accept queue unknown: %s", m.PID, l.Bind, l.Why))
			continue
		}
		q := fmt.Sprintf("master %d listens on %s: accept queue %d", m.PID, l.Bind, l.Queue)
		if l.Max > 0 {
			q += fmt.Sprintf(" of at most %d", l.Max)
		}
		lines = append(lines, q)
	}
	if m.Stderr != "" {
		lines = append(lines, fmt.Sprintf("master %d stderr goes to %s", m.PID, m.Stderr))
	}
	lines = append(lines, fmt.Sprintf("master %d itself: %s", m.PID, s.processFacts(m.Process)))
	for _, w := range m.Workers {
		lines = append(lines, fmt.Sprintf("worker %d of master %d: %s", w.PID, m.PID, s.processFacts(w)))
	}
	for _, o := range m.Others {
		lines = append(lines, fmt.Sprintf("process %d under master %d (child of %d, not a worker): %s: %s", o.PID, m.PID, o.PPID, truncate(o.Cmdline, 60), s.processFacts(o)))
	}
	for _, n := range m.Notes {
		lines = append(lines, fmt.Sprintf("master %d: %s", m.PID, n))
	}
	for _, u := range s.Unreadable {
		if u.PID == m.PID {
			lines = append(lines, u.String())
		}
	}
	return lines
}

// settingsEvidence says which settings were set and where, which are
// Gunicorn's defaults, which are unknown, and what could change them
// unseen.
func settingsEvidence(m *Master) []string {
	var set, defaults, unknown, caveats []string
	affected := map[string]int{}
	for _, n := range m.Settings.Names() {
		s := m.Settings[n]
		switch {
		case !s.Known():
			u := n
			var why []string
			if s.Expr != "" {
				why = append(why, s.Expr)
			}
			if o := s.Origin(); o != "" {
				why = append(why, o)
			}
			if len(why) > 0 {
				u += " (" + strings.Join(why, ", ") + ")"
			}
			unknown = append(unknown, u)
		case s.Source == SourceDefault:
			defaults = append(defaults, n+"="+s.ValueString())
		default:
			set = append(set, n+"="+s.ValueString()+" ("+s.Origin()+")")
		}
		for _, c := range strings.Split(s.Caveat, "; ") {
			if c == "" {
				continue
			}
			if affected[c] == 0 {
				caveats = append(caveats, c)
			}
			affected[c]++
		}
	}
	var lines []string
	if len(set) > 0 {
		lines = append(lines, fmt.Sprintf("master %d settings: %s", m.PID, strings.Join(set, ", ")))
	}
	if len(defaults) > 0 {
		lines = append(lines, fmt.Sprintf("master %d defaults: %s", m.PID, strings.Join(defaults, ", ")))
	}
	if len(unknown) > 0 {
		lines = append(lines, fmt.Sprintf("master %d unknown settings: %s", m.PID, strings.Join(unknown, ", ")))
	}
	for _, c := range caveats {
		lines = append(lines, fmt.Sprintf("master %d caveat: %s (%s)", m.PID, c, plural(affected[c], "setting")))
	}
	return lines
}

// processFacts is a process's memory, CPU and age.
func (s *Snapshot) processFacts(p Process) string {
	f := "RSS " + fmtBytes(p.RSS)
	if p.PSS > 0 {
		f += ", PSS " + fmtBytes(p.PSS)
	}
	f += fmt.Sprintf(", CPU %.2f s", p.CPUSeconds)
	if p.Sampled && s.IntervalSeconds > 0 {
		state := "idle"
		if p.Working() {
			state = "working"
		}
		f += fmt.Sprintf(" (+%.2f s over %.1f s: %s)", p.CPUDeltaSeconds, s.IntervalSeconds, state)
	}
	if !p.Started.IsZero() && !s.Time.IsZero() && s.Time.After(p.Started) {
		f += ", up " + fmtAge(s.Time.Sub(p.Started))
	}
	if p.State != "" && p.State != "S" && p.State != "R" {
		f += ", state " + p.State
	}
	return f
}

func plural(n int, what string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// fmtBytes is a size in binary units: 200 MiB, 1.0 GiB.
func fmtBytes(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// fmtCPUs is a CPU count or quota: 1.0 CPU, 2.5 CPUs.
func fmtCPUs(c float64) string {
	if c == 1 {
		return "1.0 CPU"
	}
	return fmt.Sprintf("%.1f CPUs", c)
}

// fmtAge is a duration to the unit people think in: 45s, 12m, 3h, 2d.
func fmtAge(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}
