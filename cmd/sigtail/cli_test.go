package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestCLI drives the built binary as a person would: flags anywhere on the
// line, help, wrong values, unreadable files, broken configs. Each case
// checks the exit status and what is said, and that an error is one line.
func TestCLI(t *testing.T) {
	bin := buildSigtail(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	errLog := write("error.log", timeoutLine)
	aDir := filepath.Join(dir, "logs.d")
	os.Mkdir(aDir, 0o755)
	missing := filepath.Join(dir, "missing.log")
	unknownKey := write("unknown-key.yaml", "files:\n  - path: /var/log/x.log\n    fromat: gunicorn\n")
	badDuration := write("bad-duration.yaml", "kernel: false\nprobe_interval: often\n")
	badFormat := write("bad-format.yaml", "files:\n  - path: /x\n    format: apache\n")
	notAList := write("not-a-list.yaml", "units: gunicorn.service\n")
	badOutput := write("bad-output.yaml", "outputs:\n  - type: loki\n    url: http://127.0.0.1:3100\n    resend: 1m\n")
	farKey := write("far-key.yaml", "colour: blue\n")
	manyProblems := write("many.yaml", "kernel: false\nprobe_interval: often\nfiles:\n  - path: /var/log/gunicorn/error.log\n    fromat: gunicorn\noutputs:\n  - type: stdout\n  - type: loki\n    url: http://loki:3100/loki/api/v1/push\n    tenat: web\n")
	badSyntax := write("bad-syntax.yaml", "files:\n  - path: [\n")
	checkCfg := write("check.yaml", "kernel: false\nprobe: false\npositions: none\nfiles:\n  - path: "+errLog+"\n  - path: "+missing+"\n  - path: "+aDir+"\n")
	okCfg := write("ok.yaml", "kernel: false\nprobe: false\npositions: none\nfiles:\n  - path: "+errLog+"\n")

	type tc struct {
		name   string
		args   []string
		code   int
		stdout string // a substring of stdout, "" for any
		// stdoutRE: a regexp stdout must match, "" for any.
		stdoutRE string
		stderr   string // a regexp stderr must match, "" for any
		// oneLine: stderr is exactly one line (an error for people).
		oneLine bool
	}
	cases := []tc{
		// Flags anywhere on the line.
		{name: "flag after the file", args: []string{"scan", errLog, "--fail-on", "none"}, code: 0, stdout: `"rule":"gunicorn.worker_timeout"`},
		{name: "flags before and after", args: []string{"scan", "--output", "text", errLog, "--host", "h1"}, code: 1, stdout: "host h1"},
		{name: "-- ends the flags", args: []string{"scan", "--fail-on", "none", "--", errLog}, code: 0, stdout: "worker_timeout"},
		// Help is not an error.
		{name: "-h", args: []string{"-h"}, code: 0, stdout: "Available Commands:"},
		{name: "help", args: []string{"help"}, code: 0, stdout: "Available Commands:"},
		{name: "no command", args: []string{}, code: 0, stdout: "Available Commands:"},
		{name: "scan -h", args: []string{"scan", "-h"}, code: 0, stdout: "--since"},
		{name: "run --help", args: []string{"run", "--help"}, code: 0, stdout: "--check"},
		{name: "test -h after a line", args: []string{"test", "some line", "-h"}, code: 0, stdout: "LINE|FILE"},
		{name: "audit -h", args: []string{"audit", "-h"}, code: 0, stdout: "--interval"},
		{name: "catalog explain -h", args: []string{"catalog", "explain", "-h"}, code: 0, stdout: "explain ID"},
		{name: "version", args: []string{"--version"}, code: 0, stdout: "sigtail "},
		{name: "version from the build info", args: []string{"version"}, code: 0, stdoutRE: `^sigtail (v\S+|devel(-[0-9a-f]{12}(-dirty)?)?)\n$`},
		// Usage errors: one line, what and where to look.
		{name: "unknown format", args: []string{"scan", "--format", "apache", errLog}, code: 2,
			stderr: `^sigtail: scan: invalid argument "apache" for "--format" flag: want one of gunicorn, nginx-error, .*see 'sigtail scan --help'`, oneLine: true},
		{name: "unknown output format", args: []string{"scan", errLog, "--output", "xml"}, code: 2, stderr: `"xml".*want one of json, text`, oneLine: true},
		{name: "unknown flag", args: []string{"scan", "--frobnicate", errLog}, code: 2, stderr: `^sigtail: scan: unknown flag: --frobnicate`, oneLine: true},
		{name: "unknown command", args: []string{"sacn"}, code: 2, stderr: `^sigtail: unknown command "sacn" \(did you mean scan\?`, oneLine: true},
		{name: "no files", args: []string{"scan"}, code: 2, stderr: `needs at least one FILE`, oneLine: true},
		{name: "bad severity", args: []string{"scan", errLog, "--fail-on", "urgent"}, code: 2, stderr: `--fail-on "urgent": want info, warning, critical or none`, oneLine: true},
		{name: "bad since", args: []string{"scan", "--since", "last tuesday", errLog}, code: 2, stderr: `--since "last tuesday": want an age such as 30m`, oneLine: true},
		{name: "until before since", args: []string{"scan", "--since", "2026-11-24", "--until", "2026-11-23", errLog}, code: 2, stderr: `--until .* is before --since`, oneLine: true},
		{name: "bad time zone", args: []string{"scan", "--timezone", "Mars/Olympus", errLog}, code: 2, stderr: `--timezone "Mars/Olympus": not a time zone`, oneLine: true},
		{name: "catalog listing unknown", args: []string{"catalog", "frobs"}, code: 2, stderr: `unknown listing "frobs"`, oneLine: true},
		{name: "lint takes no argument", args: []string{"lint", "x"}, code: 2, stderr: `^sigtail: lint: takes no arguments \(got "x"\)`, oneLine: true},
		// Files that cannot be read: named, with the reason; the others scanned.
		{name: "missing file", args: []string{"scan", "--log-format", "text", missing}, code: 2,
			stderr: `^sigtail: scan: ` + regexp.QuoteMeta(missing) + `: no such file \(check the path`, oneLine: true},
		{name: "a directory", args: []string{"scan", "--log-format", "text", aDir}, code: 2,
			stderr: `^sigtail: scan: ` + regexp.QuoteMeta(aDir) + `: is a directory, not a log file`, oneLine: true},
		{name: "missing file, others scanned", args: []string{"scan", "--log-format", "text", missing, errLog}, code: 2,
			stdout: "worker_timeout", stderr: regexp.QuoteMeta(missing) + `: no such file`},
		{name: "json logs when asked", args: []string{"scan", "--log-format", "json", missing}, code: 2,
			stderr: `^\{"level":"error","file":"` + regexp.QuoteMeta(missing) + `","reason":"no such file`},
		// Config errors: file, line, column, the key in YAML terms.
		{name: "config unknown key", args: []string{"run", "--config", unknownKey}, code: 2,
			stderr: `^sigtail: run: ` + regexp.QuoteMeta(unknownKey) + `:3:5: files\[0\]\.fromat: unknown key \(did you mean format\?\)$`, oneLine: true},
		{name: "config key far from any", args: []string{"run", "--config", farKey}, code: 2,
			stderr: regexp.QuoteMeta(farKey) + `:1:1: colour: unknown key \(known here: files, catalog, positions, .*\)$`, oneLine: true},
		{name: "config problems one line each", args: []string{"run", "--config", manyProblems}, code: 2,
			stderr: `^sigtail: run: ` + regexp.QuoteMeta(manyProblems) + `:2:17: probe_interval: want a duration such as 10s, 5m or 1h30m, got "often"\n` +
				`sigtail: run: ` + regexp.QuoteMeta(manyProblems) + `:5:5: files\[0\]\.fromat: unknown key \(did you mean format\?\)\n` +
				`sigtail: run: ` + regexp.QuoteMeta(manyProblems) + `:10:5: outputs\[1\]: loki output: unknown key "tenat" \(did you mean tenant\?\)$`},
		{name: "config bad duration", args: []string{"run", "--config", badDuration}, code: 2,
			stderr: regexp.QuoteMeta(badDuration) + `:2:17: probe_interval: want a duration such as 10s, 5m or 1h30m, got "often"$`, oneLine: true},
		{name: "config unknown format", args: []string{"run", "--config", badFormat}, code: 2,
			stderr: regexp.QuoteMeta(badFormat) + `:3:13: files\[0\]\.format: unknown format "apache" \(want one of gunicorn,`, oneLine: true},
		{name: "config not a list", args: []string{"run", "--config", notAList}, code: 2,
			stderr: regexp.QuoteMeta(notAList) + `:1:8: units: want a list .*got "gunicorn.service"`, oneLine: true},
		{name: "config key of another output type", args: []string{"run", "--config", badOutput}, code: 2,
			stderr: regexp.QuoteMeta(badOutput) + `:4:5: outputs\[0\]: loki output: unknown key "resend"`, oneLine: true},
		{name: "config syntax", args: []string{"run", "--config", badSyntax}, code: 2,
			stderr: `config ` + regexp.QuoteMeta(badSyntax) + `: line \d+: `, oneLine: true},
		{name: "config missing", args: []string{"run", "--config", missing}, code: 2,
			stderr: `reading the config ` + regexp.QuoteMeta(missing) + `: no such file`, oneLine: true},
		// run --check: the config, the catalog, every source.
		{name: "check finds bad sources", args: []string{"run", "--check", "--config", checkCfg}, code: 1, stdout: "FAIL"},
		{name: "check passes", args: []string{"run", "--config", okCfg, "--check"}, code: 0, stdout: "1 of 1 sources ok"},
		{name: "run --output is --to", args: []string{"run", "--config", okCfg, "--check", "--output", "stdout"}, code: 0,
			stderr: `^sigtail: run: --output is now --to`},
		{name: "run --to", args: []string{"run", "--config", okCfg, "--check", "--to", "loki"}, code: 2, stderr: `--to loki: give its URL as loki=URL`, oneLine: true},
		// A progress bar only on a terminal with text logs, or when asked.
		{name: "no progress bar in a pipe", args: []string{"scan", "--log-format", "text", "--fail-on", "none", errLog}, code: 0, stderr: `^sigtail: scan: .*error\.log: gunicorn, 1 lines, 1 records, 1 hits$`, oneLine: true},
		{name: "progress bar when asked", args: []string{"scan", "--progress", "always", "--fail-on", "none", errLog}, code: 0, stderr: `scanning`},
		{name: "no progress bar in JSON mode", args: []string{"scan", "--log-format", "json", "--fail-on", "none", errLog}, code: 0, stderr: `^\{"level":"info","file":[^\n]*"message":"scanned"\}$`, oneLine: true},
		// Shell completion.
		{name: "completion bash", args: []string{"completion", "bash"}, code: 0, stdout: "complete -o default"},
		{name: "completion zsh", args: []string{"completion", "zsh"}, code: 0, stdout: "#compdef sigtail"},
		{name: "completion fish", args: []string{"completion", "fish"}, code: 0, stdout: "complete -c sigtail"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, c.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, stdout.String(), stderr.String())
			}
			if c.stdout != "" && !strings.Contains(stdout.String(), c.stdout) {
				t.Errorf("stdout lacks %q:\n%s", c.stdout, stdout.String())
			}
			if c.stdoutRE != "" && !regexp.MustCompile(c.stdoutRE).MatchString(stdout.String()) {
				t.Errorf("stdout does not match %q:\n%s", c.stdoutRE, stdout.String())
			}
			if c.stderr != "" && !regexp.MustCompile(c.stderr).MatchString(strings.TrimRight(stderr.String(), "\n")) {
				t.Errorf("stderr does not match %q:\n%s", c.stderr, stderr.String())
			}
			if c.oneLine && strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("stderr is not one line:\n%s", stderr.String())
			}
		})
	}
}

