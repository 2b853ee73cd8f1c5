package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// A Follower follows one log file by name, as `tail -F` does, across every
// way logs are rotated, and loses no line that still exists anywhere when
// it looks.
//
// It reads on change: the file's directory is watched with inotify, so
// writes, creates and renames wake it at once (a burst of writes gathers
// for at most 5 ms into one read). Poll is the safety net, and the only
// clock where inotify is unavailable, out of watches, or blind (NFS: a
// write from another host raises no event). While a line waits to be taken
// (the pipeline is busy, or holds this log back behind the others) the
// files are still looked at every 10 ms: a new file at the path is held,
// and what a truncation destroys is counted.
//
// It follows the file, not the name:
//
//   - rename and create (logrotate's default, nginx's reopen on USR1), and
//     delete and re-create: a new file at the path is opened as soon as it
//     is seen (from the watcher's goroutine on its create event, and at
//     every look), before the old one is drained, so a second rotation
//     cannot take it away unseen. The old descriptor is read to its end,
//     then the new file from its start; the old one stays open a while
//     (Poll, at least a second, longer while it still grows) and is read
//     again, since the writer may write a line or two more in it before it
//     reopens. When the path changed more than once between two looks, the
//     files that were at the path in between are found among the siblings
//     (not read yet, rotated after the old file: by modification time, then
//     .N numbering) and read fully, in order;
//   - copytruncate and truncation in place: the file is the same but shorter
//     than where reading stopped, or its first bytes changed (truncated and
//     written again past the old offset between two looks). The lines
//     appended since the last look are in the copy: the sibling whose first
//     bytes are those read from the truncated file, and which reaches where
//     reading stopped, is read from there to its end (its lines carry the
//     copy's identity and offsets), then any copy made after it, then the
//     truncated file from its start. Only bytes destroyed before any copy
//     was made (a truncation with no copy) are lost: as many as were seen
//     and not read are reported in a "lost" event; what was written in the
//     instant before the truncation and never seen cannot be counted. The
//     start of a line whose end was destroyed is sent as it is;
//   - a file that does not exist yet, a symlink that is swapped: the path
//     is waited for and opened when it appears.
//
// These are the traps of nxadm/tail that its open pull requests (#73, #85)
// never fixed: it reopens the new file before draining the old one
// (hpcloud/tail#127, nxadm/tail#72) and sees only the first truncation
// (nxadm/tail#62). Its Tell() races with its Lines channel (hpcloud/tail#165);
// here every line carries the offsets it was read between, counted from the
// bytes consumed, so a checkpoint is exact.
//
// A file is identified by device and inode plus a fingerprint of its first
// bytes as read, so a re-used inode is not taken for the file it replaced
// (Vector and Fluent Bit do the same). A saved position is checked against
// the file before it is used; resuming reads the rest of the saved file
// wherever it was rotated to (or, copied and truncated, from its copy),
// then every sibling rotated after it, then the current file.
type Follower struct {
	// Path is the file's name, followed through rotations.
	Path string
	// Start is where to resume: a position saved earlier. When it names
	// the file now at Path, reading resumes at its offset; when it names a
	// file rotated away (or copied, then truncated) while nothing followed
	// it, the rest of that is read first, then every sibling rotated after
	// it, then the current file from its start. A zero Start reads the
	// current file from FromStart or its end.
	Start Position
	// FromStart reads a file with no saved position from its first byte
	// instead of its end.
	FromStart bool
	// Poll is how often the file is looked at without an inotify event
	// (default 250ms): the only clock where inotify is unavailable.
	Poll time.Duration
	// MaxLine cuts longer lines (default DefaultMaxLine).
	MaxLine int
	// Rotated lists where rotated predecessors and copies may be found: a
	// file rotated while stopped, one rotated twice between two looks, the
	// copy of a copytruncate (default: the uncompressed siblings whose
	// names start with Path's: Path.1, Path-20261124, ...).
	Rotated func(path string) []string
}

// Position says where reading of one file stopped.
type Position struct {
	Dev, Ino uint64
	// Fingerprint is a hash of the file's first FingerprintLen bytes (or
	// all of them, when shorter, with their count).
	Fingerprint string
	Offset      int64
	// The kernel ring buffer: the next sequence number, and the boot.
	Seq    uint64
	BootID string
	// journald: the cursor of the last entry read.
	Cursor string
}

// FingerprintLen is how many leading bytes identify a file.
const FingerprintLen = 256

// Line is one complete line read from a followed file.
type Line struct {
	Text string
	// Offset and End are the line's first byte and the byte after its
	// newline: End is the position to save once the line is dealt with.
	Offset, End int64
	// File is the identity of the file the line is in, with Offset = End.
	File Position
	// Cut reports a line longer than MaxLine, cut.
	Cut bool
}

