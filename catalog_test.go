package sigtail_test

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sigtail/sigtail"
	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/match"
)

// knowledgePage is the page the catalog encodes: configuration parameters,
// error signatures, commands and insights, each of which the catalog must
// cover.
const knowledgePage = "testdata/knowledge/gunicorn-workers.txt"

func loadDefault(t *testing.T) (*catalog.Catalog, *match.Set) {
	t.Helper()
	cat, err := catalog.Load(sigtail.Catalog, "")
	if err != nil {
		t.Fatalf("built-in catalog:\n%v", err)
	}
	set, err := match.Compile(cat)
	if err != nil {
		t.Fatalf("built-in catalog:\n%v", err)
	}
	return cat, set
}

func TestDefaultCatalogSamples(t *testing.T) {
	_, set := loadDefault(t)
	if err := match.CheckSamples(set); err != nil {
		t.Fatalf("built-in catalog samples:\n%v", err)
	}
}

// section returns the lines of one "Title (N)" section of the page.
func section(t *testing.T, title string) []string {
	t.Helper()
	f, err := os.Open(knowledgePage)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, title+" ("):
			in = true
		case in && isHeading(line):
			return out
		case in && line != "":
			out = append(out, line)
		}
	}
	return out
}

func isHeading(line string) bool {
	for _, h := range []string{"Configuration Parameters (", "Error Signatures (", "CLI Commands (", "Technical References (", "Related Insights ("} {
		if strings.HasPrefix(line, h) {
			return true
		}
	}
	return false
}

// TestKnowledgeErrorSignaturesCovered: every error signature of the page is
// listed, verbatim, in some signature's covers list.
func TestKnowledgeErrorSignaturesCovered(t *testing.T) {
	cat, _ := loadDefault(t)
	entries := section(t, "Error Signatures")
	if len(entries) != 24 {
		t.Fatalf("read %d error signatures from %s, want 24", len(entries), knowledgePage)
	}
	var seeds []string
	for _, s := range cat.Signatures {
		seeds = append(seeds, s.Covers...)
	}
	for _, e := range entries {
		text := e
		for _, kind := range []string{"log pattern", "exception", "error code", "http status"} {
			text = strings.TrimSuffix(text, kind)
		}
		if !slices.Contains(seeds, text) {
			t.Errorf("error signature %q is in no signature's covers list", text)
		}
	}
}

// TestKnowledgeInsightsCovered: every insight of the page is a rule's
// insight, with the page's severity.
func TestKnowledgeInsightsCovered(t *testing.T) {
	cat, _ := loadDefault(t)
	entries := section(t, "Related Insights")
	if len(entries) != 47 {
		t.Fatalf("read %d insights from %s, want 47", len(entries), knowledgePage)
	}
	for _, e := range entries {
		var title, sev string
		for _, s := range []string{"critical", "warning", "info"} {
			if strings.HasSuffix(e, s) {
				title, sev = strings.TrimSuffix(e, s), s
			}
		}
		found := false
		for _, r := range cat.Rules {
			if slices.Contains(r.Insights, title) {
				found = true
				if r.Severity.String() != sev && !slices.ContainsFunc(cat.Rules, func(o *catalog.Rule) bool {
					return slices.Contains(o.Insights, title) && o.Severity.String() == sev
				}) {
					t.Errorf("insight %q is %s on the page but rule %s says %s", title, sev, r.ID, r.Severity)
				}
			}
		}
		if !found {
			t.Errorf("insight %q (%s) is in no rule", title, sev)
		}
	}
}

// TestKnowledgeParametersCovered: every configuration parameter of the page
// is recommended by some rule, by name.
func TestKnowledgeParametersCovered(t *testing.T) {
	cat, _ := loadDefault(t)
	entries := section(t, "Configuration Parameters")
	var names []string
	for _, e := range entries {
		// "timeoutrecommended: 60" or a bare "backlog"/"max-requests"; the
		// line after a parameter is its explanation, in lower case prose.
		name, _, _ := strings.Cut(e, "recommended:")
		if strings.Contains(name, " ") && !strings.HasPrefix(name, "-") {
			continue // an explanation line
		}
		names = append(names, name)
	}
	if len(names) != 20 {
		t.Fatalf("read %d parameters from %s, want 20: %q", len(names), knowledgePage, names)
	}
	for _, n := range names {
		found := false
		for _, r := range cat.Rules {
			for _, p := range r.Parameters {
				found = found || p.Name == n
			}
		}
		if !found {
			t.Errorf("parameter %q is recommended by no rule", n)
		}
	}
}

// TestKnowledgeCommandsCovered: every command of the page is a rule's
// diagnostic (the page cuts some short, so a rule may complete one).
func TestKnowledgeCommandsCovered(t *testing.T) {
	cat, _ := loadDefault(t)
	entries := section(t, "CLI Commands")
	if len(entries) != 20 {
		t.Fatalf("read %d commands from %s, want 20", len(entries), knowledgePage)
	}
	for _, e := range entries {
		cmd := strings.TrimSuffix(strings.TrimSuffix(e, "diagnostic"), "remediation")
		found := false
		for _, r := range cat.Rules {
			for _, d := range r.Diagnostics {
				found = found || strings.HasPrefix(d.Command, cmd)
			}
		}
		if !found {
			t.Errorf("command %q is in no rule's diagnostics", cmd)
		}
	}
}
