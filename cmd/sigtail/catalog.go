package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/sigtail/sigtail"
	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/match"
)

// loadCatalog loads the catalog in dir, or the embedded one when dir is
// empty, compiles it and checks its samples. Every problem comes back at
// once.
func loadCatalog(dir string) (*catalog.Catalog, *match.Set, error) {
	var cat *catalog.Catalog
	var err error
	if dir == "" {
		cat, err = catalog.Load(sigtail.Catalog, "")
	} else {
		if st, serr := os.Stat(dir); serr != nil {
			return nil, nil, fmt.Errorf("catalog %s: %w", dir, serr)
		} else if !st.IsDir() {
			return nil, nil, fmt.Errorf("catalog %s: not a directory (want one holding signatures/*.yaml and rules.yaml)", dir)
		}
		cat, err = catalog.Load(os.DirFS(dir), dir)
	}
	if err != nil {
		return nil, nil, err
	}
	set, err := match.Compile(cat)
	if err != nil {
		return nil, nil, err
	}
	if err := match.CheckSamples(set); err != nil {
		return nil, nil, err
	}
	return cat, set, nil
}

// catalogError prints a catalog's problems one per line, as
// file:line:col: id: message, and how many.
func catalogError(w io.Writer, err error) bool {
	var list catalog.ErrorList
	if !errors.As(err, &list) {
		return false
	}
	for _, e := range list {
		fmt.Fprintln(w, e.Error())
	}
	fmt.Fprintf(w, "%d catalog problem(s)\n", len(list))
	return true
}

func cmdLint(env *env, args []string) (int, error) {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	dir := fs.String("catalog", "", "catalog `DIR` (signatures/*.yaml and rules.yaml); default: the built-in catalog")
	if err := fs.Parse(args); err != nil {
		return exitErr, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "lint takes no arguments (got %q)\n", fs.Args())
		return exitErr, errUsage
	}
	cat, set, err := loadCatalog(*dir)
	if err != nil {
		if catalogError(env.stderr, err) {
			return exitFound, nil
		}
		return exitErr, err
	}
	samples, undetectable := 0, 0
	for _, s := range cat.Signatures {
		samples += len(s.Samples.Match) + len(s.Samples.NoMatch)
	}
	for _, r := range cat.Rules {
		if !r.Detectable {
			undetectable++
		}
	}
	regexp2 := 0
	for _, s := range set.Signatures {
		if s.Engine() == "regexp2" {
			regexp2++
		}
	}
	name := *dir
	if name == "" {
		name = "built-in catalog"
	}
	fmt.Fprintf(env.stdout, "%s: ok: %d signatures (%d on regexp2), %d samples checked, %d rules (%d not detectable)\n",
		name, len(cat.Signatures), regexp2, samples, len(cat.Rules), undetectable)
	return exitOK, nil
}