// Events a Follower reports beside lines, for logs and metrics.
type Event struct {
	// "open", "rotated", "truncated", "lost" (bytes destroyed before they
	// could be read: Note says how many), "missing", "resumed",
	// "resume-lost", "polling" (no inotify: looking every Poll);
	// "unreadable": the source cannot be read, Note says why in words for
	// people (Reason), and Run returns the error next;
	// "eof" says every line before At was sent (not a thing to log).
	//
	// A source is healthy from its "open" or "resumed" on, and not while
	// it is "missing" or "unreadable".
	Kind string
	Path string
	Note string
	// At is where reading starts, for "open" (a file opened at its end
	// has a position to save before its first line), or, for "eof", the
	// position after the last line sent (the file it is in and its end).
	At Position
}

// lingerMin is the least time a file rotated away is kept open after it
// was drained: a writer told to reopen its log (nginx USR1, Gunicorn's
// workers) may still write a line or two in the old one meanwhile.
const lingerMin = time.Second

// Run follows the file until ctx is done, sending lines to out and events
// to events (which may be nil). It never closes either channel, returns nil
// when ctx is cancelled, and returns an error only when following cannot go
// on (the path exists but cannot be read: a directory, a path under a
// file, no permission), right after an "unreadable" event whose Note says
// why (Reason); the caller may restart it. A path that does not exist is
// no error: it is reported "missing" and waited for.
//
// Run owns one goroutine beside its own, which turns inotify events into
// wake-ups and opens a new file at the path the moment it is created; it
// stops before Run returns.
func (f *Follower) Run(ctx context.Context, out chan<- Line, events chan<- Event) error {
	err := f.follow(ctx, out, events)
	if err != nil {
		unreadable(ctx, events, f.Path, Reason(err))
	}
	return err
}

func (f *Follower) follow(ctx context.Context, out chan<- Line, events chan<- Event) error {
	if f.Poll <= 0 {
		f.Poll = 250 * time.Millisecond
	}
	if f.MaxLine <= 0 {
		f.MaxLine = DefaultMaxLine
	}
	r := &run{
		f: f, out: out, events: events,
		tr:        &tracker{path: f.Path, rotated: f.rotated},
		fromStart: f.FromStart,
		buf:       make([]byte, 64<<10),
		linger:    max(f.Poll, lingerMin),
		watched:   map[string]bool{},
	}
	r.looked = make(chan struct{}, 1)
	r.tick = time.NewTimer(time.Hour)
	r.tick.Stop()
	defer r.closeAll()
	var wg sync.WaitGroup
	defer wg.Wait() // the watcher's goroutine is gone before any file is closed
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Watch before opening anything, so that nothing done to the file
	// after it is opened goes unseen; events wait in the watcher until
	// its goroutine starts, once the files are positioned.
	kick := make(chan struct{}, 1)
	werr := r.watch()

	if f.Start.Fingerprint != "" {
		if err := r.resume(ctx); err != nil {
			return err
		}
	}
	if err := r.tr.hold(); err != nil {
		return err
	}
	// Said once the path is known to be followable: a path that cannot
	// be (under a file) is not watchable either, and is said so once.
	if werr != nil {
		r.note(ctx, "polling", f.Path, fmt.Sprintf("inotify unavailable (%v): looking every %s", werr, f.Poll))
	}
	if !r.tr.hasNewest() && len(r.queue) == 0 {
		r.note(ctx, "missing", f.Path, "waiting for it to appear")
		r.fromStart = true // a file that appears later is new: all of it is to be read
	}
	if r.w != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.wake(ctx, kick)
		}()
	}

	poll := time.NewTimer(f.Poll)
	defer poll.Stop()
	retryWatch, looked := time.Time{}, time.Time{}
	for {
		if err := r.look(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		r.sayEOF(ctx)
		looked = time.Now()
		select {
		case r.looked <- struct{}{}:
		default:
		}
		wait := f.Poll
		if d, ok := r.nextLinger(); ok && d < wait {
			wait = max(d, time.Millisecond)
		}
		poll.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
			// A file written line by line wakes the loop for every
			// write: a short pause lets a burst gather into one look.
			if gap := time.Since(looked); gap < settle {
				poll.Reset(settle - gap)
				select {
				case <-ctx.Done():
					return nil
				case <-poll.C:
				}
			}
		case <-poll.C:
			// Without inotify, try again now and then: the directory
			// may exist now, watches may have been freed.
			if r.w == nil && time.Since(retryWatch) > 10*time.Second {
				retryWatch = time.Now()
				if r.watch() == nil {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r.wake(ctx, kick)
					}()
				}
			}
		}
	}
}

// run is the state of one Run.
type run struct {
	f      *Follower
	out    chan<- Line
	events chan<- Event
	tr     *tracker
	tick   *time.Timer   // for peek, while a line waits
	looked chan struct{} // a look is done: the watcher's goroutine may go on
	// queue holds the files still to be read, oldest first: files rotated
	// away not yet drained, then the file at the path (the last). It is
	// never emptied once something was opened: a deleted file stays the
	// current one until another appears.
	queue []*openFile
	// lingering holds files rotated away and drained, open for a while.
	lingering []*openFile
	linger    time.Duration
	fromStart bool // a file found at the path is read from its start
	buf       []byte

	last    Position // File of the last line sent
	sent    bool     // a line was sent since the last "eof"
	eofSaid bool     // an "eof" was sent once

	w       *fsnotify.Watcher // nil: polling only
	wmu     sync.Mutex
	watched map[string]bool // directories watched (under wmu)
}

