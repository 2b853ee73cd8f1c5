package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sigtail/sigtail/pkg/correlate"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
	"github.com/sigtail/sigtail/pkg/report"
	"github.com/sigtail/sigtail/pkg/scan"
	"github.com/sigtail/sigtail/pkg/sink"
	"github.com/sigtail/sigtail/pkg/source"
	"github.com/sigtail/sigtail/pkg/workers"
)

// inputFlags are the flags that say how to read logs, shared by scan and test.
type inputFlags struct {
	catalog   string
	format    *choice
	accessFmt string
	timezone  string
	bootTime  string
	maxLine   int
}

func (f *inputFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.catalog, "catalog", "", "catalog `DIR` (signatures/*.yaml and rules.yaml) replacing the built-in one")
	f.format = newChoice("", formatNames()...)
	fs.Var(f.format, "format", "force the log format of every input (default: detect per file)")
	fs.StringVar(&f.accessFmt, "nginx-access-format", "", "nginx log_format `STRING` of the access logs (default: combined, with trailing fields)")
	fs.StringVar(&f.timezone, "timezone", "Local", "`ZONE` of timestamps that carry none (nginx error log, syslog), e.g. UTC or Europe/Paris")
	fs.StringVar(&f.bootTime, "boot-time", "", "host boot `TIME` (RFC 3339) to place raw dmesg timestamps; default: they stay relative")
	fs.IntVar(&f.maxLine, "max-line", source.DefaultMaxLine, "longest line read whole, in `BYTES`; longer lines are cut and counted")
}

func formatNames() []string {
	var names []string
	for _, f := range parse.Formats {
		names = append(names, string(f))
	}
	return names
}

// config turns the flags into a scan configuration.
func (f *inputFlags) config(env *env) (scan.Config, error) {
	var cfg scan.Config
	cat, set, err := loadCatalog(f.catalog)
	if err != nil {
		return cfg, err
	}
	cfg.Catalog, cfg.Set = cat, set
	if f.format != nil {
		cfg.Format = parse.Format(f.format.value)
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
		return cfg, usageError("--timezone %q: not a time zone (try UTC, Local or a name such as Europe/Paris)", f.timezone)
	}
	cfg.Location = loc
	if f.bootTime != "" {
		t, err := time.Parse(time.RFC3339, f.bootTime)
		if err != nil {
			return cfg, usageError("--boot-time %q: want RFC 3339 such as 2026-11-24T08:00:00Z", f.bootTime)
		}
		cfg.BootTime = t
	}
	cfg.MaxLine = f.maxLine
	cfg.Stdin = env.stdin
	cfg.StdinTime = time.Now() // the year of yearless lines read from a pipe: today's
	cfg.Log = env.log
	return cfg, nil
}

// scanFlags are scan's own flags.
type scanFlags struct {
	in           inputFlags
	output       *choice
	failOn       string
	host         string
	maxEvidence  int
	superseded   bool
	since, until string
	report       string
	progress     *choice
}

const scanLong = `Scan finished logs (plain, gzip, or - for standard input) and print their
incidents: as JSON lines (the default) or as text for people. Each file's
format is detected; rotated siblings (error.log.1, error.log.2.gz) are read
as one log, oldest first. Time comes from the lines, so the same files always
give the same incidents. Incidents are printed as soon as they are over, the
rest when the scan ends.

Exit status: 0 no incident at or above --fail-on, 1 some, 2 an error
(a file that could not be read is named, and the others are still scanned).`

const scanExample = `  sigtail scan /var/log/gunicorn/error.log* /var/log/nginx/error.log* /var/log/kern.log
  sigtail scan --since 6h --output text /var/log/nginx/*.log
  sigtail scan --since '2026-11-24 08:00' --until '2026-11-24 10:00' --report outage.html /var/log/gunicorn/*
  journalctl -u gunicorn -o short-iso | sigtail scan --output text -`

