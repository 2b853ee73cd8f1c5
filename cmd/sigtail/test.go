package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sigtail/sigtail/pkg/envelope"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
	"github.com/sigtail/sigtail/pkg/source"
)

const testLong = `Show every signature a log line, or each record of a file, matches, with its
captures and what the envelope and the format said: what fail2ban-regex is
for fail2ban. A LINE that names an existing file is read as that file; - is
standard input.

Exit status: 0 something matched, 1 nothing matched, 2 an error.`

func newTestCmd(env *env) *cobra.Command {
	var in inputFlags
	var all bool
	cmd := &cobra.Command{
		Use:   "test [flags] LINE|FILE",
		Short: "show every signature a line or file matches",
		Long:  testLong,
		Example: `  sigtail test '[2026-11-24 10:00:00 +0000] [1234] [CRITICAL] WORKER TIMEOUT (pid:1235)'
  sigtail test --all /var/log/gunicorn/error.log`,
		Args: argsBetween(1, 1, "one LINE or FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTest(cmd.Context(), env, &in, all, args[0])
		},
	}
	in.register(cmd.Flags())
	cmd.Flags().BoolVar(&all, "all", false, "also print records that match nothing")
	return cmd
}

// runTest is sigtail's fail2ban-regex: every record of a line or file with
// the signatures it matches and their captures.
func runTest(ctx context.Context, env *env, in *inputFlags, showAll bool, arg string) error {
	all := &showAll
	cfg, err := in.config(env)
	if err != nil {
		return catalogFailure(env, err, "nothing tested")
	}
	var r io.Reader
	name := arg
	if st, err := os.Stat(arg); err == nil && !st.IsDir() || arg == "-" {
		f, err := source.Open(arg, env.stdin, nil)
		if err == nil {
			r, err = f.Reader(0, nil)
			defer f.Close()
		}
		if err != nil {
			return fmt.Errorf("%s: %s", arg, describeErr(err))
		}
	} else {
		r = strings.NewReader(arg)
		name = "(line)"
	}
	lr := source.NewLineReader(r, cfg.MaxLine, 0)
	ps := parse.NewStream(parse.StreamConfig{
		Format:    cfg.Format,
		Parsers:   cfg.Parsers,
		Location:  cfg.Location,
		Reference: cfg.StdinTime,
		BootTime:  cfg.BootTime,
	})
	m := match.NewMatcher(cfg.Set)
	w := env.stdout
	fmt.Fprintf(w, "%s:\n", name)
	var lines, matched int
	perSig := map[string]int{}
	var hits []match.Hit
	show := func(ev *parse.Event) {
		hits = m.Match(ev, hits[:0])
		if len(hits) == 0 && !*all {
			return
		}
		if len(hits) > 0 {
			matched++
		}
		first, _, _ := strings.Cut(ev.Raw, "\n")
		fmt.Fprintf(w, "\n@%d  %s", ev.Offset, first)
		if ev.Lines > 1 {
			fmt.Fprintf(w, "  (+%d line(s))", ev.Lines-1)
		}
		fmt.Fprintln(w)
		if e := describeEnvelope(ev.Env); e != "" {
			fmt.Fprintf(w, "  envelope %s\n", e)
		}
		format := string(ev.Format)
		if ev.Format == parse.FormatUnknown {
			format = "text (no known format)"
		}
		fmt.Fprintf(w, "  format %s", format)
		if !ev.Time.IsZero() {
			fmt.Fprintf(w, "  time %s", ev.Time.Format("2006-01-02T15:04:05.000000Z07:00"))
		}
		if ev.Level != "" {
			fmt.Fprintf(w, "  level %s", ev.Level)
		}
		if ev.PID != 0 {
			fmt.Fprintf(w, "  pid %d", ev.PID)
		}
		fmt.Fprintln(w)
		for _, h := range hits {
			perSig[h.Signature.ID]++
			var caps []string
			for _, c := range h.Captures {
				caps = append(caps, fmt.Sprintf("%s=%q", c.Name, c.Value))
			}
			fmt.Fprintf(w, "  => %s  %s\n", h.Signature.ID, strings.Join(caps, " "))
		}
		if len(hits) == 0 {
			fmt.Fprintln(w, "  (no signature)")
		}
	}
	for {
		b, off, _, err := lr.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return fmt.Errorf("reading %s: %w", name, err)
			}
			break
		}
		lines++
		for _, ev := range ps.Add(lr.String(b), off) {
			show(ev)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	for _, ev := range ps.Flush() {
		show(ev)
	}
	st := ps.Stats()
	fmt.Fprintf(w, "\n%d line(s), %d record(s), %d matched, %d of no known format\n", lines, st.Records, matched, st.Unknown)
	ids := make([]string, 0, len(perSig))
	for id := range perSig {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Fprintf(w, "  %-45s %d\n", id, perSig[id])
	}
	if matched == 0 {
		env.code = exitFound
	}
	return nil
}

// describeEnvelope is one line naming an event's envelope layers and what
// they said, "" for a record that came in none.
func describeEnvelope(e *envelope.Envelope) string {
	if e == nil || e.N == 0 {
		return ""
	}
	var b strings.Builder
	for i := 0; i < e.N; i++ {
		if i > 0 {
			b.WriteString(" > ")
		}
		b.WriteString(string(e.Layers[i]))
	}
	if !e.Time.IsZero() {
		fmt.Fprintf(&b, "  time=%s", e.Time.Format("2006-01-02T15:04:05.000000Z07:00"))
	}
	for _, kv := range [...][2]string{{"host", e.Host}, {"program", e.Program}, {"pid", e.PID}, {"unit", e.Unit},
		{"container", e.Container}, {"stream", e.Stream}, {"level", e.Level}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, " %s=%q", kv[0], kv[1])
		}
	}
	return b.String()
}
