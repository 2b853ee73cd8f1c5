// Package checkpoint keeps where each source stopped: per source, the
// identity of the file (device, inode, fingerprint of its first bytes) and
// the offset after the last line whose incidents every output accepted, or
// a kernel log sequence number, or a journal cursor.
//
// The store is one JSON file, replaced atomically: written to a temporary
// file in the same directory, fsync'ed, renamed over the old one, and the
// directory fsync'ed, so a crash at any moment leaves either the old
// positions or the new ones, never a torn file.
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Position is where one source stopped. Which members are set depends on
// the kind of source.
type Position struct {
	// Files.
	Dev         uint64 `json:"dev,omitempty"`
	Ino         uint64 `json:"ino,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Offset      int64  `json:"offset,omitempty"`
	// The kernel ring buffer (/dev/kmsg): the next sequence number to read,
	// and the boot it belongs to (sequence numbers restart at each boot).
	Seq    uint64 `json:"seq,omitempty"`
	BootID string `json:"boot_id,omitempty"`
	// journald: the cursor of the last entry read.
	Cursor string `json:"cursor,omitempty"`
}

// version is the file format; a newer file is refused rather than misread.
const version = 1

type file struct {
	Version int                 `json:"version"`
	Sources map[string]Position `json:"sources"`
	// State is what the daemon keeps beside the positions, written at the
	// same moment: the correlation state (open incidents, pending windows)
	// that goes with exactly these positions.
	State json.RawMessage `json:"state,omitempty"`
}

// Store is the positions of every source, held in memory and saved to one
// file. It is safe for concurrent use.
type Store struct {
	path  string
	mu    sync.Mutex
	pos   map[string]Position
	state json.RawMessage
	reset *Reset
}

// Reset says a positions file could not be read and was moved aside: the
// store started empty.
type Reset struct {
	Path, MovedTo string
	Err           error
}

// Open reads the store at path; a missing file is an empty store. A file
// that cannot be parsed (cut short by a full disk, edited, empty, or of a
// newer format) is moved aside to path.corrupt-TIME and the store starts
// empty: Reset says so, for the daemon to report. Open fails only when the
// file can be neither read nor moved. Open creates nothing: Prepare makes
// the directory.
func Open(path string) (*Store, error) {
	s := &Store{path: path, pos: map[string]Position{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		// Nothing saved there (under a file, nothing can be): an empty
		// store, whose saves fail until the path is fixed; the daemon
		// reports that and follows on.
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading positions %s: %w", path, err)
	}
	var f file
	err = json.Unmarshal(b, &f)
	if err == nil && f.Version > version {
		err = fmt.Errorf("format version %d is newer than this sigtail's %d", f.Version, version)
	}
	if err != nil {
		aside := fmt.Sprintf("%s.corrupt-%s", path, time.Now().UTC().Format("20060102T150405Z"))
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, fmt.Errorf("reading positions %s: %w; and it cannot be moved aside: %w (move it away by hand to start from the end of each log)", path, err, rerr)
		}
		s.reset = &Reset{Path: path, MovedTo: aside, Err: err}
		return s, nil
	}
	for k, v := range f.Sources {
		s.pos[k] = v
	}
	s.state = f.State
	return s, nil
}

// Path is the file the store is saved to.
func (s *Store) Path() string { return s.path }

// DirError says the positions directory cannot be used: it does not exist
// and cannot be created (Create), or no file can be written in it.
type DirError struct {
	Dir    string
	Create bool
	Err    error
}

func (e *DirError) Error() string {
	if e.Create {
		return fmt.Sprintf("positions directory %s does not exist and cannot be created: %v", e.Dir, e.Err)
	}
	return fmt.Sprintf("positions directory %s is not writable: %v", e.Dir, e.Err)
}

func (e *DirError) Unwrap() error { return e.Err }

// Prepare makes the store's directory when it is missing (mode 0750: what
// systemd's StateDirectory= does for a unit, done here for a daemon run by
// hand) and checks that a file can be written in it. It returns a
// *DirError when either fails.
func (s *Store) Prepare() error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return &DirError{Dir: dir, Create: true, Err: err}
	}
	return writable(dir)
}

// CheckDir says whether a store at path could be saved, the way Prepare
// would find it, without leaving anything behind: its directory exists and
// is writable, or the nearest directory above it that exists is writable,
// so it can be created. It returns a *DirError.
func CheckDir(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case err == nil && st.IsDir():
		return writable(dir)
	case err == nil:
		return &DirError{Dir: dir, Create: true, Err: &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}}
	case !errors.Is(err, fs.ErrNotExist):
		return &DirError{Dir: dir, Create: true, Err: err}
	}
	// Missing: the first directory above it that exists must take a new
	// directory.
	up := dir
	for {
		next := filepath.Dir(up)
		if next == up {
			return &DirError{Dir: dir, Create: true, Err: err}
		}
		up = next
		st, serr := os.Stat(up)
		if errors.Is(serr, fs.ErrNotExist) {
			continue
		}
		if serr == nil && !st.IsDir() {
			serr = &fs.PathError{Op: "mkdir", Path: up, Err: syscall.ENOTDIR}
		}
		if serr != nil {
			return &DirError{Dir: dir, Create: true, Err: serr}
		}
		tmp, merr := os.MkdirTemp(up, ".sigtail-check-*")
		if merr != nil {
			return &DirError{Dir: dir, Create: true, Err: merr}
		}
		os.Remove(tmp)
		return nil
	}
}

// writable creates and removes a file in dir.
func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".sigtail-check-*")
	if err != nil {
		return &DirError{Dir: dir, Err: err}
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// Reset reports whether Open found the file unreadable and moved it
// aside.
func (s *Store) Reset() (*Reset, bool) { return s.reset, s.reset != nil }

// State returns the state saved with the positions (nil: none).
func (s *Store) State() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// SetState records the state to save with the positions; Save writes both
// in one atomic write. It must be valid JSON.
func (s *Store) SetState(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = b
}

// Get returns the saved position of a source.
func (s *Store) Get(source string) (Position, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pos[source]
	return p, ok
}

// Set records a source's position in memory; Save writes it.
func (s *Store) Set(source string, p Position) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pos[source] = p
}

// Save writes every position, and the state, atomically.
func (s *Store) Save() error {
	s.mu.Lock()
	f := file{Version: version, Sources: make(map[string]Position, len(s.pos)), State: s.state}
	keys := make([]string, 0, len(s.pos))
	for k, v := range s.pos {
		f.Sources[k] = v
		keys = append(keys, k)
	}
	s.mu.Unlock()
	sort.Strings(keys)
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding positions: %w", err)
	}
	return WriteAtomic(s.path, append(b, '\n'))
}

// WriteAtomic replaces path with data so that a crash leaves the old file
// or the new one: temp file, fsync, rename, fsync of the directory.
func WriteAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("saving %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving %s: fsync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("saving %s: opening its directory: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("saving %s: fsync of its directory: %w", path, err)
	}
	return nil
}
