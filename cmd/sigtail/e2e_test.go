//go:build e2e

// The end-to-end proof: real Gunicorn (Debian's 20.1 and its Python) behind
// real nginx (1.22), made to fail the ways the knowledge page describes,
// watched by the real `sigtail run` built from this tree. Each scenario gets
// its own directory with nginx's config, pid, temp files and logs, its own
// Gunicorn socket and its own daemon; everything listens on 127.0.0.1 only,
// every wait has a deadline and every load a request count.
//
//	make e2e                                   # what CI runs after make test
//	go test -tags e2e -count=1 -run E2E ./cmd/sigtail -v -capture
//	                                           # also refresh testdata/real/<scenario>/
//
// -capture writes each scenario's three logs, with the temporary paths and
// ports normalised, under testdata/real/<scenario>/, where the parser and
// scan goldens keep them covered without running any server.
package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

var capture = flag.Bool("capture", false, "write each scenario's normalised logs under testdata/real/<scenario>/")

// The logs every scenario writes and the daemon follows, by their names in
// the scenario's directory (and in testdata/real/<scenario>/).
const (
	gunicornLog = "gunicorn-error.log"
	nginxError  = "nginx-error.log"
	nginxAccess = "nginx-access.log"
)

var logNames = []string{gunicornLog, nginxError, nginxAccess}

// Stable stand-ins for what changes from run to run, in captured logs.
const (
	normDir          = "/run/e2e"
	normApp          = "/srv/app"
	normNginxPort    = "8080"
	normGunicornPort = "8000"
)

// settle is how long the daemon gets after a scenario's last request to read
// the last lines and take a traceback as complete (its idle flush is 2 s).
const settle = 3 * time.Second

// e2eTools are the programs the scenarios run, found once.
type e2eTools struct {
	sigtail, gunicorn, nginx, curl string
	appDir, repo                   string
}

func findTools(t *testing.T) *e2eTools {
	t.Helper()
	look := func(name string, prefer ...string) string {
		for _, p := range prefer {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("%s not found: the end-to-end test needs Debian's gunicorn, nginx, python3-gevent and curl (apt-get install gunicorn nginx python3-gevent curl)", name)
		}
		return p
	}
	tl := &e2eTools{
		// Debian's: /usr/bin/gunicorn runs /usr/bin/python3, whatever python3
		// comes first in PATH.
		gunicorn: look("gunicorn", "/usr/bin/gunicorn"),
		nginx:    look("nginx", "/usr/sbin/nginx"),
		curl:     look("curl", "/usr/bin/curl"),
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tl.repo = repo
	tl.appDir = filepath.Join(repo, "testdata", "e2e")
	if out, err := exec.Command("/usr/bin/python3", "-c", "import gevent").CombinedOutput(); err != nil {
		t.Fatalf("python3-gevent is missing (apt-get install python3-gevent): %v\n%s", err, out)
	}
	tl.sigtail = filepath.Join(t.TempDir(), "sigtail")
	build := exec.Command("go", "build", "-o", tl.sigtail, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, v := range [][]string{{tl.gunicorn, "--version"}, {tl.nginx, "-v"}, {"/usr/bin/python3", "--version"}} {
		out, _ := exec.Command(v[0], v[1:]...).CombinedOutput()
		t.Logf("%s: %s", v[0], strings.TrimSpace(string(out)))
	}
	return tl
}

// TestE2E runs every scenario, each on a stack of its own, in two groups
// that run side by side. "serial" runs the scenarios one after the other.
// "aged" holds the scenarios that need workers older than Gunicorn's boot
// (gunicorn.worker_boot_timeout looks two minutes back from a WORKER TIMEOUT
// to the worker's "Booting worker"): their stacks start with the suite, serve
// a little, and are made to fail once their workers are older than that.
// Filter with -run 'E2E/serial/clean' or -run 'E2E/aged'.
func TestE2E(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux (Debian's gunicorn and nginx)")
	}
	tl := findTools(t)
	begin := time.Now()
	t.Cleanup(func() { t.Logf("end-to-end suite: %.1f s", time.Since(begin).Seconds()) })
	t.Run("aged", func(t *testing.T) {
		t.Parallel()
		stacks := map[string]*stack{}
		for _, sc := range e2eScenarios {
			if sc.aged {
				s := newStack(t, tl, sc.name)
				s.startSigtail()
				sc.start(t, s)
				stacks[sc.name] = s
			}
		}
		for _, sc := range e2eScenarios {
			if !sc.aged {
				continue
			}
			t.Run(sc.name, func(t *testing.T) {
				s := stacks[sc.name]
				s.t = t
				if wait := agedAfter - time.Since(s.started); wait > 0 {
					t.Logf("waiting %.0f s more for the workers to age", wait.Seconds())
					time.Sleep(wait)
				}
				start := time.Now()
				sc.run(t, s)
				s.finish(sc)
				t.Logf("%s: %.1f s (stack up for %.0f s)", sc.name, time.Since(start).Seconds(), time.Since(s.started).Seconds())
			})
		}
	})
	t.Run("serial", func(t *testing.T) {
		t.Parallel()
		for _, sc := range e2eScenarios {
			if sc.aged {
				continue
			}
			t.Run(sc.name, func(t *testing.T) {
				start := time.Now()
				s := newStack(t, tl, sc.name)
				s.startSigtail()
				if sc.start != nil {
					sc.start(t, s)
				}
				sc.run(t, s)
				s.finish(sc)
				t.Logf("%s: %.1f s", sc.name, time.Since(start).Seconds())
			})
		}
	})
}

// agedAfter is how long an aged scenario's workers serve before it makes
// them fail: past the two minutes of gunicorn.worker_boot_timeout.
const agedAfter = 2*time.Minute + 10*time.Second

// finish lets the daemon read what the scenario made the servers write,
// moves the logs' clock on past every rule's cooldown, stops the daemon, then
// the servers, and checks what the daemon wrote.
func (s *stack) finish(sc e2eScenario) {
	t := s.t
	res := s.stopSigtail()
	s.stopServers()
	for _, inc := range res.list {
		t.Logf("incident %s %s %s count=%d sources=%v related=%v fields=%v\n    %s",
			inc.Rule, inc.Severity, inc.Status, inc.Count, baseNames(inc.Sources), inc.Related, inc.Fields, inc.Summary)
	}
	if len(res.list) == 0 {
		t.Logf("no incident")
	}
	sc.check(t, s, res)
	if t.Failed() {
		s.dumpLogs()
	}
	if *capture {
		s.capture()
	}
}

// ------------------------------------------------------------ the stack

// stack is one scenario's servers and daemon, in one directory.
type stack struct {
	t         *testing.T
	tools     *e2eTools
	name, dir string
	port      int // nginx's
	gport     int // Gunicorn's TCP port, when a scenario binds one
	client    *http.Client
	procs     []*proc // every process started, stopped in reverse order
	daemon    *proc
	started   time.Time
}

func newStack(t *testing.T, tl *e2eTools, name string) *stack {
	dir := t.TempDir()
	s := &stack{t: t, tools: tl, name: name, dir: dir, port: freePort(t), started: time.Now()}
	s.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}}
	t.Cleanup(s.client.CloseIdleConnections)
	return s
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (s *stack) path(name string) string { return filepath.Join(s.dir, name) }

// proc is a process the test started, in a process group of its own so its
// children (Gunicorn's workers, nginx's) go with it.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	code int // exit status once done (-1: killed by a signal)
}

