package probe

import (
	"path"
	"regexp"
	"slices"
	"strings"
)

// This file finds Gunicorn masters, their workers and whatever else runs
// under them, from the process table alone. It is pure: proc entries in,
// tree out; the one question that needs a file (is this child a master
// re-executed by USR2?) is asked through a function.

// procEntry is one row of the process table: stat and cmdline.
type procEntry struct {
	procStat
	cmdline []string
}

func (e procEntry) alive() bool { return e.state != 'Z' && e.state != 'X' && e.state != 'x' }

// kind says how a command line looks as a Gunicorn process.
type kind int

const (
	notGunicorn kind = iota
	gunicornCmd      // a command line that runs Gunicorn: master, or a forked worker
	titleMaster      // "gunicorn: master [name]" set by setproctitle
	titleWorker      // "gunicorn: worker [name]"
)

// gunicornProgram is the name of the entry point script (gunicorn3 is
// Debian's before bookworm).
func gunicornProgram(base string) bool { return base == "gunicorn" || base == "gunicorn3" }

var pythonName = regexp.MustCompile(`^(python|pypy)[0-9.]*[dmu]?$`)

// pythonArgValue lists the interpreter options that take the next argument.
var pythonArgValue = map[string]bool{"-X": true, "-W": true, "-Q": true}

// recognize says whether cmdline runs Gunicorn, and returns the arguments
// Gunicorn itself sees (its own flags and the app), or the name in the
// brackets of a setproctitle title.
func recognize(cmdline []string) (k kind, args []string, title string) {
	if len(cmdline) == 0 {
		return notGunicorn, nil, ""
	}
	if len(cmdline) == 1 && strings.HasPrefix(cmdline[0], "gunicorn: ") {
		t := strings.TrimSpace(cmdline[0])
		switch {
		case strings.HasPrefix(t, "gunicorn: master"):
			return titleMaster, nil, t
		case strings.HasPrefix(t, "gunicorn: worker"):
			return titleWorker, nil, t
		}
		return notGunicorn, nil, ""
	}
	base := path.Base(cmdline[0])
	if gunicornProgram(base) {
		return gunicornCmd, cmdline[1:], ""
	}
	if !pythonName.MatchString(base) {
		return notGunicorn, nil, ""
	}
	for i := 1; i < len(cmdline); i++ {
		a := cmdline[i]
		switch {
		case a == "-m" || a == "-c":
			if a == "-m" && i+1 < len(cmdline) && gunicornModule(cmdline[i+1]) {
				return gunicornCmd, cmdline[i+2:], ""
			}
			return notGunicorn, nil, ""
		case strings.HasPrefix(a, "-m"):
			if gunicornModule(a[2:]) {
				return gunicornCmd, cmdline[i+1:], ""
			}
			return notGunicorn, nil, ""
		case pythonArgValue[a]:
			i++
		case strings.HasPrefix(a, "-") && a != "-":
			// -u, -OO, -B, -Wignore...: an option alone
		default:
			if gunicornProgram(path.Base(a)) {
				return gunicornCmd, cmdline[i+1:], ""
			}
			return notGunicorn, nil, ""
		}
	}
	return notGunicorn, nil, ""
}

func gunicornModule(m string) bool { return m == "gunicorn" || m == "gunicorn.app.wsgiapp" }

// tree is a master as discovery found it.
type tree struct {
	master  procEntry
	kind    kind
	args    []string // Gunicorn's arguments; nil when a title hides them
	title   string
	workers []procEntry
	others  []procEntry // descendants that are neither workers nor masters
}

// discover finds every Gunicorn master in procs. reexeced says whether a
// Gunicorn child of a master is itself a master (re-executed by USR2); it
// is asked only for a child that has Gunicorn children of its own.
func discover(procs []procEntry, reexeced func(pid int) bool) []*tree {
	byPID := make(map[int]procEntry, len(procs))
	children := map[int][]int{}
	kinds := map[int]kind{}
	for _, p := range procs {
		if !p.alive() {
			continue
		}
		byPID[p.pid] = p
		children[p.ppid] = append(children[p.ppid], p.pid)
		if k, _, _ := recognize(p.cmdline); k != notGunicorn {
			kinds[p.pid] = k
		}
	}
	for _, c := range children {
		slices.Sort(c)
	}
	hasGunicornChild := func(pid int) bool {
		for _, c := range children[pid] {
			if kinds[c] != notGunicorn {
				return true
			}
		}
		return false
	}
	var out []*tree
	var visit func(pid int)
	visit = func(pid int) {
		m := byPID[pid]
		k, args, title := recognize(m.cmdline)
		t := &tree{master: m, kind: k, args: args, title: title}
		out = append(out, t)
		// Walk the subtree: direct Gunicorn children are workers (or
		// nested masters); everything else below is "others".
		var below func(pid int, depth int)
		below = func(pid int, depth int) {
			for _, c := range children[pid] {
				ce := byPID[c]
				ck := kinds[c]
				if depth == 0 && ck != notGunicorn {
					if ck == titleMaster || (ck == gunicornCmd && hasGunicornChild(c) && reexeced(c)) {
						visit(c)
						continue
					}
					if ck == titleWorker || slices.Equal(ce.cmdline, m.cmdline) || k == titleMaster {
						t.workers = append(t.workers, ce)
						below(c, depth+1)
						continue
					}
				}
				t.others = append(t.others, ce)
				below(c, depth+1)
			}
		}
		below(pid, 0)
	}
	var roots []int
	for pid, k := range kinds {
		parentIsGunicorn := kinds[byPID[pid].ppid] != notGunicorn
		if k == titleMaster && !parentIsGunicorn || k == gunicornCmd && !parentIsGunicorn {
			roots = append(roots, pid)
		}
	}
	slices.Sort(roots)
	for _, pid := range roots {
		visit(pid)
	}
	slices.SortFunc(out, func(a, b *tree) int { return a.master.pid - b.master.pid })
	return out
}