// watch starts an inotify watch of the path's directory (and of its
// symlink target's, when elsewhere).
func (r *run) watch() error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	dir := filepath.Dir(r.f.Path)
	if err := w.Add(dir); err != nil {
		w.Close()
		return fmt.Errorf("watching %s: %w", dir, err)
	}
	r.wmu.Lock()
	r.w = w
	r.watched[dir] = true
	r.wmu.Unlock()
	r.watchTarget()
	return nil
}

// watchTarget watches the directory of the file a symlinked path points at.
func (r *run) watchTarget() {
	if r.w == nil {
		return
	}
	target, err := filepath.EvalSymlinks(r.f.Path)
	if err != nil {
		return
	}
	dir := filepath.Dir(target)
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if !r.watched[dir] && r.w.Add(dir) == nil {
		r.watched[dir] = true
	}
	r.tr.setTarget(target)
}

// wake turns the watcher's events into wake-ups of Run's loop, and holds a
// file created at the path at once. It owns the watcher and closes it.
func (r *run) wake(ctx context.Context, kick chan<- struct{}) {
	w := r.w
	defer w.Close()
	poke := func() {
		select {
		case kick <- struct{}{}:
		default: // a wake-up is pending already: one look sees all
		}
	}
	dir, base := filepath.Dir(r.f.Path), filepath.Base(r.f.Path)
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			name := filepath.Base(ev.Name)
			atPath := filepath.Dir(ev.Name) == dir && name == base
			switch {
			case atPath && ev.Has(fsnotify.Create):
				// A new file at the path: hold it before a second
				// rotation can rename it out of sight. An error is
				// the loop's to report: it holds the path itself too.
				_ = r.tr.hold()
			case atPath, filepath.Dir(ev.Name) == dir && strings.HasPrefix(name, base), r.tr.isTarget(ev.Name):
			default:
				continue // another log in the same directory
			}
		case _, ok := <-w.Errors:
			if !ok {
				return
			}
			// An overflow: events were dropped; a look sees everything.
		}
		poke()
		// Let events wait in the kernel until the loop has looked: there
		// a file's repeated writes merge into one event, instead of one
		// wake-up per line written. A file created at the path meanwhile
		// is held by the loop itself, which holds the path at every
		// look and while a line waits to be taken.
		select {
		case <-r.looked:
		case <-ctx.Done():
			return
		}
	}
}

func (r *run) note(ctx context.Context, kind, path, msg string) {
	if r.events == nil {
		return
	}
	select {
	case r.events <- Event{Kind: kind, Path: path, Note: msg}:
	case <-ctx.Done():
	}
}

// take moves the files the tracker opened into the queue, positioned.
func (r *run) take() {
	for _, of := range r.tr.take() {
		if of.atPath {
			if !r.fromStart {
				of.seekTo(of.size()) // the first file, opened at its end
			}
			r.fromStart = true
			r.watchTarget()
		}
		r.queue = append(r.queue, of)
	}
}

