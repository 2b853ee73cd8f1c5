package source

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// follow starts a Follower on path and returns a function that waits for
// the next n lines (failing the test after a generous deadline: waiting on
// a channel, never a sleep). Events are collected as they come.
type followed struct {
	t      *testing.T
	lines  chan Line
	cancel context.CancelFunc
	done   chan error
	last   Position

	mu     sync.Mutex
	evs    []Event
	evSent chan struct{} // poked at each event
}

func follow(t *testing.T, f *Follower) *followed {
	t.Helper()
	if f.Poll == 0 {
		f.Poll = 2 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	fw := &followed{t: t, lines: make(chan Line), cancel: cancel, done: make(chan error, 1), evSent: make(chan struct{}, 1)}
	events := make(chan Event)
	go func() {
		for {
			select {
			case ev := <-events:
				fw.mu.Lock()
				fw.evs = append(fw.evs, ev)
				fw.mu.Unlock()
				select {
				case fw.evSent <- struct{}{}:
				default:
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { fw.done <- f.Run(ctx, fw.lines, events) }()
	t.Cleanup(fw.stop)
	return fw
}

func (fw *followed) next(n int) []string {
	fw.t.Helper()
	var got []string
	for _, l := range fw.nextLines(n) {
		got = append(got, l.Text)
	}
	return got
}

func (fw *followed) nextLines(n int) []Line {
	fw.t.Helper()
	var got []Line
	deadline := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case l := <-fw.lines:
			got = append(got, l)
			fw.last = l.File
		case <-deadline:
			fw.t.Fatalf("got %d line(s) %v, want %d", len(got), got, n)
		}
	}
	return got
}

// events returns the events of a kind received so far.
func (fw *followed) events(kind string) []Event {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	var out []Event
	for _, ev := range fw.evs {
		if kind == "" || ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// waitEvent waits for the n-th event of a kind and returns it.
func (fw *followed) waitEvent(kind string, n int) Event {
	fw.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if evs := fw.events(kind); len(evs) >= n {
			return evs[n-1]
		}
		select {
		case <-fw.evSent:
		case <-deadline:
			fw.t.Fatalf("no %q event #%d; events: %+v", kind, n, fw.events(""))
		}
	}
}

// quiet checks that no line arrives while the follower polls a few times.
func (fw *followed) quiet() {
	fw.t.Helper()
	select {
	case l := <-fw.lines:
		fw.t.Fatalf("unexpected line %q", l.Text)
	case <-time.After(50 * time.Millisecond):
	}
}

func (fw *followed) stop() {
	fw.cancel()
	if err := <-fw.done; err != nil {
		fw.t.Errorf("Run: %v", err)
	}
	fw.done <- nil
}

func appendTo(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l); err != nil {
			t.Fatal(err)
		}
	}
}

func nl(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s %d\n", prefix, i))
	}
	return out
}

func texts(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSuffix(l, "\n")
	}
	return out
}

func equal(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestFollowFromEndThenAppend(t *testing.T) {
	p := filepath.Join(t.TempDir(), "error.log")
	appendTo(t, p, "old\n")
	fw := follow(t, &Follower{Path: p})
	fw.quiet() // existing content is not read without FromStart
	appendTo(t, p, "new 1\n", "new 2\n")
	equal(t, fw.next(2), []string{"new 1", "new 2"})
}

func TestFollowPartialLineWaitsForItsEnd(t *testing.T) {
	p := filepath.Join(t.TempDir(), "error.log")
	appendTo(t, p, "")
	fw := follow(t, &Follower{Path: p, FromStart: true})
	appendTo(t, p, "half a li")
	fw.quiet()
	appendTo(t, p, "ne\nnext\n")
	equal(t, fw.next(2), []string{"half a line", "next"})
}

// TestFollowRenameRotation: lines written to the old file after the rename
// (the writer has not reopened yet) are read before the new file's.
func TestFollowRenameRotation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "error.log")
	appendTo(t, p, nl("a", 0, 3)...)
	fw := follow(t, &Follower{Path: p, FromStart: true})
	equal(t, fw.next(3), texts(nl("a", 0, 3)))
	old, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	old.WriteString("a 3\na 4\n") // the writer still holds the old file
	old.Close()
	appendTo(t, p, nl("b", 0, 3)...)
	equal(t, fw.next(5), append(texts(nl("a", 3, 5)), texts(nl("b", 0, 3))...))
}

