package source

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// Kernel follows the kernel log: /dev/kmsg where it can be read, else
// `journalctl -k` (a user without CAP_SYSLOG may still read the journal).
// Which one is chosen again at every Run, so a restart after a failure
// takes /dev/kmsg once it can be read.
type Kernel struct {
	// KmsgPath and Journalctl replace /dev/kmsg and journalctl (tests).
	KmsgPath, Journalctl string
	// Start is where to resume: a sequence number and boot for /dev/kmsg,
	// a cursor for the journal.
	Start     Position
	FromStart bool
	// Poll is how long /dev/kmsg is waited on when no record is ready.
	Poll time.Duration
}

// KernelError says that neither /dev/kmsg nor journalctl can be used.
type KernelError struct {
	KmsgPath   string
	Kmsg       error // opening /dev/kmsg
	Journalctl error // finding journalctl
}

func (e *KernelError) Error() string {
	return fmt.Sprintf("%s: %s; journalctl -k: %s", e.KmsgPath, ReasonText(e.Kmsg), ReasonText(e.Journalctl))
}

func (e *KernelError) Unwrap() []error { return []error{e.Kmsg, e.Journalctl} }

// Check says whether the kernel log can be read, the way Run would read
// it, without reading it: a *KernelError when it cannot.
func (k *Kernel) Check() error {
	_, err := k.pick()
	return err
}

// Run follows the kernel log until ctx is done. When neither /dev/kmsg nor
// journalctl can be used it sends an "unreadable" event naming both and
// returns a *KernelError; otherwise it is Kmsg's or Journal's Run.
func (k *Kernel) Run(ctx context.Context, out chan<- Line, events chan<- Event) error {
	src, err := k.pick()
	if err != nil {
		unreadable(ctx, events, "kernel", err.Error())
		return err
	}
	return src.Run(ctx, out, events)
}

func (k *Kernel) pick() (interface {
	Run(context.Context, chan<- Line, chan<- Event) error
}, error) {
	path := k.KmsgPath
	if path == "" {
		path = "/dev/kmsg"
	}
	kerr := canOpen(path)
	if kerr == nil {
		return &Kmsg{Path: path, Start: k.Start, FromStart: k.FromStart, Poll: k.Poll}, nil
	}
	bin := k.Journalctl
	if bin == "" {
		bin = "journalctl"
	}
	if jerr := CheckCommand(bin); jerr != nil {
		return nil, &KernelError{KmsgPath: path, Kmsg: kerr, Journalctl: jerr}
	}
	return &Journal{Match: []string{"-k"}, Raw: true, Start: k.Start, FromStart: k.FromStart, Command: bin,
		openNote: fmt.Sprintf("following journalctl -k, since %s cannot be read: %s", path, ReasonText(kerr))}, nil
}

// canOpen opens path for reading without blocking, and closes it.
func canOpen(path string) error {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	syscall.Close(fd)
	return nil
}

// unreadable tells events that the source cannot be read, and why, right
// before Run returns the error.
func unreadable(ctx context.Context, events chan<- Event, path, reason string) {
	if events == nil || ctx.Err() != nil {
		return
	}
	select {
	case events <- Event{Kind: "unreadable", Path: path, Note: reason}:
	case <-ctx.Done():
	}
}
