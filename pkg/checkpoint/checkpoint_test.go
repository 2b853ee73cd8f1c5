package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "positions.json")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get("x"); ok {
		t.Fatal("empty store has a position")
	}
	s.Set("/var/log/gunicorn/error.log", Position{Dev: 2049, Ino: 77, Fingerprint: "256:ab", Offset: 1234})
	s.Set("kmsg", Position{Seq: 99, BootID: "b1"})
	s.Set("journal:gunicorn.service", Position{Cursor: "s=1;i=2"})
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]Position{
		"/var/log/gunicorn/error.log": {Dev: 2049, Ino: 77, Fingerprint: "256:ab", Offset: 1234},
		"kmsg":                        {Seq: 99, BootID: "b1"},
		"journal:gunicorn.service":    {Cursor: "s=1;i=2"},
	} {
		if got, ok := s2.Get(k); !ok || got != want {
			t.Errorf("%s: got %+v, want %+v", k, got, want)
		}
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the store", len(entries))
	}
}

// TestBadFiles: a positions file that cannot be read is moved aside with
// what was wrong, and the store starts empty; the daemon goes on.
func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage.json": "{not json",
		"empty.json":   "",
		"future.json":  `{"version": 99, "sources": {}}`,
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		s, err := Open(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r, ok := s.Reset()
		if !ok || r.Path != p || r.Err == nil || !strings.HasPrefix(r.MovedTo, p+".corrupt-") {
			t.Fatalf("%s: reset %+v %v", name, r, ok)
		}
		if b, err := os.ReadFile(r.MovedTo); err != nil || string(b) != content {
			t.Errorf("%s: moved file %q %v, want the old content", name, b, err)
		}
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s: still at its path", name)
		}
		if _, ok := s.Get("x"); ok {
			t.Errorf("%s: a reset store has positions", name)
		}
	}
	if err := WriteAtomic(filepath.Join(dir, "missing-dir", "x.json"), []byte("x")); err == nil {
		t.Error("WriteAtomic into a missing directory succeeded")
	}
}

// TestStateSavedWithPositions: the state set beside the positions is
// written in the same file and read back as it was.
func TestStateSavedWithPositions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "positions.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.State() != nil {
		t.Fatalf("a new store has state %s", s.State())
	}
	s.Set("a.log", Position{Ino: 7, Offset: 42})
	s.SetState([]byte(`{"engine":{"version":1}}`))
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := again.Get("a.log"); !ok || p.Offset != 42 {
		t.Errorf("position %+v %v", p, ok)
	}
	var got bytes.Buffer
	if err := json.Compact(&got, again.State()); err != nil || got.String() != `{"engine":{"version":1}}` {
		t.Errorf("state %s (%v)", again.State(), err)
	}
}

// TestPrepare: a missing positions directory is made (0750); one that
// cannot be (a path under a regular file) is a DirError, and so is every
// save; Open finds nothing saved there instead of failing.
func TestPrepare(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "state", "sigtail", "positions.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Prepare(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "state", "sigtail"))
	if err != nil || !st.IsDir() || st.Mode().Perm()&^0o750 != 0 {
		t.Fatalf("directory %v %v", st, err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "state", "sigtail")); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}

	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	bad, err := Open(filepath.Join(file, "positions.json"))
	if err != nil {
		t.Fatalf("Open under a file: %v", err)
	}
	var de *DirError
	if err := bad.Prepare(); !errors.As(err, &de) || !de.Create || de.Dir != file || !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("Prepare under a file: %v", err)
	}
	if err := bad.Save(); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("Save under a file: %v", err)
	}
}

func TestCheckDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		path   string
		create bool // the DirError is about creating it
		ok     bool
	}{
		{filepath.Join(dir, "positions.json"), false, true},
		{filepath.Join(dir, "a", "b", "positions.json"), false, true},
		{filepath.Join(file, "positions.json"), true, false},
		{filepath.Join(file, "sub", "positions.json"), true, false},
	} {
		err := CheckDir(tc.path)
		var de *DirError
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", tc.path, err)
		case !tc.ok && (!errors.As(err, &de) || de.Create != tc.create || !errors.Is(err, syscall.ENOTDIR)):
			t.Errorf("%s: %v, want a DirError (create %v, not a directory)", tc.path, err, tc.create)
		}
	}
	// Nothing made, nothing left behind.
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("CheckDir left %v", ents)
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		defer os.Chmod(ro, 0o755)
		var de *DirError
		if err := CheckDir(filepath.Join(ro, "positions.json")); !errors.As(err, &de) || de.Create || !errors.Is(err, os.ErrPermission) {
			t.Errorf("read-only directory: %v", err)
		}
	}
}