func newScanCmd(env *env) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:     "scan [flags] FILE...",
		Short:   "scan finished logs (plain, .gz, or - for stdin) and print their incidents",
		Long:    scanLong,
		Example: scanExample,
		Args:    argsBetween(1, -1, "at least one FILE (or - for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), env, &f, args)
		},
	}
	fs := cmd.Flags()
	f.in.register(fs)
	f.output = newChoice("json", "json", "text")
	fs.Var(f.output, "output", "how incidents are printed: json (one incident per line) or text (a block per incident and a summary)")
	fs.StringVar(&f.failOn, "fail-on", "critical", "exit 1 when an incident at or above this `SEVERITY` is found: info, warning, critical, or none")
	fs.StringVar(&f.host, "host", "", "host `NAME` written into incidents (default: this host's name)")
	fs.IntVar(&f.maxEvidence, "max-evidence", 10, "records kept as evidence per incident, `N`")
	fs.BoolVar(&f.superseded, "superseded", false, "also list the incidents a later record explained (status superseded), as the daemon reported them")
	fs.StringVar(&f.since, "since", "", "only records at or after `TIME`: RFC 3339, '2026-11-24 08:00', a date, or an age such as 30m, 6h, 2d")
	fs.StringVar(&f.until, "until", "", "only records at or before `TIME` (same forms as --since)")
	fs.StringVar(&f.report, "report", "", "also write a self-contained HTML report (timeline, table, worker count) to `FILE`")
	f.progress = newChoice("auto", "auto", "always", "never")
	fs.Var(f.progress, "progress", "a progress bar on stderr: auto (on a terminal, with text logs), always, or never")
	return cmd
}

func runScan(ctx context.Context, env *env, f *scanFlags, paths []string) error {
	threshold, err := parseFailOn(f.failOn)
	if err != nil {
		return err
	}
	cfg, err := f.in.config(env)
	if err != nil {
		return catalogFailure(env, err, "not scanning")
	}
	now := time.Now()
	if cfg.Since, err = parseWhen("--since", f.since, now, cfg.Location); err != nil {
		return err
	}
	if cfg.Until, err = parseWhen("--until", f.until, now, cfg.Location); err != nil {
		return err
	}
	if !cfg.Since.IsZero() && !cfg.Until.IsZero() && cfg.Until.Before(cfg.Since) {
		return usageError("--until %s is before --since %s", cfg.Until.Format(time.RFC3339), cfg.Since.Format(time.RFC3339))
	}
	host := f.host
	if host == "" {
		host, _ = os.Hostname()
	}
	cfg.Correlate = correlate.Options{Host: host, MaxEvidence: f.maxEvidence}
	cfg.Superseded = f.superseded

	var out sink.Sink = sink.NewJSON(env.stdout)
	if f.output.value == "text" {
		out = sink.NewText(env.stdout)
	}

	// The report's worker series comes from the Gunicorn lines the scan
	// reads anyway: the counter sees every hit in event-time order.
	var counter *workers.Counter
	if f.report != "" {
		if err := checkWritable(f.report); err != nil {
			return err
		}
		counter = workers.NewCounter(workers.WithSeries(maxWorkerPoints))
		cfg.Keep = workers.Signatures
		cfg.Observe = func(ev *parse.Event, hits []match.Hit) { counter.Observe(ev.Source, ev, hits) }
	}

	bar := newScanProgress(env, f.progress.value, paths)
	cfg.Progress = bar.done()
	var sendErr error
	cfg.Emit = func(inc *incident.Incident) {
		if sendErr != nil {
			return
		}
		bar.pause(func() { sendErr = out.Send(ctx, inc) })
		if threshold != incident.SeverityNone && inc.Severity >= threshold {
			env.code = exitFound
		}
	}
	bar.start(ctx)
	res, err := scan.Run(ctx, cfg, paths)
	bar.stop()
	if err != nil {
		return err
	}
	if sendErr != nil {
		return fmt.Errorf("writing incidents: %w", sendErr)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("writing incidents: %w", err)
	}
	failed := false
	for _, fst := range res.Files {
		failed = reportFile(env, fst) || failed
	}
	if f.report != "" {
		if err := writeReport(f.report, host, now, &cfg, res, counter); err != nil {
			return err
		}
		env.log.Info().Str("file", f.report).Int("incidents", len(res.Incidents)).Msg("report written")
	}
	if failed {
		// Each file that failed was named, with its reason, above.
		env.code = exitErr
	}
	return nil
}

