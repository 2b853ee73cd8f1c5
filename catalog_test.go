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

// pageSpellings are the page's parameter names that no program spells so,
// with the setting they stand for.
var pageSpellings = map[string]string{
	"worker-class": "worker_class", // gunicorn.conf.py worker_class, command line --worker-class
	"max-requests": "max_requests", // --max-requests
	"NUM_WORKERS":  "workers",      // the page's variable for the worker count it tested
}

// recommends reports whether some rule recommends the setting name spells.
func recommends(t *testing.T, cat *catalog.Catalog, name string) bool {
	t.Helper()
	if s, ok := pageSpellings[name]; ok {
		name = s
	}
	want, ok := catalog.LookupSetting(name)
	if !ok {
		t.Errorf("%q is no setting the catalog knows", name)
		return false
	}
	for _, r := range cat.Rules {
		for _, p := range r.Parameters {
			if got, _ := catalog.LookupSetting(p.Name); got.Key == want.Key {
				return true
			}
		}
	}
	return false
}

// TestKnowledgeParametersCovered: every configuration parameter of the page
// is recommended by some rule, as the setting it names (the page's values
// are its examples; the catalog has one value per setting).
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
		if !recommends(t, cat, n) {
			t.Errorf("parameter %q is recommended by no rule", n)
		}
	}
}

// pageCommandStandIns: how the catalog carries the page's commands that it
// cannot take as written, because they are a bare option (a setting), start
// a second server next to the running one, name the page author's own
// paths, or use an obsolescent program. Kind says where the stand-in is: a
// rule's diagnostic (as a prefix), its remediation (quoted), or a
// parameter.
var pageCommandStandIns = map[string]struct{ kind, text string }{
	// starts a server; --check-config imports the app the same way and binds nothing
	"gunicorn app:app --error-logfile /var/log/gunicorn/error.log --access-logfile /var/log/gunicorn/access.log --preload": {"diagnostic", "gunicorn --check-config"},
	"gunicorn --preload mysite.wsgi:application": {"diagnostic", "gunicorn --check-config"},
	// the settings of these command lines, with the catalog's one value each
	"gunicorn app:server --workers $WORKERS --worker-class gevent --bind 0.0.0.0:8000 --timeout 60":    {"parameter", "worker_class"},
	"gunicorn app:app --workers=4 --max-requests=1000 --max-requests-jitter=100":                       {"parameter", "max_requests_jitter"},
	"/venv/bin/gunicorn --workers 3 --bind unix:/home/ubuntu/my-packing-buddy/myproject.sock wsgi:app": {"parameter", "bind"},
	"--timeout 120":    {"parameter", "timeout"},
	"--access-logfile": {"parameter", "accesslog"},
	"-w 4":             {"parameter", "workers"},
	// egrep is obsolescent (grep 3.8 warns on every use)
	"dmesg -T | egrep -i 'memory'": {"diagnostic", "dmesg -T | grep -Ei 'memory'"},
	"dmesg -T | egrep -i 'oom'":    {"diagnostic", "dmesg -T | grep -Ei 'oom'"},
	// py-spy needs a subcommand and a pid
	"py-spy --subprocesses": {"diagnostic", "py-spy dump --subprocesses --pid"},
	// the module the incident captured
	"pip install mymodule": {"remediation", "pip install {module}"},
}

// TestKnowledgeCommandsCovered: every command of the page is in the
// catalog: its diagnostics among some rule's diagnostics (the page cuts
// some short, so a rule may complete one), its remediation commands quoted
// in some rule's remediation (where the lint makes sure they are marked as
// changing the system), or what stands for them (pageCommandStandIns).
func TestKnowledgeCommandsCovered(t *testing.T) {
	cat, _ := loadDefault(t)
	entries := section(t, "CLI Commands")
	if len(entries) != 20 {
		t.Fatalf("read %d commands from %s, want 20", len(entries), knowledgePage)
	}
	for _, e := range entries {
		kind := "diagnostic"
		cmd, ok := strings.CutSuffix(e, "diagnostic")
		if !ok {
			cmd, kind = strings.TrimSuffix(e, "remediation"), "remediation"
		}
		text := cmd
		if s, ok := pageCommandStandIns[cmd]; ok {
			kind, text = s.kind, s.text
		}
		found := false
		for _, r := range cat.Rules {
			switch kind {
			case "diagnostic":
				for _, d := range r.Spec.Diagnostics {
					found = found || strings.HasPrefix(d.Command, text)
				}
			case "remediation":
				found = found || strings.Contains(r.Spec.Remediation, "`"+text+"`")
			}
		}
		if kind == "parameter" {
			found = recommends(t, cat, text)
		}
		if !found {
			t.Errorf("command %q: no rule has %q in its %ss", cmd, text, kind)
		}
	}
}