// look reads everything there is to read now: what the files rotated away
// still get, the files still to drain, then the current file to its end.
func (r *run) look(ctx context.Context) error {
	if err := r.tr.hold(); err != nil {
		return err
	}
	r.take()
	kept := r.lingering[:0]
	for _, of := range r.lingering {
		n, gone, err := r.read(ctx, of, true)
		if err != nil {
			return err
		}
		if n > 0 {
			of.until = time.Now().Add(r.linger) // still written: keep it longer
		}
		if gone || !time.Now().Before(of.until) {
			r.finish(ctx, of)
			continue
		}
		kept = append(kept, of)
	}
	clear(r.lingering[len(kept):])
	r.lingering = kept

	for len(r.queue) > 0 {
		of := r.queue[0]
		if !of.started {
			of.started = true
			if of.atPath && r.events != nil {
				at := of.pos
				at.Offset = of.off
				select {
				case r.events <- Event{Kind: "open", Path: r.f.Path, Note: fmt.Sprintf("at offset %d", of.off), At: at}:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		if _, _, err := r.read(ctx, of, false); err != nil {
			return err
		}
		if err := r.tr.hold(); err != nil {
			return err
		}
		r.take()
		if len(r.queue) == 1 {
			return nil // the current file, at its end
		}
		// Rotated away: what was written to it before the next file was
		// seen is read now, then the next one.
		if _, _, err := r.read(ctx, of, false); err != nil {
			return err
		}
		r.queue = r.queue[1:]
		r.note(ctx, "rotated", of.name, fmt.Sprintf("finished the old file at offset %d; reading the next from its start", of.off))
		of.until = time.Now().Add(r.linger)
		r.lingering = append(r.lingering, of)
	}
	return nil
}

// finish closes a file that nothing more will be read from; a last line
// without its newline is sent, since nothing will complete it.
func (r *run) finish(ctx context.Context, of *openFile) {
	r.flushPartial(ctx, of)
	r.tr.forget(of)
	of.close()
}

// sayEOF tells that everything readable now was sent: the files rotated
// away are drained and the current one is at its end.
func (r *run) sayEOF(ctx context.Context) {
	if r.events == nil || len(r.queue) == 0 || (r.eofSaid && !r.sent) {
		return
	}
	at := r.last
	if !r.eofSaid && at == (Position{}) {
		// Nothing sent yet: the end reached first.
		cur := r.queue[len(r.queue)-1]
		at = cur.pos
		at.Offset = cur.off
	}
	select {
	case r.events <- Event{Kind: "eof", Path: r.f.Path, At: at}:
		r.eofSaid, r.sent = true, false
	case <-ctx.Done():
	}
}

// nextLinger is how long until the first lingering file is due to close.
func (r *run) nextLinger() (time.Duration, bool) {
	if len(r.lingering) == 0 {
		return 0, false
	}
	first := r.lingering[0].until
	for _, of := range r.lingering[1:] {
		if of.until.Before(first) {
			first = of.until
		}
	}
	return time.Until(first), true
}

func (r *run) closeAll() {
	for _, of := range r.queue {
		of.close()
	}
	for _, of := range r.lingering {
		of.close()
	}
	for _, of := range r.tr.take() {
		of.close()
	}
}

// read reads of from where it stands to its end, and reports how many
// bytes it read and whether the file is gone. A file found truncated is
// read from its copy, then from its start, since its writer writes on in
// it; but a lingering file (rotated away and drained) found truncated is
// gone: what is in it now was written over it (a copy made onto its name)
// and is read elsewhere.
func (r *run) read(ctx context.Context, of *openFile, lingering bool) (int64, bool, error) {
	var n int64
	for {
		st, err := of.f.Stat()
		if err != nil {
			return n, false, fmt.Errorf("reading %s: %w", of.name, err)
		}
		// Truncated since the last look? Checked before every read, so
		// that new content is not read from the old offset.
		if of.truncated(st) {
			if err := r.truncated(ctx, of, !lingering); err != nil {
				return n, false, err
			}
			if lingering {
				return n, true, nil
			}
			continue
		}
		of.seen = max(of.seen, st.Size())
		if st.Mode().IsRegular() && st.Size() <= of.rpos() {
			return n, false, nil
		}
		got, err := of.f.Read(r.buf)
		if got > 0 {
			n += int64(got)
			if of.learn(r.buf[:got]) {
				r.tr.update(of)
			}
			if !r.lines(ctx, of, r.buf[:got]) {
				return n, false, ctx.Err()
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return n, false, nil
			}
			return n, false, fmt.Errorf("reading %s: %w", of.name, err)
		}
		if got == 0 {
			return n, false, nil
		}
		// Between two chunks of a long read: a rotation meanwhile is
		// held at once.
		if err := r.tr.hold(); err != nil {
			return n, false, err
		}
	}
}

// truncated handles a file found shorter than where reading stopped, or
// with other first bytes: what was appended since the last look is read
// from the copy, when one of the siblings is, and so is every copy made
// after it (copytruncate more than once between two looks); what was seen
// and is in no copy is reported lost. Unless it is left, the file is then
// read from its start.
func (r *run) truncated(ctx context.Context, of *openFile, again bool) error {
	rpos := of.rpos()
	seen := max(of.seen, rpos)
	end := rpos
	how := "no copy of it found"
	sibs := r.siblings()
	if co, i := r.findCopy(of, sibs); co != nil {
		end = max(end, co.size())
		if co.size() >= rpos {
			// The copy holds the partial line too: read from the start of it.
			co.seekTo(of.off)
			co.skipping = of.skipping
			of.partial = of.partial[:0]
			of.skipping = false
			if _, _, err := r.read(ctx, co, true); err != nil {
				co.close()
				return err
			}
			how = fmt.Sprintf("read the rest from its copy %s up to offset %d", co.name, co.off)
			r.finish(ctx, co)
		} else {
			how = fmt.Sprintf("its copy %s ends before what was read", co.name)
			co.close()
		}
		for _, s := range sibs[i+1:] {
			if sameFile(s.info, of.pos) {
				continue
			}
			later, err := r.openUnread(s.path)
			if err != nil {
				continue
			}
			if _, _, err := r.read(ctx, later, true); err != nil {
				later.close()
				return err
			}
			how += ", then " + s.path
			r.finish(ctx, later)
		}
	}
	r.flushPartial(ctx, of)
	then := "it was rotated away: left"
	if again {
		then = "reading it from its start"
	}
	r.note(ctx, "truncated", of.name, fmt.Sprintf("at offset %d; %s; %s", rpos, how, then))
	switch {
	case seen > end:
		r.note(ctx, "lost", of.name, fmt.Sprintf("%d bytes destroyed by a truncation before they could be read", seen-end))
	case how == "no copy of it found":
		// Nothing unread was seen, but what was written between the last
		// look and the truncation is gone with no copy to read it from.
		r.note(ctx, "lost", of.name, fmt.Sprintf("truncated with no copy at offset %d: lines written after the last read, if any, were destroyed unread (how many cannot be known)", rpos))
	}
	if again {
		of.restart()
	}
	return nil
}

// findCopy looks among the siblings (oldest first) for the copy of of made
// before it was truncated: its first bytes are those of, it reaches at
// least where reading stopped, and it is not a file already read; the
// newest if many. It returns the copy and its index in sibs.
func (r *run) findCopy(of *openFile, sibs []sibling) (*openFile, int) {
	if len(of.head) == 0 || of.off == 0 {
		return nil, -1 // nothing read, nothing to recognise it by
	}
	for i := len(sibs) - 1; i >= 0; i-- {
		s := sibs[i]
		if sameFile(s.info, of.pos) || s.info.Size() < of.off {
			continue
		}
		fh, err := os.Open(s.path)
		if err != nil {
			continue
		}
		st, err := fh.Stat()
		head := of.scratch[:len(of.head)]
		if err != nil || !os.SameFile(st, s.info) {
			fh.Close()
			continue
		}
		if got, _ := fh.ReadAt(head, 0); got != len(head) || !bytes.Equal(head, of.head) || r.tr.known(fh, st) {
			fh.Close()
			continue
		}
		co, err := newOpenFile(s.path, fh)
		if err != nil {
			fh.Close()
			continue
		}
		r.tr.remember(co)
		return co, i
	}
	return nil, -1
}

// openUnread opens a sibling to read it from its start, unless it is a file
// already read.
func (r *run) openUnread(path string) (*openFile, error) {
	of, err := openPlain(path)
	if err != nil {
		return nil, err
	}
	st, err := of.f.Stat()
	if err != nil || r.tr.known(of.f, st) {
		of.close()
		return nil, errors.New("read already")
	}
	r.tr.remember(of)
	return of, nil
}

// resume finds the file of the saved position and queues the rest of it,
// then every sibling rotated after it; the current file follows.
func (r *run) resume(ctx context.Context) error {
	start := r.f.Start
	if of, err := openAt(r.f.Path, start); err == nil {
		of.atPath, of.started = true, true
		r.tr.adopt(of)
		r.queue = append(r.queue, of)
		r.note(ctx, "resumed", r.f.Path, fmt.Sprintf("at offset %d", of.off))
		return nil
	}
	// Hold the current file first: were it rotated while the siblings are
	// looked through, it would be found among them.
	r.fromStart = true
	if err := r.tr.hold(); err != nil {
		return err
	}
	sibs := r.siblings()
	i, saved := -1, (*openFile)(nil)
	for j, s := range sibs {
		if of, err := openAt(s.path, start); err == nil {
			i, saved = j, of
			break
		}
	}
	if saved == nil {
		// Copied and truncated while stopped: the file at the path is
		// the saved one, cut; its bytes are in the copy.
		if st, err := os.Stat(r.f.Path); err == nil && sameFile(st, start) {
			for j, s := range sibs {
				if of, err := openCopyAt(s.path, start); err == nil {
					i, saved = j, of
					break
				}
			}
		}
	}
	if saved == nil {
		r.note(ctx, "resume-lost", r.f.Path, "the file of the saved position is gone; reading the current file from its start")
		return nil
	}
	r.tr.remember(saved)
	r.queue = append(r.queue, saved)
	var names []string
	for _, s := range sibs[i+1:] {
		if r.tr.isNewest(s.info) {
			continue
		}
		of, err := r.openUnread(s.path)
		if err != nil {
			continue
		}
		r.queue = append(r.queue, of)
		names = append(names, s.path)
	}
	msg := fmt.Sprintf("rotated while stopped; reading its last %d bytes first", saved.size()-saved.off)
	if len(names) > 0 {
		msg += ", then " + strings.Join(names, ", ")
	}
	r.note(ctx, "resumed", saved.name, msg)
	return nil
}

// sibling is a rotated sibling of the path with what orders it.
type sibling struct {
	path string
	info os.FileInfo
	num  int // the N of path.N, or -1
}

// siblings lists the regular files Rotated names, oldest first: by
// modification time, then by rotation number (path.2 is older than
// path.1), then by name (path-20261123 before path-20261124).
func (r *run) siblings() []sibling {
	return rotationOrder(r.f.Path, r.f.rotated())
}

func rotationOrder(path string, names []string) []sibling {
	var out []sibling
	for _, p := range names {
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		out = append(out, sibling{path: p, info: st, num: rotationNum(path, p)})
	}
	sort.SliceStable(out, func(i, j int) bool { return older(out[i], out[j]) })
	return out
}

// older says a was rotated before b.
func older(a, b sibling) bool {
	if ta, tb := a.info.ModTime(), b.info.ModTime(); !ta.Equal(tb) {
		return ta.Before(tb)
	}
	if a.num >= 0 && b.num >= 0 {
		return a.num > b.num
	}
	return a.path < b.path
}

// rotationNum is N for path.N, else -1.
func rotationNum(path, p string) int {
	rest, ok := strings.CutPrefix(filepath.Base(p), filepath.Base(path)+".")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// rotated lists the files next to Path whose names start with its name
// (error.log.1, error.log-20261124, error.log.2 ...): where a file rotated
// while nothing followed it, or a copy, is found again, by identity.
// Compressed ones are left out: their bytes are not the file's any more.
func (f *Follower) rotated() []string {
	if f.Rotated != nil {
		return f.Rotated(f.Path)
	}
	dir, base := filepath.Dir(f.Path), filepath.Base(f.Path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if len(name) <= len(base) || !strings.HasPrefix(name, base) {
			continue
		}
		switch filepath.Ext(name) {
		case ".gz", ".bz2", ".xz", ".zst", ".lz4":
			continue
		}
		out = append(out, filepath.Join(dir, name))
	}
	return out
}

// tracker opens the files that appear at the path, from Run's loop and
// from the watcher's goroutine alike, and knows the files read lately.
type tracker struct {
	path    string
	rotated func() []string

	mu sync.Mutex
	// newest is the file last found at the path: it stays open as long as
	// it is (it is the last one queued). Its inode is kept apart, since
	// Run's loop updates its Position.
	newest         *os.File
	newDev, newIno uint64
	arrived        []*openFile
	seenFiles      []Position // files opened lately: their identity and first bytes
	target         string     // where a symlinked path points
}

// hold opens the file at the path when it is another than the last one
// found there, with any file rotated in between that was never seen at
// the path (two rotations between two looks).
func (t *tracker) hold() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, err := os.Stat(t.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("following %s: %w", t.path, err)
	}
	if t.newest != nil && sameFile(st, Position{Dev: t.newDev, Ino: t.newIno}) {
		return nil
	}
	if err := followable(t.path, st); err != nil {
		// A directory opens, and fails only at the first read: refused
		// here, before it is reported opened.
		return fmt.Errorf("following %s: %w", t.path, err)
	}
	fh, err := os.Open(t.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // gone again: the next look sees what replaced it
		}
		return fmt.Errorf("following %s: %w", t.path, err)
	}
	of, err := newOpenFile(t.path, fh)
	if err != nil {
		fh.Close()
		return fmt.Errorf("following %s: %w", t.path, err)
	}
	if t.newest != nil && of.pos.Dev == t.newDev && of.pos.Ino == t.newIno {
		of.close() // replaced and back between the stat and the open
		return nil
	}
	of.atPath = true
	if t.newest != nil {
		t.arrived = append(t.arrived, t.between(t.newest, of)...)
	}
	t.rememberLocked(of)
	t.newest, t.newDev, t.newIno = of.f, of.pos.Dev, of.pos.Ino
	t.arrived = append(t.arrived, of)
	return nil
}

// between opens the siblings rotated after prev that were never seen:
// files that were at the path only between two looks.
func (t *tracker) between(prev *os.File, next *openFile) []*openFile {
	pst, err := prev.Stat()
	if err != nil {
		return nil
	}
	p := sibling{info: pst, num: -1}
	sibs := rotationOrder(t.path, t.rotated())
	for _, s := range sibs {
		if os.SameFile(s.info, pst) {
			p = s // where it was rotated to tells its rank
		}
	}
	var out []*openFile
	for _, s := range sibs {
		if os.SameFile(s.info, pst) || sameFile(s.info, next.pos) || !older(p, s) {
			continue
		}
		fh, err := os.Open(s.path)
		if err != nil {
			continue
		}
		st, err := fh.Stat()
		if err != nil || t.knownLocked(fh, st) {
			fh.Close()
			continue
		}
		of, err := newOpenFile(s.path, fh)
		if err != nil {
			fh.Close()
			continue
		}
		t.rememberLocked(of)
		out = append(out, of)
	}
	return out
}

func (t *tracker) take() []*openFile {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.arrived
	t.arrived = nil
	return a
}

// isNewest says st is the file last found at the path.
func (t *tracker) isNewest(st os.FileInfo) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.newest != nil && sameFile(st, Position{Dev: t.newDev, Ino: t.newIno})
}

func (t *tracker) hasNewest() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.newest != nil
}

