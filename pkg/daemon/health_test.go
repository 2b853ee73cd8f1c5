package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/checkpoint"
	"github.com/sigtail/sigtail/pkg/daemon"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/sink"
)

// logBuffer keeps the daemon's JSON log lines; the daemon writes it from
// several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// count counts the lines of a level whose source and message are these
// (an empty one matches any).
func (b *logBuffer) count(level, source, message string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, l := range strings.Split(b.buf.String(), "\n") {
		var e struct{ Level, Source, Message string }
		if json.Unmarshal([]byte(l), &e) != nil {
			continue
		}
		if (level == "" || e.Level == level) && (source == "" || e.Source == source) && (message == "" || e.Message == message) {
			n++
		}
	}
	return n
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// healthConfig is a daemon's config for the health tests: the test
// catalog, fast clocks, retries every few milliseconds, a debug log.
func healthConfig(t *testing.T, logs *logBuffer, out sink.Sink) daemon.Config {
	t.Helper()
	cat, err := catalog.Load(os.DirFS("testdata/catalog"), "testdata/catalog")
	if err != nil {
		t.Fatal(err)
	}
	set, _ := match.Compile(cat)
	return daemon.Config{
		Catalog: cat, Set: set, Location: time.UTC, Sinks: []sink.Sink{out},
		Log:  zerolog.New(logs).Level(zerolog.DebugLevel),
		Tick: 10 * time.Millisecond, Poll: 5 * time.Millisecond, IdleFlush: 50 * time.Millisecond,
		GlobEvery: 20 * time.Millisecond, RetryMin: 2 * time.Millisecond, RetryMax: 10 * time.Millisecond,
		FromStart: true,
	}
}

// running runs d until the test ends, stopping it as SIGTERM does.
func running(t *testing.T, d *daemon.Daemon) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Error(err)
		}
	})
}

// waitUntil polls cond until it holds, failing the test after a deadline.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
	}
}

func sourceOf(h daemon.Health, name string) (daemon.SourceHealth, bool) {
	for _, s := range h.Sources {
		if s.Source == name {
			return s, true
		}
	}
	return daemon.SourceHealth{}, false
}

// getHealth asks /healthz.
func getHealth(t *testing.T, url string) (int, daemon.Health) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h daemon.Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return resp.StatusCode, h
}

func (m *memSink) count(rule string) int {
	n := 0
	for _, r := range m.rules() {
		if r == rule {
			n++
		}
	}
	return n
}

