package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sigtail/sigtail/pkg/correlate"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/parse"
	"github.com/sigtail/sigtail/pkg/scan"
	"github.com/sigtail/sigtail/pkg/sink"
	"github.com/sigtail/sigtail/pkg/source"
)

// inputFlags are the flags that say how to read logs, shared by scan and test.
type inputFlags struct {
	catalog   string
	format    string
	accessFmt string
	timezone  string
	bootTime  string
	maxLine   int
}

func (f *inputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.catalog, "catalog", "", "catalog `DIR` (signatures/*.yaml and rules.yaml) replacing the built-in one")
	fs.StringVar(&f.format, "format", "", "force the log `FORMAT` of every input: "+formatNames()+" (default: detect per file)")
	fs.StringVar(&f.accessFmt, "nginx-access-format", "", "nginx log_format `STRING` of the access logs (default: combined, with trailing fields)")
	fs.StringVar(&f.timezone, "timezone", "Local", "`ZONE` of timestamps that carry none (nginx error log, syslog), e.g. UTC or Europe/Paris")
	fs.StringVar(&f.bootTime, "boot-time", "", "host boot `TIME` (RFC 3339) to place raw dmesg timestamps; default: they stay relative")
	fs.IntVar(&f.maxLine, "max-line", source.DefaultMaxLine, "longest line read whole, in `BYTES`; longer lines are cut and counted")
}

func formatNames() string {
	var names []string
	for _, f := range parse.Formats {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// config turns the flags into a scan configuration.
func (f *inputFlags) config(env *env) (scan.Config, error) {
	var cfg scan.Config
	cat, set, err := loadCatalog(f.catalog)
	if err != nil {
		return cfg, err
	}
	cfg.Catalog, cfg.Set = cat, set
	if f.format != "" {
		if !parse.Format(f.format).Valid() {
			return cfg, fmt.Errorf("--format %q: %w (want one of %s)", f.format, errUsage, formatNames())
		}
		cfg.Format = parse.Format(f.format)
	}
	if f.accessFmt != "" {
		p, err := parse.NewNginxAccess(f.accessFmt)
		if err != nil {
			return cfg, fmt.Errorf("--nginx-access-format: %w", err)
		}
		cfg.Parsers = map[parse.Format]parse.Parser{parse.FormatNginxAccess: p}
	}
	loc, err := time.LoadLocation(f.timezone)
	if err != nil {
		return cfg, fmt.Errorf("--timezone %q: %w", f.timezone, err)
	}
	cfg.Location = loc
	if f.bootTime != "" {
		t, err := time.Parse(time.RFC3339, f.bootTime)
		if err != nil {
			return cfg, fmt.Errorf("--boot-time %q: want RFC 3339 such as 2026-11-24T08:00:00Z: %w", f.bootTime, err)
		}
		cfg.BootTime = t
	}
	cfg.MaxLine = f.maxLine
	cfg.Stdin = env.stdin
	cfg.StdinTime = time.Now() // the year of yearless lines read from a pipe: today's
	cfg.Log = env.log
	return cfg, nil
}

func cmdScan(ctx context.Context, env *env, args []string) (int, error) {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: sigtail scan [flags] FILE...\n\nScan finished logs (plain, gzip, or - for stdin) and print their incidents.\nExit status: 0 none at or above --fail-on, 1 some, 2 error.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var in inputFlags
	in.register(fs)
	output := fs.String("output", "json", "output `FORMAT`: json (one incident per line) or text")
	failOn := fs.String("fail-on", "critical", "exit 1 when an incident at or above this `SEVERITY` is found: info, warning, critical, or none")
	host := fs.String("host", "", "host `NAME` written into incidents (default: this host's name)")
	maxEvidence := fs.Int("max-evidence", 10, "records kept as evidence per incident, `N`")
	superseded := fs.Bool("superseded", false, "also list the incidents a later record explained (status superseded), as the daemon reported them")
	if err := fs.Parse(args); err != nil {
		return exitErr, errUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(env.stderr, "scan needs at least one FILE (or - for stdin)")
		fs.Usage()
		return exitErr, errUsage
	}
	threshold, err := parseFailOn(*failOn)
	if err != nil {
		return exitErr, err
	}
	var out sink.Sink
	switch *output {
	case "json":
		out = sink.NewJSON(env.stdout)
	case "text":
		out = sink.NewText(env.stdout)
	default:
		return exitErr, fmt.Errorf("--output %q: want json or text", *output)
	}
	cfg, err := in.config(env)
	if err != nil {
		if catalogError(env.stderr, err) {
			return exitErr, fmt.Errorf("the catalog has errors; not scanning")
		}
		return exitErr, err
	}
	if *host == "" {
		*host, _ = os.Hostname()
	}
	cfg.Correlate = correlate.Options{Host: *host, MaxEvidence: *maxEvidence}
	cfg.Superseded = *superseded

	res, err := scan.Run(ctx, cfg, fs.Args())
	if err != nil {
		return exitErr, err
	}
	code := exitOK
	for _, inc := range res.Incidents {
		if err := out.Send(ctx, inc); err != nil {
			return exitErr, err
		}
		if threshold != incident.SeverityNone && inc.Severity >= threshold {
			code = exitFound
		}
	}
	if err := out.Close(); err != nil {
		return exitErr, err
	}
	for _, f := range res.Files {
		reportFile(env, f)
	}
	if res.Failed() {
		return exitErr, nil
	}
	return code, nil
}

// reportFile logs what was read from one input: never a silent drop.
func reportFile(env *env, f scan.FileStats) {
	if f.Err != nil {
		env.log.Error().Str("file", f.Name).Err(f.Err).Msg("could not scan")
		if f.Lines == 0 {
			return
		}
	}
	e := env.log.Info()
	if f.Unparsed > 0 || f.Cut > 0 || f.Dropped > 0 || f.Format == parse.FormatUnknown {
		e = env.log.Warn()
	}
	format := string(f.Format)
	if format == "" {
		format = "unknown"
	}
	e.Str("file", f.Name).Str("format", format).Bool("gzip", f.Compressed).
		Int64("lines", f.Lines).Int64("records", f.Records).Int64("hits", f.Hits).
		Int64("unparsed", f.Unparsed).Int64("cut_lines", f.Cut).Int64("dropped_continuations", f.Dropped).
		Msg("scanned")
}

// parseFailOn reads --fail-on: a severity, or none (SeverityNone: never
// fail), for scan and audit alike.
func parseFailOn(v string) (incident.Severity, error) {
	if v == "none" {
		return incident.SeverityNone, nil
	}
	s, err := incident.ParseSeverity(v)
	if err != nil {
		return incident.SeverityNone, fmt.Errorf("--fail-on: %w", err)
	}
	return s, nil
}