// TestCatalogListingsFit: listings fit 100 columns unless --wide.
func TestCatalogListingsFit(t *testing.T) {
	for _, listing := range [][]string{{"catalog"}, {"catalog", "rules"}, {"catalog", "signatures"}} {
		code, stdout, _ := runCmd(t, "", listing...)
		if code != 0 || strings.Count(stdout, "\n") < 10 {
			t.Fatalf("%v: exit %d:\n%s", listing, code, stdout)
		}
		for _, l := range strings.Split(stdout, "\n") {
			if n := utf8.RuneCountInString(l); n > listWidth {
				t.Errorf("%v: a line of %d columns: %s", listing, n, l)
			}
		}
		_, wide, _ := runCmd(t, "", append(listing, "--wide")...)
		longest := 0
		for _, l := range strings.Split(wide, "\n") {
			longest = max(longest, utf8.RuneCountInString(l))
		}
		if longest <= listWidth || strings.Contains(wide, "…") {
			t.Errorf("%v --wide: longest line %d columns, want every column in full", listing, longest)
		}
	}
}

// TestManPagesUpToDate: contrib/man is what `make man` makes from the
// command tree (the date and version line aside).
func TestManPagesUpToDate(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCmd(t, "", "man", dir); code != 0 {
		t.Fatalf("man: exit %d: %s", code, stderr)
	}
	generated, _ := filepath.Glob(filepath.Join(dir, "*.1"))
	shipped, _ := filepath.Glob("../../contrib/man/*.1")
	if len(generated) < 8 || len(generated) != len(shipped) {
		t.Fatalf("%d pages generated, %d in contrib/man: run make man", len(generated), len(shipped))
	}
	th := regexp.MustCompile(`(?m)^\.TH .*$`)
	for _, g := range generated {
		want, _ := os.ReadFile(g)
		got, err := os.ReadFile(filepath.Join("../../contrib/man", filepath.Base(g)))
		if err != nil || th.ReplaceAllString(string(got), "") != th.ReplaceAllString(string(want), "") {
			t.Errorf("contrib/man/%s is out of date: run make man", filepath.Base(g))
		}
	}
}

