// Package scenario reads the insight scenarios of testdata/insights: small
// scripts of log files and the incidents they must (and must not) raise,
// one file per detectable rule. The scan's tests check the expectations;
// the daemon's tests check that `run` tells the same story as `scan` on
// every case.
//
//	# comments
//	case raise: what happens            a case: logs, then expectations
//	file error.log                      the lines below, up to the next directive,
//	[2026-11-24 10:00:00 +0000] ...     are that log file (format detected)
//	file kern.log
//	Nov 24 10:00:01 web-1 kernel: ...
//	expect gunicorn.worker_oom count=2 sources=2 field:pid=2301 related=kernel.oom_kill severity=critical
//	expect-not kernel.oom_kill          no incident of that rule
//	expect-total 1                      exactly this many incidents
package scenario

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ModTime is the modification time the files of a case get: the year of
// yearless timestamps (syslog, kernel) comes from it.
var ModTime = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// Scenario is one case.
type Scenario struct {
	File, Name string
	Line       int
	Logs       map[string]*strings.Builder
	Order      []string
	Expects    []Expectation
}

// Expectation is one expect, expect-not or expect-total line.
type Expectation struct {
	Line  int
	Kind  string // expect, expect-not, expect-total
	Rule  string
	Conds []string
}

// Parse reads the cases of one scenario file.
func Parse(path string) ([]*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*Scenario
	var cur *Scenario
	var log *strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		word, rest, _ := strings.Cut(line, " ")
		switch {
		case strings.HasPrefix(line, "#") && log == nil, strings.TrimSpace(line) == "" && log == nil:
			continue
		case word == "case":
			cur = &Scenario{File: filepath.Base(path), Name: rest, Line: n, Logs: map[string]*strings.Builder{}}
			out = append(out, cur)
			log = nil
		case cur == nil:
			return nil, fmt.Errorf("%s:%d: %q before the first case", path, n, line)
		case word == "file":
			name := strings.TrimSpace(rest)
			if cur.Logs[name] == nil {
				cur.Logs[name] = &strings.Builder{}
				cur.Order = append(cur.Order, name)
			}
			log = cur.Logs[name]
		case word == "expect" || word == "expect-not" || word == "expect-total":
			log = nil
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				return nil, fmt.Errorf("%s:%d: %s needs a rule (or a number)", path, n, word)
			}
			cur.Expects = append(cur.Expects, Expectation{Line: n, Kind: word, Rule: fields[0], Conds: fields[1:]})
		case log != nil:
			log.WriteString(line)
			log.WriteByte('\n')
		default:
			return nil, fmt.Errorf("%s:%d: unexpected %q (want case, file, expect, expect-not or expect-total)", path, n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, nil
}

// Write writes the case's log files into dir, dated ModTime, and returns
// their paths in the order the case names them.
func (s *Scenario) Write(dir string) ([]string, error) {
	var paths []string
	for _, name := range s.Order {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s.Logs[name].String()), 0o644); err != nil {
			return nil, err
		}
		if err := os.Chtimes(p, ModTime, ModTime); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
