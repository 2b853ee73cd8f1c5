package source

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestJournalReal follows a real systemd-journald (started by .ci/run, or
// already running): lines sent with systemd-cat come back with cursors,
// and a restart after a cursor reads only what follows it.
func TestJournalReal(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs systemd-journald")
	}
	if c, err := net.Dial("unix", "/run/systemd/journal/stdout"); err != nil {
		t.Skipf("no systemd-journald running here (.ci/run starts one): %v", err)
	} else {
		c.Close()
	}
	if _, err := exec.LookPath("systemd-cat"); err != nil {
		t.Skip("no systemd-cat")
	}
	ident := fmt.Sprintf("sigtail-test-%d", time.Now().UnixNano())
	send := func(lines ...string) {
		for _, l := range lines {
			cmd := exec.Command("systemd-cat", "-t", ident)
			cmd.Stdin = strings.NewReader(l + "\n")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("systemd-cat: %v %s", err, out)
			}
		}
	}
	follow := func(j *Journal, want int, during func()) []Line {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := make(chan Line, 100)
		events := make(chan Event, 10)
		done := make(chan error, 1)
		go func() { done <- j.Run(ctx, out, events) }()
		select {
		case <-events: // journalctl is running
		case <-time.After(10 * time.Second):
			t.Fatal("journalctl did not start")
		}
		if during != nil {
			during()
		}
		var got []Line
		deadline := time.After(20 * time.Second)
		for len(got) < want {
			select {
			case l := <-out:
				got = append(got, l)
			case err := <-done:
				t.Fatalf("Run ended: %v", err)
			case <-deadline:
				t.Fatalf("got %d lines %v, want %d", len(got), got, want)
			}
		}
		cancel()
		<-done
		return got
	}
	send("before the follower")
	got := follow(&Journal{Match: []string{"-t", ident}, FromStart: true}, 3, func() {
		send("[2026-11-24 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:2)", "second")
	})
	if got[0].Text != "before the follower" {
		t.Fatalf("from the start: first %q", got[0].Text)
	}
	got = got[1:]
	if got[0].Text != "[2026-11-24 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:2)" || got[1].Text != "second" {
		t.Fatalf("got %q %q", got[0].Text, got[1].Text)
	}
	if got[0].File.Cursor == "" || got[0].File.Cursor == got[1].File.Cursor {
		t.Fatalf("cursors %q %q", got[0].File.Cursor, got[1].File.Cursor)
	}
	// Resume after the first: the second comes again, then a new one.
	send("third")
	again := follow(&Journal{Match: []string{"-t", ident}, Start: got[0].File}, 2, nil)
	if again[0].Text != "second" || again[1].Text != "third" {
		t.Fatalf("after the cursor: %q %q", again[0].Text, again[1].Text)
	}
}
