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
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// Exit codes.
const (
	exitOK       = 0 // nothing at or above --fail-on
	exitFound    = 1 // incidents at or above --fail-on; lint: catalog problems
	exitErr      = 2 // usage, catalog or I/O error
	exitSignaled = 130
)

const usage = `sigtail: incidents from Gunicorn, nginx and kernel logs

Usage:
  sigtail run [flags]               follow the logs until stopped (the daemon)
  sigtail scan [flags] FILE...      scan finished logs (plain, .gz, or - for stdin)
  sigtail test [flags] LINE|FILE    show every signature a line or file matches
  sigtail audit [flags]             Gunicorn masters in the process table, against the catalog's advice
  sigtail lint [--catalog DIR]      validate a catalog
  sigtail catalog [--catalog DIR] [signatures|rules|explain ID]
                                    list the catalog, or explain one rule or signature
  sigtail version

Run 'sigtail COMMAND -h' for a command's flags.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

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
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitErr
	}
	env := &env{stdin: stdin, stdout: stdout, stderr: stderr, log: newLogger(stderr)}
	var code int
	var err error
	switch args[0] {
	case "scan":
		code, err = cmdScan(ctx, env, args[1:])
	case "run":
		code, err = cmdRun(ctx, env, args[1:])
	case "test":
		code, err = cmdTest(ctx, env, args[1:])
	case "lint":
		code, err = cmdLint(env, args[1:])
	case "catalog":
		code, err = cmdCatalog(env, args[1:])
	case "audit":
		code, err = cmdAudit(ctx, env, args[1:])
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "sigtail %s\n", version)
		return exitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "sigtail: unknown command %q\n\n%s", args[0], usage)
		return exitErr
	}
	if err != nil {
		switch {
		case errors.Is(err, errUsage):
			// The flag package has already printed the problem.
		case errors.Is(err, context.Canceled):
			fmt.Fprintln(stderr, "sigtail: interrupted")
			return exitSignaled
		default:
			fmt.Fprintf(stderr, "sigtail %s: %v\n", args[0], err)
		}
		if code == exitOK {
			code = exitErr
		}
	}
	return code
}

// env is what every command gets from the process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            zerolog.Logger
}

// newLogger logs for people on a terminal and as JSON lines elsewhere, always
// on stderr so it never mixes with incident output.
func newLogger(w io.Writer) zerolog.Logger {
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05"}
	}
	return zerolog.New(w).With().Timestamp().Logger()
}
