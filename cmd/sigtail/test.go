package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/sigtail/sigtail/pkg/envelope"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
	"github.com/sigtail/sigtail/pkg/source"
)

// cmdTest is sigtail's fail2ban-regex: every record of a line or file with
// the signatures it matches and their captures.
func cmdTest(ctx context.Context, env *env, args []string) (int, error) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: sigtail test [flags] LINE|FILE\n\nShow every signature a log line, or each record of a file, matches, with its captures.\nExit status: 0 something matched, 1 nothing matched, 2 error.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var in inputFlags
	in.register(fs)
	all := fs.Bool("all", false, "also print records that match nothing")
	if err := fs.Parse(args); err != nil {
		return exitErr, errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitErr, errUsage
	}
	cfg, err := in.config(env)
	if err != nil {
		if catalogError(env.stderr, err) {
			return exitErr, fmt.Errorf("the catalog has errors")
		}
		return exitErr, err
	}
	arg := fs.Arg(0)
	var r io.Reader
	name := arg
	if st, err := os.Stat(arg); err == nil && !st.IsDir() || arg == "-" {
		f, err := source.Open(arg, env.stdin)
		if err != nil {
			return exitErr, err
		}
		defer f.Close()
		r = f
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
				return exitErr, fmt.Errorf("reading %s: %w", name, err)
			}
			break
		}
		lines++
		for _, ev := range ps.Add(lr.String(b), off) {
			show(ev)
		}
		if ctx.Err() != nil {
			return exitErr, ctx.Err()
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
		return exitFound, nil
	}
	return exitOK, nil
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