func TestFollowRotationsManyTimes(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "error.log")
	appendTo(t, p, "")
	fw := follow(t, &Follower{Path: p, FromStart: true})
	for r := range 20 {
		// Each rotation once the follower has read up to it, as with a
		// real logrotate run every so often; lines written to the old file
		// after the rename are still read.
		lines := nl(fmt.Sprintf("r%d", r), 0, 5)
		appendTo(t, p, lines[:3]...)
		equal(t, fw.next(3), texts(lines[:3]))
		os.Rename(p, fmt.Sprintf("%s.%d", p, r))
		appendTo(t, fmt.Sprintf("%s.%d", p, r), lines[3:]...)
		appendTo(t, p, "")
		equal(t, fw.next(2), texts(lines[3:]))
	}
	fw.quiet()
}

// TestFollowTruncate: copytruncate or `: > file`; and a truncation that the
// file has grown back past before the follower looked again.
func TestFollowTruncate(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "error.log")
	appendTo(t, p, nl("a", 0, 3)...)
	fw := follow(t, &Follower{Path: p, FromStart: true})
	equal(t, fw.next(3), texts(nl("a", 0, 3)))

	os.Truncate(p, 0)
	appendTo(t, p, "b 0\n")
	equal(t, fw.next(1), []string{"b 0"})

	// Grown back past the old offset in one go: the first bytes tell.
	os.Truncate(p, 0)
	appendTo(t, p, nl("c-a-much-longer-line-than-before", 0, 4)...)
	equal(t, fw.next(4), texts(nl("c-a-much-longer-line-than-before", 0, 4)))
}

func TestFollowDeleteRecreateAndLateFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "later.log")
	fw := follow(t, &Follower{Path: p}) // does not exist yet
	fw.quiet()
	appendTo(t, p, "first\n") // a file that appears is read from its start
	equal(t, fw.next(1), []string{"first"})
	os.Remove(p)
	fw.quiet()
	appendTo(t, p, "again\n")
	equal(t, fw.next(1), []string{"again"})
}

func TestFollowSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	a, b, link := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log"), filepath.Join(dir, "current.log")
	appendTo(t, a, "in a\n")
	appendTo(t, b, "in b\n")
	os.Symlink(a, link)
	fw := follow(t, &Follower{Path: link, FromStart: true})
	equal(t, fw.next(1), []string{"in a"})
	tmp := link + ".new"
	os.Symlink(b, tmp)
	os.Rename(tmp, link)
	equal(t, fw.next(1), []string{"in b"})
}

func TestFollowLongLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "error.log")
	appendTo(t, p, "")
	fw := follow(t, &Follower{Path: p, FromStart: true, MaxLine: 10})
	appendTo(t, p, strings.Repeat("x", 100000)+"\nafter\n")
	got := fw.next(2)
	equal(t, got, []string{strings.Repeat("x", 10), "after"})
}

// TestFollowResume: a saved position resumes exactly, on the same file or
// on the file it was rotated to while nothing followed it.
func TestFollowResume(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "error.log")
	appendTo(t, p, nl("a", 0, 3)...)
	fw := follow(t, &Follower{Path: p, FromStart: true})
	fw.next(2)
	saved := fw.last
	fw.stop()

	// Same file, grown meanwhile.
	appendTo(t, p, "a 3\n")
	fw = follow(t, &Follower{Path: p, Start: saved})
	equal(t, fw.next(2), []string{"a 2", "a 3"})
	saved = fw.last
	fw.stop()

	// Rotated while stopped: the rest of the old file, then the new one.
	appendTo(t, p, "a 4\n")
	os.Rename(p, p+".1")
	appendTo(t, p, "b 0\n")
	fw = follow(t, &Follower{Path: p, Start: saved})
	equal(t, fw.next(2), []string{"a 4", "b 0"})
	fw.stop()

	// A position whose file is gone: the current file from its start.
	fw = follow(t, &Follower{Path: p, Start: Position{Dev: 1, Ino: 1, Fingerprint: "4:00", Offset: 4}})
	equal(t, fw.next(1), []string{"b 0"})
}