func (s *stack) spawn(name string, env []string, args ...string) *proc {
	s.t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = s.dir
	cmd.Env = env
	// stdout and stderr apart: the daemon's stdout is its incidents.
	out, err := os.OpenFile(s.path(name+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	errf, err := os.OpenFile(s.path(name+".err"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, errf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		out.Close()
		errf.Close()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	s.procs = append(s.procs, p)
	// Whatever happens to the test, nothing it started outlives it.
	s.t.Cleanup(func() { p.kill() })
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits up to d for the process to exit; then it kills
// its whole group.
func (p *proc) stop(sig syscall.Signal, d time.Duration) bool {
	if p.stopGently(sig, d) {
		return true
	}
	p.kill()
	return false
}

// stopGently sends sig and waits up to d for the process to exit, leaving
// it running if it does not.
func (p *proc) stopGently(sig syscall.Signal, d time.Duration) bool {
	if p.exited() {
		return true
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		// Whatever is left in its group (workers a master did not wait for)
		// goes with it.
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		return true
	case <-time.After(d):
		return false
	}
}

// kill ends the process group at once (the group's id is the leader's pid,
// which this test started).
func (p *proc) kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

func (p *proc) waitExit(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// serverEnv is the environment of Gunicorn and nginx: UTC, so that the
// zone-less nginx error log and --timezone UTC agree, and no bytecode
// written into testdata/e2e.
func (s *stack) serverEnv() []string {
	return []string{
		"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
		"TZ=UTC", "LANG=C.UTF-8", "HOME=" + s.dir,
		"PYTHONDONTWRITEBYTECODE=1",
	}
}

// gunicornOpts describes one Gunicorn master.
type gunicornOpts struct {
	app     string   // MODULE:VARIABLE (default app:app)
	workers int      // default 2
	timeout int      // --timeout, default 30
	tcp     bool     // bind 127.0.0.1:gport instead of the unix socket
	extra   []string // more arguments
}

func (s *stack) socket() string { return s.path("gunicorn.sock") }

func (s *stack) gunicorn(o gunicornOpts) *proc {
	s.t.Helper()
	if o.app == "" {
		o.app = "app:app"
	}
	if o.workers == 0 {
		o.workers = 2
	}
	if o.timeout == 0 {
		o.timeout = 30
	}
	bind := "unix:" + s.socket()
	if o.tcp {
		if s.gport == 0 {
			s.gport = freePort(s.t)
		}
		bind = "127.0.0.1:" + strconv.Itoa(s.gport)
	}
	args := []string{s.tools.gunicorn,
		"--chdir", s.tools.appDir,
		"--bind", bind,
		"--workers", strconv.Itoa(o.workers),
		"--timeout", strconv.Itoa(o.timeout),
		"--graceful-timeout", "5",
		"--error-logfile", s.path(gunicornLog),
	}
	args = append(append(args, o.extra...), o.app)
	return s.spawn("gunicorn", s.serverEnv(), args...)
}

// waitLog waits until the log holds n lines containing text.
func (s *stack) waitLog(name, text string, n int, d time.Duration) bool {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for {
		if s.countLog(name, text) >= n {
			return true
		}
		if time.Now().After(deadline) {
			s.t.Errorf("%s: %d line(s) with %q not seen within %v", name, n, text, d)
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *stack) countLog(name, text string) int {
	b, _ := os.ReadFile(s.path(name))
	return strings.Count(string(b), text)
}

// workerPids are the pids of the "Booting worker with pid: N" lines, in order.
func (s *stack) workerPids() []int {
	b, _ := os.ReadFile(s.path(gunicornLog))
	var pids []int
	for _, l := range strings.Split(string(b), "\n") {
		if _, rest, ok := strings.Cut(l, "Booting worker with pid: "); ok {
			if pid, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// nginx starts nginx in front of Gunicorn's unix socket, or of its TCP port
// when the scenario's Gunicorn binds one, and waits until it accepts.
func (s *stack) nginx() *proc {
	s.t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join(s.tools.appDir, "nginx.conf.tmpl"))
	if err != nil {
		s.t.Fatal(err)
	}
	upstream := "unix:" + s.socket() + ":"
	if s.gport != 0 {
		upstream = "127.0.0.1:" + strconv.Itoa(s.gport)
	}
	user := ""
	if os.Geteuid() == 0 {
		// As root, workers would drop to nobody, who cannot reach the socket
		// in the test's private directory.
		user = "root"
	}
	var conf bytes.Buffer
	if err := tmpl.Execute(&conf, map[string]any{"Dir": s.dir, "Port": s.port, "Upstream": upstream, "User": user}); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(s.path("nginx.conf"), conf.Bytes(), 0o644); err != nil {
		s.t.Fatal(err)
	}
	p := s.spawn("nginx", s.serverEnv(), s.tools.nginx, "-c", s.path("nginx.conf"), "-p", s.dir+"/", "-e", "stderr")
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return p
		}
		if p.exited() || time.Now().After(deadline) {
			out, _ := os.ReadFile(s.path("nginx.err"))
			s.t.Fatalf("nginx did not start: %v\n%s", err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *stack) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// get requests path through nginx; status 0 means no response (err says why).
func (s *stack) get(path string, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.addr()+path, nil)
	req.Header.Set("User-Agent", "sigtail-e2e")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// load sends n requests for path with conc at a time, each given timeout,
// and counts the answers by status (0: no answer).
func (s *stack) load(path string, n, conc int, timeout time.Duration) map[int]int {
	var mu sync.Mutex
	counts := map[int]int{}
	next := make(chan struct{})
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				code, _ := s.get(path, timeout)
				mu.Lock()
				counts[code]++
				mu.Unlock()
			}
		}()
	}
	for range n {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	return counts
}

// running returns the first process of that name still running.
func (s *stack) running(name string) *proc {
	for _, p := range s.procs {
		if p.name == name && !p.exited() {
			return p
		}
	}
	return nil
}

// stopServers stops what is still running, last started first: nginx
// gracefully (SIGQUIT), Gunicorn masters with SIGTERM (graceful).
func (s *stack) stopServers() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		if p == s.daemon {
			continue
		}
		if p.name == "nginx" {
			// A graceful stop waits for the connections a client left
			// open; what is tested is sigtail, not nginx's shutdown: a
			// fast stop (SIGTERM) after 5 s.
			if p.stopGently(syscall.SIGQUIT, 5*time.Second) {
				continue
			}
			s.t.Logf("nginx still serving 5 s after SIGQUIT; stopping it with SIGTERM")
		}
		if !p.stop(syscall.SIGTERM, 15*time.Second) {
			s.t.Errorf("%s did not stop within 15 s; killed", p.name)
		}
	}
}

// --------------------------------------------------------------- sigtail

func (s *stack) startSigtail() {
	args := []string{s.tools.sigtail, "run",
		"--positions", s.path("positions.json"), "--listen", "none", "--kernel=false", "--probe=false",
		"--timezone", "UTC", "--host", "e2e", "--from-start"}
	for _, n := range append(slices.Clone(logNames), clockLog) {
		args = append(args, "--file", s.path(n))
	}
	s.daemon = s.spawn("sigtail", os.Environ(), args...)
}

// clockLog is a fourth log the daemon follows, that only the test writes:
// request lines, in nginx's access-log format, dated later than anything
// the servers wrote, move the logs' clock on (sigtail's time comes from the
// logs), as if that much time had passed quietly: incidents resolve after
// their cooldown and absences fire after their window, and without this the
// daemon would have to run for real minutes before it said everything, or
// the test read each incident at a moment of its life. It has to be a
// record some rule counts (a request, for the ratio rules' totals) because
// the daemon's engine only sees records with hits; a fast 200 every 20 s
// changes no ratio.
const clockLog = "clock.log"

// clockJump is how far the clock moves: past the cooldowns, so every
// incident is final.
const clockJump = 15 * time.Minute

// clockStep is how far each of its lines moves it.
const clockStep = 20 * time.Second

// stopSigtail lets the daemon read the last lines, moves the logs' clock on
// (see clockLog), stops the daemon with SIGTERM and returns the incidents
// it wrote, each in its last state.
func (s *stack) stopSigtail() *results {
	s.t.Helper()
	time.Sleep(settle)
	// In steps, as time passes: each absence fires, and each incident
	// resolves, at its own time.
	var lines strings.Builder
	now := time.Now().UTC()
	for d := clockStep; d <= clockJump; d += clockStep {
		fmt.Fprintf(&lines, "127.0.0.1 - - [%s] \"GET /sigtail-e2e/clock HTTP/1.1\" 200 0 \"-\" \"sigtail-e2e: the logs' clock moves on %v\" 0.000 -\n",
			now.Add(d).Format("02/Jan/2006:15:04:05 -0700"), d)
	}
	if err := os.WriteFile(s.path(clockLog), []byte(lines.String()), 0o644); err != nil {
		s.t.Fatal(err)
	}
	// Its records move the clock once the daemon read them: absences due
	// fire, and every incident is resolved.
	time.Sleep(3500 * time.Millisecond)
	if !s.daemon.stop(syscall.SIGTERM, 20*time.Second) {
		s.t.Errorf("sigtail did not stop within 20 s of SIGTERM")
	} else if s.daemon.code != 0 {
		s.t.Errorf("sigtail exited %d", s.daemon.code)
	}
	return readIncidents(s.t, s.path("sigtail.out"))
}

// incident is the documented schema (README "Incident schema"), read back
// as a consumer would.
type incident struct {
	ID              string              `json:"id"`
	Rule            string              `json:"rule"`
	Title           string              `json:"title"`
	Summary         string              `json:"summary"`
	Severity        string              `json:"severity"`
	Status          string              `json:"status"`
	SupersededBy    string              `json:"superseded_by"`
	FirstSeen       time.Time           `json:"first_seen"`
	LastSeen        time.Time           `json:"last_seen"`
	Count           int                 `json:"count"`
	Host            string              `json:"host"`
	Sources         []string            `json:"sources"`
	Fields          map[string]string   `json:"fields"`
	Values          map[string][]string `json:"values"`
	Evidence        []evidence          `json:"evidence"`
	EvidenceDropped int                 `json:"evidence_dropped"`
	Related         []string            `json:"related"`
	Insights        []string            `json:"insights"`
}

type evidence struct {
	Time      time.Time `json:"time"`
	Source    string    `json:"source"`
	Signature string    `json:"signature"`
	Line      string    `json:"line"`
}

// results are the incidents of one daemon run, each in its last state.
type results struct {
	list []*incident
}

func readIncidents(t *testing.T, path string) *results {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	byID := map[string]*incident{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var inc incident
		if err := json.Unmarshal(line, &inc); err != nil {
			t.Errorf("stdout line is not an incident: %v\n%s", err, line)
			continue
		}
		if inc.ID == "" || inc.Rule == "" {
			t.Errorf("incident without id or rule: %s", line)
			continue
		}
		if _, ok := byID[inc.ID]; !ok {
			order = append(order, inc.ID)
		}
		byID[inc.ID] = &inc
	}
	// What a later record explained is told by the incident that took it
	// over: following superseded_by (which may have been taken over in
	// turn) must end at an incident told.
	r := &results{}
	for _, id := range order {
		inc := byID[id]
		if inc.Status == "superseded" {
			by := byID[inc.SupersededBy]
			for n := 0; by != nil && by.Status == "superseded" && n < len(order); n++ {
				by = byID[by.SupersededBy]
			}
			if by == nil || by.Status == "superseded" {
				t.Errorf("%s %s superseded by %q, which leads to no incident told", inc.Rule, inc.ID, inc.SupersededBy)
			}
			continue
		}
		r.list = append(r.list, inc)
	}
	return r
}

func (r *results) rules() []string {
	var out []string
	for _, inc := range r.list {
		if !slices.Contains(out, inc.Rule) {
			out = append(out, inc.Rule)
		}
	}
	slices.Sort(out)
	return out
}

// only: the incidents are of exactly these rules.
func (r *results) only(t *testing.T, rules ...string) {
	t.Helper()
	want := slices.Clone(rules)
	slices.Sort(want)
	if got := r.rules(); !slices.Equal(got, want) {
		t.Errorf("incidents of %v, want exactly %v", got, want)
	}
}

// one returns the single incident of rule, failing when there is none or
// more than one.
func (r *results) one(t *testing.T, rule string) *incident {
	t.Helper()
	var found []*incident
	for _, inc := range r.list {
		if inc.Rule == rule {
			found = append(found, inc)
		}
	}
	if len(found) != 1 {
		t.Errorf("%d incident(s) of %s, want 1", len(found), rule)
		if len(found) == 0 {
			return &incident{}
		}
	}
	return found[0]
}

func (r *results) noneAtLeast(t *testing.T, severity string) {
	t.Helper()
	for _, inc := range r.list {
		if inc.Severity == severity || severity == "warning" && inc.Severity == "critical" {
			t.Errorf("%s incident %s: %s", inc.Severity, inc.Rule, inc.Summary)
		}
	}
}

// expect checks one incident's rule-level facts.
func (inc *incident) expect(t *testing.T, severity string, minCount int, related ...string) {
	t.Helper()
	if inc.Severity != severity {
		t.Errorf("%s: severity %s, want %s", inc.Rule, inc.Severity, severity)
	}
	if inc.Count < minCount {
		t.Errorf("%s: count %d, want at least %d", inc.Rule, inc.Count, minCount)
	}
	for _, r := range related {
		if !slices.Contains(inc.Related, r) {
			t.Errorf("%s: related %v lacks %s", inc.Rule, inc.Related, r)
		}
	}
}

// fromSources checks that the incident joined records of each of these
// logs: named in its sources, and among its evidence unless the evidence
// reached its cap (10 records, the first ones) before that log's turn.
func (inc *incident) fromSources(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if !slices.ContainsFunc(inc.Sources, func(p string) bool { return filepath.Base(p) == n }) {
			t.Errorf("%s: sources %v lack %s", inc.Rule, baseNames(inc.Sources), n)
		}
		if inc.EvidenceDropped == 0 && !slices.ContainsFunc(inc.Evidence, func(e evidence) bool { return filepath.Base(e.Source) == n }) {
			t.Errorf("%s: no evidence from %s", inc.Rule, n)
		}
	}
}

// evidenceHas checks that some evidence record contains text.
func (inc *incident) evidenceHas(t *testing.T, text string) {
	t.Helper()
	for _, e := range inc.Evidence {
		if strings.Contains(e.Line, text) {
			return
		}
	}
	t.Errorf("%s: no evidence line contains %q", inc.Rule, text)
}

func (inc *incident) field(t *testing.T, name, value string) {
	t.Helper()
	// The first value is in fields; all of them, when several, in values.
	if got := inc.Fields[name]; got != value && !slices.Contains(inc.Values[name], value) {
		t.Errorf("%s: field %s=%q (values %q) lacks %q", inc.Rule, name, inc.Fields[name], inc.Values[name], value)
	}
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

// ------------------------------------------------------ logs, captured

func (s *stack) dumpLogs() {
	for _, n := range append(slices.Clone(logNames), "gunicorn.err", "nginx.err", "sigtail.out", "sigtail.err") {
		b, err := os.ReadFile(s.path(n))
		if err != nil {
			continue
		}
		if len(b) > 16<<10 {
			b = append([]byte("...\n"), b[len(b)-16<<10:]...)
		}
		s.t.Logf("---- %s\n%s", n, b)
	}
}

// normalise replaces what differs from run to run and machine to machine
// (the temporary directory, this checkout's path, the ports) with stable
// stand-ins; times and pids are what they were.
func (s *stack) normalise(b []byte) []byte {
	pairs := []string{s.dir, normDir, s.tools.appDir, normApp}
	if s.gport != 0 {
		pairs = append(pairs, "127.0.0.1:"+strconv.Itoa(s.gport), "127.0.0.1:"+normGunicornPort,
			"'127.0.0.1', "+strconv.Itoa(s.gport), "'127.0.0.1', "+normGunicornPort)
	}
	pairs = append(pairs, "127.0.0.1:"+strconv.Itoa(s.port), "127.0.0.1:"+normNginxPort)
	return []byte(strings.NewReplacer(pairs...).Replace(string(b)))
}

func (s *stack) capture() {
	dst := filepath.Join(s.tools.repo, "testdata", "real", s.name)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		s.t.Fatal(err)
	}
	for _, n := range logNames {
		b, err := os.ReadFile(s.path(n))
		if errors.Is(err, os.ErrNotExist) {
			os.Remove(filepath.Join(dst, n))
			continue
		} else if err != nil {
			s.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, n), s.normalise(b), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	s.t.Logf("captured the logs in %s", dst)
}

// ------------------------------------------------------------ scenarios

type e2eScenario struct {
	name  string                       // also the folder under testdata/real
	aged  bool                         // start with the suite, run once the workers are older than agedAfter
	start func(t *testing.T, s *stack) // bring the servers up (optional unless aged)
	run   func(t *testing.T, s *stack) // make them fail
	check func(t *testing.T, s *stack, r *results)
}

var e2eScenarios = []e2eScenario{
	{name: "worker_timeout", aged: true, start: startSync(2, 2), run: runWorkerTimeout, check: checkWorkerTimeout},
	{name: "gevent_timeout", aged: true, start: startGevent, run: runGeventTimeout, check: checkGeventTimeout},
	{name: "worker_timeout_fresh_worker", start: startSync(2, 2), run: runWorkerTimeout, check: checkWorkerTimeoutFresh},
	{name: "import_error", run: runImportError, check: checkImportError},
	{name: "wrong_entry_point", run: runWrongEntryPoint, check: checkWrongEntryPoint},
	{name: "worker_sigkill", start: startSync(1, 30), run: runWorkerSigkill, check: checkWorkerSigkill},
	{name: "worker_memory_limit", run: runMemoryLimit, check: checkMemoryLimit},
	{name: "bind_in_use", run: runBindInUse, check: checkBindInUse},
	{name: "master_sigterm", start: startSync(2, 30), run: runMasterSigterm, check: checkMasterSigterm},
	{name: "master_stopped", start: startSync(2, 30), run: runMasterStopped, check: checkMasterStopped},
	{name: "client_abort_499", start: startSync(4, 30), run: runClientAbort, check: checkClientAbort},
	{name: "max_requests", run: runMaxRequests, check: checkMaxRequests},
	{name: "clean", start: startSync(2, 30), run: runClean, check: checkClean},
	{name: "master_sigkill", start: startSync(2, 10), run: runMasterSigkill, check: checkMasterSigkill},
	{name: "hup_then_timeout", start: startSync(2, 2), run: runHupThenTimeout, check: checkWorkerTimeoutFresh},
	{name: "two_masters", start: startSync(1, 30), run: runTwoMasters, check: checkTwoMasters},
}

func mustStatus(t *testing.T, s *stack, path string, want int, timeout time.Duration) {
	t.Helper()
	code, err := s.get(path, timeout)
	if code != want {
		t.Errorf("GET %s: %d (%v), want %d", path, code, err, want)
	}
}

// startSync brings up sync workers behind nginx and has them serve a little.
func startSync(workers, timeout int) func(t *testing.T, s *stack) {
	return func(t *testing.T, s *stack) {
		s.gunicorn(gunicornOpts{workers: workers, timeout: timeout})
		s.waitLog(gunicornLog, "Booting worker", workers, 10*time.Second)
		s.nginx()
		if got := s.load("/", 20, 2, 5*time.Second); got[200] != 20 {
			t.Errorf("warm-up answers %v, want 20 x 200", got)
		}
	}
}

// 1. A request slower than --timeout on a sync worker (--timeout 2, the app
// sleeps 5 s): WORKER TIMEOUT, the worker aborted, nginx's 502 and
// "upstream prematurely closed connection", all one incident.
func runWorkerTimeout(t *testing.T, s *stack) {
	booted := len(s.workerPids())
	mustStatus(t, s, "/sleep?s=5", 502, 15*time.Second)
	s.waitLog(gunicornLog, "Booting worker", booted+1, 10*time.Second) // the replacement
	mustStatus(t, s, "/", 200, 5*time.Second)
}

func checkWorkerTimeout(t *testing.T, s *stack, r *results) {
	r.only(t, "gunicorn.worker_timeout")
	inc := r.one(t, "gunicorn.worker_timeout")
	inc.expect(t, "critical", 3, "nginx.upstream_premature_close", "nginx.bad_gateway_burst")
	inc.fromSources(t, gunicornLog, nginxError, nginxAccess)
	inc.evidenceHas(t, "WORKER TIMEOUT (pid:")
	inc.evidenceHas(t, "upstream prematurely closed connection while reading response header from upstream")
	inc.evidenceHas(t, `"GET /sleep?s=5 HTTP/1.1" 502`)
}

// The same on a worker that booted seconds before: what the brief's scenario
// gives when run at once. KNOWN LIMITATION: from the logs, a WORKER TIMEOUT
// of a worker that booted less than two minutes earlier is a boot timeout
// (gunicorn.worker_boot_timeout), and nginx's premature close, which says a
// request was in flight, cannot veto it: the rules' yields form no cycle, so
// the catalog cannot say "unless nginx saw a request fail". The incident is
// still one, with every log's evidence.
// checkWorkerTimeoutFresh: the workers answered the warm-up requests
// seconds after they booted, so a WORKER TIMEOUT then is a request that
// hung, not a boot that never ended.
func checkWorkerTimeoutFresh(t *testing.T, s *stack, r *results) {
	r.only(t, "gunicorn.worker_timeout")
	inc := r.one(t, "gunicorn.worker_timeout")
	inc.expect(t, "critical", 3, "nginx.upstream_premature_close")
	inc.fromSources(t, gunicornLog, nginxError, nginxAccess)
}

// 10. A gevent worker blocked by a CPU-bound call longer than --timeout.
func startGevent(t *testing.T, s *stack) {
	s.gunicorn(gunicornOpts{workers: 2, timeout: 2, extra: []string{"--worker-class", "gevent"}})
	s.waitLog(gunicornLog, "Booting worker", 2, 10*time.Second)
	s.nginx()
	if got := s.load("/", 20, 2, 5*time.Second); got[200] != 20 {
		t.Errorf("warm-up answers %v, want 20 x 200", got)
	}
}

func runGeventTimeout(t *testing.T, s *stack) {
	booted := len(s.workerPids())
	code, err := s.get("/spin?s=6", 20*time.Second)
	t.Logf("GET /spin?s=6 through nginx: %d %v", code, err)
	s.waitLog(gunicornLog, "Booting worker", booted+1, 15*time.Second)
	mustStatus(t, s, "/", 200, 5*time.Second)
}

func checkGeventTimeout(t *testing.T, s *stack, r *results) {
	r.only(t, "gunicorn.worker_timeout")
	inc := r.one(t, "gunicorn.worker_timeout")
	inc.expect(t, "critical", 2)
	inc.evidenceHas(t, "WORKER TIMEOUT (pid:")
}

// 2. An app that raises ImportError at import: every worker fails to boot,
// the master halts ("Worker failed to boot.") and exits; nginx then finds
// no socket.
func runImportError(t *testing.T, s *stack) {
	g := s.gunicorn(gunicornOpts{app: "broken_import:app", workers: 2})
	if !g.waitExit(30 * time.Second) {
		t.Fatalf("the master did not exit")
	}
	t.Logf("gunicorn master exited %d", g.code)
	if g.code != 3 && g.code != 1 { // 1: the uncaught HaltServer of a second failing worker
		t.Errorf("master exit status %d, want 3 (HaltServer 'Worker failed to boot.')", g.code)
	}
	s.nginx()
	if got := s.load("/", 5, 1, 5*time.Second); got[502] != 5 {
		t.Errorf("with the master gone nginx answered %v, want 5 x 502", got)
	}
}

func checkImportError(t *testing.T, s *stack, r *results) {
	r.only(t, "gunicorn.module_import_error")
	inc := r.one(t, "gunicorn.module_import_error")
	inc.expect(t, "critical", 3, "gunicorn.worker_boot_failure", "nginx.upstream_down")
	inc.field(t, "module", "sigtail_e2e_missing_dependency")
	inc.fromSources(t, gunicornLog, nginxError, nginxAccess)
	inc.evidenceHas(t, "ModuleNotFoundError: No module named 'sigtail_e2e_missing_dependency'")
	// A master that halts cleanly (exit 3) writes the reason; one whose
	// HaltServer went uncaught as a second worker failed (exit 1) writes
	// it on its stderr, not in the error log.
	if s.countLog(gunicornLog, "Reason: Worker failed to boot.") > 0 {
		inc.evidenceHas(t, "Reason: Worker failed to boot.")
	}
}

// 3. A wrong entry point (module:missing): the entry-point insight, not a
// generic boot failure. --capture-output sends the worker's bare stderr
// line ("Failed to find attribute ...") into the error log as well.
func runWrongEntryPoint(t *testing.T, s *stack) {
	g := s.gunicorn(gunicornOpts{app: "app:missing", workers: 2, extra: []string{"--capture-output"}})
	if !g.waitExit(30 * time.Second) {
		t.Fatalf("the master did not exit")
	}
	t.Logf("gunicorn master exited %d", g.code)
	if g.code != 4 && g.code != 1 {
		t.Errorf("master exit status %d, want 4 (HaltServer 'App failed to load.')", g.code)
	}
	s.nginx()
	if got := s.load("/", 5, 1, 5*time.Second); got[502] != 5 {
		t.Errorf("with the master gone nginx answered %v, want 5 x 502", got)
	}
}

func checkWrongEntryPoint(t *testing.T, s *stack, r *results) {
	r.only(t, "gunicorn.app_load_failure")
	inc := r.one(t, "gunicorn.app_load_failure")
	inc.expect(t, "critical", 2, "nginx.upstream_down")
	inc.fromSources(t, gunicornLog, nginxError, nginxAccess)
	inc.evidenceHas(t, "Failed to find attribute 'missing' in 'app'.")
	inc.evidenceHas(t, "Reason: App failed to load.")
}

// 4. kill -9 of a worker in the middle of a request.
func runWorkerSigkill(t *testing.T, s *stack) {
	pids := s.workerPids()
	if len(pids) != 1 {
		t.Fatalf("want one worker, have %v", pids)
	}
	done := make(chan int, 1)
	go func() { code, _ := s.get("/sleep?s=3", 15*time.Second); done <- code }()
	time.Sleep(700 * time.Millisecond) // the request is on the worker
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 502 {
		t.Errorf("the request on the killed worker got %d, want 502", code)
	}
	s.waitLog(gunicornLog, "Booting worker", 2, 10*time.Second)
	mustStatus(t, s, "/", 200, 5*time.Second)
}

func checkWorkerSigkill(t *testing.T, s *stack, r *results) {
	r.only(t, "gunicorn.worker_oom_sigkill")
	inc := r.one(t, "gunicorn.worker_oom_sigkill")
	inc.expect(t, "critical", 2, "nginx.upstream_premature_close")
	inc.fromSources(t, gunicornLog, nginxError, nginxAccess)
	inc.evidenceHas(t, "was terminated due to signal 9")
	// Without a kernel line, out of memory is one possibility, not the finding.
	if strings.Contains(strings.ToLower(inc.Title), "memory") || !strings.Contains(inc.Summary, "no kernel OOM kill") {
		t.Errorf("no kernel OOM line, yet the incident does not say so: %q / %q", inc.Title, inc.Summary)
	}
}

// 5. A worker whose address space is capped (RLIMIT_AS from a post_fork
// hook) allocates past the cap.
func runMemoryLimit(t *testing.T, s *stack) {
	s.gunicorn(gunicornOpts{workers: 1, extra: []string{"--config", filepath.Join(s.tools.appDir, "memlimit.py")}})
	s.waitLog(gunicornLog, "Booting worker", 1, 10*time.Second)
	s.nginx()
	mustStatus(t, s, "/alloc?mb=16", 200, 10*time.Second)
	mustStatus(t, s, "/alloc?mb=512", 500, 10*time.Second)
	mustStatus(t, s, "/", 200, 5*time.Second)
}

func checkMemoryLimit(t *testing.T, s *stack, r *results) {
	r.only(t, "gunicorn.worker_memory_error")
	inc := r.one(t, "gunicorn.worker_memory_error")
	inc.expect(t, "critical", 1)
	inc.field(t, "request", "/alloc?mb=512")
	inc.evidenceHas(t, "MemoryError")
}

// 6. A second master binding an address already in use.
func runBindInUse(t *testing.T, s *stack) {
	s.gunicorn(gunicornOpts{workers: 1, tcp: true})
	s.waitLog(gunicornLog, "Booting worker", 1, 10*time.Second)
	s.nginx()
	mustStatus(t, s, "/", 200, 5*time.Second)
	second := s.gunicorn(gunicornOpts{workers: 1, tcp: true})
	if !second.waitExit(20 * time.Second) {
		t.Fatalf("the second master did not give up")
	}
	t.Logf("second master exited %d", second.code)
	if second.code != 1 {
		t.Errorf("second master exit status %d, want 1 (Can't connect)", second.code)
	}
	mustStatus(t, s, "/", 200, 5*time.Second) // the first still serves
}

func checkBindInUse(t *testing.T, s *stack, r *results) {
	r.only(t, "gunicorn.bind_failure")
	inc := r.one(t, "gunicorn.bind_failure")
	inc.expect(t, "warning", 5)
	inc.field(t, "address", "('127.0.0.1', "+strconv.Itoa(s.gport)+")")
	inc.evidenceHas(t, "Connection in use: ('127.0.0.1', ")
	inc.evidenceHas(t, "Can't connect to ('127.0.0.1', ")
}

// 7. SIGTERM to the master: a planned stop. gunicorn.master_not_restarted
// is right to page when no master starts again within 60 s, so this
// scenario restarts it, as a deploy or systemctl restart does, and checks
// that the stop itself raises nothing, and the restart nothing either.
func runMasterSigterm(t *testing.T, s *stack) {
	g := s.running("gunicorn")
	if g == nil {
		t.Fatalf("no gunicorn to stop")
	}
	if !g.stop(syscall.SIGTERM, 20*time.Second) {
		t.Fatalf("the master did not stop on SIGTERM")
	}
	t.Logf("gunicorn master exited %d on SIGTERM", g.code)
	if g.code != 0 {
		t.Errorf("master exit status %d, want 0", g.code)
	}
	code, err := s.get("/", 5*time.Second)
	t.Logf("while stopped: %d %v", code, err)
	time.Sleep(2 * time.Second)
	s.gunicorn(gunicornOpts{workers: 2})
	s.waitLog(gunicornLog, "Booting worker", 4, 10*time.Second)
	if got := s.load("/", 20, 2, 5*time.Second); got[200] != 20 {
		t.Errorf("after the restart: %v, want 20 x 200", got)
	}
}

func checkMasterSigterm(t *testing.T, s *stack, r *results) {
	r.noneAtLeast(t, "warning")
	// Users got 502s while it was down: the restart was not graceful, and
	// that is said, as info.
	r.one(t, "nginx.upstream_refused").expect(t, "info", 1)
	for _, inc := range r.list {
		if inc.Rule == "gunicorn.master_not_restarted" || inc.Rule == "gunicorn.service_down" {
			t.Errorf("a planned, restarted stop raised %s", inc.Rule)
		}
	}
}

// 8. Clients giving up before the response: curl --max-time 1 on a 2 s
// endpoint, 20 times, 4 at a time.
func runClientAbort(t *testing.T, s *stack) {
	var wg sync.WaitGroup
	codes := make(chan string, 20)
	sem := make(chan struct{}, 4)
	for range 20 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out, _ := exec.Command(s.tools.curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1",
				"http://"+s.addr()+"/sleep?s=2").Output()
			codes <- string(out)
		}()
	}
	wg.Wait()
	close(codes)
	got := map[string]int{}
	for c := range codes {
		got[c]++
	}
	if got["000"] != 20 {
		t.Errorf("curl results %v, want 20 timeouts (000)", got)
	}
	time.Sleep(time.Second) // nginx logs a 499 when it notices
}

func checkClientAbort(t *testing.T, s *stack, r *results) {
	r.only(t, "nginx.client_abort_burst")
	inc := r.one(t, "nginx.client_abort_burst")
	inc.expect(t, "warning", 20)
	inc.fromSources(t, nginxAccess)
	inc.evidenceHas(t, `"GET /sleep?s=2 HTTP/1.1" 499`)
}

// 9. --max-requests 5 under load: workers recycle every few requests.
func runMaxRequests(t *testing.T, s *stack) {
	s.gunicorn(gunicornOpts{workers: 2, extra: []string{"--max-requests", "5"}})
	s.waitLog(gunicornLog, "Booting worker", 2, 10*time.Second)
	s.nginx()
	got := s.load("/", 300, 4, 10*time.Second)
	t.Logf("300 requests, 4 at a time: %v; %d autorestarts", got, s.countLog(gunicornLog, "Autorestarting worker"))
	if got[200]+got[502] != 300 {
		t.Errorf("answers %v, want only 200 and 502", got)
	}
}

// What 20.1's sync workers do: each restart is "Autorestarting worker after
// current request." and "Worker exiting", and no request fails, since nginx
// talks HTTP/1.0 to the upstream without keepalive and the listening socket
// outlives every worker. So: the info incident of workers recycled too
// often, and gunicorn.autorestart_502 only if nginx did log a 502.
func checkMaxRequests(t *testing.T, s *stack, r *results) {
	r.noneAtLeast(t, "warning")
	inc := r.one(t, "gunicorn.worker_exits")
	inc.expect(t, "info", 50)
	inc.evidenceHas(t, "Worker exiting (pid: ")
	b, _ := os.ReadFile(s.path(nginxAccess))
	if bad := strings.Count(string(b), `" 502 `); bad > 0 {
		t.Logf("nginx answered %d request(s) 502 during the restarts", bad)
		r.one(t, "gunicorn.autorestart_502")
	} else {
		r.only(t, "gunicorn.worker_exits")
	}
}

// 7b. SIGTERM to the master and no restart: after 60 s of the logs' time
// (the clock the test moves on at the end) nothing has served the app, and
// that is what gunicorn.master_not_restarted pages for.
func runMasterStopped(t *testing.T, s *stack) {
	g := s.running("gunicorn")
	if !g.stop(syscall.SIGTERM, 20*time.Second) {
		t.Fatalf("the master did not stop on SIGTERM")
	}
	if got := s.load("/", 3, 1, 5*time.Second); got[502] != 3 {
		t.Errorf("with the master stopped nginx answered %v, want 3 x 502", got)
	}
}

func checkMasterStopped(t *testing.T, s *stack, r *results) {
	r.only(t, "gunicorn.master_not_restarted")
	inc := r.one(t, "gunicorn.master_not_restarted")
	inc.expect(t, "critical", 1, "nginx.upstream_down")
	inc.fromSources(t, gunicornLog, nginxError)
	inc.evidenceHas(t, "Shutting down: Master")
}

// The clean run: normal traffic over the same stack raises nothing.
func runClean(t *testing.T, s *stack) {
	got := s.load("/", 3000, 4, 10*time.Second)
	if got[200] != 3000 {
		t.Errorf("answers %v, want 3000 x 200", got)
	}
	if got := s.load("/sleep?s=0.2", 20, 4, 10*time.Second); got[200] != 20 {
		t.Errorf("answers %v, want 20 x 200", got)
	}
}

func checkClean(t *testing.T, s *stack, r *results) {
	r.only(t)
}

// runMasterSigkill kills the master with SIGKILL: its workers serve on
// until they find their parent gone (within --timeout/2) and exit, the
// socket file stays with nobody behind it, and nginx is refused.
func runMasterSigkill(t *testing.T, s *stack) {
	g := s.running("gunicorn")
	if g == nil {
		t.Fatalf("no gunicorn to kill")
	}
	// The master alone (its workers are in its process group).
	if err := syscall.Kill(g.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	g.waitExit(5 * time.Second)
	// A sync worker looks at its parent every --timeout/2 when idle.
	if !s.waitLog(gunicornLog, "Parent changed", 2, 30*time.Second) {
		t.Errorf("the workers did not say their parent changed")
	}
	time.Sleep(time.Second)
	code, err := s.get("/", 5*time.Second)
	t.Logf("with the master killed: %d %v", code, err)
	if code != 502 {
		t.Errorf("with the master killed nginx answered %d, want 502", code)
	}
}

func checkMasterSigkill(t *testing.T, s *stack, r *results) {
	inc := r.one(t, "gunicorn.master_gone")
	inc.expect(t, "critical", 2)
	inc.evidenceHas(t, "Parent changed")
	for _, bad := range []string{"gunicorn.worker_oom_sigkill", "gunicorn.worker_timeout", "gunicorn.master_not_restarted"} {
		for _, got := range r.rules() {
			if got == bad {
				t.Errorf("a killed master raised %s", bad)
			}
		}
	}
}

// runHupThenTimeout reloads the master with SIGHUP (every worker is
// replaced), lets the new workers serve, then makes a request outlive
// --timeout 2: a worker that served requests timed out; it did not fail
// to boot.
func runHupThenTimeout(t *testing.T, s *stack) {
	g := s.running("gunicorn")
	if g == nil {
		t.Fatalf("no gunicorn to reload")
	}
	booted := len(s.workerPids())
	if err := g.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.waitLog(gunicornLog, "Booting worker", booted+2, 10*time.Second)
	if got := s.load("/", 10, 2, 5*time.Second); got[200] != 10 {
		t.Errorf("after the reload: %v, want 10 x 200", got)
	}
	runWorkerTimeout(t, s)
}

// runTwoMasters starts a second master on the first one's unix socket:
// Gunicorn removes the socket file and binds its own; the first master
// runs on, unreachable.
func runTwoMasters(t *testing.T, s *stack) {
	second := s.gunicorn(gunicornOpts{workers: 1})
	if !s.waitLog(gunicornLog, "Listening at", 2, 10*time.Second) {
		t.Fatalf("the second master did not listen")
	}
	s.waitLog(gunicornLog, "Booting worker", 2, 10*time.Second)
	mustStatus(t, s, "/", 200, 5*time.Second)
	if second.exited() {
		t.Errorf("the second master exited %d", second.code)
	}
}

func checkTwoMasters(t *testing.T, s *stack, r *results) {
	inc := r.one(t, "gunicorn.two_masters_one_socket")
	inc.expect(t, "warning", 2)
	inc.evidenceHas(t, "Listening at: unix:")
}