// maxWorkerPoints bounds the report's worker series.
const maxWorkerPoints = 100_000

// checkWritable fails early, before a long scan, when the report cannot be
// written where asked: it makes and removes the temporary file the report
// is written to before it is renamed into place.
func checkWritable(path string) error {
	f, err := os.OpenFile(path+".tmp", os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("--report %s: %s", path, describeWriteErr(err))
	}
	f.Close()
	return os.Remove(path + ".tmp")
}

func writeReport(path, host string, now time.Time, cfg *scan.Config, res *scan.Result, counter *workers.Counter) error {
	d := &report.Data{
		Title:       "sigtail scan",
		Host:        host,
		GeneratedAt: now,
		Since:       cfg.Since,
		Until:       cfg.Until,
		Incidents:   res.Incidents,
		Workers:     counter.Series(),
	}
	for _, fs := range res.Files {
		rf := report.File{Name: fs.Name, Format: string(fs.Format), Lines: fs.Lines, Records: fs.Records, Hits: fs.Hits}
		if fs.Err != nil {
			rf.Err = describeErr(fs.Err)
		}
		d.Files = append(d.Files, rf)
	}
	tmp := path + ".tmp"
	w, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("--report %s: %s", path, describeWriteErr(err))
	}
	if err := report.Write(w, d); err != nil {
		w.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing the report %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing the report %s: %s", path, describeWriteErr(err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing the report %s: %s", path, describeWriteErr(err))
	}
	return nil
}

// reportFile says what was read from one input, and whether it failed:
// never a silent drop. For people, a file that could not be read is one
// line naming it, the reason and what to do; JSON logs carry the same as
// fields.
func reportFile(env *env, f scan.FileStats) bool {
	if f.Err != nil {
		if env.logFormat == "text" {
			fmt.Fprintf(env.stderr, "sigtail: scan: %s: %s\n", f.Name, describeErr(f.Err))
		} else {
			env.log.Error().Str("file", f.Name).Str("reason", describeErr(f.Err)).Err(f.Err).Msg("could not scan")
		}
		// What was read before the error, if anything, is said below.
		if f.Lines == 0 {
			return true
		}
	}
	if env.logFormat == "text" {
		fmt.Fprintf(env.stderr, "sigtail: scan: %s: %s\n", f.Name, describeFile(f))
		return f.Err != nil
	}
	if f.Skipped != "" {
		env.log.Info().Str("file", f.Name).Str("skipped", string(f.Skipped)).Msg("skipped: " + skipWhy(f.Skipped))
		return f.Err != nil
	}
	e := env.log.Info()
	if f.Unparsed > 0 || f.Cut > 0 || f.Dropped > 0 || f.Format == parse.FormatUnknown {
		e = env.log.Warn()
	}
	e.Str("file", f.Name).Str("format", formatName(f.Format)).Bool("gzip", f.Compressed).
		Int64("lines", f.Lines).Int64("records", f.Records).Int64("hits", f.Hits).
		Int64("unparsed", f.Unparsed).Int64("cut_lines", f.Cut).Int64("dropped_continuations", f.Dropped)
	if f.Start > 0 {
		e = e.Int64("from_offset", f.Start)
	}
	if f.Stopped {
		e = e.Bool("stopped_past_until", true)
	}
	e.Msg("scanned")
	return f.Err != nil
}

func formatName(f parse.Format) string {
	if f == "" || f == parse.FormatUnknown {
		return "no known format"
	}
	return string(f)
}

func skipWhy(r scan.SkipReason) string {
	if r == scan.SkipAfterUntil {
		return "its log passed --until before it"
	}
	return "its records all end before --since"
}

