package probe

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// denyFS refuses reads of some paths with EACCES, as the kernel refuses
// another user's environ, cwd, fd and smaps_rollup to a reader without
// CAP_SYS_PTRACE. Tests run as root, where a file's mode stops no read
// (and git keeps no mode but x), so a fake tree lists them in a "deny"
// file instead.
type denyFS struct {
	fsys   fs.FS
	denied []string
}

var (
	_ fs.ReadFileFS = denyFS{}
	_ fs.ReadDirFS  = denyFS{}
	_ fs.ReadLinkFS = denyFS{}
)

func (d denyFS) check(op, name string) error {
	for _, p := range d.denied {
		if name == p || strings.HasPrefix(name, p+"/") {
			return &fs.PathError{Op: op, Path: name, Err: fs.ErrPermission}
		}
	}
	return nil
}

func (d denyFS) Open(name string) (fs.File, error) {
	if err := d.check("open", name); err != nil {
		return nil, err
	}
	return d.fsys.Open(name)
}

func (d denyFS) ReadFile(name string) ([]byte, error) {
	if err := d.check("open", name); err != nil {
		return nil, err
	}
	return fs.ReadFile(d.fsys, name)
}

func (d denyFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := d.check("open", name); err != nil {
		return nil, err
	}
	return fs.ReadDir(d.fsys, name)
}

func (d denyFS) ReadLink(name string) (string, error) {
	if err := d.check("readlink", name); err != nil {
		return "", err
	}
	return fs.ReadLink(d.fsys, name)
}

func (d denyFS) Lstat(name string) (fs.FileInfo, error) {
	return fs.Lstat(d.fsys, name)
}

// caseFS is the fake tree of testdata/<name>: root/ with the reads listed
// in deny refused.
func caseFS(t *testing.T, dir string) fs.FS {
	t.Helper()
	d := denyFS{fsys: os.DirFS(filepath.Join(dir, "root"))}
	f, err := os.Open(filepath.Join(dir, "deny"))
	if os.IsNotExist(err) {
		return d
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			d.denied = append(d.denied, l)
		}
	}
	return d
}
