package source

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFollowTorture follows a Gunicorn log written at 10,000 lines/s and
// rotated every 0.5 s by rename, copytruncate, truncation and delete and
// re-create (rotate-writer.py), and counts the WORKER TIMEOUT lines read
// back: each has its own pid. Only a truncation with no copy may lose
// lines, and only as many bytes as were written and destroyed before they
// could be read; the "lost" events report those that were seen.
//
// It takes 20 s per mode: run it with SIGTAIL_TORTURE=1 (and
// SIGTAIL_TORTURE_SECONDS, SIGTAIL_TORTURE_RATE, SIGTAIL_TORTURE_MODES to
// change the defaults; SIGTAIL_TORTURE_STALL=200ms makes the reader of the
// lines stop that long every second, as a busy pipeline does, so that
// rotations happen while the follower waits to send).
func TestFollowTorture(t *testing.T) {
	if os.Getenv("SIGTAIL_TORTURE") != "1" {
		t.Skip("a soak of 100 s: SIGTAIL_TORTURE=1 runs it")
	}
	writer := os.Getenv("SIGTAIL_ROTATE_WRITER")
	if writer == "" {
		writer = "/work/shared/tools/rotate-writer.py"
	}
	if _, err := os.Stat(writer); err != nil {
		t.Skipf("no rotate-writer.py: %v", err)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	env := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	seconds, rate := env("SIGTAIL_TORTURE_SECONDS", "20"), env("SIGTAIL_TORTURE_RATE", "10000")
	stall, err := time.ParseDuration(env("SIGTAIL_TORTURE_STALL", "0s"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range strings.Split(env("SIGTAIL_TORTURE_MODES", "rename,copytruncate,truncate,recreate,mixed"), ",") {
		t.Run(mode, func(t *testing.T) {
			torture(t, writer, mode, seconds, rate, stall)
		})
	}
}

var workerTimeout = regexp.MustCompile(`WORKER TIMEOUT \(pid:(\d+)\)`)

func torture(t *testing.T, writer, mode, seconds, rate string, stall time.Duration) {
	p := filepath.Join(t.TempDir(), "error.log")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines := make(chan Line, 256)
	events := make(chan Event, 64)
	done := make(chan error, 1)
	go func() { done <- (&Follower{Path: p, FromStart: true}).Run(ctx, lines, events) }()

	type tally struct {
		lines, bytes, lostBytes int64
		pids                    map[int]int
		kinds                   map[string]int
	}
	got := tally{pids: map[int]int{}, kinds: map[string]int{}}
	counted := make(chan tally)
	quietFor := make(chan time.Duration)
	go func() {
		last := time.Now()
		nextStall := last.Add(time.Second)
		for {
			select {
			case l := <-lines:
				last = time.Now()
				if stall > 0 && last.After(nextStall) {
					time.Sleep(stall)
					nextStall = time.Now().Add(time.Second)
				}
				got.lines++
				got.bytes += int64(len(l.Text)) + 1
				if m := workerTimeout.FindStringSubmatch(l.Text); m != nil {
					pid, _ := strconv.Atoi(m[1])
					got.pids[pid]++
				}
			case ev := <-events:
				got.kinds[ev.Kind]++
				if ev.Kind == "lost" {
					n, _ := strconv.ParseInt(strings.Fields(ev.Note)[0], 10, 64)
					got.lostBytes += n
				}
			case quietFor <- time.Since(last):
			case <-ctx.Done():
				counted <- got
				return
			}
		}
	}()

	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	cmd := exec.Command("python3", writer, "--path", p, "--rate", rate, "--seconds", seconds, "--rotate-every", "0.5", "--mode", mode)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rotate-writer: %v", err)
	}
	var truth struct {
		Lines, Incidents, Rotations int
		FirstPID                    int `json:"first_pid"`
		LastPID                     int `json:"last_pid"`
	}
	if err := json.Unmarshal(out, &truth); err != nil {
		t.Fatalf("rotate-writer said %q: %v", out, err)
	}
	// Caught up: nothing read for a second and a half (longer than a
	// rotated file is kept open).
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if <-quietFor > 1500*time.Millisecond {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	cancel()
	got = <-counted
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}

	var written int64 // the bytes the writer wrote, line by line as it does
	for n := range truth.Lines {
		const ts = len("[2026-11-24 10:00:00 +0000]")
		if n%50 == 0 {
			written += int64(ts + len(fmt.Sprintf(" [1] [CRITICAL] WORKER TIMEOUT (pid:%d)\n", truth.FirstPID+n/50)))
		} else {
			written += int64(ts + len(fmt.Sprintf(" [%d] [INFO] request served in %d ms\n", 2000+n%7, n%97)))
		}
	}
	lost, dup := 0, 0
	for pid := truth.FirstPID; pid <= truth.LastPID; pid++ {
		switch c := got.pids[pid]; {
		case c == 0:
			lost++
		case c > 1:
			dup += c - 1
		}
	}
	t.Logf("%s: %d rotations; lines written %d, read %d; WORKER TIMEOUT written %d, read %d, lost %d, duplicated %d; bytes written %d, read %d, not read %d, reported lost %d; events %v; CPU %v (reader included)",
		mode, truth.Rotations, truth.Lines, got.lines, truth.Incidents, len(got.pids), lost, dup,
		written, got.bytes, written-got.bytes, got.lostBytes, got.kinds, cpu)
	if dup > 0 {
		t.Errorf("%d WORKER TIMEOUT lines read twice", dup)
	}
	switch mode {
	case "rename", "recreate", "copytruncate":
		if lost > 0 || got.lines != int64(truth.Lines) {
			t.Errorf("%s lost %d WORKER TIMEOUT lines, %d lines", mode, lost, int64(truth.Lines)-got.lines)
		}
	default:
		// A truncation destroys what was written since the last look;
		// nothing else may be missing.
		if lost > 0 && got.kinds["lost"] == 0 && got.kinds["truncated"] == 0 {
			t.Errorf("%d WORKER TIMEOUT lines lost with no truncation seen", lost)
		}
	}
}
