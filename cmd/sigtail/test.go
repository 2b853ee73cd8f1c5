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
	var lines []string
	var offs []int64
	for {
		b, off, _, err := lr.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return exitErr, fmt.Errorf("reading %s: %w", name, err)
			}
			break
		}
		lines = append(lines, string(b))
		offs = append(offs, off)
		if ctx.Err() != nil {
			return exitErr, ctx.Err()
		}
	}
	format := cfg.Format
	if format == parse.FormatUnknown {
		format = parse.Detect(lines[:min(len(lines), 50)])
	}
	if format == parse.FormatUnknown {
		return exitErr, fmt.Errorf("%s: no known log format; say which with --format (%s)", name, formatNames())
	}
	p := cfg.Parsers[format]
	if p == nil {
		p = parse.For(format)
	}
	pctx := &parse.Context{Location: cfg.Location, Reference: cfg.StdinTime, BootTime: cfg.BootTime}
	m := match.NewMatcher(cfg.Set)
	j := parse.NewJoiner(p, 200, 64<<10)
	w := env.stdout
	fmt.Fprintf(w, "%s: format %s\n", name, format)
	var records, matched, unparsed int
	perSig := map[string]int{}
	var ev parse.Event
	var hits []match.Hit
	show := func(rec parse.Record) {
		records++
		if !p.Parse(rec.Text, pctx, &ev) {
			unparsed++
			if *all {
				fmt.Fprintf(w, "\n@%d  (not %s)  %s\n", rec.Offset, format, rec.Text)
			}
			return
		}
		hits = m.Match(&ev, hits[:0])
		if len(hits) == 0 && !*all {
			return
		}
		if len(hits) > 0 {
			matched++
		}
		first, _, _ := strings.Cut(rec.Text, "\n")
		fmt.Fprintf(w, "\n@%d  %s", rec.Offset, first)
		if rec.Lines > 1 {
			fmt.Fprintf(w, "  (+%d line(s))", rec.Lines-1)
		}
		fmt.Fprintln(w)
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
	for i, l := range lines {
		for _, rec := range j.Add(l, offs[i]) {
			show(rec)
		}
	}
	for _, rec := range j.Flush() {
		show(rec)
	}
	fmt.Fprintf(w, "\n%d line(s), %d record(s), %d matched, %d not %s\n", len(lines), records, matched, unparsed, format)
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
