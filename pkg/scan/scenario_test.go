package scan_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/scan"
)

// Insight scenarios live in testdata/insights/<rule id>.txt, one file per
// detectable rule, as small scripts:
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
//
// Every file needs a case that raises its rule and a near miss that must
// not (TestInsightScenariosCoverRules). The logs are scanned by the real
// pipeline; syslog years come from the files' time, 2026-11-25.
const insightsDir = "../../testdata/insights"

type scenario struct {
	file, name string
	line       int
	logs       map[string]*strings.Builder
	order      []string
	expects    []expectation
}

type expectation struct {
	line  int
	kind  string // expect, expect-not, expect-total
	rule  string
	conds []string
}

func parseScenarios(t *testing.T, path string) []*scenario {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*scenario
	var cur *scenario
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
			cur = &scenario{file: filepath.Base(path), name: rest, line: n, logs: map[string]*strings.Builder{}}
			out = append(out, cur)
			log = nil
		case cur == nil:
			t.Fatalf("%s:%d: %q before the first case", path, n, line)
		case word == "file":
			name := strings.TrimSpace(rest)
			if cur.logs[name] == nil {
				cur.logs[name] = &strings.Builder{}
				cur.order = append(cur.order, name)
			}
			log = cur.logs[name]
		case word == "expect" || word == "expect-not" || word == "expect-total":
			log = nil
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				t.Fatalf("%s:%d: %s needs a rule (or a number)", path, n, word)
			}
			cur.expects = append(cur.expects, expectation{line: n, kind: word, rule: fields[0], conds: fields[1:]})
		case log != nil:
			log.WriteString(line)
			log.WriteByte('\n')
		default:
			t.Fatalf("%s:%d: unexpected %q (want case, file, expect, expect-not or expect-total)", path, n, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (s *scenario) run(t *testing.T, cfg scan.Config) []*incident.Incident {
	dir := t.TempDir()
	mtime := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	var paths []string
	for _, name := range s.order {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s.logs[name].String()), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mtime, mtime)
		paths = append(paths, p)
	}
	res, err := scan.Run(context.Background(), cfg, paths)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if f.Err != nil {
			t.Errorf("%s: %v", f.Name, f.Err)
		}
		if f.Unparsed > 0 {
			t.Errorf("%s: %d record(s) of no known format (detected %q)", filepath.Base(f.Name), f.Unparsed, f.Format)
		}
	}
	return res.Incidents
}

// check returns what is wrong with the incidents against one expectation.
func (x expectation) check(incs []*incident.Incident) string {
	switch x.kind {
	case "expect-total":
		want, err := strconv.Atoi(x.rule)
		if err != nil {
			return "expect-total needs a number"
		}
		if len(incs) != want {
			return fmt.Sprintf("%d incident(s), want %d", len(incs), want)
		}
		return ""
	case "expect-not":
		for _, inc := range incs {
			if inc.Rule == x.rule {
				return fmt.Sprintf("an incident of %s was raised: %s", x.rule, inc.Summary)
			}
		}
		return ""
	}
	var why []string
	for _, inc := range incs {
		if inc.Rule != x.rule {
			continue
		}
		bad := ""
		for _, c := range x.conds {
			if msg := cond(inc, c); msg != "" {
				bad = msg
				break
			}
		}
		if bad == "" {
			return ""
		}
		why = append(why, bad)
	}
	if len(why) == 0 {
		return "no incident of " + x.rule
	}
	return x.rule + ": " + strings.Join(why, "; ")
}

func cond(inc *incident.Incident, c string) string {
	key, val, ok := strings.Cut(c, "=")
	if !ok {
		return "bad condition " + c
	}
	switch {
	case key == "count" || key == "count>":
		n, _ := strconv.Atoi(val)
		if key == "count" && inc.Count != n || key == "count>" && inc.Count < n {
			return fmt.Sprintf("count %d, want %s%d", inc.Count, strings.TrimPrefix(key, "count"), n)
		}
	case key == "severity":
		if inc.Severity.String() != val {
			return "severity " + inc.Severity.String()
		}
	case key == "status":
		if string(inc.Status) != val {
			return "status " + string(inc.Status)
		}
	case key == "sources":
		n, _ := strconv.Atoi(val)
		if len(inc.Sources) != n {
			return fmt.Sprintf("%d source(s) %v, want %d", len(inc.Sources), inc.Sources, n)
		}
	case key == "related":
		if !slices.Contains(inc.Related, val) {
			return fmt.Sprintf("related %v lacks %s", inc.Related, val)
		}
	case strings.HasPrefix(key, "field:"):
		name := strings.TrimPrefix(key, "field:")
		if inc.Fields[name] != val && !slices.Contains(inc.Values[name], val) {
			return fmt.Sprintf("field %s=%q (values %q) lacks %q", name, inc.Fields[name], inc.Values[name], val)
		}
	default:
		return "unknown condition " + c
	}
	return ""
}

func scenarioFiles(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(insightsDir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestInsightScenarios runs every case of every insight scenario file.
func TestInsightScenarios(t *testing.T) {
	cfg := config(t)
	for _, path := range scenarioFiles(t) {
		for _, s := range parseScenarios(t, path) {
			t.Run(s.file+"/"+s.name, func(t *testing.T) {
				incs := s.run(t, cfg)
				failed := false
				for _, x := range s.expects {
					if msg := x.check(incs); msg != "" {
						t.Errorf("%s:%d: %s %s: %s", s.file, x.line, x.kind, x.rule, msg)
						failed = true
					}
				}
				if failed {
					for _, inc := range incs {
						t.Logf("raised %s (%s) count=%d sources=%v fields=%v related=%v: %s",
							inc.Rule, inc.Severity, inc.Count, inc.Sources, inc.Fields, inc.Related, inc.Summary)
					}
				}
			})
		}
	}
}

// TestInsightScenariosCoverRules: every detectable rule has its scenario
// file, with a case that raises it and a near miss that must not.
func TestInsightScenariosCoverRules(t *testing.T) {
	cfg := config(t)
	for _, r := range cfg.Catalog.Rules {
		if !r.Detectable {
			continue
		}
		path := filepath.Join(insightsDir, r.ID+".txt")
		if _, err := os.Stat(path); err != nil {
			t.Errorf("rule %s has no scenario file %s", r.ID, path)
			continue
		}
		raises, misses := false, false
		for _, s := range parseScenarios(t, path) {
			for _, x := range s.expects {
				raises = raises || x.kind == "expect" && x.rule == r.ID
				misses = misses || x.kind == "expect-not" && x.rule == r.ID
			}
		}
		if !raises || !misses {
			t.Errorf("%s: want a case that expects %s and a near miss that expects-not it (raise %v, near miss %v)", path, r.ID, raises, misses)
		}
	}
}
