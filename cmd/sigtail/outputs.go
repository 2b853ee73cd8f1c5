package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/sigtail/sigtail/pkg/sink"
)

// outputConfig is one entry of the config's `outputs:` list, as written.
// Which keys an output takes depends on its type (outputKeys); any other
// key is an error that names it.
type outputConfig struct {
	Type string `yaml:"type"`
	// Name names it in metrics and logs and is its spool's directory
	// under spool_dir (default: the type, then type-2, ...).
	Name string `yaml:"name"`

	// Every output with a spool.
	Spool         string        `yaml:"spool"`
	SpoolMaxBytes byteSize      `yaml:"spool_max_bytes"`
	MinBackoff    time.Duration `yaml:"min_backoff"`
	MaxBackoff    time.Duration `yaml:"max_backoff"`

	// journald
	Socket string `yaml:"socket"`

	// HTTP outputs. Secrets only from files or the environment.
	URL          string        `yaml:"url"`
	Timeout      time.Duration `yaml:"timeout"`
	Username     string        `yaml:"username"`
	PasswordFile string        `yaml:"password_file"`
	PasswordEnv  string        `yaml:"password_env"`
	TokenFile    string        `yaml:"token_file"`
	TokenEnv     string        `yaml:"token_env"`

	// loki
	Tenant       string            `yaml:"tenant"`
	Encoding     string            `yaml:"encoding"`
	Labels       map[string]string `yaml:"labels"`
	BatchWait    time.Duration     `yaml:"batch_wait"`
	BatchBytes   byteSize          `yaml:"batch_bytes"`
	BatchEntries int               `yaml:"batch_entries"`
	MaxAge       time.Duration     `yaml:"max_age"`

	// alertmanager
	Resend   time.Duration `yaml:"resend"`
	Instance string        `yaml:"instance"`

	// webhook
	Headers    map[string]string `yaml:"headers"`
	SecretFile string            `yaml:"secret_file"`
	SecretEnv  string            `yaml:"secret_env"`

	line int // where it is in the config, for errors
}

var (
	spoolKeys = []string{"spool", "spool_max_bytes", "min_backoff", "max_backoff"}
	httpKeys  = []string{"url", "timeout", "username", "password_file", "password_env", "token_file", "token_env"}
	// outputKeys are the keys each type of output takes, besides type and name.
	outputKeys = map[string][]string{
		"stdout":       nil,
		"journald":     join(spoolKeys, []string{"socket"}),
		"loki":         join(spoolKeys, httpKeys, []string{"tenant", "encoding", "labels", "batch_wait", "batch_bytes", "batch_entries", "max_age"}),
		"alertmanager": join(spoolKeys, httpKeys, []string{"labels", "resend", "instance"}),
		"webhook":      join(spoolKeys, httpKeys, []string{"headers", "secret_file", "secret_env"}),
	}
)

func join(lists ...[]string) []string { return slices.Concat(lists...) }

func outputTypes() string {
	return strings.Join(slices.Sorted(func(yield func(string) bool) {
		for k := range outputKeys {
			if !yield(k) {
				return
			}
		}
	}), ", ")
}

// UnmarshalYAML decodes one output strictly: its type first, then only
// the keys that type takes.
func (o *outputConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: an output is a mapping with a type (one of %s)", n.Line, outputTypes())
	}
	typ := ""
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "type" {
			typ = n.Content[i+1].Value
		}
	}
	keys, ok := outputKeys[typ]
	if !ok {
		if typ == "" {
			return fmt.Errorf("line %d: output has no type (one of %s)", n.Line, outputTypes())
		}
		return fmt.Errorf("line %d: unknown output type %q (one of %s)", n.Line, typ, outputTypes())
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Value != "type" && k.Value != "name" && !slices.Contains(keys, k.Value) {
			known := append([]string{"type", "name"}, keys...)
			if meant, ok := closestKey(k.Value, known); ok {
				return fmt.Errorf("line %d: %s output: unknown key %q (did you mean %s?)", k.Line, typ, k.Value, meant)
			}
			return fmt.Errorf("line %d: %s output: unknown key %q (it takes %s)", k.Line, typ, k.Value, strings.Join(known, ", "))
		}
	}
	type plain outputConfig
	if err := n.Decode((*plain)(o)); err != nil {
		return fmt.Errorf("%s output at line %d: %w", typ, n.Line, err)
	}
	o.line = n.Line
	return nil
}

