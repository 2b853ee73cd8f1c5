package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeJournalctl writes a script that records its arguments and prints
// journal entries as `journalctl -o json` does, then waits like -f.
func fakeJournalctl(t *testing.T, entries string) (bin, argsFile string) {
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	data := filepath.Join(dir, "entries.json")
	os.WriteFile(data, []byte(entries), 0o644)
	bin = filepath.Join(dir, "journalctl")
	script := "#!/bin/sh\necho \"$@\" > " + argsFile + "\ncat " + data + "\nexec sleep 60\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, argsFile
}

func TestJournal(t *testing.T) {
	entries := `{"__CURSOR":"s=1;i=1","MESSAGE":"[2026-11-24 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:2)","_SYSTEMD_UNIT":"gunicorn.service"}
{"__CURSOR":"s=1;i=2","MESSAGE":[91,120,93,32,255]}
{"__CURSOR":"s=1;i=3","MESSAGE":"Traceback (most recent call last):\n  File \"x.py\"\nImportError: No module named 'x'"}
not json
`
	bin, argsFile := fakeJournalctl(t, entries)
	j := &Journal{Command: bin, Match: []string{"-u", "gunicorn.service"}, Start: Position{Cursor: "s=1;i=0"}}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan Line, 10)
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx, out, nil) }()
	var got []Line
	for len(got) < 5 {
		select {
		case l := <-out:
			got = append(got, l)
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d lines", len(got))
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []struct{ text, cursor string }{
		{"[2026-11-24 10:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:2)", "s=1;i=1"},
		{"[x] \xff", "s=1;i=2"},
		{"Traceback (most recent call last):", "s=1;i=3"},
		{`  File "x.py"`, "s=1;i=3"},
		{"ImportError: No module named 'x'", "s=1;i=3"},
	}
	for i, w := range want {
		if got[i].Text != w.text || got[i].File.Cursor != w.cursor {
			t.Errorf("line %d: %q at %q, want %q at %q", i, got[i].Text, got[i].File.Cursor, w.text, w.cursor)
		}
	}
	args, _ := os.ReadFile(argsFile)
	for _, a := range []string{"--follow", "--output=json", "--after-cursor=s=1;i=0", "-u gunicorn.service"} {
		if !strings.Contains(string(args), a) {
			t.Errorf("journalctl args %q lack %q", args, a)
		}
	}
}

func TestJournalFailsClearly(t *testing.T) {
	j := &Journal{Command: filepath.Join(t.TempDir(), "no-such-journalctl")}
	err := j.Run(context.Background(), make(chan Line), nil)
	if err == nil || !strings.Contains(err.Error(), "no-such-journalctl") {
		t.Fatalf("error %v, want one naming the command", err)
	}
}
