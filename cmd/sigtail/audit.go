package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/probe"
)

const auditLong = `Sample the process table twice, --interval apart, find the running Gunicorn
masters (workers, settings, memory, CPU, cgroup limits, accept queues) and
say what should change, each finding tied to its insight and setting.

Exit status: 0 no finding at or above --fail-on, 1 some, 2 an error.`

func newAuditCmd(env *env) *cobra.Command {
	var root, failOn string
	var interval time.Duration
	output := newChoice("text", "text", "json")
	cmd := &cobra.Command{
		Use:   "audit [flags]",
		Short: "check the running Gunicorn masters against the catalog's advice",
		Long:  auditLong,
		Args:  argsBetween(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAudit(cmd.Context(), env, root, output.value, failOn, interval)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&root, "root", "/", "`DIR` holding the host's proc/ and sys/ (a container's view of the host, a test tree)")
	fs.Var(output, "output", "text (a block per master) or json (one object)")
	fs.StringVar(&failOn, "fail-on", "critical", "exit 1 when a finding at or above this `SEVERITY` is made: info, warning, critical, or none")
	fs.DurationVar(&interval, "interval", time.Second, "time between the two samples that tell working workers from idle ones (0: one sample)")
	return cmd
}

// runAudit prints what the Gunicorn masters in the process table should
// change.
func runAudit(ctx context.Context, env *env, rootDir, output, failOn string, interval time.Duration) error {
	root := &rootDir
	threshold, err := parseFailOn(failOn)
	if err != nil {
		return err
	}
	if interval < 0 {
		return usageError("--interval %s: want 0 or more", interval)
	}

	p := probe.New(*root, probe.Options{})
	snap, err := p.Sample(time.Now())
	if err != nil {
		return fmt.Errorf("%w; point --root at the directory that holds the host's proc/ and sys/ (default /)", err)
	}
	if interval > 0 && len(snap.Masters) > 0 {
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if snap, err = p.Sample(time.Now()); err != nil {
			return fmt.Errorf("%w (the second sample); run the audit again", err)
		}
	}
	rep := probe.Audit(snap)
	if output == "json" {
		err = writeAuditJSON(env.stdout, snap, rep)
	} else {
		err = writeAuditText(env.stdout, snap, rep)
	}
	if err != nil {
		return fmt.Errorf("writing the audit: %w", err)
	}
	if threshold != incident.SeverityNone && rep.Max() >= threshold {
		env.code = exitFound
	}
	return nil
}

// auditJSON is the one JSON object of `sigtail audit --output json`.
type auditJSON struct {
	*probe.Snapshot
	probe.Report
	Summary map[string]int `json:"summary"`
}

func writeAuditJSON(w io.Writer, snap *probe.Snapshot, rep probe.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(auditJSON{Snapshot: snap, Report: rep, Summary: summarize(rep)})
}

func summarize(rep probe.Report) map[string]int {
	s := map[string]int{"critical": 0, "warning": 0, "info": 0}
	for _, f := range rep.Findings {
		s[f.Severity.String()]++
	}
	return s
}

// writeAuditText prints a block for the host and one per master: what was
// found, then each finding with its insight, what was measured, the
// parameter's current and recommended value and why.
func writeAuditText(w io.Writer, snap *probe.Snapshot, rep probe.Report) error {
	tw := &textWriter{w: w}
	sampled := "one sample"
	if snap.IntervalSeconds > 0 {
		iv := time.Duration(snap.IntervalSeconds * float64(time.Second)).Round(time.Millisecond)
		sampled = fmt.Sprintf("two samples %s apart", iv)
	}
	tw.line("sigtail audit of %s at %s (%s)", snap.Root, snap.Time.UTC().Format(time.RFC3339), sampled)
	tw.line("%s", snap.HostLine())
	if len(snap.Masters) == 0 {
		tw.line("no Gunicorn master found among %d processes", snap.Processes)
	}
	writeFindings(tw, rep, 0)
	for _, u := range snap.Unreadable {
		if u.PID == 0 {
			tw.line("  %s", u.String())
		}
	}
	for _, m := range snap.Masters {
		tw.line("")
		ev := snap.MasterEvidence(m)
		tw.line("%s", ev[0])
		own := fmt.Sprintf("master %d", m.PID)
		for _, l := range ev[1:] {
			// The per-process lines are for incidents and --output json;
			// people get the master's settings, limits and listeners.
			if strings.HasPrefix(l, "worker ") || strings.HasPrefix(l, "process ") || strings.HasPrefix(l, "could not read") {
				continue
			}
			l = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(l, own), ":"), " ")
			tw.wrap("  ", "    ", l)
		}
		writeFindings(tw, rep, m.PID)
		for _, n := range rep.NotChecked {
			if n.Master == m.PID {
				tw.wrap("  ", "    ", fmt.Sprintf("not checked: %s: %s", n.Check, n.Why))
			}
		}
		for _, u := range snap.Unreadable {
			if u.PID == m.PID {
				tw.wrap("  ", "    ", u.String())
			}
		}
	}
	s := summarize(rep)
	tw.line("")
	masters := "masters"
	if len(snap.Masters) == 1 {
		masters = "master"
	}
	tw.line("%d findings (%d critical, %d warning, %d info) on %d %s",
		len(rep.Findings), s["critical"], s["warning"], s["info"], len(snap.Masters), masters)
	return tw.err
}

func writeFindings(tw *textWriter, rep probe.Report, master int) {
	for _, f := range rep.Findings {
		if f.Master != master {
			continue
		}
		tw.line("")
		tw.line("  [%s] %s", f.Severity, f.Title)
		tw.wrap("      insight      ", "                   ", fmt.Sprintf("%s (rule %s)", f.Insight, f.Rule))
		tw.wrap("      measured     ", "                   ", f.Measured)
		if f.Parameter != "" {
			cur := ""
			if f.Current != "" {
				cur = "now " + f.Current + "; "
			}
			tw.wrap("      change       ", "                   ", fmt.Sprintf("%s: %srecommended %s", f.Parameter, cur, f.Recommended))
		}
		tw.wrap("      why          ", "                   ", f.Why)
		if f.Command != "" {
			tw.wrap("      look closer  ", "                   ", f.Command)
		}
	}
}

// textWriter writes lines and keeps the first error.
type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) line(format string, a ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format+"\n", a...)
	}
}

// wrap writes s after first, folded at 100 columns with rest before each
// continuation line.
func (t *textWriter) wrap(first, rest, s string) {
	const width = 100
	prefix := first
	var cur strings.Builder
	for _, word := range strings.Fields(s) {
		if cur.Len() > 0 && len(prefix)+cur.Len()+1+len(word) > width {
			t.line("%s%s", prefix, cur.String())
			cur.Reset()
			prefix = rest
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(word)
	}
	t.line("%s%s", prefix, cur.String())
}
