package probe

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Prober.
type Options struct {
	// FS, when set, is read instead of the directory root: tests pass a fake
	// tree that refuses some reads, as the kernel refuses another user's
	// environ to an unprivileged reader.
	FS fs.FS
}

// Prober samples one host's process table. It keeps the previous sample's
// CPU times to tell working workers from idle ones. Its methods are safe
// for concurrent use; constructing it reads nothing.
type Prober struct {
	root  string
	files files

	mu       sync.Mutex
	prev     map[int]cpuMark // pid → CPU time at the previous sample
	prevLive map[int]int     // master pid → live workers at the previous sample
	prevTime time.Time
}

// New returns a Prober of the host whose "/" is root ("/" for this host).
func New(root string, opts Options) *Prober {
	fsys := opts.FS
	if fsys == nil {
		fsys = os.DirFS(root)
	}
	return &Prober{root: root, files: files{fsys: fsys}}
}

// Sample reads the process table at time now. The error is only for a
// process table that cannot be read at all; a file that cannot be read is
// listed in Snapshot.Unreadable with what it leaves unknown.
func (p *Prober) Sample(now time.Time) (*Snapshot, error) {
	procs, err := p.files.processTable()
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said here, from the root
		}
		return nil, fmt.Errorf("reading the process table %s: %w", filepath.Join(p.root, "proc"), err)
	}
	var u unreadables
	snap := &Snapshot{Time: now, Root: p.root, Processes: len(procs)}
	snap.Host = p.files.readHost(&u)

	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.prevTime.IsZero() {
		snap.IntervalSeconds = now.Sub(p.prevTime).Seconds()
	}
	m := &measurer{files: p.files, boot: snap.Host.BootTime, prev: p.prev, next: map[int]cpuMark{}, unr: &u}
	live := map[int]int{}
	for _, t := range discover(procs, p.files.reexeced) {
		master, ok := p.files.readMaster(t, snap.Host, m, &u)
		if !ok {
			continue
		}
		master.PrevLiveWorkers = -1
		if n, ok := p.prevLive[master.PID]; ok {
			master.PrevLiveWorkers = n
		}
		live[master.PID] = master.LiveWorkers()
		snap.Masters = append(snap.Masters, master)
	}
	p.prev, p.prevLive, p.prevTime = m.next, live, now
	snap.Unreadable = u.sorted()
	return snap, nil
}

// processTable reads stat and cmdline of every process. A process that
// exits meanwhile is left out.
func (f files) processTable() ([]procEntry, error) {
	ents, err := f.readDir("proc")
	if err != nil {
		return nil, err
	}
	var out []procEntry
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		b, err := f.read(fmt.Sprintf("proc/%d/stat", pid))
		if err != nil {
			continue // exited, or hidden (hidepid): nothing to say about it
		}
		st, err := parseStat(b)
		if err != nil {
			continue
		}
		cl, _ := f.read(fmt.Sprintf("proc/%d/cmdline", pid))
		out = append(out, procEntry{procStat: st, cmdline: parseCmdline(cl)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no process in it: not a proc filesystem")
	}
	return out, nil
}

// reexeced says whether pid is a master re-executed by USR2: the new
// master is a child of the old one and inherits its sockets through
// GUNICORN_FD.
func (f files) reexeced(pid int) bool {
	b, err := f.read(fmt.Sprintf("proc/%d/environ", pid))
	if err != nil {
		return false
	}
	_, ok := parseEnviron(b)["GUNICORN_FD"]
	return ok
}

// readHost reads the CPUs, memory, somaxconn and boot time of the host.
func (f files) readHost(u *unreadables) Host {
	var h Host
	if b, err := f.read("sys/devices/system/cpu/online"); err == nil {
		h.OnlineCPUs, _ = parseCPUList(string(b))
	} else {
		u.add(0, "sys/devices/system/cpu/online", err, "online CPUs unknown")
	}
	if b, err := f.read("proc/meminfo"); err == nil {
		if mi, err := parseMeminfo(b); err == nil {
			h.MemTotal, h.MemAvailable = mi.total, mi.available
		}
	} else {
		u.add(0, "proc/meminfo", err, "host memory unknown")
	}
	if b, err := f.read("proc/sys/net/core/somaxconn"); err == nil {
		h.Somaxconn, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if b, err := f.read("proc/stat"); err == nil {
		if bt, err := parseBootTime(b); err == nil {
			h.BootTime = time.Unix(bt, 0).UTC()
		}
	}
	return h
}

// readMaster measures one discovered master and everything under it.
func (f files) readMaster(t *tree, host Host, m *measurer, u *unreadables) (*Master, bool) {
	pid := t.master.pid
	self, ok := m.measure(t.master, pid, true)
	if !ok {
		return nil, false
	}
	master := &Master{Process: self, Title: t.title}
	st, notes := f.readStartup(pid, t, u)
	master.Notes = append(master.Notes, notes...)
	master.Settings = settingsOf(st)
	if st.cmd != nil {
		master.App = strings.Join(st.cmd.positional, " ")
	}
	if st.config != nil {
		master.ConfigFile = st.configName
	}
	if t.title != "" {
		master.Notes = append(master.Notes, "the command line was replaced by setproctitle: its flags cannot be seen, so settings it may set are unknown")
	}
	for _, w := range t.workers {
		if p, ok := m.measure(w, pid, false); ok {
			master.Workers = append(master.Workers, p)
		}
	}
	for _, o := range t.others {
		if p, ok := m.measure(o, pid, true); ok {
			master.Others = append(master.Others, p)
		}
	}
	cgFile := fmt.Sprintf("proc/%d/cgroup", pid)
	if b, err := f.read(cgFile); err == nil {
		cg, err := f.readCgroup(b)
		if err != nil {
			master.Notes = append(master.Notes, "cgroup limits unknown: "+err.Error())
		}
		master.Cgroup = cg
	} else if !gone(err) {
		u.add(pid, cgFile, err, "cgroup limits unknown")
	}
	if bind := master.Settings.Get("bind"); bind.Known() {
		backlog, _ := master.Settings.Get("backlog").Int()
		ls, notes := f.readListeners(pid, bind.List, backlog, host.Somaxconn, u)
		master.Listeners = ls
		master.Notes = append(master.Notes, notes...)
	}
	if el := master.Settings.Get("errorlog"); el.Known() && el.Value == "-" {
		fd2 := fmt.Sprintf("proc/%d/fd/2", pid)
		if target, err := f.readlink(fd2); err == nil {
			master.Stderr = target
		} else if !gone(err) {
			u.add(pid, fd2, err, "where the error log goes (errorlog is -, stderr) unknown")
		}
	}
	return master, true
}
