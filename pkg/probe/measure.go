package probe

import (
	"fmt"
	"strings"
	"time"
)

// This file measures processes: memory from status and smaps_rollup, CPU
// time from stat, and CPU used since the previous sample.

// cpuMark is a process's CPU time at one sample. startTicks tells a pid
// reused by another process from the same process.
type cpuMark struct {
	startTicks, cpuTicks uint64
}

// measurer measures the processes of one sample.
type measurer struct {
	files
	boot time.Time
	prev map[int]cpuMark // previous sample's; not owned
	next map[int]cpuMark // this sample's
	unr  *unreadables
}

// measure reads what e's files say; ok is false when it exited meanwhile.
func (m *measurer) measure(e procEntry, master int, withCmdline bool) (Process, bool) {
	p := Process{PID: e.pid, PPID: e.ppid, UID: -1, State: string(e.state), Threads: e.threads,
		CPUSeconds: float64(e.cpuTicks) / userHZ}
	if withCmdline {
		p.Cmdline = strings.Join(e.cmdline, " ")
	}
	if !m.boot.IsZero() {
		p.Started = m.boot.Add(time.Duration(e.startTicks) * time.Second / userHZ)
	}
	statusFile := fmt.Sprintf("proc/%d/status", e.pid)
	b, err := m.read(statusFile)
	if err != nil {
		if gone(err) {
			return p, false
		}
		m.unr.add(master, statusFile, err, "RSS unknown")
	} else {
		st := parseStatus(b)
		p.RSS, p.UID = st.rss, st.uid
	}
	// smaps_rollup is Linux 4.14+; where it does not exist PSS stays 0.
	smaps := fmt.Sprintf("proc/%d/smaps_rollup", e.pid)
	if b, err := m.read(smaps); err == nil {
		p.PSS, _ = parseSmapsRollup(b)
	} else if !gone(err) {
		m.unr.add(master, smaps, err, "PSS unknown: memory sums use RSS, which counts the pages workers share with the master in every worker")
	}
	m.next[e.pid] = cpuMark{startTicks: e.startTicks, cpuTicks: e.cpuTicks}
	if prev, ok := m.prev[e.pid]; ok && prev.startTicks == e.startTicks && e.cpuTicks >= prev.cpuTicks {
		p.Sampled = true
		p.CPUDeltaSeconds = float64(e.cpuTicks-prev.cpuTicks) / userHZ
	}
	return p, true
}
