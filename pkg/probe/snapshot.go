package probe

import (
	"time"
)

// Snapshot is one look at the host's Gunicorn masters.
type Snapshot struct {
	Time time.Time `json:"time"`
	// IntervalSeconds is the time since the previous Sample of the same
	// Prober, over which CPU deltas were measured; 0 on the first sample.
	IntervalSeconds float64      `json:"interval_seconds"`
	Root            string       `json:"root"`
	Host            Host         `json:"host"`
	Masters         []*Master    `json:"masters"`
	Unreadable      []Unreadable `json:"unreadable,omitempty"`
	Processes       int          `json:"processes"` // processes looked at
}

// Host is what the host has, whatever cgroup a master is in.
type Host struct {
	OnlineCPUs   int       `json:"online_cpus,omitempty"` // 0 when unknown
	MemTotal     uint64    `json:"mem_total_bytes,omitempty"`
	MemAvailable uint64    `json:"mem_available_bytes,omitempty"`
	Somaxconn    int       `json:"somaxconn,omitempty"` // net.core.somaxconn: caps every listen backlog
	BootTime     time.Time `json:"boot_time,omitzero"`
}

// Process is one process's measurements.
type Process struct {
	PID     int       `json:"pid"`
	PPID    int       `json:"ppid"`
	UID     int       `json:"uid"`               // real uid; -1 when unknown
	Cmdline string    `json:"cmdline,omitempty"` // joined with spaces; left out for workers (the master's)
	State   string    `json:"state"`             // R, S, D... as in /proc/PID/stat
	Started time.Time `json:"started,omitzero"`
	Threads int       `json:"threads,omitempty"`
	RSS     uint64    `json:"rss_bytes"`
	// PSS is the proportional set size from smaps_rollup: shared pages
	// divided among the processes sharing them. 0 when it could not be read.
	PSS        uint64  `json:"pss_bytes,omitempty"`
	CPUSeconds float64 `json:"cpu_seconds"`
	// CPUDeltaSeconds is the CPU time used since the previous sample, when
	// Sampled.
	CPUDeltaSeconds float64 `json:"cpu_delta_seconds"`
	Sampled         bool    `json:"sampled"`
}

// Memory is the process's memory for sums: PSS when known, else RSS
// (which counts the pages a worker shares with the master, copy-on-write,
// once in every worker), and which one it is.
func (p Process) Memory() (uint64, string) {
	if p.PSS > 0 {
		return p.PSS, "PSS"
	}
	return p.RSS, "RSS"
}

// Working says whether the process used CPU over the interval, as the
// Datadog Agent's gunicorn check tells working from idle workers. An idle
// sync worker waits in select() and uses none; so does one blocked on I/O.
func (p Process) Working() bool { return p.Sampled && p.CPUDeltaSeconds > 0 }

// Master is one Gunicorn master with all it was found to run with.
type Master struct {
	Process
	// Title is the setproctitle title ("gunicorn: master [app]") when the
	// command line was replaced by it; the flags are then not visible.
	Title string `json:"title,omitempty"`
	App   string `json:"app,omitempty"` // the positional arguments: app:app
	// ConfigFile is the config file read, as a path on the host; empty when
	// none was.
	ConfigFile string    `json:"config_file,omitempty"`
	Settings   Settings  `json:"settings"`
	Workers    []Process `json:"workers"`
	// Others are the processes under the master that are not its workers:
	// children of workers (multiprocessing, subprocess), or of the master.
	Others []Process `json:"others,omitempty"`
	// PrevLiveWorkers is the live worker count at the previous sample; -1
	// on the first.
	PrevLiveWorkers int        `json:"prev_live_workers"`
	Cgroup          Cgroup     `json:"cgroup"`
	Listeners       []Listener `json:"listeners,omitempty"`
	// Stderr is where the master's fd 2 points (the error log when errorlog
	// is "-"); empty when it could not be read.
	Stderr string   `json:"stderr,omitempty"`
	Notes  []string `json:"notes,omitempty"`
}

// LiveWorkers is how many workers are alive (zombies are not counted).
func (m *Master) LiveWorkers() int { return len(m.Workers) }

// ConfiguredWorkers is the effective workers setting, when known.
func (m *Master) ConfiguredWorkers() (int, bool) { return m.Settings.Get("workers").Int() }

// Describe is how people recognise the master: its command line, or its
// title when setproctitle replaced it.
func (m *Master) Describe() string {
	if m.Title != "" {
		return m.Title
	}
	return m.Cmdline
}