// byteSize is a size in bytes, written as a number or with a unit: 64KiB,
// 256MiB, 1GiB (or KB, MB, GB, powers of 1000).
type byteSize int64

func (b *byteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = byteSize(v)
	return nil
}

func parseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("size %q: want bytes, or a number with KiB, MiB, GiB, KB, MB or GB", s)
	}
	return n * mult, nil
}

// parseOutputFlag reads --output TYPE or TYPE=URL.
func parseOutputFlag(v string) (outputConfig, error) {
	typ, url, _ := strings.Cut(v, "=")
	if _, ok := outputKeys[typ]; !ok {
		return outputConfig{}, fmt.Errorf("--to %s: unknown output type %q (one of %s)", v, typ, outputTypes())
	}
	needsURL := slices.Contains(outputKeys[typ], "url")
	switch {
	case needsURL && url == "":
		return outputConfig{}, fmt.Errorf("--to %s: give its URL as %s=URL (or configure it under outputs: in --config)", v, typ)
	case !needsURL && url != "":
		return outputConfig{}, fmt.Errorf("--to %s: %s takes no URL", v, typ)
	}
	return outputConfig{Type: typ, URL: url}, nil
}

// outputDeps are what building the outputs needs from the process.
type outputDeps struct {
	stdout   io.Writer
	spoolDir string
	host     string
	version  string
	metrics  *sink.Metrics
	log      zerolog.Logger
	// groupFields returns a rule's group_by (the catalog in force).
	groupFields func(rule string) []string
}

// outputBuilders make a sink from its config, by type: the registry of
// output types.
var outputBuilders = map[string]func(o *outputConfig, d *outputDeps, del sink.DeliveryOptions) (sink.Sink, error){
	"stdout": func(_ *outputConfig, d *outputDeps, _ sink.DeliveryOptions) (sink.Sink, error) {
		return sink.NewJSON(d.stdout), nil
	},
	"journald": func(o *outputConfig, _ *outputDeps, del sink.DeliveryOptions) (sink.Sink, error) {
		return sink.NewJournald(sink.JournaldOptions{DeliveryOptions: del, Socket: o.Socket})
	},
	"loki": func(o *outputConfig, d *outputDeps, del sink.DeliveryOptions) (sink.Sink, error) {
		h, err := o.http(d)
		if err != nil {
			return nil, err
		}
		return sink.NewLoki(sink.LokiOptions{DeliveryOptions: del, HTTP: h, Tenant: o.Tenant, Encoding: sink.LokiEncoding(o.Encoding),
			Labels: o.Labels, Host: d.host, BatchEntries: o.BatchEntries, BatchBytes: int(o.BatchBytes), BatchWait: o.BatchWait, MaxAge: o.MaxAge})
	},
	"alertmanager": func(o *outputConfig, d *outputDeps, del sink.DeliveryOptions) (sink.Sink, error) {
		h, err := o.http(d)
		if err != nil {
			return nil, err
		}
		return sink.NewAlertmanager(sink.AlertmanagerOptions{DeliveryOptions: del, HTTP: h, Resend: o.Resend,
			Host: d.host, Instance: o.Instance, Labels: o.Labels, GroupFields: d.groupFields})
	},
	"webhook": func(o *outputConfig, d *outputDeps, del sink.DeliveryOptions) (sink.Sink, error) {
		h, err := o.http(d)
		if err != nil {
			return nil, err
		}
		secret, err := readSecret(o.SecretFile, o.SecretEnv, "secret")
		if err != nil {
			return nil, err
		}
		for k, v := range o.Headers {
			h.Header.Set(k, v)
		}
		return sink.NewWebhook(sink.WebhookOptions{DeliveryOptions: del, HTTP: h, Secret: secret})
	},
}