// describeFile is what was read from one file, in words.
func describeFile(f scan.FileStats) string {
	if f.Skipped != "" {
		return "skipped: " + skipWhy(f.Skipped)
	}
	parts := []string{formatName(f.Format)}
	if f.Compressed {
		parts[0] += " (gzip)"
	}
	parts = append(parts, fmt.Sprintf("%d lines, %d records, %d hits", f.Lines, f.Records, f.Hits))
	for _, c := range []struct {
		n    int64
		what string
	}{{f.Unparsed, "of no known format"}, {f.Cut, "cut at --max-line"}, {f.Dropped, "continuation lines dropped"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if f.Start > 0 {
		parts = append(parts, fmt.Sprintf("read from byte %d (--since)", f.Start))
	}
	if f.Stopped {
		parts = append(parts, "stopped past --until")
	}
	return strings.Join(parts, ", ")
}

// parseFailOn reads --fail-on: a severity, or none (SeverityNone: never
// fail), for scan and audit alike.
func parseFailOn(v string) (incident.Severity, error) {
	if v == "none" {
		return incident.SeverityNone, nil
	}
	s, err := incident.ParseSeverity(v)
	if err != nil {
		return incident.SeverityNone, usageError("--fail-on %q: want info, warning, critical or none", v)
	}
	return s, nil
}

// parseWhen reads --since and --until: an age before now (30m, 6h, 2d,
// 1w), RFC 3339, or a local date and time in loc.
func parseWhen(flag, v string, now time.Time, loc *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if d, ok := parseAge(v); ok {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError("%s %q: want an age such as 30m, 6h or 2d, RFC 3339 such as 2026-11-24T08:00:00Z, or '2026-11-24 08:00' (in --timezone)", flag, v)
}

// parseAge reads a Go duration, or a number of days (d) or weeks (w).
func parseAge(v string) (time.Duration, bool) {
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, true
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if num, ok := strings.CutSuffix(v, suffix); ok {
			var n float64
			if _, err := fmt.Sscanf(num, "%g", &n); err == nil && n >= 0 && fmt.Sprint(n) == strings.TrimLeft(num, "+") {
				return time.Duration(n * float64(unit)), true
			}
		}
	}
	return 0, false
}

// scanProgress is the progress bar of a scan: bytes read against the total,
// rate and time left, on stderr, redrawn a few times a second by a
// goroutine it owns. A zero one (no terminal, JSON logs) draws nothing.
type scanProgress struct {
	bar   *progressbar.ProgressBar // nil: no bar
	read  atomic.Int64
	mu    sync.Mutex // the bar's drawing against incidents written to a terminal
	clear bool       // stdout is the same terminal: clear the bar before an incident
	stopc chan struct{}
	wg    sync.WaitGroup
}

func newScanProgress(env *env, mode string, paths []string) *scanProgress {
	p := &scanProgress{}
	show := mode == "always" || mode == "auto" && env.logFormat == "text" && terminal(env.stderr)
	if !show {
		return p
	}
	total, known := scan.TotalBytes(paths)
	if !known {
		total = -1 // a spinner: standard input has no size
	}
	p.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(env.stderr),
		progressbar.OptionSetDescription("scanning"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionUseANSICodes(true),
	)
	p.clear = terminal(env.stdout)
	return p
}

// done is the counter the scan adds the bytes it read to.
func (p *scanProgress) done() *atomic.Int64 { return &p.read }

func (p *scanProgress) start(ctx context.Context) {
	if p.bar == nil {
		return
	}
	p.stopc = make(chan struct{})
	p.bar.RenderBlank()
	p.wg.Go(func() {
		t := time.NewTicker(150 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.mu.Lock()
				p.bar.Set64(p.read.Load())
				p.mu.Unlock()
			case <-p.stopc:
				return
			case <-ctx.Done():
				return
			}
		}
	})
}

// pause runs fn (writing an incident) with the bar out of its way.
func (p *scanProgress) pause(fn func()) {
	if p.bar == nil {
		fn()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clear {
		p.bar.Clear()
	}
	fn()
}

func (p *scanProgress) stop() {
	if p.bar == nil {
		return
	}
	close(p.stopc)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.Finish()
	p.bar.Clear()
}
