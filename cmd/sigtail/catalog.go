package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

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

func newLintCmd(env *env) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "lint [--catalog DIR]",
		Short: "validate a catalog: every problem with its file, line and id",
		Long: `Load a catalog, compile its patterns, check every signature's samples and every
rule's references, and print each problem as file:line:col: id: message.

Exit status: 0 the catalog is sound, 1 it has problems, 2 it could not be read.`,
		Args: argsBetween(0, 0, "no arguments"),
		RunE: func(*cobra.Command, []string) error { return runLint(env, dir) },
	}
	cmd.Flags().StringVar(&dir, "catalog", "", "catalog `DIR` (signatures/*.yaml and rules.yaml); default: the built-in catalog")
	return cmd
}

func runLint(env *env, dir string) error {
	cat, set, err := loadCatalog(dir)
	if err != nil {
		if catalogError(env.stderr, err) {
			env.code = exitFound
			return nil
		}
		return err
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
	name := dir
	if name == "" {
		name = "built-in catalog"
	}
	fmt.Fprintf(env.stdout, "%s: ok: %d signatures (%d on regexp2), %d samples checked, %d rules (%d not detectable)\n",
		name, len(cat.Signatures), regexp2, samples, len(cat.Rules), undetectable)
	return nil
}

// listWidth is the width catalog listings fit in, unless --wide.
const listWidth = 100

func newCatalogCmd(env *env) *cobra.Command {
	var dir string
	var wide bool
	load := func() (*catalog.Catalog, error) {
		cat, _, err := loadCatalog(dir)
		if err != nil {
			return nil, catalogFailure(env, err, "run 'sigtail lint' for the details")
		}
		return cat, nil
	}
	rules := func(*cobra.Command, []string) error {
		cat, err := load()
		if err != nil {
			return err
		}
		return listRules(env.stdout, cat, wide)
	}
	cmd := &cobra.Command{
		Use:   "catalog [rules|signatures|explain ID]",
		Short: "list the catalog's rules or signatures, or explain one",
		Long: `List the catalog's rules (the default) or signatures, or explain one rule or
signature: when it fires, what to do, the commands to look with, the settings
it recommends, its patterns and samples. Listings fit 100 columns; --wide
shows every column in full.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError("unknown listing %q (want rules, signatures or explain ID)", args[0])
			}
			return nil
		},
		RunE: rules,
	}
	cmd.PersistentFlags().StringVar(&dir, "catalog", "", "catalog `DIR`; default: the built-in catalog")
	cmd.PersistentFlags().BoolVar(&wide, "wide", false, "every column in full, however wide (default: fit 100 columns)")
	cmd.AddCommand(
		&cobra.Command{
			Use:   "rules",
			Short: "list the rules (the insights): id, severity, title",
			Args:  argsBetween(0, 0, "no arguments"),
			RunE:  rules,
		},
		&cobra.Command{
			Use:   "signatures",
			Short: "list the line signatures: id, formats, description",
			Args:  argsBetween(0, 0, "no arguments"),
			RunE: func(*cobra.Command, []string) error {
				cat, err := load()
				if err != nil {
					return err
				}
				return listSignatures(env.stdout, cat, wide)
			},
		},
		&cobra.Command{
			Use:   "explain ID",
			Short: "explain one rule or signature",
			Args:  argsBetween(1, 1, "one rule or signature id"),
			ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				cat, err := load()
				if err != nil {
					return nil, cobra.ShellCompDirectiveError
				}
				var ids []string
				for _, r := range cat.Rules {
					ids = append(ids, r.ID)
				}
				for _, s := range cat.Signatures {
					ids = append(ids, s.ID)
				}
				return ids, cobra.ShellCompDirectiveNoFileComp
			},
			RunE: func(_ *cobra.Command, args []string) error {
				cat, err := load()
				if err != nil {
					return err
				}
				id := args[0]
				for _, r := range cat.Rules {
					if r.ID == id {
						explainRule(env.stdout, cat, r)
						return nil
					}
				}
				if s, ok := cat.Signature(id); ok {
					explainSignature(env.stdout, cat, s)
					return nil
				}
				return fmt.Errorf("no rule or signature %q (see 'sigtail catalog rules' and 'sigtail catalog signatures')", id)
			},
		},
	)
	return cmd
}

func listRules(w io.Writer, cat *catalog.Catalog, wide bool) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	if wide {
		fmt.Fprintln(tw, "RULE\tSEVERITY\tDETECTS\tTITLE")
	} else {
		fmt.Fprintln(tw, "RULE\tSEVERITY\tTITLE")
	}
	for _, r := range cat.Rules {
		title := r.Title
		if !r.Detectable {
			title += " (not detectable)"
		}
		if wide {
			det := strings.Join(r.Signatures, ",")
			if !r.Detectable {
				det = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Severity, det, title)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, title)
		}
	}
	tw.Flush()
	return writeFitted(w, b.String(), wide)
}

func listSignatures(w io.Writer, cat *catalog.Catalog, wide bool) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SIGNATURE\tFORMATS\tDESCRIPTION")
	for _, s := range cat.Signatures {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.ID, strings.Join(s.Formats, ","), firstSentence(s.Description))
	}
	tw.Flush()
	return writeFitted(w, b.String(), wide)
}

// writeFitted writes a table, each line cut to listWidth columns with an
// ellipsis unless wide.
func writeFitted(w io.Writer, table string, wide bool) error {
	var b strings.Builder
	for _, line := range strings.SplitAfter(table, "\n") {
		if line == "" {
			continue
		}
		line = strings.TrimRight(line, " \n")
		if r := []rune(line); !wide && len(r) > listWidth {
			line = strings.TrimRight(string(r[:listWidth-1]), " ") + "…"
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
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
