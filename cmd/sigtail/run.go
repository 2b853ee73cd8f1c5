package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gopkg.in/yaml.v3"

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

// runConfig is the daemon's configuration file (YAML). Flags override it.
type runConfig struct {
	Files []struct {
		Path   string `yaml:"path"`
		Format string `yaml:"format"`
	} `yaml:"files"`
	Catalog           string `yaml:"catalog"`
	Positions         string `yaml:"positions"`
	Listen            string `yaml:"listen"`
	Timezone          string `yaml:"timezone"`
	Host              string `yaml:"host"`
	NginxAccessFormat string `yaml:"nginx_access_format"`
	FromStart         bool   `yaml:"from_start"`
	// MaxGroups caps the incidents and pending groups one rule keeps.
	MaxGroups int `yaml:"max_groups"`
	// Probe turns the process-table probe off with false; ProbeInterval
	// is how often it samples.
	Probe         *bool         `yaml:"probe"`
	ProbeInterval time.Duration `yaml:"probe_interval"`
	Kernel        *bool         `yaml:"kernel"`
	Units         []string      `yaml:"units"`
	// Outputs are where incidents go, in order (default: stdout).
	Outputs []outputConfig `yaml:"outputs"`
	// SpoolDir holds the spools of outputs that name none
	// (default /var/lib/sigtail/spool).
	SpoolDir string `yaml:"spool_dir"`
}