// TestFollowOffsetsAreExact: every line's offsets are where it lies in
// the file, so a checkpoint at End resumes on the next line.
func TestFollowOffsetsAreExact(t *testing.T) {
	p := filepath.Join(t.TempDir(), "error.log")
	content := "one\r\ntwo\n\nfour\n"
	appendTo(t, p, content)
	fw := follow(t, &Follower{Path: p, FromStart: true})
	var got []Line
	for range 4 {
		select {
		case l := <-fw.lines:
			got = append(got, l)
		case <-time.After(10 * time.Second):
			t.Fatal("timeout")
		}
	}
	want := []struct {
		text     string
		off, end int64
	}{{"one", 0, 5}, {"two", 5, 9}, {"", 9, 10}, {"four", 10, 15}}
	for i, w := range want {
		if got[i].Text != w.text || got[i].Offset != w.off || got[i].End != w.end {
			t.Errorf("line %d: %q [%d,%d), want %q [%d,%d)", i, got[i].Text, got[i].Offset, got[i].End, w.text, w.off, w.end)
		}
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// held starts a follower that has read the first line of path (written
// with the second in one go) and holds the second: it is blocked sending
// it, so whatever is done to the file meanwhile happens between two of its
// looks, however fast it looks.
func held(t *testing.T, path, prefix string) *followed {
	t.Helper()
	appendTo(t, path, strings.Join(nl(prefix, 0, 2), ""))
	fw := follow(t, &Follower{Path: path, FromStart: true, Poll: 50 * time.Millisecond})
	equal(t, fw.next(1), []string{prefix + " 0"})
	return fw
}

// TestFollowCopyTruncateBetweenLooks: lines appended since the last look,
// then copied and truncated away, are read from the copy, with the copy's
// identity and offsets; then the truncated file from its start.
func TestFollowCopyTruncateBetweenLooks(t *testing.T) {
	p := filepath.Join(t.TempDir(), "error.log")
	fw := held(t, p, "a")
	appendTo(t, p, nl("a", 2, 5)...)
	copyFile(t, p, p+".1")
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	appendTo(t, p, "b 0\n")
	got := fw.nextLines(5)
	var texts []string
	for _, l := range got {
		texts = append(texts, l.Text)
	}
	equal(t, texts, []string{"a 1", "a 2", "a 3", "a 4", "b 0"})
	if cp := inode(t, p+".1"); got[1].File.Ino != cp || got[1].Offset != 8 || got[3].End != 20 || got[3].File.Offset != 20 {
		t.Errorf("line from the copy: %+v, want inode %d, [8, 12)", got[1], cp)
	}
	if got[4].File.Ino != inode(t, p) || got[4].Offset != 0 {
		t.Errorf("line after the truncation: %+v", got[4])
	}
	if ev := fw.events("lost"); len(ev) != 0 {
		t.Errorf("lost: %+v", ev)
	}
}

// TestFollowLogrotateCopyTruncate: the same with logrotate itself.
func TestFollowLogrotateCopyTruncate(t *testing.T) {
	bin, err := exec.LookPath("logrotate")
	if err != nil {
		t.Skip("no logrotate")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "error.log")
	conf := filepath.Join(dir, "logrotate.conf")
	if err := os.WriteFile(conf, []byte(p+" {\n\tcopytruncate\n\trotate 3\n\tmissingok\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fw := held(t, p, "a")
	for r := range 3 {
		appendTo(t, p, nl(fmt.Sprintf("r%d", r), 0, 3)...)
		if out, err := exec.Command(bin, "-f", "-s", filepath.Join(dir, "state"), conf).CombinedOutput(); err != nil {
			t.Fatalf("logrotate: %v\n%s", err, out)
		}
		appendTo(t, p, fmt.Sprintf("after %d\n", r))
	}
	want := []string{"a 1"}
	for r := range 3 {
		want = append(want, texts(nl(fmt.Sprintf("r%d", r), 0, 3))...)
		want = append(want, fmt.Sprintf("after %d", r))
	}
	equal(t, fw.next(len(want)), want)
	fw.quiet()
}

// TestFollowTwoRenamesBetweenLooks: the path is rotated twice before the
// follower looks again; the file that was at the path in between is read
// fully, wherever the second rotation put it.
func TestFollowTwoRenamesBetweenLooks(t *testing.T) {
	for _, tt := range []struct {
		name   string
		rotate func(p string) // A is at p, then B, then C
	}{
		{"numbered", func(p string) {
			// rotate 2: A -> p.1 -> p.2, B -> p.1
			os.Rename(p, p+".1")
			appendTo(t, p, nl("b", 0, 3)...)
			os.Rename(p+".1", p+".2")
			os.Rename(p, p+".1")
			appendTo(t, p, "c 0\n")
		}},
		{"overwritten", func(p string) {
			// rotate 1: B renamed over A's name; A is gone but held open
			os.Rename(p, p+".1")
			appendTo(t, p, nl("b", 0, 3)...)
			os.Rename(p, p+".1")
			appendTo(t, p, "c 0\n")
		}},
		{"dated", func(p string) {
			os.Rename(p, p+"-20261123")
			appendTo(t, p, nl("b", 0, 3)...)
			os.Rename(p, p+"-20261124")
			appendTo(t, p, "c 0\n")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "error.log")
			fw := held(t, p, "a")
			tt.rotate(p)
			equal(t, fw.next(5), []string{"a 1", "b 0", "b 1", "b 2", "c 0"})
			fw.quiet()
		})
	}
}

// TestFollowResumeAfterTwoRotations: stopped in the middle of a file that
// was rotated twice before the restart: the rest of it, then the file
// rotated after it, then the current one.
func TestFollowResumeAfterTwoRotations(t *testing.T) {
	p := filepath.Join(t.TempDir(), "error.log")
	appendTo(t, p, nl("a", 0, 3)...)
	fw := follow(t, &Follower{Path: p, FromStart: true})
	fw.next(2)
	saved := fw.last
	fw.stop()

	appendTo(t, p, "a 3\n")
	os.Rename(p, p+".1")
	appendTo(t, p, nl("b", 0, 2)...)
	os.Rename(p+".1", p+".2")
	os.Rename(p, p+".1")
	appendTo(t, p, "c 0\n")
	appendTo(t, p+".3", "older, read before\n")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p+".3", old, old)

	fw = follow(t, &Follower{Path: p, Start: saved})
	equal(t, fw.next(5), []string{"a 2", "a 3", "b 0", "b 1", "c 0"})
	fw.quiet()
}

// TestFollowResumeAfterCopyTruncate: stopped, then the file was copied
// and truncated: the rest is read from the copy.
func TestFollowResumeAfterCopyTruncate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "error.log")
	appendTo(t, p, nl("a", 0, 3)...)
	fw := follow(t, &Follower{Path: p, FromStart: true})
	fw.next(2)
	saved := fw.last
	fw.stop()

	appendTo(t, p, "a 3\n")
	copyFile(t, p, p+".1")
	os.Truncate(p, 0)
	appendTo(t, p, "b 0\n")
	fw = follow(t, &Follower{Path: p, Start: saved})
	equal(t, fw.next(3), []string{"a 2", "a 3", "b 0"})
}