// http is the HTTP side of an output, with its secrets read.
func (o *outputConfig) http(d *outputDeps) (sink.HTTPOptions, error) {
	h := sink.HTTPOptions{URL: o.URL, Timeout: o.Timeout, Header: http.Header{}, UserAgent: "sigtail/" + d.version}
	if o.URL == "" {
		return h, errors.New("no url")
	}
	pw, err := readSecret(o.PasswordFile, o.PasswordEnv, "password")
	if err != nil {
		return h, err
	}
	if pw != "" && o.Username == "" {
		return h, errors.New("a password without a username")
	}
	tok, err := readSecret(o.TokenFile, o.TokenEnv, "token")
	if err != nil {
		return h, err
	}
	if tok != "" && o.Username != "" {
		return h, errors.New("a token and a username: use one way to authenticate")
	}
	h.Auth = sink.Auth{Username: o.Username, Password: pw, BearerToken: tok}
	return h, nil
}

// readSecret reads a secret from a file (its trailing newline dropped) or
// an environment variable; neither given is no secret.
func readSecret(file, env, what string) (string, error) {
	switch {
	case file != "" && env != "":
		return "", fmt.Errorf("%s_file and %s_env both given: use one", what, what)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading the %s: %w", what, err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", fmt.Errorf("the %s file %s is empty", what, file)
		}
		return s, nil
	case env != "":
		s, ok := os.LookupEnv(env)
		if !ok || s == "" {
			return "", fmt.Errorf("the %s variable %s is not set", what, env)
		}
		return s, nil
	}
	return "", nil
}

// buildOutputs makes the sinks, in order; none given is stdout. On an
// error the ones already made are closed.
func buildOutputs(ocs []outputConfig, d *outputDeps) (sinks []sink.Sink, err error) {
	if len(ocs) == 0 {
		ocs = []outputConfig{{Type: "stdout"}}
	}
	defer func() {
		if err != nil {
			for _, s := range sinks {
				s.Close()
			}
			sinks = nil
		}
	}()
	names := map[string]bool{}
	perType := map[string]int{}
	for i := range ocs {
		o := &ocs[i]
		where := fmt.Sprintf("outputs[%d] (%s)", i, o.Type)
		if o.line > 0 {
			where = fmt.Sprintf("outputs[%d] (%s, line %d)", i, o.Type, o.line)
		}
		build := outputBuilders[o.Type]
		if build == nil {
			return sinks, fmt.Errorf("%s: unknown output type (one of %s)", where, outputTypes())
		}
		perType[o.Type]++
		name := o.Name
		if name == "" {
			name = o.Type
			if n := perType[o.Type]; n > 1 {
				name = fmt.Sprintf("%s-%d", o.Type, n)
			}
		}
		if names[name] {
			return sinks, fmt.Errorf("%s: a second output named %q (give each a name)", where, name)
		}
		names[name] = true
		spool := o.Spool
		if spool == "" {
			spool = filepath.Join(d.spoolDir, name)
		}
		del := sink.DeliveryOptions{Name: name, Spool: spool, SpoolMaxBytes: int64(o.SpoolMaxBytes), MinBackoff: o.MinBackoff,
			MaxBackoff: o.MaxBackoff, Metrics: d.metrics, Log: d.log.With().Str("component", "output").Logger()}
		s, err := build(o, d, del)
		if err != nil {
			return sinks, fmt.Errorf("%s: %w", where, err)
		}
		sinks = append(sinks, s)
		d.log.Info().Str("output", name).Str("type", o.Type).Str("spool", spoolOf(o.Type, spool)).Msg("output")
	}
	return sinks, nil
}

func spoolOf(typ, spool string) string {
	if typ == "stdout" {
		return ""
	}
	return spool
}
