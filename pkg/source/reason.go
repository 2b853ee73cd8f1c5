package source

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
)

// Reason says in one line, for people, why a source cannot be read: the
// error's kind in words and, where there is one, what to do about it. The
// path is left out: whoever reports the reason names the source.
//
// The daemon's health and `sigtail run --check` both word their reasons
// here, so the two never disagree.
func Reason(err error) string {
	text, hint := explain(err)
	if hint == "" {
		return text
	}
	return text + " (" + hint + ")"
}

// ReasonText is Reason without its advice: for a reason made of several.
func ReasonText(err error) string {
	text, _ := explain(err)
	return text
}

// errNotLogFile is the error of a path that is a socket or a block device.
var errNotLogFile = errors.New("not a regular file, a FIFO or a character device")

func explain(err error) (text, hint string) {
	switch {
	case err == nil:
		return "", ""
	case errors.Is(err, exec.ErrNotFound):
		return "not found", "install it, or give its path"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied", "run as root or add the user to group adm"
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist yet", "waiting for it to be created"
	case errors.Is(err, syscall.EISDIR):
		return "is a directory, not a log file", "give a file or a glob such as /var/log/app/*.log"
	case errors.Is(err, syscall.ENOTDIR):
		return "a part of the path is a file, not a directory", ""
	case errors.Is(err, errNotLogFile):
		return "is a socket or a block device, not a log file", "give a file, a FIFO or a glob"
	case errors.Is(err, syscall.ELOOP):
		return "too many levels of symbolic links", "a symlink points at itself"
	case errors.Is(err, syscall.ENAMETOOLONG):
		return "the name is too long", ""
	case errors.Is(err, syscall.ENXIO):
		return "no such device or address", "a socket cannot be read, or the device is gone"
	case errors.Is(err, syscall.EIO):
		return "input/output error", "the disk or the file system is failing: see dmesg"
	case errors.Is(err, syscall.EROFS):
		return "read-only file system", ""
	case errors.Is(err, syscall.ENOSPC):
		return "no space left on device", ""
	case errors.Is(err, syscall.EDQUOT):
		return "disk quota exceeded", ""
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files", "raise the limit: LimitNOFILE= in the unit"
	}
	// Another error: its own words, without the operation and path that
	// wrap it.
	var pe *fs.PathError
	var se *os.SyscallError
	switch {
	case errors.As(err, &pe):
		return pe.Err.Error(), ""
	case errors.As(err, &se):
		return se.Err.Error(), ""
	}
	return err.Error(), ""
}

// followable says whether a file of this kind can be followed: a regular
// file, a FIFO or a character device; not a directory, a socket or a
// block device.
func followable(path string, st fs.FileInfo) error {
	switch m := st.Mode(); {
	case m.IsRegular(), m&fs.ModeNamedPipe != 0, m&fs.ModeCharDevice != 0:
		return nil
	case m.IsDir():
		return &fs.PathError{Op: "open", Path: path, Err: syscall.EISDIR}
	default:
		return &fs.PathError{Op: "open", Path: path, Err: errNotLogFile}
	}
}

// CheckFile says whether the file at path can be followed now, as a
// Follower would open it: it exists, is a regular file (or a FIFO or a
// character device), and can be opened and read. A FIFO or a device is
// opened without blocking and not read: what it holds is the follower's.
func CheckFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if err := followable(path, st); err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != nil {
			return &fs.PathError{Op: "open", Path: path, Err: err}
		}
		syscall.Close(fd)
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], 0); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// CheckCommand says whether a command (journalctl) can be run: found on
// PATH, or at the path given. A command that is not there is
// exec.ErrNotFound, whether looked for on PATH or at a path.
func CheckCommand(name string) error {
	_, err := exec.LookPath(name)
	if err != nil && errors.Is(err, fs.ErrNotExist) {
		err = &exec.Error{Name: name, Err: exec.ErrNotFound}
	}
	return err
}
