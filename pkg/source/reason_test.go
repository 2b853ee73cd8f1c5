package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&fs.PathError{Op: "open", Path: "/var/log/x", Err: syscall.EACCES}, "permission denied (run as root or add the user to group adm)"},
		{fmt.Errorf("following /x: %w", &fs.PathError{Op: "open", Path: "/x", Err: syscall.EPERM}), "permission denied (run as root or add the user to group adm)"},
		{&fs.PathError{Op: "stat", Path: "/x", Err: syscall.ENOENT}, "does not exist yet (waiting for it to be created)"},
		{fs.ErrNotExist, "does not exist yet (waiting for it to be created)"},
		{&fs.PathError{Op: "read", Path: "/x", Err: syscall.EISDIR}, "is a directory, not a log file (give a file or a glob such as /var/log/app/*.log)"},
		{&fs.PathError{Op: "stat", Path: "/x/y", Err: syscall.ENOTDIR}, "a part of the path is a file, not a directory"},
		{&fs.PathError{Op: "open", Path: "/x", Err: errNotLogFile}, "is a socket or a block device, not a log file (give a file, a FIFO or a glob)"},
		{&exec.Error{Name: "journalctl", Err: exec.ErrNotFound}, "not found (install it, or give its path)"},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.ELOOP}, "too many levels of symbolic links (a symlink points at itself)"},
		{&fs.PathError{Op: "read", Path: "/x", Err: syscall.EIO}, "input/output error (the disk or the file system is failing: see dmesg)"},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.ENXIO}, "no such device or address (a socket cannot be read, or the device is gone)"},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.EMFILE}, "too many open files (raise the limit: LimitNOFILE= in the unit)"},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOSPC}, "no space left on device"},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.EROFS}, "read-only file system"},
		// Others keep their own words, without the operation and path.
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.ESTALE}, syscall.ESTALE.Error()},
		{os.NewSyscallError("read", syscall.EBADF), syscall.EBADF.Error()},
		{errors.New("journalctl exited"), "journalctl exited"},
	} {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if got := ReasonText(fs.ErrPermission); got != "permission denied" {
		t.Errorf("ReasonText = %q", got)
	}
}

// TestCheckFile: what a follower can follow, checked on real paths. Root
// reads any file whatever its mode, so the cases are those that fail for
// root as well.
func TestCheckFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "error.log")
	os.WriteFile(file, []byte("a line\n"), 0o644)
	empty := filepath.Join(dir, "empty.log")
	os.WriteFile(empty, nil, 0o644)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	loop := filepath.Join(dir, "loop")
	os.Symlink(loop, loop)
	dangling := filepath.Join(dir, "dangling.log")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	for _, tc := range []struct {
		path, want string
	}{
		{file, ""},
		{empty, ""},
		{fifo, ""},
		{"/dev/null", ""},
		{filepath.Join(dir, "missing.log"), "does not exist yet"},
		{dangling, "does not exist yet"},
		{dir, "is a directory"},
		{filepath.Join(file, "x"), "a part of the path is a file"},
		{sock, "is a socket"},
		{loop, "too many levels of symbolic links"},
	} {
		got := Reason(CheckFile(tc.path))
		if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.path, got, tc.want)
		}
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: a file or directory of mode 000 is readable by root, so permission is not tested here")
		return
	}
	locked := filepath.Join(dir, "locked")
	os.Mkdir(locked, 0o755)
	os.WriteFile(filepath.Join(locked, "x.log"), nil, 0o644)
	os.Chmod(locked, 0)
	defer os.Chmod(locked, 0o755)
	if got := Reason(CheckFile(filepath.Join(locked, "x.log"))); !strings.HasPrefix(got, "permission denied") {
		t.Errorf("under a directory of mode 000: %q", got)
	}
}

// runOnce runs a source that is expected to fail at once, and returns its
// error and events.
func runOnce(t *testing.T, run func(context.Context, chan<- Line, chan<- Event) error) (error, []Event) {
	t.Helper()
	events := make(chan Event, 64)
	err := run(context.Background(), make(chan Line), events)
	close(events)
	var evs []Event
	for ev := range events {
		evs = append(evs, ev)
	}
	return err, evs
}