func cmdCatalog(env *env, args []string) (int, error) {
	fs := flag.NewFlagSet("catalog", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	dir := fs.String("catalog", "", "catalog `DIR`; default: the built-in catalog")
	if err := fs.Parse(args); err != nil {
		return exitErr, errUsage
	}
	cat, _, err := loadCatalog(*dir)
	if err != nil {
		if catalogError(env.stderr, err) {
			return exitErr, nil
		}
		return exitErr, err
	}
	w := env.stdout
	what := fs.Arg(0)
	switch what {
	case "", "rules":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tSEVERITY\tDETECTS\tTITLE")
		for _, r := range cat.Rules {
			det := strings.Join(r.Signatures, ",")
			if !r.Detectable {
				det = "(not detectable)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Severity, det, r.Title)
		}
		return exitOK, tw.Flush()
	case "signatures":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SIGNATURE\tFORMATS\tDESCRIPTION")
		for _, s := range cat.Signatures {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", s.ID, strings.Join(s.Formats, ","), firstSentence(s.Description))
		}
		return exitOK, tw.Flush()
	case "explain":
		id := fs.Arg(1)
		if id == "" {
			fmt.Fprintln(env.stderr, "catalog explain needs a rule or signature id")
			return exitErr, errUsage
		}
		for _, r := range cat.Rules {
			if r.ID == id {
				explainRule(w, cat, r)
				return exitOK, nil
			}
		}
		if s, ok := cat.Signature(id); ok {
			explainSignature(w, cat, s)
			return exitOK, nil
		}
		return exitErr, fmt.Errorf("no rule or signature %q (see 'sigtail catalog rules' and 'sigtail catalog signatures')", id)
	}
	fmt.Fprintf(env.stderr, "catalog: unknown listing %q (want rules, signatures or explain ID)\n", what)
	return exitErr, errUsage
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

func explainRule(w io.Writer, cat *catalog.Catalog, r *catalog.Rule) {
	fmt.Fprintf(w, "%s (%s)\n  %s\n  defined at %s\n", r.ID, r.Severity, r.Title, r.Pos)
	if !r.Detectable {
		fmt.Fprintf(w, "\nNot detectable from logs: %s\n", r.Reason)
	} else {
		fmt.Fprintf(w, "\nRaised by: %s\n", describeWhen(r))
		if len(r.GroupBy) > 0 {
			fmt.Fprintf(w, "One incident per: %s\n", strings.Join(r.GroupBy, ", "))
		}
		for _, y := range r.YieldTo {
			join := ""
			if len(y.Join) > 0 {
				join = " with the same " + strings.Join(y.Join, ", ")
			}
			fmt.Fprintf(w, "Goes into an open %s incident within %s%s.\n", y.Rule, y.Within, join)
		}
		fmt.Fprintf(w, "Resolved after %s without a new hit.\n", r.Cooldown)
	}
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, l := range lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if r.Summary != "" {
		fmt.Fprintf(w, "Summary: %s\n", r.Summary)
	}
	section("Insights", r.Insights)
	// As an incident shows them, with no values: <name> is where an
	// incident puts the value it captured.
	_, remediation, diagnostics := r.Render(func(string) []string { return nil })
	if remediation != "" {
		section("What to do", strings.Split(remediation, "\n"))
	}
	var diags, params []string
	filled := false
	for i, d := range diagnostics {
		diags = append(diags, withWhy("$ "+d.Command, d.Why))
		filled = filled || d.Command != r.Diagnostics[i].Command
	}
	if filled {
		diags = append(diags, "(an incident fills each <name> with the value it captured)")
	}
	for _, p := range r.Parameters {
		params = append(params, withWhy(p.Name+" = "+p.Value, p.Why))
	}
	section("Look with", diags)
	section("Settings", params)
	section("References", r.References)
	var sigs []string
	for _, id := range r.Signatures {
		if s, ok := cat.Signature(id); ok {
			sigs = append(sigs, fmt.Sprintf("%s  /%s/", s.ID, s.Pattern))
		}
	}
	section("Signatures", sigs)
}

// describeWhen says in words when a rule fires.
func describeWhen(r *catalog.Rule) string {
	any := func(ids []string) string { return strings.Join(ids, " or ") }
	join := ""
	if len(r.Join) > 0 {
		join = ", with the same " + strings.Join(r.Join, ", ")
	}
	switch r.Kind {
	case catalog.KindSequence:
		var steps []string
		for _, s := range r.Steps {
			steps = append(steps, any(s))
		}
		order := "in this order"
		if !r.Ordered {
			order = "in any order"
		}
		return fmt.Sprintf("%s, %s, within %s%s", strings.Join(steps, " then "), order, r.Within, join)
	case catalog.KindAbsence:
		return fmt.Sprintf("%s not followed by %s within %s%s", any(r.Signatures[:len(r.Signatures)-len(r.Absent)]), any(r.Absent), r.Within, join)
	case catalog.KindRatio:
		var total []string
		for _, s := range r.Signatures {
			if !slices.Contains(r.RatioOf, s) {
				total = append(total, s)
			}
		}
		return fmt.Sprintf("%.0f%% or more of %s within %s (at least %d) are %s", 100*r.RatioAtLeast, any(total), r.Window, r.MinCount, any(r.RatioOf))
	}
	if r.Count > 1 {
		return fmt.Sprintf("%d hits within %s of %s", r.Count, r.Window, any(r.Signatures))
	}
	return "a hit of " + any(r.Signatures)
}

func withWhy(s, why string) string {
	if why == "" {
		return s
	}
	return s + "    # " + why
}

func explainSignature(w io.Writer, cat *catalog.Catalog, s *catalog.SignatureSpec) {
	fmt.Fprintf(w, "%s  (%s)\n  defined at %s\n\n%s\n", s.ID, strings.Join(s.Formats, ", "), s.Pos, strings.TrimSpace(s.Description))
	field := s.Field
	if field == "" {
		field = "message"
	}
	fmt.Fprintf(w, "\nPattern on %s:\n  %s\n", field, s.Pattern)
	if s.Versions != "" {
		fmt.Fprintf(w, "Versions: %s\n", s.Versions)
	}
	if len(s.Covers) > 0 {
		fmt.Fprintf(w, "Covers: %q\n", s.Covers)
	}
	var rules []string
	for _, r := range cat.Rules {
		if slices.Contains(r.Signatures, s.ID) {
			rules = append(rules, r.ID)
		}
	}
	if len(rules) > 0 {
		fmt.Fprintf(w, "Used by rules: %s\n", strings.Join(rules, ", "))
	}
	fmt.Fprintln(w, "\nMatches:")
	for _, smp := range s.Samples.Match {
		fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(smp.Line, "\n", "\n  "))
	}
	fmt.Fprintln(w, "Does not match:")
	for _, smp := range s.Samples.NoMatch {
		fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(smp.Line, "\n", "\n  "))
	}
}
