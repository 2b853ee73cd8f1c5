package scan_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	scen "github.com/sigtail/sigtail/internal/scenario"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/scan"
)

// Insight scenarios live in testdata/insights/<rule id>.txt, one file per
// detectable rule (the format is internal/scenario's). Every file needs a
// case that raises its rule and a near miss that must not
// (TestInsightScenariosCoverRules). The logs are scanned by the real
// pipeline; syslog years come from the files' time, 2026-11-25.
const insightsDir = "../../testdata/insights"

type scenario struct{ *scen.Scenario }

func parseScenarios(t *testing.T, path string) []*scenario {
	cases, err := scen.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*scenario, len(cases))
	for i, c := range cases {
		out[i] = &scenario{c}
	}
	return out
}

func (s *scenario) run(t *testing.T, cfg scan.Config) []*incident.Incident {
	paths, err := s.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
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
func check(x scen.Expectation, incs []*incident.Incident) string {
	switch x.Kind {
	case "expect-total":
		want, err := strconv.Atoi(x.Rule)
		if err != nil {
			return "expect-total needs a number"
		}
		if len(incs) != want {
			return fmt.Sprintf("%d incident(s), want %d", len(incs), want)
		}
		return ""
	case "expect-not":
		for _, inc := range incs {
			if inc.Rule == x.Rule {
				return fmt.Sprintf("an incident of %s was raised: %s", x.Rule, inc.Summary)
			}
		}
		return ""
	}
	var why []string
	for _, inc := range incs {
		if inc.Rule != x.Rule {
			continue
		}
		bad := ""
		for _, c := range x.Conds {
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
		return "no incident of " + x.Rule
	}
	return x.Rule + ": " + strings.Join(why, "; ")
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
			t.Run(s.File+"/"+s.Name, func(t *testing.T) {
				incs := s.run(t, cfg)
				failed := false
				for _, x := range s.Expects {
					if msg := check(x, incs); msg != "" {
						t.Errorf("%s:%d: %s %s: %s", s.File, x.Line, x.Kind, x.Rule, msg)
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
			for _, x := range s.Expects {
				raises = raises || x.Kind == "expect" && x.Rule == r.ID
				misses = misses || x.Kind == "expect-not" && x.Rule == r.ID
			}
		}
		if !raises || !misses {
			t.Errorf("%s: want a case that expects %s and a near miss that expects-not it (raise %v, near miss %v)", path, r.ID, raises, misses)
		}
	}
}
