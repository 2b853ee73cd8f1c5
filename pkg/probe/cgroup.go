package probe

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
)

// This file finds the CPU and memory limits of a process's cgroup: the
// cgroup v2 files (cpu.max, memory.max, cpuset.cpus.effective) or the v1
// ones (cpu.cfs_quota_us / cpu.cfs_period_us, memory.limit_in_bytes,
// cpuset), walking from the process's cgroup up to the root, because a
// parent's limit binds its children too. Paths in /proc/PID/cgroup are
// relative to the reader's cgroup namespace root, which is where
// /sys/fs/cgroup is mounted when sigtail and the master share it.

// Cgroup is what the master's cgroup allows.
type Cgroup struct {
	Version int    `json:"version,omitempty"` // 2 or 1; 0 when not found
	Path    string `json:"path,omitempty"`    // as /proc/PID/cgroup says
	// CPUQuota is the CPU time allowed per period, in CPUs (1.5 = one and a
	// half CPUs); 0 when there is no quota.
	CPUQuota float64 `json:"cpu_quota,omitempty"`
	// CPUQuotaFile is where the binding quota was read.
	CPUQuotaFile string `json:"cpu_quota_file,omitempty"`
	// CPUSet is how many CPUs the cpuset allows; 0 when unknown.
	CPUSet int `json:"cpuset_cpus,omitempty"`
	// MemoryLimit in bytes; 0 when there is none.
	MemoryLimit     uint64 `json:"memory_limit_bytes,omitempty"`
	MemoryLimitFile string `json:"memory_limit_file,omitempty"`
	// MemoryUsage of the cgroup (memory.current, memory.usage_in_bytes).
	MemoryUsage uint64 `json:"memory_usage_bytes,omitempty"`
}

// cgroupLine is one line of /proc/PID/cgroup.
type cgroupLine struct {
	controllers []string // empty for the v2 line "0::/path"
	path        string
}

func parseProcCgroup(data []byte) []cgroupLine {
	var out []cgroupLine
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		cl := cgroupLine{path: parts[2]}
		if parts[1] != "" {
			cl.controllers = strings.Split(parts[1], ",")
		}
		out = append(out, cl)
	}
	return out
}

// parseCPUMax parses cgroup v2 cpu.max: "max 100000" or "150000 100000".
func parseCPUMax(s string) (float64, error) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 2 {
		return 0, fmt.Errorf("cpu.max %q: want QUOTA PERIOD", s)
	}
	if f[0] == "max" {
		return 0, nil
	}
	period := 100000.0
	quota, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, fmt.Errorf("cpu.max %q: %w", s, err)
	}
	if len(f) == 2 {
		if period, err = strconv.ParseFloat(f[1], 64); err != nil || period <= 0 {
			return 0, fmt.Errorf("cpu.max %q: bad period", s)
		}
	}
	return quota / period, nil
}

// parseCFS turns v1 cpu.cfs_quota_us and cpu.cfs_period_us into CPUs; a
// quota of -1 is no quota.
func parseCFS(quota, period string) (float64, error) {
	q, err := strconv.ParseInt(strings.TrimSpace(quota), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cpu.cfs_quota_us %q: %w", quota, err)
	}
	if q < 0 {
		return 0, nil
	}
	p, err := strconv.ParseInt(strings.TrimSpace(period), 10, 64)
	if err != nil || p <= 0 {
		return 0, fmt.Errorf("cpu.cfs_period_us %q: want a positive number", period)
	}
	return float64(q) / float64(p), nil
}

// noMemoryLimit is where v1 reports "no limit" (PAGE_COUNTER_MAX pages,
// 9223372036854771712 on 4 KiB pages); anything this large is unlimited.
const noMemoryLimit = uint64(1) << 60

// parseMemoryLimit parses memory.max ("max" or bytes) and
// memory.limit_in_bytes; 0 means no limit.
func parseMemoryLimit(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memory limit %q: %w", s, err)
	}
	if n >= noMemoryLimit {
		return 0, nil
	}
	return n, nil
}