func loadRunConfig(path string) (*runConfig, error) {
	var c runConfig
	if path == "" {
		return &c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // an empty file is no settings
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	for i, f := range c.Files {
		if f.Path == "" {
			return nil, fmt.Errorf("config %s: files[%d] has no path", path, i)
		}
		if f.Format != "" && !parse.Format(f.Format).Valid() {
			return nil, fmt.Errorf("config %s: files[%d] (%s): unknown format %q (want one of %s)", path, i, f.Path, f.Format, formatNames())
		}
	}
	return &c, nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func cmdRun(ctx context.Context, env *env, args []string) (int, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: sigtail run [flags]\n\nFollow the logs until stopped, writing incidents as JSON lines on stdout\nor to the configured outputs (journald, Loki, Alertmanager, webhooks).\nSIGTERM drains and saves positions; SIGHUP reloads the catalog.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "configuration `FILE` (YAML: files, kernel, units, outputs, spool_dir, catalog, positions, listen, timezone, host, nginx_access_format, from_start)")
	var files multiFlag
	fs.Var(&files, "file", "follow this `PATH` or glob (repeatable; replaces the config's files)")
	catalogDir := fs.String("catalog", "", "catalog `DIR` replacing the built-in one")
	positions := fs.String("positions", "", "positions `FILE` (default /var/lib/sigtail/positions.json; \"none\" keeps none)")
	listen := fs.String("listen", "", "`ADDR` for /metrics and /healthz (default 127.0.0.1:9847; \"none\" to disable)")
	timezone := fs.String("timezone", "", "`ZONE` of timestamps that carry none (default Local)")
	host := fs.String("host", "", "host `NAME` in incidents (default: this host's name)")
	fromStart := fs.Bool("from-start", false, "read files with no saved position from their start instead of their end")
	kernel := fs.Bool("kernel", true, "follow the kernel log (/dev/kmsg, or journalctl -k where it cannot be read)")
	probeOn := fs.Bool("probe", true, "sample the process table for Gunicorn masters and workers (metrics and incidents; see sigtail audit)")
	probeEvery := fs.Duration("probe-interval", 0, "how often the process table is sampled (default 10s)")
	var units multiFlag
	fs.Var(&units, "unit", "follow this journald `UNIT`'s messages (repeatable; adds to the config's units)")
	var outputs multiFlag
	fs.Var(&outputs, "output", "send incidents to `OUTPUT`: stdout, journald, loki=URL, alertmanager=URL or webhook=URL (repeatable; replaces the config's outputs; default stdout)")
	spoolDir := fs.String("spool-dir", "", "`DIR` of the outputs' spools (default /var/lib/sigtail/spool)")
	if err := fs.Parse(args); err != nil {
		return exitErr, errUsage
	}
	rc, err := loadRunConfig(*configPath)
	if err != nil {
		return exitErr, err
	}
	outputConfigs := rc.Outputs
	if len(outputs) > 0 {
		outputConfigs = nil
		for _, v := range outputs {
			o, err := parseOutputFlag(v)
			if err != nil {
				fmt.Fprintf(env.stderr, "sigtail run: %v\n", err)
				return exitErr, errUsage
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
	if len(files) > 0 {
		for _, f := range files {
			srcs = append(srcs, daemon.FileSource{Path: f})
		}
	} else {
		for _, f := range rc.Files {
			srcs = append(srcs, daemon.FileSource{Path: f.Path, Format: parse.Format(f.Format)})
		}
	}
	if len(srcs) == 0 {
		for _, p := range defaultFiles {
			if _, err := os.Stat(p); err == nil {
				srcs = append(srcs, daemon.FileSource{Path: p})
			}
		}
	}
	followKernel := *kernel
	if rc.Kernel != nil && !flagSet(fs, "kernel") {
		followKernel = *rc.Kernel
	}
	units = append(units, rc.Units...)
	if len(srcs) == 0 && !followKernel && len(units) == 0 {
		return exitErr, daemon.ErrNoSources
	}
	in := inputFlags{catalog: pick(*catalogDir, rc.Catalog, ""), timezone: pick(*timezone, rc.Timezone, "Local"), accessFmt: rc.NginxAccessFormat}
	cfg, err := in.config(env)
	if err != nil {
		if catalogError(env.stderr, err) {
			return exitErr, fmt.Errorf("the catalog has errors; not starting")
		}
		return exitErr, err
	}
	var store *checkpoint.Store
	if p := pick(*positions, rc.Positions, "/var/lib/sigtail/positions.json"); p != "none" {
		if store, err = checkpoint.Open(p); err != nil {
			return exitErr, err
		}
	}
	name := pick(*host, rc.Host, "")
	if name == "" {
		name, _ = os.Hostname()
	}
	metrics := daemon.NewMetrics()
	// The Alertmanager output labels alerts with the rule's group_by
	// captures, from the catalog in force (SIGHUP swaps it).
	var current atomic.Pointer[catalog.Catalog]
	current.Store(cfg.Catalog)
	sinks, err := buildOutputs(outputConfigs, &outputDeps{
		stdout: env.stdout, spoolDir: pick(*spoolDir, rc.SpoolDir, "/var/lib/sigtail/spool"), host: name, version: version,
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
		if *configPath != "" && len(outputs) == 0 {
			return exitErr, fmt.Errorf("config %s: %w", *configPath, err)
		}
		return exitErr, err
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
	probeWanted := *probeOn
	if rc.Probe != nil && !flagSet(fs, "probe") {
		probeWanted = *rc.Probe
	}
	if probeWanted {
		prober = probe.New("/", probe.Options{})
	}
	every := *probeEvery
	if every == 0 {
		every = rc.ProbeInterval
	}
	d := daemon.New(daemon.Config{
		Probe: prober, ProbeEvery: every,
		Files: srcs, Kernel: followKernel, Units: units, Catalog: cfg.Catalog, Set: cfg.Set, Parsers: cfg.Parsers, Location: cfg.Location,
		Positions: store, Sinks: sinks, Correlate: correlate.Options{Host: name, MaxGroups: rc.MaxGroups},
		FromStart: *fromStart || rc.FromStart, Metrics: metrics, Log: env.log.With().Str("component", "daemon").Logger(),
	})

	// /metrics and /healthz on a loopback address.
	if addr := pick(*listen, rc.Listen, "127.0.0.1:9847"); addr != "none" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			closeSinks()
			return exitErr, fmt.Errorf("listening on %s for /metrics: %w", addr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
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
		return exitErr, err
	}
	if err := closeSinks(); err != nil {
		return exitErr, err
	}
	return exitOK, nil
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
