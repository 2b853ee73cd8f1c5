// Command sigtail detects incidents in the logs of hosts that run Python web
// apps with Gunicorn behind nginx.
//
// It only wires packages: source → parse → match → correlate → sink, with
// the catalog beside them. Flags, signals and exit codes live here and
// nowhere else.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes.
const (
	exitOK       = 0 // nothing at or above --fail-on
	exitFound    = 1 // incidents at or above --fail-on; lint: catalog problems
	exitErr      = 2 // usage, catalog or I/O error
	exitSignaled = 130
)

// version is set at build time with -ldflags "-X main.version=..."; when it
// is not, the module's build info says it (go install ...@vX gives vX).
var version = ""

// errUsage marks an error that is the caller's command line.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: testable end to end.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(ctx, env)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	name := "sigtail"
	if cmd != nil && cmd != root {
		name = "sigtail: " + strings.TrimPrefix(cmd.CommandPath(), "sigtail ")
	}
	if err == nil {
		return env.code
	}
	if msg := err.Error(); strings.HasPrefix(msg, "unknown command ") && len(args) > 0 {
		hint := ""
		if sugg := root.SuggestionsFor(args[0]); len(sugg) > 0 {
			hint = "did you mean " + strings.Join(sugg, " or ") + "? "
		}
		fmt.Fprintf(stderr, "sigtail: unknown command %q (%ssee 'sigtail --help')\n", args[0], hint)
		return exitErr
	}
	code := env.code
	if code == exitOK {
		code = exitErr
	}
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "%s: interrupted\n", name)
		return exitSignaled
	case errors.Is(err, errUsage):
		msg := strings.TrimSuffix(strings.TrimSpace(err.Error()), ": "+errUsage.Error())
		help := "sigtail --help"
		if cmd != nil {
			help = cmd.CommandPath() + " --help"
		}
		fmt.Fprintf(stderr, "%s: %s (see '%s')\n", name, msg, help)
	default:
		// A config's problems are one line each, all at once.
		var ce *configError
		if errors.As(err, &ce) {
			for _, l := range ce.lines() {
				fmt.Fprintf(stderr, "%s: %s\n", name, l)
			}
			break
		}
		fmt.Fprintf(stderr, "%s: %s\n", name, oneLine(err.Error()))
	}
	return code
}

// oneLine keeps an error on one line: errors for people are one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// usageError wraps a command-line mistake so run prints it with a pointer to
// the command's help.
func usageError(format string, a ...any) error {
	return fmt.Errorf(format+": %w", append(a, errUsage)...)
}

// env is what every command gets from the process, and the exit code it
// chose.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            zerolog.Logger
	// logFormat is text (for people) or json (for a journal or a file).
	logFormat string
	code      int
}

// terminal reports whether w is a terminal.
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// newLogger logs for people (text) or as JSON lines, always on stderr so it
// never mixes with incident output. Text has no timestamps for the one-shot
// commands: their lines are read at once.
func newLogger(w io.Writer, format string, timestamps bool) zerolog.Logger {
	if format == "text" {
		cw := zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05", NoColor: !terminal(w)}
		if !timestamps {
			cw.PartsExclude = []string{zerolog.TimestampFieldName}
		}
		return zerolog.New(cw).With().Timestamp().Logger()
	}
	return zerolog.New(w).With().Timestamp().Logger()
}

// buildVersion is the version this binary reports: the one set at build
// time, else the module version go install recorded, else the VCS revision
// go build recorded.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	return "devel-" + rev[:min(12, len(rev))] + dirty
}

// vcsTime is the commit time go build recorded.
func vcsTime() (time.Time, bool) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return time.Time{}, false
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.time" {
			t, err := time.Parse(time.RFC3339, s.Value)
			return t.UTC(), err == nil
		}
	}
	return time.Time{}, false
}