// adopt makes of the file at the path.
func (t *tracker) adopt(of *openFile) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.newest, t.newDev, t.newIno = of.f, of.pos.Dev, of.pos.Ino
	t.rememberLocked(of)
}

func (t *tracker) setTarget(p string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.target = p
}

func (t *tracker) isTarget(p string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return p == t.target
}

// maxKnown bounds the files remembered as read: a few rotations' worth.
const maxKnown = 64

func (t *tracker) remember(of *openFile) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rememberLocked(of)
}

func (t *tracker) rememberLocked(of *openFile) {
	fp, err := fingerprint(of.f, FingerprintLen)
	if err != nil {
		return
	}
	if len(t.seenFiles) == maxKnown {
		t.seenFiles = t.seenFiles[:copy(t.seenFiles, t.seenFiles[1:])]
	}
	t.seenFiles = append(t.seenFiles, Position{Dev: of.pos.Dev, Ino: of.pos.Ino, Fingerprint: fp})
}

// update remembers more of a file's first bytes, as they are read: a file
// found empty is known by its inode only, and that inode may hold another
// file's copy later (copytruncate writing over a file rotated away).
func (t *tracker) update(of *openFile) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.seenFiles) - 1; i >= 0; i-- {
		k := &t.seenFiles[i]
		if k.Dev == of.pos.Dev && k.Ino == of.pos.Ino {
			if len(of.head) > fingerprintLenOf(k.Fingerprint) {
				k.Fingerprint = of.pos.Fingerprint
			}
			return
		}
	}
}

