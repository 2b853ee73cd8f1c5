package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/checkpoint"
	"github.com/sigtail/sigtail/pkg/correlate"
	"github.com/sigtail/sigtail/pkg/daemon"
	"github.com/sigtail/sigtail/pkg/parse"
	"github.com/sigtail/sigtail/pkg/probe"
	"github.com/sigtail/sigtail/pkg/sink"
)

// defaultFiles are the usual places, followed when nothing is configured
// and they exist.
var defaultFiles = []string{
	"/var/log/gunicorn/error.log",
	"/var/log/nginx/error.log",
	"/var/log/nginx/access.log",
} // and the kernel log, from /dev/kmsg (--kernel)

// runFlags are the daemon's flags; each overrides its key of --config.
type runFlags struct {
	config, catalog, positions, listen, timezone, host, spoolDir string
	files, units, outputs                                        []string
	fromStart, kernel, probe, check                              bool
	probeEvery                                                   time.Duration
}

const runLong = `Follow the logs until stopped, writing incidents as JSON lines on stdout or to
the configured outputs (journald, Loki, Alertmanager, webhooks). With no
config and no --file it follows the usual places that exist
(/var/log/gunicorn/error.log, /var/log/nginx/error.log and access.log) and
the kernel log.

A log that cannot be read is reported once, with its reason, and retried;
/healthz answers 503 and names it until it can be read again.
SIGTERM drains and saves positions; SIGHUP reloads the catalog.
--check validates the config, the catalog and every source, and exits:
0 when all is well, 1 when a source cannot be read, 2 on a config error.`

func newRunCmd(env *env) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [flags]",
		Short: "follow the logs until stopped (the daemon)",
		Long:  runLong,
		Example: `  sigtail run --config /etc/sigtail/sigtail.yaml
  sigtail run --config /etc/sigtail/sigtail.yaml --check
  sigtail run --file '/var/log/gunicorn/*.log' --to alertmanager=http://127.0.0.1:9093`,
		Args: argsBetween(0, 0, "no arguments (give logs with --file)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDaemon(cmd.Context(), env, cmd.Flags(), &f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.config, "config", "", "configuration `FILE` (YAML: files, kernel, units, outputs, spool_dir, catalog, positions, listen, timezone, host, nginx_access_format, from_start, probe, probe_interval, max_groups)")
	fs.StringArrayVar(&f.files, "file", nil, "follow this `PATH` or glob (repeatable; replaces the config's files)")
	fs.StringVar(&f.catalog, "catalog", "", "catalog `DIR` replacing the built-in one")
	fs.StringVar(&f.positions, "positions", "", "positions `FILE` (default /var/lib/sigtail/positions.json; \"none\" keeps none)")
	fs.StringVar(&f.listen, "listen", "", "`ADDR` for /metrics and /healthz (default 127.0.0.1:9847; \"none\" to disable)")
	fs.StringVar(&f.timezone, "timezone", "", "`ZONE` of timestamps that carry none (default Local)")
	fs.StringVar(&f.host, "host", "", "host `NAME` in incidents (default: this host's name)")
	fs.BoolVar(&f.fromStart, "from-start", false, "read files with no saved position from their start instead of their end")
	fs.BoolVar(&f.kernel, "kernel", true, "follow the kernel log (/dev/kmsg, or journalctl -k where it cannot be read)")
	fs.BoolVar(&f.probe, "probe", true, "sample the process table for Gunicorn masters and workers (metrics and incidents; see sigtail audit)")
	fs.DurationVar(&f.probeEvery, "probe-interval", 0, "how often the process table is sampled (default 10s)")
	fs.StringArrayVar(&f.units, "unit", nil, "follow this journald `UNIT`'s messages (repeatable; adds to the config's units)")
	fs.StringArrayVar(&f.outputs, "to", nil, "send incidents to `OUTPUT`: stdout, journald, loki=URL, alertmanager=URL or webhook=URL (repeatable; replaces the config's outputs; default stdout)")
	// The former name, kept working: said once on stderr (pflag's own
	// deprecation notice goes to stdout, among incidents).
	fs.StringArrayVar(&f.outputs, "output", nil, "the former name of --to")
	fs.MarkHidden("output")
	fs.StringVar(&f.spoolDir, "spool-dir", "", "`DIR` of the outputs' spools (default /var/lib/sigtail/spool)")
	fs.BoolVar(&f.check, "check", false, "validate the config, the catalog and that every source can be read, print what was found, and exit")
	return cmd
}

