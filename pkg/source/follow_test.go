package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// follow starts a Follower on path and returns a function that waits for
// the next n lines (failing the test after a generous deadline: waiting on
// a channel, never a sleep).
type followed struct {
	t      *testing.T
	lines  chan Line
	events chan Event
	cancel context.CancelFunc
	done   chan error
	last   Position
}

func follow(t *testing.T, f *Follower) *followed {
	t.Helper()
	if f.Poll == 0 {
		f.Poll = 2 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	fw := &followed{t: t, lines: make(chan Line), events: make(chan Event, 100), cancel: cancel, done: make(chan error, 1)}
	go func() { fw.done <- f.Run(ctx, fw.lines, fw.events) }()
	t.Cleanup(fw.stop)
	return fw
}

func (fw *followed) next(n int) []string {
	fw.t.Helper()
	var got []string
	deadline := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case l := <-fw.lines:
			got = append(got, l.Text)
			fw.last = l.File
		case <-deadline:
			fw.t.Fatalf("got %d line(s) %q, want %d", len(got), got, n)
		}
	}
	return got
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