// forget updates what is remembered of a file being closed: its first
// bytes as read, or nothing when it was empty (an empty file's inode, once
// free, may be any new file's).
func (t *tracker) forget(of *openFile) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.seenFiles) - 1; i >= 0; i-- {
		k := &t.seenFiles[i]
		if k.Dev != of.pos.Dev || k.Ino != of.pos.Ino {
			continue
		}
		if len(of.head) == 0 {
			t.seenFiles = append(t.seenFiles[:i], t.seenFiles[i+1:]...)
		} else if len(of.head) > fingerprintLenOf(k.Fingerprint) {
			k.Fingerprint = of.pos.Fingerprint
		}
		return
	}
}

func (t *tracker) known(fh *os.File, st os.FileInfo) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.knownLocked(fh, st)
}

// knownLocked says fh is a file opened lately: same inode, same first
// bytes as far as they were known.
func (t *tracker) knownLocked(fh *os.File, st os.FileInfo) bool {
	for _, k := range t.seenFiles {
		if sameFile(st, k) && fingerprintFor(fh, k) == k.Fingerprint {
			return true
		}
	}
	return false
}

// openFile is a file being read and where.
type openFile struct {
	name     string
	f        *os.File
	pos      Position // identity of f: its first bytes as far as read; Offset unused
	off      int64    // offset of the byte after the last whole line
	partial  []byte   // a last line without its newline yet
	skipping bool     // inside the rest of a line sent cut
	head     []byte   // the file's first bytes (up to FingerprintLen) as read
	seen     int64    // the largest size seen
	atPath   bool     // opened at the path (not a sibling)
	started  bool     // reading it began
	until    time.Time
	scratch  [FingerprintLen]byte
}