const rootLong = `sigtail finds incidents in the logs of hosts that run Python web apps with
Gunicorn behind nginx: worker timeouts, workers that fail to boot or are
killed for memory, kernel OOM kills, nginx upstream failures, 499/502
bursts, sockets held by old masters. It ties the traces of one failure
across logs into one incident, with its severity, evidence and what to do.`

// newRoot builds the command tree; each call is a new tree, so tests run
// commands side by side.
func newRoot(ctx context.Context, env *env) *cobra.Command {
	logFormat := newChoice("auto", "auto", "text", "json")
	logLevel := newChoice("info", "debug", "info", "warn", "error")
	root := &cobra.Command{
		Use:           "sigtail",
		Short:         "incidents from Gunicorn, nginx and kernel logs",
		Long:          rootLong,
		Version:       buildVersion(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// The man page and completions are generated from this tree.
		DisableAutoGenTag: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			env.logFormat = logFormat.value
			if env.logFormat == "auto" {
				env.logFormat = "json"
				if terminal(env.stderr) {
					env.logFormat = "text"
				}
			}
			level, _ := zerolog.ParseLevel(logLevel.value)
			env.log = newLogger(env.stderr, env.logFormat, cmd.Name() == "run").Level(level)
			return nil
		},
	}
	root.SetContext(ctx)
	root.SetIn(env.stdin)
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetVersionTemplate("sigtail {{.Version}}\n")
	root.PersistentFlags().Var(logFormat, "log-format",
		"how sigtail logs on stderr: text (for people), json (one object per line), or auto: text on a terminal, json elsewhere")
	root.PersistentFlags().Var(logLevel, "log-level", "the least severe of sigtail's own log lines shown: debug (every retry), info, warn or error")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w: %w", err, errUsage)
	})
	root.AddCommand(
		newScanCmd(env),
		newRunCmd(env),
		newTestCmd(env),
		newAuditCmd(env),
		newLintCmd(env),
		newCatalogCmd(env),
		newManCmd(),
		&cobra.Command{
			Use:   "version",
			Short: "print the version",
			Args:  cobra.NoArgs,
			Run: func(cmd *cobra.Command, _ []string) {
				fmt.Fprintf(cmd.OutOrStdout(), "sigtail %s\n", buildVersion())
			},
		},
	)
	for _, c := range root.Commands() {
		c.SilenceErrors, c.SilenceUsage = true, true
	}
	completeChoices(root)
	return root
}

// completeChoices makes the shell complete every flag of a fixed set of
// values with those values, and --fail-on with the severities.
func completeChoices(c *cobra.Command) {
	complete := func(fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			var values []string
			switch v := f.Value.(type) {
			case *choice:
				values = v.allowed
			default:
				if f.Name == "fail-on" {
					values = []string{"critical", "warning", "info", "none"}
				}
			}
			if values != nil {
				c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		})
	}
	complete(c.LocalNonPersistentFlags())
	complete(c.PersistentFlags())
	for _, sub := range c.Commands() {
		completeChoices(sub)
	}
}

// argsBetween makes cobra's argument errors usage errors.
func argsBetween(lo, hi int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < lo:
			return usageError("needs %s", what)
		case hi >= 0 && len(args) > hi:
			if hi == 0 {
				return usageError("takes no arguments (got %s)", quoteList(args))
			}
			return usageError("takes %s (got %s)", what, quoteList(args))
		}
		return nil
	}
}

func quoteList(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = fmt.Sprintf("%q", a)
	}
	return strings.Join(q, " ")
}

// choice is a flag whose value is one of a fixed set, checked when parsed
// so a wrong one is a usage error that lists the right ones.
type choice struct {
	value   string
	allowed []string
}

var _ pflag.Value = (*choice)(nil)

func newChoice(def string, allowed ...string) *choice {
	return &choice{value: def, allowed: allowed}
}

func (c *choice) String() string { return c.value }
func (c *choice) Type() string   { return strings.Join(c.allowed, "|") }
func (c *choice) Set(v string) error {
	for _, a := range c.allowed {
		if v == a {
			c.value = v
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(c.allowed, ", "))
}