// TestHealthDirectoryRecovers: a path that is a directory is reported once
// however often it is tried again, /healthz answers 503 naming it; once a
// file replaces it, /healthz answers 200, one line says it is followed
// again, and what is written in it raises incidents.
func TestHealthDirectoryRecovers(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	if err := os.Mkdir(logPath, 0o755); err != nil {
		t.Fatal(err)
	}
	logs, out, metrics := &logBuffer{}, &memSink{}, daemon.NewMetrics()
	cfg := healthConfig(t, logs, out)
	cfg.Files, cfg.Metrics = []daemon.FileSource{{Path: logPath}}, metrics
	d := daemon.New(cfg)
	srv := httptest.NewServer(daemon.HealthHandler(d))
	defer srv.Close()
	if code, h := getHealth(t, srv.URL); code != http.StatusServiceUnavailable || h.Status != "starting" || len(h.Sources) != 1 {
		t.Errorf("before Run: %d %+v", code, h)
	}
	running(t, d)

	// Tried again and again: the debug lines count the tries.
	waitUntil(t, "five tries", func() bool { return logs.count("debug", logPath, "still cannot follow") >= 5 })
	code, h := getHealth(t, srv.URL)
	s, _ := sourceOf(h, logPath)
	if code != http.StatusServiceUnavailable || h.Status != "degraded" || s.OK || s.Kind != "file" ||
		s.Reason != "is a directory, not a log file (give a file or a glob such as /var/log/app/*.log)" || s.Since.IsZero() {
		t.Errorf("/healthz %d %+v", code, h)
	}
	if n := logs.count("error", logPath, ""); n != 1 {
		t.Errorf("%d error lines about %s, want 1:\n%s", n, logPath, logs)
	}
	if up := testutil.ToFloat64(metrics.SourceUp.WithLabelValues(logPath)); up != 0 {
		t.Errorf("sigtail_source_up %v, want 0", up)
	}

	// A file in its place, at once (the directory goes to the file's
	// name): no try in between finds the path missing, which would be
	// another reason, reported as such.
	ready := filepath.Join(dir, "ready")
	os.WriteFile(ready, fmt.Appendf(nil, timeoutLine, 1), 0o644)
	if err := unix.Renameat2(unix.AT_FDCWD, ready, unix.AT_FDCWD, logPath, unix.RENAME_EXCHANGE); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "healthy again", func() bool { return d.Health().Status == "ok" })
	if code, h := getHealth(t, srv.URL); code != http.StatusOK || h.Status != "ok" || !h.Sources[0].OK || h.Sources[0].Reason != "" {
		t.Errorf("/healthz %d %+v", code, h)
	}
	if n := logs.count("info", logPath, "following again"); n != 1 {
		t.Errorf("%d lines say it is followed again, want 1:\n%s", n, logs)
	}
	if up := testutil.ToFloat64(metrics.SourceUp.WithLabelValues(logPath)); up != 1 {
		t.Errorf("sigtail_source_up %v, want 1", up)
	}
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, timeoutLine, 2)
	f.Close()
	waitUntil(t, "two incidents", func() bool { return out.count("test.each_timeout:open") == 2 })
	if n := logs.count("error", "", ""); n != 1 {
		t.Errorf("%d error lines, want the one:\n%s", n, logs)
	}
}

// TestHealthMissingAndGlob: a file that does not exist yet and a glob that
// matches nothing are degraded, each said so; a directory the glob
// matches is listed as a file that cannot be read. Once they exist, and
// the directory is gone, the daemon is ok.
func TestHealthMissingAndGlob(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "later.log")
	glob := filepath.Join(dir, "app", "*.log")
	os.Mkdir(filepath.Join(dir, "app"), 0o755)
	logs, out := &logBuffer{}, &memSink{}
	cfg := healthConfig(t, logs, out)
	cfg.Files = []daemon.FileSource{{Path: missing}, {Path: glob}}
	d := daemon.New(cfg)
	running(t, d)

	waitUntil(t, "both reported", func() bool { return d.Health().Status == "degraded" && logs.count("error", "", "") == 2 })
	h := d.Health()
	want := []daemon.SourceHealth{
		{Source: glob, Kind: "glob", Reason: "glob matches no file"},
		{Source: missing, Kind: "file", Reason: "does not exist yet (waiting for it to be created)"},
	}
	if !sameSources(h.Sources, want) {
		t.Errorf("sources %+v, want %+v", h.Sources, want)
	}

	// A directory matches the glob: the glob matches, the directory is
	// not readable.
	sub := filepath.Join(dir, "app", "old.log")
	os.Mkdir(sub, 0o755)
	waitUntil(t, "the directory reported", func() bool { s, ok := sourceOf(d.Health(), sub); return ok && !s.OK })
	if s, _ := sourceOf(d.Health(), glob); !s.OK {
		t.Errorf("glob %+v, want ok", s)
	}
	if s, _ := sourceOf(d.Health(), sub); s.Kind != "file" || !strings.HasPrefix(s.Reason, "is a directory") {
		t.Errorf("matched directory %+v", s)
	}

	os.WriteFile(missing, fmt.Appendf(nil, timeoutLine, 1), 0o644)
	os.WriteFile(filepath.Join(dir, "app", "a.log"), fmt.Appendf(nil, timeoutLine, 2), 0o644)
	os.Remove(sub) // gone: no longer matched, no longer listed
	waitUntil(t, "ok", func() bool { return d.Health().Status == "ok" })
	waitUntil(t, "two incidents", func() bool { return out.count("test.each_timeout:open") == 2 })
	if n := logs.count("info", "", "following again"); n != 2 {
		t.Errorf("%d lines say following again, want 2 (the file and the glob):\n%s", n, logs)
	}
}