// readCgroup finds the limits of the cgroup in /proc/PID/cgroup data.
func (f files) readCgroup(data []byte) (Cgroup, error) {
	var cg Cgroup
	lines := parseProcCgroup(data)
	if len(lines) == 0 {
		return cg, fmt.Errorf("no cgroup lines")
	}
	var v2 *cgroupLine
	v1 := map[string]cgroupLine{}
	for i, l := range lines {
		if len(l.controllers) == 0 {
			v2 = &lines[i]
			continue
		}
		for _, c := range l.controllers {
			v1[c] = l
		}
	}
	found := false
	if v2 != nil {
		base := "sys/fs/cgroup"
		if !f.exists(base + "/cgroup.controllers") {
			base = "sys/fs/cgroup/unified" // hybrid: v2 beside the v1 controllers
		}
		dir := path.Join(base, rel(v2.path))
		if f.exists(base+"/cgroup.controllers") && f.exists(dir) {
			cg.Version, cg.Path, found = 2, v2.path, true
			f.walkUp(base, dir, "cpu.max", func(file, s string) {
				if q, err := parseCPUMax(s); err == nil && q > 0 && (cg.CPUQuota == 0 || q < cg.CPUQuota) {
					cg.CPUQuota, cg.CPUQuotaFile = q, file
				}
			})
			f.walkUp(base, dir, "memory.max", func(file, s string) {
				if m, err := parseMemoryLimit(s); err == nil && m > 0 && (cg.MemoryLimit == 0 || m < cg.MemoryLimit) {
					cg.MemoryLimit, cg.MemoryLimitFile = m, file
				}
			})
			if b, err := f.read(dir + "/memory.current"); err == nil {
				cg.MemoryUsage, _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
			}
			if b, err := f.read(dir + "/cpuset.cpus.effective"); err == nil {
				cg.CPUSet, _ = parseCPUList(string(b))
			}
		}
	}
	// v1 controllers, for what v2 did not give (hybrid hosts keep cpu and
	// memory in v1).
	if l, ok := v1["cpu"]; ok && cg.CPUQuota == 0 {
		if base, dir, ok := f.v1Dir(l, "cpu"); ok {
			found = true
			f.walkUp(base, dir, "cpu.cfs_quota_us", func(file, s string) {
				p, err := f.read(path.Join(path.Dir(file), "cpu.cfs_period_us"))
				if err != nil {
					return
				}
				if q, err := parseCFS(s, string(p)); err == nil && q > 0 && (cg.CPUQuota == 0 || q < cg.CPUQuota) {
					cg.CPUQuota, cg.CPUQuotaFile = q, file
				}
			})
			cg.setV1(l.path)
		}
	}
	if l, ok := v1["memory"]; ok && cg.MemoryLimit == 0 {
		if base, dir, ok := f.v1Dir(l, "memory"); ok {
			found = true
			f.walkUp(base, dir, "memory.limit_in_bytes", func(file, s string) {
				if m, err := parseMemoryLimit(s); err == nil && m > 0 && (cg.MemoryLimit == 0 || m < cg.MemoryLimit) {
					cg.MemoryLimit, cg.MemoryLimitFile = m, file
				}
			})
			if b, err := f.read(dir + "/memory.usage_in_bytes"); err == nil {
				cg.MemoryUsage, _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
			}
			cg.setV1(l.path)
		}
	}
	if l, ok := v1["cpuset"]; ok && cg.CPUSet == 0 {
		if _, dir, ok := f.v1Dir(l, "cpuset"); ok {
			for _, name := range []string{"cpuset.effective_cpus", "cpuset.cpus"} {
				if b, err := f.read(dir + "/" + name); err == nil {
					if n, err := parseCPUList(string(b)); err == nil {
						cg.CPUSet = n
						break
					}
				}
			}
		}
	}
	if !found {
		return cg, fmt.Errorf("no directory under /sys/fs/cgroup for %q", strings.TrimSpace(string(data)))
	}
	return cg, nil
}

func (cg *Cgroup) setV1(p string) {
	if cg.Version == 0 {
		cg.Version, cg.Path = 1, p
	}
}

// v1Dir finds the v1 hierarchy of a controller: mounted as the joined
// controller list (cpu,cpuacct) or under the controller's own name.
func (f files) v1Dir(l cgroupLine, controller string) (base, dir string, ok bool) {
	for _, name := range []string{strings.Join(l.controllers, ","), controller} {
		base = "sys/fs/cgroup/" + name
		dir = path.Join(base, rel(l.path))
		if f.exists(dir) {
			return base, dir, true
		}
	}
	return "", "", false
}

// walkUp calls fn with the content of name in dir and in each of its
// parents up to base.
func (f files) walkUp(base, dir, name string, fn func(file, content string)) {
	for {
		file := path.Join(dir, name)
		if b, err := f.read(file); err == nil {
			fn(file, strings.TrimSpace(string(b)))
		}
		if dir == base || !strings.HasPrefix(dir, base+"/") {
			return
		}
		dir = path.Dir(dir)
	}
}

// EffectiveCPUs is how many CPUs the master's processes can use at once:
// the online CPUs, bounded by the cpuset and the CFS quota. ok is false
// when the online count is unknown.
func EffectiveCPUs(online int, cg Cgroup) (cpus float64, ok bool) {
	if online <= 0 {
		return 0, false
	}
	cpus = float64(online)
	if cg.CPUSet > 0 && float64(cg.CPUSet) < cpus {
		cpus = float64(cg.CPUSet)
	}
	if cg.CPUQuota > 0 && cg.CPUQuota < cpus {
		cpus = cg.CPUQuota
	}
	return math.Round(cpus*100) / 100, true
}
