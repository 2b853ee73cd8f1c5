package probe

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"syscall"
)

// files reads one host's /proc and /sys through an fs.FS whose root is the
// host's "/". Paths are slash-separated and relative ("proc/812/environ").
type files struct {
	fsys fs.FS // not owned
}

func (f files) read(name string) ([]byte, error) {
	return fs.ReadFile(f.fsys, name)
}

func (f files) readlink(name string) (string, error) {
	return fs.ReadLink(f.fsys, name)
}

func (f files) readDir(name string) ([]fs.DirEntry, error) {
	return fs.ReadDir(f.fsys, name)
}

func (f files) exists(name string) bool {
	_, err := fs.Stat(f.fsys, name)
	return err == nil
}

// rel turns an absolute path of the host ("/srv/app/gunicorn.conf.py")
// into a path of the FS ("srv/app/gunicorn.conf.py").
func rel(abs string) string {
	p := strings.TrimLeft(path.Clean("/"+abs), "/")
	if p == "" {
		return "."
	}
	return p
}

// gone says whether err means the process exited while it was being read:
// its /proc directory vanished (ENOENT) or the task is dead (ESRCH).
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// Unreadable is a file that could not be read, and what is unknown because
// of it.
type Unreadable struct {
	PID    int    `json:"pid,omitempty"` // the master it concerns; 0 for the host
	Path   string `json:"path"`          // from the root: proc/812/environ
	Err    string `json:"error"`         // permission denied, no such file...
	Effect string `json:"effect"`        // what is unknown because of it
	Count  int    `json:"count"`         // files of this kind for this master (one per worker)
}

func (u Unreadable) String() string {
	s := fmt.Sprintf("could not read /%s: %s", u.Path, u.Err)
	if u.Count > 1 {
		s += fmt.Sprintf(" (and %d more like it)", u.Count-1)
	}
	if u.Effect != "" {
		s += "; " + u.Effect
	}
	return s
}

// unreadables collects Unreadable entries, one per master and kind of file.
type unreadables struct {
	list []Unreadable
	idx  map[string]int
}

func (u *unreadables) add(pid int, name string, err error, effect string) {
	if u.idx == nil {
		u.idx = map[string]int{}
	}
	key := fmt.Sprintf("%d\x00%s\x00%s", pid, path.Base(name), effect)
	if i, ok := u.idx[key]; ok {
		u.list[i].Count++
		return
	}
	u.idx[key] = len(u.list)
	u.list = append(u.list, Unreadable{PID: pid, Path: name, Err: errText(err), Effect: effect, Count: 1})
}

func (u *unreadables) sorted() []Unreadable {
	out := append([]Unreadable(nil), u.list...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// errText is the cause of a file error without the path (which Unreadable
// carries already): "permission denied".
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