// TestScanStreams: scan prints an incident as soon as it is over, while the
// rest of the input is still to come (here standard input, kept open).
func TestScanStreams(t *testing.T) {
	bin := buildSigtail(t)
	cmd := exec.Command(bin, "scan", "--timezone", "UTC", "-")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// A worker timeout at 10:00, another at 11:00 and more lines: the
	// first resolved after its cooldown, long before the input ends.
	var in strings.Builder
	in.WriteString(timeoutLine)
	in.WriteString("[2026-11-24 11:00:00 +0000] [1234] [CRITICAL] WORKER TIMEOUT (pid:1299)\n")
	for s := range 2000 {
		fmt.Fprintf(&in, "[2026-11-24 11:%02d:%02d +0000] [1234] [DEBUG] Closing connection.\n", s/60%60, s%60)
	}
	if _, err := io.WriteString(stdin, in.String()); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		got <- line
	}()
	select {
	case line := <-got:
		if !strings.Contains(line, `"rule":"gunicorn.worker_timeout"`) || !strings.Contains(line, `"status":"resolved"`) {
			t.Errorf("first line %q, want the resolved worker timeout", line)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no incident while the input is still open\n%s", stderr.String())
	}
	stdin.Close()
	if err := cmd.Wait(); err == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("exit %v, want 1 (a critical incident)\n%s", err, stderr.String())
	}
}