// TestFollowTruncateReportsLost: a truncation with no copy destroys what
// was not read yet; as much as was seen is reported.
func TestFollowTruncateReportsLost(t *testing.T) {
	p := filepath.Join(t.TempDir(), "error.log")
	// More than one read: the follower has seen the size, read the first
	// 64 KiB and is sending their first lines.
	lines := nl("a-line-of-some-length", 0, 5000)
	content := strings.Join(lines, "")
	appendTo(t, p, content)
	fw := follow(t, &Follower{Path: p, FromStart: true, Poll: 50 * time.Millisecond})
	fw.next(1)
	os.Truncate(p, 0)
	appendTo(t, p, "b 0\n")
	// Every line up to the end of what was read is sent, the last cut
	// short: its end was destroyed.
	var read int64
	n := 1
	for {
		l := fw.nextLines(1)[0]
		if l.Text == "b 0" {
			break
		}
		read = l.End
		n++
	}
	lost := fw.waitEvent("lost", 1)
	want := fmt.Sprintf("%d bytes destroyed by a truncation before they could be read", int64(len(content))-read)
	if lost.Note != want || lost.Path != p {
		t.Errorf("lost event %+v, want %q", lost, want)
	}
	if read != 64<<10 || n >= len(lines) {
		t.Errorf("read %d bytes, %d lines of %d: want what one read took", read, n, len(lines))
	}
}

