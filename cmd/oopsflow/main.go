// Command oopsflow finds kernel crash reports in fleet syslog, recognises
// known kernel bugs, and writes enriched documents.
//
//	oopsflow scan [flags] [FILE...|-]     files or stdin -> table, NDJSON or Elasticsearch
//	oopsflow setup --es-url URL           templates, lifecycle and Kibana dashboards
//	oopsflow consume --brokers ... --topic ...   Kafka consumer group
//	oopsflow rules lint|test|list         the knowledge base
//	oopsflow gen [flags]                  realistic fleet syslog for demos and benchmarks
//	oopsflow version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries an exit code out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Exit codes.
const (
	exitOK      = 0
	exitError_  = 1 // runtime failure: unreadable input, bad knowledge base
	exitUsage   = 2 // bad command line
	exitFailOn  = 3 // --fail-on condition met
	usageHeader = `oopsflow finds kernel crash reports (oopses, panics, lockups, hung tasks, ...)
in fleet syslog, recognises known kernel bugs and writes enriched documents.

Usage:
  oopsflow scan [flags] [FILE...|-]   scan files (plain or .gz) or stdin
  oopsflow setup --es-url URL [--kibana-url URL]   install templates, lifecycle, dashboards
  oopsflow consume --brokers H:P --topic T [--group G]   Kafka consumer group -> Elasticsearch
  oopsflow rules lint [--signatures DIR]   validate the knowledge base
  oopsflow rules test [--signatures DIR]   run every signature's examples
  oopsflow rules list [--signatures DIR]   list known issues
  oopsflow gen [flags]                 write realistic fleet syslog
  oopsflow version

Run "oopsflow COMMAND -h" for a command's flags.
`
)

func main() {
	// SIGINT and SIGTERM end ctx: consume hands its partitions over and exits.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes a command line and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageHeader)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "scan":
		err = scanCmd(args[1:], stdin, stdout, stderr)
	case "rules":
		err = rulesCmd(args[1:], stdout, stderr)
	case "gen":
		err = genCmd(args[1:], stdout, stderr)
	case "setup":
		err = setupCmd(args[1:], stdout, stderr)
	case "consume":
		err = consumeCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "oopsflow", versionString())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usageHeader)
		return exitOK
	default:
		fmt.Fprintf(stderr, "oopsflow: unknown command %q\n\n%s", args[0], usageHeader)
		return exitUsage
	}
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "oopsflow:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "oopsflow:", err)
	return exitError_
}

func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}