// newOpenFile takes fh, opened at path, to be read from its start.
func newOpenFile(path string, fh *os.File) (*openFile, error) {
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, errors.New("no inode information on this system")
	}
	of := &openFile{name: path, f: fh, head: make([]byte, 0, FingerprintLen)}
	of.pos.Dev, of.pos.Ino = uint64(sys.Dev), sys.Ino
	of.pos.Fingerprint = fingerprintOf(nil)
	return of, nil
}

func openPlain(path string) (*openFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	of, err := newOpenFile(path, fh)
	if err != nil {
		fh.Close()
		return nil, err
	}
	return of, nil
}

// openAt opens path only if it is the file of pos, positioned at its
// offset; a file shorter than the offset is not it (or was truncated) and
// is refused.
func openAt(path string, pos Position) (*openFile, error) {
	of, err := openPlain(path)
	if err != nil {
		return nil, err
	}
	if of.pos.Dev != pos.Dev || of.pos.Ino != pos.Ino || pos.Fingerprint != fingerprintFor(of.f, pos) || of.size() < pos.Offset {
		of.close()
		return nil, errors.New("not the file of the saved position")
	}
	of.seekTo(pos.Offset)
	return of, nil
}

// openCopyAt opens path only if it is a copy of the file of pos (another
// file with its first bytes) that reaches its offset.
func openCopyAt(path string, pos Position) (*openFile, error) {
	of, err := openPlain(path)
	if err != nil {
		return nil, err
	}
	if (of.pos.Dev == pos.Dev && of.pos.Ino == pos.Ino) || pos.Fingerprint != fingerprintFor(of.f, pos) || of.size() < pos.Offset {
		of.close()
		return nil, errors.New("not a copy of the file of the saved position")
	}
	of.seekTo(pos.Offset)
	return of, nil
}

// seekTo positions the file at off, as if everything before it was read.
func (of *openFile) seekTo(off int64) {
	of.f.Seek(off, io.SeekStart)
	of.off = off
	of.partial = of.partial[:0]
	of.skipping = false
	n, _ := of.f.ReadAt(of.head[:min(off, FingerprintLen)], 0)
	of.head = of.head[:n]
	of.pos.Fingerprint = fingerprintOf(of.head)
	of.seen = max(of.seen, off)
}

// rpos is the offset of the next byte to read.
func (of *openFile) rpos() int64 { return of.off + int64(len(of.partial)) }

// learn keeps the first bytes of the file as they are read: the file's
// fingerprint is that of the bytes read, never of bytes read later that
// may already be another file's.
func (of *openFile) learn(data []byte) bool {
	at := of.rpos()
	if at >= FingerprintLen || at != int64(len(of.head)) {
		return false
	}
	of.head = append(of.head, data[:min(int64(len(data)), FingerprintLen-at)]...)
	of.pos.Fingerprint = fingerprintOf(of.head)
	return true
}

// fingerprintFor hashes as many leading bytes as pos's fingerprint was made
// of, so a file that has grown since still matches.
func fingerprintFor(f *os.File, pos Position) string {
	n := fingerprintLenOf(pos.Fingerprint)
	fp, _ := fingerprint(f, n)
	return fp
}