// TestHealthKernelAndUnits: neither /dev/kmsg nor journalctl: the kernel
// log and the units are degraded, and say why.
func TestHealthKernelAndUnits(t *testing.T) {
	dir := t.TempDir()
	logs, out := &logBuffer{}, &memSink{}
	cfg := healthConfig(t, logs, out)
	cfg.Kernel, cfg.Units = true, []string{"gunicorn.service"}
	cfg.KmsgPath, cfg.Journalctl = filepath.Join(dir, "kmsg"), filepath.Join(dir, "journalctl")
	d := daemon.New(cfg)
	running(t, d)
	waitUntil(t, "both reported", func() bool { return logs.count("error", "", "") == 2 })
	want := []daemon.SourceHealth{
		{Source: "journal:gunicorn.service", Kind: "journal", Reason: "journalctl -u gunicorn.service: not found (install it, or give its path)"},
		{Source: "kernel", Kind: "kernel", Reason: cfg.KmsgPath + ": does not exist yet; journalctl -k: not found"},
	}
	if h := d.Health(); h.Status != "degraded" || !sameSources(h.Sources, want) {
		t.Errorf("health %+v, want %+v", h, want)
	}
	// Check says the same.
	if got := daemon.Check(cfg); !sameSources(got, want) {
		t.Errorf("Check %+v, want %+v", got, want)
	}
}

// TestHealthPositions: a missing positions directory is made; one that
// cannot be (under a regular file) is reported once, and the daemon
// follows on and raises incidents.
func TestHealthPositions(t *testing.T) {
	t.Run("made", func(t *testing.T) {
		dir := t.TempDir()
		logPath := filepath.Join(dir, "error.log")
		os.WriteFile(logPath, fmt.Appendf(nil, timeoutLine, 1), 0o644)
		posPath := filepath.Join(dir, "lib", "sigtail", "positions.json")
		store, err := checkpoint.Open(posPath)
		if err != nil {
			t.Fatal(err)
		}
		logs, out := &logBuffer{}, &memSink{}
		cfg := healthConfig(t, logs, out)
		cfg.Files, cfg.Positions = []daemon.FileSource{{Path: logPath}}, store
		d := daemon.New(cfg)
		running(t, d)
		waitUntil(t, "ok", func() bool { return d.Health().Status == "ok" })
		waitUntil(t, "positions saved", func() bool { _, err := os.Stat(posPath); return err == nil })
		if s, _ := sourceOf(d.Health(), "positions:"+posPath); !s.OK || s.Kind != "positions" {
			t.Errorf("positions %+v", s)
		}
		if n := logs.count("error", "", ""); n != 0 {
			t.Errorf("errors:\n%s", logs)
		}
	})
	t.Run("impossible", func(t *testing.T) {
		dir := t.TempDir()
		logPath := filepath.Join(dir, "error.log")
		os.WriteFile(logPath, fmt.Appendf(nil, timeoutLine, 1), 0o644)
		posPath := filepath.Join(logPath, "positions.json") // under a regular file
		store, err := checkpoint.Open(posPath)
		if err != nil {
			t.Fatal(err)
		}
		logs, out, metrics := &logBuffer{}, &memSink{}, daemon.NewMetrics()
		cfg := healthConfig(t, logs, out)
		cfg.Files, cfg.Positions, cfg.Metrics = []daemon.FileSource{{Path: logPath}}, store, metrics
		d := daemon.New(cfg)
		running(t, d)
		name := "positions:" + posPath
		waitUntil(t, "an incident", func() bool { return out.count("test.each_timeout:open") == 1 })
		waitUntil(t, "three more tries", func() bool { return logs.count("debug", name, "still cannot save positions") >= 3 })
		h := d.Health()
		s, _ := sourceOf(h, name)
		wantReason := "positions directory " + logPath + " does not exist and cannot be created: a part of the path is a file, not a directory"
		if h.Status != "degraded" || s.OK || s.Reason != wantReason {
			t.Errorf("health %+v, want positions degraded: %s", h, wantReason)
		}
		if s, _ := sourceOf(h, logPath); !s.OK {
			t.Errorf("the log %+v, want ok", s)
		}
		if n := logs.count("error", "", ""); n != 1 {
			t.Errorf("%d error lines, want 1:\n%s", n, logs)
		}
		if up := testutil.ToFloat64(metrics.SourceUp.WithLabelValues(name)); up != 0 {
			t.Errorf("sigtail_source_up{%s} %v", name, up)
		}
		if got := daemon.Check(cfg); len(got) != 2 || got[1].Source != name || got[1].Reason != wantReason {
			t.Errorf("Check %+v", got)
		}
	})
}