// TestVersionFromBuildInfo: a binary built without -ldflags says the
// version the go command recorded (go install ...@vX records vX; a build
// in a checkout, the commit's pseudo-version), never "dev".
func TestVersionFromBuildInfo(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found: the build records no VCS information without it")
	}
	bin := filepath.Join(t.TempDir(), "sigtail")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		if strings.Contains(string(out), "VCS status") {
			t.Skipf("this checkout gives no VCS status (not a git clone, or owned by another user): %s", out)
		}
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || !regexp.MustCompile(`^sigtail v0\.0\.0-\d{14}-[0-9a-f]{12}(\+dirty)?\n$`).Match(out) {
		t.Errorf("--version: %q %v, want the pseudo-version of the checkout", out, err)
	}
}

// TestScanReport: scan --report writes the page of the incidents it
// printed, each one in it by id; a report that cannot be written is said
// before the scan, not after.
func TestScanReport(t *testing.T) {
	bin := buildSigtail(t)
	page := filepath.Join(t.TempDir(), "report.html")
	samples, _ := filepath.Glob("../../testdata/sample/*.log")
	args := append([]string{"scan", "--timezone", "UTC", "--host", "sample-host", "--report", page}, samples...)
	out, err := exec.Command(bin, args...).Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("scan --report: %v, want exit 1 (critical incidents)", err)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	ids := regexp.MustCompile(`"id":"([0-9a-f]+)"`).FindAllStringSubmatch(string(out), -1)
	if len(ids) < 5 {
		t.Fatalf("%d incidents printed, want the sample's", len(ids))
	}
	for _, id := range ids {
		if !strings.Contains(string(html), `data-incident-id="`+id[1]+`"`) {
			t.Errorf("incident %s is not in the report", id[1])
		}
	}
	if strings.Contains(string(html), "<script src=") || strings.Contains(string(html), "<link ") {
		t.Error("the report loads something from elsewhere")
	}

	cmd := exec.Command(bin, "scan", "--log-format", "text", "--report", "/nonexistent/dir/report.html", samples[0])
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 ||
		stderr.String() != "sigtail: scan: --report /nonexistent/dir/report.html: its directory does not exist (create it, or give another path)\n" {
		t.Errorf("unwritable report: %v\n%s", err, stderr.String())
	}
}