// fingerprint is "n:hash" of the first min(n, size) bytes. The length is
// part of it, so a file that has grown can be checked against a
// fingerprint taken when it was short.
func fingerprint(f *os.File, n int) (string, error) {
	buf := make([]byte, n)
	got, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return fingerprintOf(buf[:got]), nil
}

func fingerprintOf(b []byte) string {
	sum := sha256.Sum256(b)
	return strconv.Itoa(len(b)) + ":" + hex.EncodeToString(sum[:12])
}

func fingerprintLenOf(fp string) int {
	n := 0
	for i := 0; i < len(fp) && fp[i] != ':'; i++ {
		n = n*10 + int(fp[i]-'0')
	}
	return n
}

func (of *openFile) size() int64 {
	st, err := of.f.Stat()
	if err != nil {
		return 0
	}
	return st.Size()
}

func sameFile(st os.FileInfo, pos Position) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && uint64(sys.Dev) == pos.Dev && sys.Ino == pos.Ino
}

// truncated reports a file cut back under the reading offset, or rewritten
// from its start (its first bytes are no longer those read): the
// truncation nxadm/tail misses when the file has grown back past the old
// offset between two looks.
func (of *openFile) truncated(st os.FileInfo) bool {
	if st.Size() < of.rpos() {
		return true
	}
	if len(of.head) == 0 {
		return false
	}
	now := of.scratch[:len(of.head)]
	got, err := of.f.ReadAt(now, 0)
	if got < len(now) {
		return err == nil || errors.Is(err, io.EOF)
	}
	return !bytes.Equal(now, of.head)
}

// restart reads the same file again from its start after a truncation.
func (of *openFile) restart() {
	of.seekTo(0)
	of.seen = 0
}

// lines sends every complete line of data, read at of's offset. A line
// longer than maxLine is sent cut, as soon as it is that long, and the
// rest of it is skipped (counted as read).
func (r *run) lines(ctx context.Context, of *openFile, data []byte) bool {
	maxLine := r.f.MaxLine
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if of.skipping {
			if i < 0 {
				of.off += int64(len(data))
				break
			}
			of.off += int64(i + 1)
			data = data[i+1:]
			of.skipping = false
			continue
		}
		if i < 0 {
			of.partial = append(of.partial, data...)
			if len(of.partial) > maxLine {
				if !r.emit(ctx, of, of.partial, int64(len(of.partial))) {
					return false
				}
				of.partial = of.partial[:0]
				of.skipping = true
			}
			break
		}
		whole := append(of.partial, data[:i]...)
		if !r.emit(ctx, of, whole, int64(len(whole))+1) {
			return false
		}
		of.partial = whole[:0]
		data = data[i+1:]
	}
	return true
}

// emit sends one line of consumed bytes (its newline included) and moves
// the offset past it once it is taken.
func (r *run) emit(ctx context.Context, of *openFile, text []byte, consumed int64) bool {
	text = bytes.TrimSuffix(text, []byte("\r"))
	cut := false
	if len(text) > r.f.MaxLine {
		text, cut = text[:r.f.MaxLine], true
	}
	l := Line{Text: string(text), Offset: of.off, End: of.off + consumed, File: of.pos, Cut: cut}
	l.File.Offset = l.End
	if !r.send(ctx, l) {
		return false
	}
	of.off += consumed
	r.last, r.sent = l.File, true
	return true
}

// settle is the least time between two looks woken by inotify: a log
// written at 10,000 lines/s is read in 200 looks a second, not 1,000 (half
// the CPU), at the price of 5 ms of latency and of what a truncation with
// no copy destroys in those 5 ms unseen.
const settle = 5 * time.Millisecond

// peekEvery is how often the files are looked at while a line waits to be
// taken.
const peekEvery = 10 * time.Millisecond

// send sends l, and while it waits to be taken (the pipeline is busy, or
// holds this log back behind the others), looks at the files now and then.
func (r *run) send(ctx context.Context, l Line) bool {
	select {
	case r.out <- l:
		return true
	default:
	}
	for {
		r.tick.Reset(peekEvery)
		select {
		case r.out <- l:
			return true
		case <-ctx.Done():
			return false
		case <-r.tick.C:
			r.peek()
		}
	}
}

// peek notes how far the files have grown and holds a new file at the
// path, while nothing is read: a rotation meanwhile is then held at once,
// and what a truncation destroys before it is read is counted.
func (r *run) peek() {
	for _, of := range r.queue {
		if st, err := of.f.Stat(); err == nil && !of.truncated(st) {
			of.seen = max(of.seen, st.Size())
		}
	}
	_ = r.tr.hold() // an error is the next look's to report
}

// flushPartial sends a last line that never got its newline: the file is
// finished (rotated away or cut), so nothing will complete it.
func (r *run) flushPartial(ctx context.Context, of *openFile) {
	if len(of.partial) > 0 && !of.skipping {
		r.emit(ctx, of, of.partial, int64(len(of.partial)))
	}
	of.partial = of.partial[:0]
}

func (of *openFile) close() {
	if of.f != nil {
		of.f.Close()
		of.f = nil
	}
}
