package catalog_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sigtail/sigtail"
	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
)

var placeholderRE = regexp.MustCompile(`\{([a-z][a-z0-9_]*)\}`)

func names(t string) []string {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(t, -1) {
		out = append(out, m[1])
	}
	return out
}

// sampleValues runs every match sample of the catalog through the parser
// of its format and the compiled signatures, and keeps what each
// signature captured, by signature id and name.
func sampleValues(t *testing.T, cat *catalog.Catalog) map[string]map[string][]string {
	t.Helper()
	set, err := match.Compile(cat)
	if err != nil {
		t.Fatal(err)
	}
	m := match.NewMatcher(set)
	out := map[string]map[string][]string{}
	for _, sig := range cat.Signatures {
		out[sig.ID] = map[string][]string{}
		for _, smp := range sig.Samples.Match {
			format := smp.Format
			if format == "" {
				format = sig.Formats[0]
			}
			var ev parse.Event
			if !parse.For(parse.Format(format)).Parse(strings.TrimRight(smp.Line, "\n"), &parse.Context{}, &ev) {
				t.Fatalf("%s: sample does not parse: %q", sig.ID, smp.Line)
			}
			for _, h := range m.Match(&ev, nil) {
				if h.Signature.ID != sig.ID {
					continue
				}
				if sig.AtLeast != nil || sig.AtMost != nil {
					// a numeric signature's value is its event's field
					v, _ := ev.Get(sig.Field)
					h.Captures = append(h.Captures, match.Capture{Name: sig.Field, Value: v})
				}
				for _, c := range h.Captures {
					if c.Value != "" && !slices.Contains(out[sig.ID][c.Name], c.Value) {
						out[sig.ID][c.Name] = append(out[sig.ID][c.Name], c.Value)
					}
				}
			}
		}
	}
	return out
}

// TestRenderRulesWithSamples renders every rule of the built-in catalog as
// an incident would, with the values its signatures capture from their
// sample lines (and those of the rules yielding to it, whose records its
// incidents take in): the summary has a value for every name ("?" marks
// one without), no text keeps a placeholder for a name the samples have a
// value of, and every diagnostic, filled, is still a read-only command the
// lint accepts.
func TestRenderRulesWithSamples(t *testing.T) {
	cat, err := catalog.Load(sigtail.Catalog, "")
	if err != nil {
		t.Fatal(err)
	}
	captured := sampleValues(t, cat)
	yieldedBy := map[string][]*catalog.Rule{}
	for _, r := range cat.Rules {
		for _, y := range r.YieldTo {
			yieldedBy[y.Rule] = append(yieldedBy[y.Rule], r)
		}
	}
	for _, r := range cat.Rules {
		samples := map[string][]string{"count": {"3"}, "host": {"web-1"}, "share": {"0.12"}, "requests": {"240"}}
		seen := map[*catalog.Rule]bool{}
		var walk func(x *catalog.Rule)
		walk = func(x *catalog.Rule) {
			if seen[x] {
				return
			}
			seen[x] = true
			for _, sid := range x.Signatures {
				for k, vs := range captured[sid] {
					for _, v := range vs {
						if !slices.Contains(samples[k], v) {
							samples[k] = append(samples[k], v)
						}
					}
				}
			}
			for _, y := range yieldedBy[x.ID] {
				walk(y)
			}
		}
		walk(r)
		vals := func(name string) []string { return samples[name] }
		summary, remediation, diagnostics := r.Render(vals)

		for _, name := range names(r.Summary) {
			if len(samples[name]) == 0 {
				t.Errorf("%s: summary %q: no sample gives {%s} a value", r.ID, summary, name)
			}
		}
		for _, name := range names(r.Remediation) {
			if len(samples[name]) > 0 && strings.Contains(remediation, "<"+name+">") {
				t.Errorf("%s: remediation keeps <%s> though the samples have %q", r.ID, name, samples[name])
			}
		}
		for i, d := range diagnostics {
			for _, name := range names(r.Diagnostics[i].Command) {
				switch {
				case len(samples[name]) == 0:
					t.Logf("%s: diagnostic %q: no sample captures {%s}", r.ID, r.Diagnostics[i].Command, name)
				case strings.Contains(d.Command, "<"+name+">"):
					t.Errorf("%s: diagnostic %q keeps <%s> though the samples have %q", r.ID, d.Command, name, samples[name])
				}
			}
			if len(names(d.Command)) > 0 {
				t.Errorf("%s: diagnostic %q left a placeholder unfilled", r.ID, d.Command)
			}
			for _, p := range catalog.DiagnosticProblems(d.Command) {
				if !strings.Contains(p, "> is a placeholder") {
					t.Errorf("%s: diagnostic %q, filled with the samples' values: %s", r.ID, d.Command, p)
				}
			}
		}
	}
}
