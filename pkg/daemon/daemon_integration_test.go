package daemon_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sigtail/sigtail/pkg/correlate"
)

// These tests run the real sigtail binary as `sigtail run` on real files,
// rotated every way logs are rotated while a writer appends to them, and
// killed with SIGKILL at random moments; they then check that every
// incident line of the input gave exactly one incident. Skipped with -short.

func buildSigtail(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: builds and runs the sigtail binary")
	}
	bin := filepath.Join(t.TempDir(), "sigtail")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/sigtail/sigtail/cmd/sigtail")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// daemonProc is one run of `sigtail run`, appending its incidents to out.
type daemonProc struct {
	cmd *exec.Cmd
}

func startDaemon(t *testing.T, bin, dir, logPath string, out *os.File) *daemonProc {
	t.Helper()
	abs, _ := filepath.Abs("testdata/catalog")
	cmd := exec.Command(bin, "run", "--file", logPath, "--catalog", abs,
		"--positions", filepath.Join(dir, "positions.json"), "--listen", "none", "--timezone", "UTC", "--from-start")
	cmd.Stdout = out
	errf, _ := os.OpenFile(filepath.Join(dir, "daemon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	cmd.Stderr = errf
	before := opens(dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Ready once its follower has the file open (or waits for it).
	deadline := time.Now().Add(20 * time.Second)
	for opens(dir) == before {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "daemon.log"))
			t.Fatalf("the daemon did not open %s:\n%s", logPath, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &daemonProc{cmd: cmd}
}

// opens counts the times the daemons' logs say a file was opened or
// resumed.
func opens(dir string) int {
	b, _ := os.ReadFile(filepath.Join(dir, "daemon.log"))
	return strings.Count(string(b), `"event":"open"`) + strings.Count(string(b), `"event":"resumed"`) +
		strings.Count(string(b), `"event":"missing"`)
}

func (d *daemonProc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	d.cmd.Process.Signal(sig)
	err := d.cmd.Wait()
	if sig == syscall.SIGTERM && err != nil {
		t.Errorf("daemon exit after SIGTERM: %v", err)
	}
}

// writer appends lines to a log like a Gunicorn master would: every tenth
// line a WORKER TIMEOUT with a new pid, the others worker boots.
type writer struct {
	path  string
	mu    sync.Mutex
	f     *os.File
	n     int
	pids  []int
	clock time.Time
}

func (w *writer) open(t *testing.T) {
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	w.f = f
}

// write appends lines at about a thousand a second, in batches of ten.
func (w *writer) write(t *testing.T, lines int) {
	for lines > 0 {
		n := min(lines, 10)
		w.batch(t, n)
		lines -= n
		time.Sleep(10 * time.Millisecond) // the writer's pace, not a wait for the daemon
	}
}

func (w *writer) batch(t *testing.T, lines int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for range lines {
		w.n++
		w.clock = w.clock.Add(10 * time.Millisecond)
		ts := w.clock.Format("[2006-01-02 15:04:05 -0700]")
		if w.n%10 == 0 {
			pid := 100000 + w.n
			w.pids = append(w.pids, pid)
			fmt.Fprintf(&b, "%s [1] [CRITICAL] WORKER TIMEOUT (pid:%d)\n", ts, pid)
		} else {
			fmt.Fprintf(&b, "%s [%d] [INFO] Booting worker with pid: %d\n", ts, 200000+w.n, 200000+w.n)
		}
	}
	if _, err := w.f.WriteString(b.String()); err != nil {
		t.Error(err)
	}
}

// reopen is the writer's answer to a rename rotation (nginx's USR1,
// Gunicorn's HUP): it finishes with the old file and opens the new one.
func (w *writer) reopen(t *testing.T) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.f.Close()
	w.open(t)
}

// incidents reads the daemon's output: how many distinct incidents (by
// id) were opened for each pid, and how many open lines repeated an id
// already seen. Delivery is at least once: a SIGKILL between writing an
// incident and saving the position past its line makes the restarted
// daemon write it again, with the same id (ids depend only on the input),
// which is what a consumer deduplicates on. A second incident for the same
// line would have another id.
func incidents(t *testing.T, path string) (opened map[int]int, repeats int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opened = map[int]int{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var inc struct {
			ID     string            `json:"id"`
			Rule   string            `json:"rule"`
			Status string            `json:"status"`
			Fields map[string]string `json:"fields"`
		}
		if err := json.Unmarshal(sc.Bytes(), &inc); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		// One incident per pid is more than a rule keeps open at once:
		// sigtail says so (correlate.RuleGroupLimit), which is no line's.
		if inc.Status != "open" || inc.Rule == correlate.RuleGroupLimit {
			continue
		}
		if seen[inc.ID] {
			repeats++
			continue
		}
		seen[inc.ID] = true
		pid, _ := strconv.Atoi(inc.Fields["pid"])
		opened[pid]++
	}
	return opened, repeats
}

// waitFor polls the output until every pid written has its incident.
func waitFor(t *testing.T, out string, pids []int, within time.Duration) map[int]int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got, _ := incidents(t, out)
		missing := 0
		for _, p := range pids {
			if got[p] == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func checkExactlyOnce(t *testing.T, got map[int]int, pids []int) {
	t.Helper()
	lost, twice := 0, 0
	want := map[int]bool{}
	for _, p := range pids {
		want[p] = true
		switch got[p] {
		case 0:
			lost++
		case 1:
		default:
			twice++
		}
	}
	extra := 0
	for p := range got {
		if !want[p] {
			extra++
		}
	}
	t.Logf("%d incident lines written; %d incidents; lost %d, twice %d, unknown %d", len(pids), len(got), lost, twice, extra)
	if lost > 0 || twice > 0 || extra > 0 {
		t.Errorf("want every incident line to give exactly one incident: lost %d, twice %d, unknown %d", lost, twice, extra)
	}
}

// TestRotationsLoseNothing: rotations of every kind while lines are being
// written; truncating rotations (which destroy what they cut) wait until
// the daemon has read up to them, as the data would otherwise be gone
// before anyone could read it.
func TestRotationsLoseNothing(t *testing.T) {
	bin := buildSigtail(t)
	logrotate, lrErr := exec.LookPath("logrotate")
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	outPath := filepath.Join(dir, "incidents.jsonl")
	out, _ := os.Create(outPath)
	defer out.Close()
	w := &writer{path: logPath, clock: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	w.open(t)
	d := startDaemon(t, bin, dir, logPath, out)
	defer func() { t.Logf("daemon RSS %d KiB", rssKiB(d.cmd.Process.Pid)); d.stop(t, syscall.SIGTERM) }()

	caughtUp := func() {
		got := waitFor(t, outPath, w.pids, 60*time.Second)
		for _, p := range w.pids {
			if got[p] == 0 {
				// Ask the Go runtime for every goroutine's stack, for the
				// record, before failing.
				d.cmd.Process.Signal(syscall.SIGQUIT)
				time.Sleep(500 * time.Millisecond)
				b, _ := os.ReadFile(filepath.Join(dir, "daemon.log"))
				t.Fatalf("the daemon did not catch up: pid %d has no incident\n%s", p, b)
			}
		}
	}
	kinds := []string{"rename", "copytruncate", "truncate", "delete", "rename"}
	rotations := map[string]int{}
	for i := 0; i < 40; i++ {
		w.write(t, 400)
		kind := kinds[i%len(kinds)]
		switch kind {
		case "rename":
			os.Rename(logPath, fmt.Sprintf("%s.%d", logPath, i))
			w.write(t, 20) // still going to the old file
			w.reopen(t)
		case "copytruncate":
			caughtUp()
			if lrErr != nil {
				t.Logf("logrotate not installed (%v); copying and truncating by hand", lrErr)
				b, _ := os.ReadFile(logPath)
				os.WriteFile(fmt.Sprintf("%s.ct%d", logPath, i), b, 0o644)
				os.Truncate(logPath, 0)
				break
			}
			conf := filepath.Join(dir, "logrotate.conf")
			os.WriteFile(conf, []byte(fmt.Sprintf("%s {\n  copytruncate\n  rotate 100\n  missingok\n}\n", logPath)), 0o644)
			cmd := exec.Command(logrotate, "-f", "-s", filepath.Join(dir, "logrotate.state"), conf)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("logrotate: %v\n%s", err, out)
			}
		case "truncate":
			caughtUp()
			os.Truncate(logPath, 0)
		case "delete":
			caughtUp()
			os.Remove(logPath)
			w.reopen(t)
		}
		rotations[kind]++
		w.write(t, 100)
	}
	got := waitFor(t, outPath, w.pids, 30*time.Second)
	t.Logf("rotations: %v, %d lines written", rotations, w.n)
	checkExactlyOnce(t, got, w.pids)
}

// TestKillsLoseNothing: the daemon is killed with SIGKILL at random moments
// while lines are written, and started again each time.
func TestKillsLoseNothing(t *testing.T) {
	bin := buildSigtail(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	outPath := filepath.Join(dir, "incidents.jsonl")
	out, _ := os.Create(outPath)
	defer out.Close()
	w := &writer{path: logPath, clock: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	w.open(t)
	rng := rand.New(rand.NewPCG(7, 11))
	kills := 0
	d := startDaemon(t, bin, dir, logPath, out)
	maxRSS := 0
	for i := 0; i < 30; i++ {
		for range 5 {
			w.write(t, 100)
			time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
		}
		maxRSS = max(maxRSS, rssKiB(d.cmd.Process.Pid))
		d.stop(t, syscall.SIGKILL)
		kills++
		w.write(t, 50) // written while the daemon is down
		if i%5 == 4 {
			os.Rename(logPath, fmt.Sprintf("%s.%d", logPath, i)) // rotated while down
			w.write(t, 10)
			w.reopen(t)
		}
		d = startDaemon(t, bin, dir, logPath, out)
	}
	got := waitFor(t, outPath, w.pids, 30*time.Second)
	d.stop(t, syscall.SIGTERM)
	_, repeats := incidents(t, outPath)
	t.Logf("%d kills, %d lines written, daemon RSS at most %d KiB, %d incident(s) written again after a kill (same id)", kills, w.n, maxRSS, repeats)
	checkExactlyOnce(t, got, w.pids)
}

// rssKiB is a process's resident set size, from /proc.
func rssKiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// TestReloadKeepsOldCatalogWhenBroken: SIGHUP with a broken catalog is
// reported and the old catalog stays in force; a good one is taken.
func TestReloadKeepsOldCatalogWhenBroken(t *testing.T) {
	bin := buildSigtail(t)
	dir := t.TempDir()
	catDir := filepath.Join(dir, "catalog")
	os.MkdirAll(filepath.Join(catDir, "signatures"), 0o755)
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(to, b, 0o644)
	}
	copyFile("testdata/catalog/signatures/test.yaml", filepath.Join(catDir, "signatures", "test.yaml"))
	copyFile("testdata/catalog/rules.yaml", filepath.Join(catDir, "rules.yaml"))
	logPath := filepath.Join(dir, "error.log")
	os.WriteFile(logPath, nil, 0o644)
	outPath := filepath.Join(dir, "incidents.jsonl")
	out, _ := os.Create(outPath)
	defer out.Close()
	cmd := exec.Command(bin, "run", "--file", logPath, "--catalog", catDir, "--positions", "none", "--listen", "none", "--kernel=false")
	cmd.Stdout = out
	errf, _ := os.Create(filepath.Join(dir, "daemon.log"))
	cmd.Stderr = errf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	waitLog := func(what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			b, _ := os.ReadFile(filepath.Join(dir, "daemon.log"))
			if strings.Contains(string(b), what) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("daemon log lacks %q:\n%s", what, b)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLog(`"event":"open"`)
	// Break the catalog and ask for a reload.
	os.WriteFile(filepath.Join(catDir, "rules.yaml"), []byte("rules:\n  - id: broken\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog("catalog reload failed")
	// The old catalog still works.
	w := &writer{path: logPath, clock: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	w.open(t)
	w.write(t, 20)
	got := waitFor(t, outPath, w.pids, 30*time.Second)
	checkExactlyOnce(t, got, w.pids)
	// A good catalog is taken.
	copyFile("testdata/catalog/rules.yaml", filepath.Join(catDir, "rules.yaml"))
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog("catalog reloaded")
}