// TestFollowInotify: a line is read when it is written, not at the next
// poll.
func TestFollowInotify(t *testing.T) {
	p := filepath.Join(t.TempDir(), "error.log")
	appendTo(t, p, "old\n")
	fw := follow(t, &Follower{Path: p, Poll: 10 * time.Second})
	fw.waitEvent("open", 1)
	for i := range 3 {
		start := time.Now()
		appendTo(t, p, fmt.Sprintf("new %d\n", i))
		select {
		case l := <-fw.lines:
			if l.Text != fmt.Sprintf("new %d", i) {
				t.Fatalf("got %q", l.Text)
			}
		case <-time.After(time.Second):
			t.Fatal("no line within a second: not woken by inotify")
		}
		t.Logf("read after %v", time.Since(start))
	}
	// A rotation is seen at once too.
	os.Rename(p, p+".1")
	appendTo(t, p, "rotated\n")
	select {
	case l := <-fw.lines:
		if l.Text != "rotated" {
			t.Fatalf("got %q", l.Text)
		}
	case <-time.After(time.Second):
		t.Fatal("rotation not seen within a second")
	}
}

// TestFollowEOF: "eof" names the last line sent, once everything readable
// was sent, and only again after more lines.
func TestFollowEOF(t *testing.T) {
	p := filepath.Join(t.TempDir(), "error.log")
	appendTo(t, p, nl("a", 0, 3)...)
	fw := follow(t, &Follower{Path: p, FromStart: true})
	got := fw.nextLines(3)
	if ev := fw.waitEvent("eof", 1); ev.At != got[2].File {
		t.Errorf("eof at %+v, want %+v", ev.At, got[2].File)
	}
	fw.quiet()
	if n := len(fw.events("eof")); n != 1 {
		t.Errorf("%d eof events with nothing new", n)
	}
	// Rotated with lines left in the old file: one eof, after all of it.
	old, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	os.Rename(p, p+".1")
	appendTo(t, p, "b 0\n")
	old.WriteString("a 3\n")
	old.Close()
	got = fw.nextLines(2)
	if got[0].Text != "b 0" && got[1].Text != "b 0" {
		t.Fatalf("lines %v", got)
	}
	// The old file's late line may come after the new file's: the last
	// eof names whichever was sent last.
	deadline := time.After(10 * time.Second)
	for {
		evs := fw.events("eof")
		if evs[len(evs)-1].At == fw.last {
			break
		}
		select {
		case <-fw.evSent:
		case <-deadline:
			t.Fatalf("eof events %+v, none at the last line %+v", evs, fw.last)
		}
	}
}

// TestFollowWithoutInotify: a directory that does not exist yet cannot be
// watched; the file is looked for every Poll, and read when it appears.
func TestFollowWithoutInotify(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	p := filepath.Join(dir, "error.log")
	fw := follow(t, &Follower{Path: p})
	if ev := fw.waitEvent("polling", 1); !strings.Contains(ev.Note, "looking every 2ms") {
		t.Errorf("polling event %+v", ev)
	}
	fw.waitEvent("missing", 1)
	os.Mkdir(dir, 0o755)
	appendTo(t, p, "first\n")
	equal(t, fw.next(1), []string{"first"})
	os.Rename(p, p+".1")
	appendTo(t, p, "second\n")
	equal(t, fw.next(1), []string{"second"})
}
