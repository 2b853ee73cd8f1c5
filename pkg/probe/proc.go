package probe

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// The parsers in this file are pure: bytes of one /proc or /sys file in,
// values out. The I/O is in files.go; the tests feed them literals.

// userHZ is the unit of the CPU times in /proc/PID/stat. sysconf(_SC_CLK_TCK)
// is 100 on every Linux architecture Go builds for (procfs assumes it too).
const userHZ = 100

// procStat is what /proc/PID/stat tells about one process.
type procStat struct {
	pid        int
	comm       string
	state      byte
	ppid       int
	cpuTicks   uint64 // utime + stime, in userHZ ticks
	startTicks uint64 // since boot, in userHZ ticks
	threads    int
}

// parseStat parses /proc/PID/stat. The command name is in parentheses and
// may itself hold spaces and parentheses, so fields are counted from the
// last ')'.
func parseStat(data []byte) (procStat, error) {
	var st procStat
	s := string(bytes.TrimSpace(data))
	open := strings.IndexByte(s, '(')
	closing := strings.LastIndexByte(s, ')')
	if open < 1 || closing < open {
		return st, fmt.Errorf("stat %.40q: no (comm)", s)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(s[:open]))
	if err != nil {
		return st, fmt.Errorf("stat %.40q: pid: %w", s, err)
	}
	st.pid, st.comm = pid, s[open+1:closing]
	f := strings.Fields(s[closing+1:])
	// f[0] is field 3 of proc(5): state; f[1] ppid; f[11] utime; f[12]
	// stime; f[17] num_threads; f[19] starttime.
	if len(f) < 20 || len(f[0]) != 1 {
		return st, fmt.Errorf("stat %.40q: %d fields after comm, want at least 20", s, len(f))
	}
	st.state = f[0][0]
	nums := [4]uint64{}
	for i, idx := range [4]int{1, 11, 12, 19} {
		n, err := strconv.ParseUint(f[idx], 10, 64)
		if err != nil {
			return st, fmt.Errorf("stat of pid %d: field %d: %w", pid, idx+3, err)
		}
		nums[i] = n
	}
	st.ppid = int(nums[0])
	st.cpuTicks = nums[1] + nums[2]
	st.startTicks = nums[3]
	st.threads, _ = strconv.Atoi(f[17])
	return st, nil
}

// parseCmdline splits /proc/PID/cmdline at its NULs. A title set by
// setproctitle is one string, often padded with spaces or NULs: padding is
// dropped. A kernel thread's cmdline is empty.
func parseCmdline(data []byte) []string {
	data = bytes.TrimRight(data, "\x00 ")
	if len(data) == 0 {
		return nil
	}
	return strings.Split(string(data), "\x00")
}

// parseEnviron parses /proc/PID/environ (NUL-separated NAME=value).
func parseEnviron(data []byte) map[string]string {
	env := map[string]string{}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok && k != "" {
			env[k] = v
		}
	}
	return env
}

// procStatus is what /proc/PID/status adds: readable by every user.
type procStatus struct {
	uid int    // real uid; -1 unknown
	rss uint64 // VmRSS in bytes; 0 for kernel threads and zombies
}

func parseStatus(data []byte) procStatus {
	st := procStatus{uid: -1}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch k {
		case "Uid":
			if f := strings.Fields(v); len(f) > 0 {
				if n, err := strconv.Atoi(f[0]); err == nil {
					st.uid = n
				}
			}
		case "VmRSS":
			st.rss, _ = parseKB(v)
		}
	}
	return st
}

// parseSmapsRollup returns the Pss line of /proc/PID/smaps_rollup in bytes.
func parseSmapsRollup(data []byte) (uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			return parseKB(v)
		}
	}
	return 0, false
}

// parseKB reads "  1234 kB" as bytes.
func parseKB(v string) (uint64, bool) {
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return 0, false
	}
	if len(f) > 1 && strings.EqualFold(f[1], "kB") {
		n *= 1024
	}
	return n, true
}

// meminfo is the part of /proc/meminfo used here, in bytes.
type meminfo struct {
	total, available uint64
}

func parseMeminfo(data []byte) (meminfo, error) {
	var m meminfo
	var seen bool
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch k {
		case "MemTotal":
			m.total, seen = parseKB(v)
		case "MemAvailable":
			m.available, _ = parseKB(v)
		}
	}
	if !seen {
		return m, fmt.Errorf("meminfo: no MemTotal line")
	}
	return m, nil
}

// parseBootTime returns btime (seconds since the epoch) from /proc/stat.
func parseBootTime(data []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "btime "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/stat: no btime line")
}

// parseCPUList counts the CPUs of a list such as "0-3,8,10-11", the format
// of /sys/devices/system/cpu/online and cpuset.cpus.
func parseCPUList(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty CPU list")
	}
	n := 0
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0, fmt.Errorf("CPU list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return 0, fmt.Errorf("CPU list %q: %w", s, err)
			}
		}
		if b < a {
			return 0, fmt.Errorf("CPU list %q: range %s runs backwards", s, part)
		}
		n += b - a + 1
	}
	return n, nil
}