func kinds(evs []Event) string {
	var k []string
	for _, ev := range evs {
		k = append(k, ev.Kind)
	}
	return strings.Join(k, ",")
}

// TestFollowUnreadable: a path that cannot be followed is said once, as an
// "unreadable" event with the reason, right before Run returns the error;
// a directory is never reported opened, and a path under a file is not
// reported as unwatchable as well.
func TestFollowUnreadable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "error.log")
	os.WriteFile(file, []byte("a line\n"), 0o644)
	for _, tc := range []struct {
		path, reason string
		errno        error
	}{
		{dir, "is a directory, not a log file (give a file or a glob such as /var/log/app/*.log)", syscall.EISDIR},
		{filepath.Join(file, "x"), "a part of the path is a file, not a directory", syscall.ENOTDIR},
	} {
		f := &Follower{Path: tc.path, Poll: 2 * time.Millisecond, FromStart: true}
		err, evs := runOnce(t, f.Run)
		if !errors.Is(err, tc.errno) {
			t.Errorf("%s: error %v, want %v", tc.path, err, tc.errno)
		}
		if len(evs) != 1 || evs[0].Kind != "unreadable" || evs[0].Note != tc.reason || evs[0].Path != tc.path {
			t.Errorf("%s: events %+v, want one unreadable: %s", tc.path, evs, tc.reason)
		}
	}
}

// TestKernelFallback: /dev/kmsg that cannot be opened falls back to
// journalctl -k, and says so when it opens; with neither, one
// "unreadable" event names both.
func TestKernelFallback(t *testing.T) {
	dir := t.TempDir()
	kmsg := filepath.Join(dir, "kmsg") // missing
	k := &Kernel{KmsgPath: kmsg, Journalctl: filepath.Join(dir, "journalctl")}
	err, evs := runOnce(t, k.Run)
	var ke *KernelError
	if !errors.As(err, &ke) {
		t.Fatalf("error %v, want a KernelError", err)
	}
	want := kmsg + ": does not exist yet; journalctl -k: not found"
	if len(evs) != 1 || evs[0].Kind != "unreadable" || evs[0].Note != want {
		t.Errorf("events %+v, want one unreadable: %s", evs, want)
	}
	if err := k.Check(); err == nil || err.Error() != want {
		t.Errorf("Check: %v, want %s", err, want)
	}

	bin, _ := fakeJournalctl(t, `{"__CURSOR":"s=1;i=1","MESSAGE":"Out of memory: Killed process 9"}`+"\n")
	k.Journalctl = bin
	if err := k.Check(); err != nil {
		t.Fatalf("Check with journalctl: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan Line, 1)
	events := make(chan Event, 4)
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx, out, events) }()
	ev := <-events
	if ev.Kind != "open" || !strings.Contains(ev.Note, "journalctl -k") || !strings.Contains(ev.Note, "does not exist") {
		t.Errorf("event %+v, want open through journalctl -k", ev)
	}
	<-out
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// /dev/kmsg readable: read, journalctl not needed.
	os.WriteFile(kmsg, nil, 0o644)
	k.Journalctl = filepath.Join(dir, "journalctl")
	if err := k.Check(); err != nil {
		t.Errorf("Check with a readable kmsg: %v", err)
	}
}

// TestJournalUnreadable: journalctl missing, or stopping, is an
// "unreadable" event before the error.
func TestJournalUnreadable(t *testing.T) {
	dir := t.TempDir()
	j := &Journal{Command: filepath.Join(dir, "journalctl"), Match: []string{"-u", "gunicorn.service"}}
	err, evs := runOnce(t, j.Run)
	if err == nil || kinds(evs) != "unreadable" || evs[0].Note != "journalctl -u gunicorn.service: not found (install it, or give its path)" {
		t.Errorf("missing journalctl: %v, events %+v", err, evs)
	}
	bin := filepath.Join(dir, "failing")
	os.WriteFile(bin, []byte("#!/bin/sh\necho 'Failed to add match' >&2\nexit 1\n"), 0o755)
	j.Command = bin
	err, evs = runOnce(t, j.Run)
	if err == nil || kinds(evs) != "open,unreadable" || evs[1].Note != "journalctl -u gunicorn.service stopped: exit status 1: Failed to add match" {
		t.Errorf("failing journalctl: %v, events %+v", err, evs)
	}
}