func runDaemon(ctx context.Context, env *env, fs *pflag.FlagSet, f *runFlags) error {
	if fs.Changed("output") {
		fmt.Fprintln(env.stderr, "sigtail: run: --output is now --to (scan's --output is the format it prints); --output still works")
	}
	units := f.units
	rc, err := loadRunConfig(f.config)
	if err != nil {
		return err
	}
	outputConfigs := rc.Outputs
	if len(f.outputs) > 0 {
		outputConfigs = nil
		for _, v := range f.outputs {
			o, err := parseOutputFlag(v)
			if err != nil {
				return usageError("%v", err)
			}
			outputConfigs = append(outputConfigs, o)
		}
	}
	pick := func(flagv, cfgv, def string) string {
		switch {
		case flagv != "":
			return flagv
		case cfgv != "":
			return cfgv
		}
		return def
	}
	var srcs []daemon.FileSource
	if len(f.files) > 0 {
		for _, p := range f.files {
			srcs = append(srcs, daemon.FileSource{Path: p})
		}
	} else {
		for _, cf := range rc.Files {
			srcs = append(srcs, daemon.FileSource{Path: cf.Path, Format: parse.Format(cf.Format)})
		}
	}
	if len(srcs) == 0 {
		for _, p := range defaultFiles {
			if _, err := os.Stat(p); err == nil {
				srcs = append(srcs, daemon.FileSource{Path: p})
			}
		}
	}
	followKernel := f.kernel
	if rc.Kernel != nil && !fs.Changed("kernel") {
		followKernel = *rc.Kernel
	}
	units = append(units, rc.Units...)
	if len(srcs) == 0 && !followKernel && len(units) == 0 {
		return daemon.ErrNoSources
	}
	in := inputFlags{catalog: pick(f.catalog, rc.Catalog, ""), timezone: pick(f.timezone, rc.Timezone, "Local"), accessFmt: rc.NginxAccessFormat}
	cfg, err := in.config(env)
	if err != nil {
		return catalogFailure(env, err, "not starting")
	}
	var store *checkpoint.Store
	if p := pick(f.positions, rc.Positions, "/var/lib/sigtail/positions.json"); p != "none" {
		if store, err = checkpoint.Open(p); err != nil {
			return err
		}
	}
	if f.check {
		// The config and the catalog are sound to have come this far.
		return checkSources(env, daemon.Config{Files: srcs, Kernel: followKernel, Units: units, Positions: store}, len(cfg.Catalog.Rules))
	}
	name := pick(f.host, rc.Host, "")
	if name == "" {
		name, _ = os.Hostname()
	}
	metrics := daemon.NewMetrics()
	// The Alertmanager output labels alerts with the rule's group_by
	// captures, from the catalog in force (SIGHUP swaps it).
	var current atomic.Pointer[catalog.Catalog]
	current.Store(cfg.Catalog)
	sinks, err := buildOutputs(outputConfigs, &outputDeps{
		stdout: env.stdout, spoolDir: pick(f.spoolDir, rc.SpoolDir, "/var/lib/sigtail/spool"), host: name, version: version,
		metrics: sink.NewMetrics(metrics.Registry), log: env.log,
		groupFields: func(rule string) []string {
			for _, r := range current.Load().Rules {
				if r.ID == rule {
					return r.GroupBy
				}
			}
			return nil
		},
	})
	if err != nil {
		if f.config != "" && len(f.outputs) == 0 {
			return fmt.Errorf("config %s: %w", f.config, err)
		}
		return err
	}
	// Closed after the daemon stopped (and with it their delivery).
	closeSinks := func() error {
		var errs []error
		for _, s := range sinks {
			errs = append(errs, s.Close())
		}
		return errors.Join(errs...)
	}
	var prober daemon.Prober
	probeWanted := f.probe
	if rc.Probe != nil && !fs.Changed("probe") {
		probeWanted = *rc.Probe
	}
	if probeWanted {
		prober = probe.New("/", probe.Options{})
	}
	every := f.probeEvery
	if every == 0 {
		every = rc.ProbeInterval
	}
	d := daemon.New(daemon.Config{
		Probe: prober, ProbeEvery: every,
		Files: srcs, Kernel: followKernel, Units: units, Catalog: cfg.Catalog, Set: cfg.Set, Parsers: cfg.Parsers, Location: cfg.Location,
		Positions: store, Sinks: sinks, Correlate: correlate.Options{Host: name, MaxGroups: rc.MaxGroups},
		FromStart: f.fromStart || rc.FromStart, Metrics: metrics, Log: env.log.With().Str("component", "daemon").Logger(),
	})

	// /metrics and /healthz on a loopback address.
	if addr := pick(f.listen, rc.Listen, "127.0.0.1:9847"); addr != "none" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			closeSinks()
			return fmt.Errorf("listening on %s for /metrics and /healthz: %w (give another with --listen, or --listen none)", addr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))
		mux.Handle("/healthz", daemon.HealthHandler(d))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		env.log.Info().Str("addr", ln.Addr().String()).Msg("serving /metrics and /healthz")
	}

	// SIGHUP reloads the catalog; a broken one is reported and the old one
	// stays in force.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				c, err := in.config(env)
				if err != nil {
					env.log.Error().Err(err).Msg("catalog reload failed; the old catalog stays in force")
					continue
				}
				if d.Reload(ctx, c.Catalog, c.Set) == nil {
					current.Store(c.Catalog)
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	for _, s := range srcs {
		env.log.Info().Str("file", s.Path).Str("format", string(s.Format)).Msg("following")
	}
	if err := d.Run(ctx); err != nil {
		closeSinks()
		return err
	}
	return closeSinks()
}

// checkSources prints whether every source and the positions can be read,
// one line each, and sets the exit code: 1 when one cannot.
func checkSources(env *env, cfg daemon.Config, rules int) error {
	results := daemon.Check(cfg)
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	bad := 0
	for _, r := range results {
		status := "ok"
		if !r.OK {
			status, bad = "FAIL", bad+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", status, r.Kind, r.Source, r.Reason)
	}
	tw.Flush()
	fmt.Fprintf(env.stdout, "config and catalog (%d rules): ok; %d of %d sources ok\n", rules, len(results)-bad, len(results))
	if bad > 0 {
		env.code = exitFound
	}
	return nil
}