// sameSources compares sources without their Since.
func sameSources(got, want []daemon.SourceHealth) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		w.OK = w.Reason == ""
		g.Since = time.Time{}
		if g != w {
			return false
		}
	}
	return true
}

// TestCheck: every kind of source checked without running, on real paths.
// Root reads a file whatever its mode: the failures here are those that
// fail for root too.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.log")
	os.WriteFile(good, []byte("a line\n"), 0o644)
	os.Mkdir(filepath.Join(dir, "logs"), 0o755)
	os.WriteFile(filepath.Join(dir, "logs", "a.log"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "logs", "b.log"), 0o755)
	os.Mkdir(filepath.Join(dir, "bad"), 0o755)
	os.Mkdir(filepath.Join(dir, "bad", "x.log"), 0o755)
	kmsg := filepath.Join(dir, "kmsg")
	os.WriteFile(kmsg, nil, 0o644)
	journalctl := filepath.Join(dir, "journalctl")
	os.WriteFile(journalctl, []byte("#!/bin/sh\n"), 0o755)
	none := filepath.Join(dir, "none")
	store := func(p string) *checkpoint.Store {
		s, err := checkpoint.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	const (
		isDir   = "is a directory, not a log file (give a file or a glob such as /var/log/app/*.log)"
		notDir  = "a part of the path is a file, not a directory"
		missing = "does not exist yet (waiting for it to be created)"
	)
	for _, tc := range []struct {
		name string
		cfg  daemon.Config
		want []daemon.SourceHealth
	}{
		{"ok file", daemon.Config{Files: []daemon.FileSource{{Path: good}}},
			[]daemon.SourceHealth{{Source: good, Kind: "file"}}},
		{"missing", daemon.Config{Files: []daemon.FileSource{{Path: filepath.Join(dir, "no.log")}}},
			[]daemon.SourceHealth{{Source: filepath.Join(dir, "no.log"), Kind: "file", Reason: missing}}},
		{"directory", daemon.Config{Files: []daemon.FileSource{{Path: dir}}},
			[]daemon.SourceHealth{{Source: dir, Kind: "file", Reason: isDir}}},
		{"under a file", daemon.Config{Files: []daemon.FileSource{{Path: filepath.Join(good, "x")}}},
			[]daemon.SourceHealth{{Source: filepath.Join(good, "x"), Kind: "file", Reason: notDir}}},
		{"glob no match", daemon.Config{Files: []daemon.FileSource{{Path: filepath.Join(dir, "*.gz")}}},
			[]daemon.SourceHealth{{Source: filepath.Join(dir, "*.gz"), Kind: "glob", Reason: "glob matches no file"}}},
		{"glob one good one bad", daemon.Config{Files: []daemon.FileSource{{Path: filepath.Join(dir, "logs", "*.log")}}},
			[]daemon.SourceHealth{
				{Source: filepath.Join(dir, "logs", "*.log"), Kind: "glob"},
				{Source: filepath.Join(dir, "logs", "b.log"), Kind: "file", Reason: isDir},
			}},
		{"glob only bad", daemon.Config{Files: []daemon.FileSource{{Path: filepath.Join(dir, "bad", "*.log")}}},
			[]daemon.SourceHealth{
				{Source: filepath.Join(dir, "bad", "*.log"), Kind: "glob", Reason: "the one file it matches cannot be read"},
				{Source: filepath.Join(dir, "bad", "x.log"), Kind: "file", Reason: isDir},
			}},
		{"bad glob", daemon.Config{Files: []daemon.FileSource{{Path: filepath.Join(dir, "[.log")}}},
			[]daemon.SourceHealth{{Source: filepath.Join(dir, "[.log"), Kind: "glob", Reason: "bad glob: syntax error in pattern"}}},
		{"kernel from kmsg", daemon.Config{Kernel: true, KmsgPath: kmsg, Journalctl: none},
			[]daemon.SourceHealth{{Source: "kernel", Kind: "kernel"}}},
		{"kernel from journalctl", daemon.Config{Kernel: true, KmsgPath: none, Journalctl: journalctl},
			[]daemon.SourceHealth{{Source: "kernel", Kind: "kernel"}}},
		{"kernel from neither", daemon.Config{Kernel: true, KmsgPath: none, Journalctl: none},
			[]daemon.SourceHealth{{Source: "kernel", Kind: "kernel", Reason: none + ": does not exist yet; journalctl -k: not found"}}},
		{"units", daemon.Config{Units: []string{"b.service", "a.service"}, Journalctl: journalctl},
			[]daemon.SourceHealth{{Source: "journal:a.service", Kind: "journal"}, {Source: "journal:b.service", Kind: "journal"}}},
		{"units without journalctl", daemon.Config{Units: []string{"a.service"}, Journalctl: none},
			[]daemon.SourceHealth{{Source: "journal:a.service", Kind: "journal", Reason: "journalctl -u a.service: not found (install it, or give its path)"}}},
		{"positions", daemon.Config{Positions: store(filepath.Join(dir, "positions.json"))},
			[]daemon.SourceHealth{{Source: "positions:" + filepath.Join(dir, "positions.json"), Kind: "positions"}}},
		{"positions to create", daemon.Config{Positions: store(filepath.Join(dir, "lib", "sigtail", "positions.json"))},
			[]daemon.SourceHealth{{Source: "positions:" + filepath.Join(dir, "lib", "sigtail", "positions.json"), Kind: "positions"}}},
		{"positions under a file", daemon.Config{Positions: store(filepath.Join(good, "positions.json"))},
			[]daemon.SourceHealth{{Source: "positions:" + filepath.Join(good, "positions.json"), Kind: "positions",
				Reason: "positions directory " + good + " does not exist and cannot be created: " + notDir}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
			tc.cfg.Now = func() time.Time { return at }
			got := daemon.Check(tc.cfg)
			if !sameSources(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			for _, s := range got {
				if !s.Since.Equal(at) {
					t.Errorf("%s: since %v, want the injected clock's %v", s.Source, s.Since, at)
				}
			}
		})
	}
	// Checking made nothing.
	if _, err := os.Stat(filepath.Join(dir, "lib")); err == nil {
		t.Error("Check made the positions directory")
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: permission bits do not stop root, so a permission denied case is not tested")
		return
	}
	locked := filepath.Join(dir, "locked")
	os.Mkdir(locked, 0o755)
	os.WriteFile(filepath.Join(locked, "x.log"), nil, 0o644)
	os.Chmod(locked, 0)
	defer os.Chmod(locked, 0o755)
	got := daemon.Check(daemon.Config{Files: []daemon.FileSource{{Path: filepath.Join(locked, "x.log")}}})
	if len(got) != 1 || got[0].Reason != "permission denied (run as root or add the user to group adm)" {
		t.Errorf("under a directory of mode 000: %+v", got)
	}
}