// TestScanPermissionDenied: a log the user may not read is named with the
// reason and what to do, in one line, and the other files are scanned. It
// runs the binary as nobody, so it needs root to drop to that user.
func TestScanPermissionDenied(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if os.Geteuid() != 0 || err != nil {
		t.Skip("needs root and setpriv (util-linux) to run the binary as nobody")
	}
	dir, err := os.MkdirTemp("", "sigtail-perm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "sigtail")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	secret := filepath.Join(dir, "error.log")
	os.WriteFile(secret, []byte(timeoutLine), 0o600)
	open := filepath.Join(dir, "access.log")
	os.WriteFile(open, []byte(timeoutLine), 0o644)
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "scan", "--log-format", "text", secret, open)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2\n%s", err, stderr.String())
	}
	want := "sigtail: scan: " + secret + ": permission denied (run as root or add the user to group adm)\n"
	if !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("stderr:\n%s\nwant first:\n%s", stderr.String(), want)
	}
	if !strings.Contains(stdout.String(), `"rule":"gunicorn.worker_timeout"`) {
		t.Errorf("the readable file was not scanned:\n%s", stdout.String())
	}

	// The daemon's check says the same of it.
	cmd = exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "run", "--check",
		"--file", secret, "--file", open, "--kernel=false", "--probe=false", "--positions", "none")
	stdout.Reset()
	cmd.Stdout = &stdout
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 ||
		!regexp.MustCompile(`(?m)^FAIL +file +`+regexp.QuoteMeta(secret)+` +permission denied \(run as root or add the user to group adm\)$`).MatchString(stdout.String()) ||
		!regexp.MustCompile(`(?m)^ok +file +`+regexp.QuoteMeta(open)).MatchString(stdout.String()) {
		t.Errorf("run --check as nobody: %v\n%s", err, stdout.String())
	}
}
