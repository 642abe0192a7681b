// Command oopsflow finds kernel crash reports in fleet syslog, recognises
// known kernel bugs, and writes enriched documents.
//
//	oopsflow scan [flags] [FILE...|-]     files or stdin -> table, NDJSON or Elasticsearch
//	oopsflow setup --es-url URL           templates, lifecycle and Kibana dashboards
//	oopsflow consume --brokers ... --topic ...   Kafka consumer group
//	oopsflow rules lint|test|list|new|init the knowledge base
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
	exitOK         = 0
	exitError_     = 1   // runtime failure: unreadable input, bad knowledge base, output failed
	exitUsage      = 2   // bad command line
	exitFailOn     = 3   // --fail-on condition met
	exitDeadLetter = 4   // documents were rejected by Elasticsearch and written to the dead-letter file
	exitSIGINT     = 130 // stopped by SIGINT (128 + 2)
	exitSIGTERM    = 143 // stopped by SIGTERM (128 + 15)
	usageHeader    = `oopsflow finds kernel crash reports (oopses, panics, lockups, hung tasks, ...)
in fleet syslog, recognises known kernel bugs and writes enriched documents.

Usage:
  oopsflow scan [flags] [FILE...|-]   scan files (plain or .gz) or stdin
  oopsflow setup --es-url URL [--kibana-url URL]   install templates, lifecycle, dashboards
  oopsflow consume --brokers H:P --topic T [--group G]   Kafka consumer group -> Elasticsearch
  oopsflow rules lint [--signatures DIR]   validate the knowledge base
  oopsflow rules test [--signatures DIR]   run every signature's examples
  oopsflow rules list [--signatures DIR]   list known issues
  oopsflow rules new --from FILE [--report N] --id ID [-o DIR]
                                          draft a signature from a crash in a log
  oopsflow rules init DIR                 lay out a signatures repository (README, schema, CI)
  oopsflow upstream sync [-o FILE]     download syzbot's bug lists: link reports to upstream fixes
  oopsflow gen [flags]                 write realistic fleet syslog
  oopsflow version

Run "oopsflow COMMAND -h" for a command's flags.
`
)

func main() {
	// SIGINT and SIGTERM end ctx with the signal as its cause: scan stops
	// reading, closes open reports as shutdown, flushes and exits 130/143;
	// consume hands its partitions over and exits. A second signal exits at
	// once.
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		cancel(&signalError{sig})
		sig = <-sigs
		fmt.Fprintf(os.Stderr, "oopsflow: %v again: exiting now\n", sig)
		os.Exit(signalCode(sig))
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	signal.Stop(sigs)
	os.Exit(code)
}

// signalError is the cause of a context ended by a signal.
type signalError struct{ sig os.Signal }

func (e *signalError) Error() string { return "stopped by " + e.sig.String() }

// signalCode is the exit status after sig: 128 + its number, as shells do.
func signalCode(sig os.Signal) int {
	if sig == syscall.SIGTERM {
		return exitSIGTERM
	}
	return exitSIGINT
}

// stoppedBy returns the signal that ended ctx, nil if none did.
func stoppedBy(ctx context.Context) os.Signal {
	var se *signalError
	if errors.As(context.Cause(ctx), &se) {
		return se.sig
	}
	return nil
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
		err = scanCmd(ctx, args[1:], stdin, stdout, stderr)
	case "rules":
		err = rulesCmd(ctx, args[1:], stdin, stdout, stderr)
	case "gen":
		err = genCmd(ctx, args[1:], stdout, stderr)
	case "setup":
		err = setupCmd(ctx, args[1:], stdout, stderr)
	case "consume":
		err = consumeCmd(ctx, args[1:], stdout, stderr)
	case "upstream":
		err = upstreamCmd(ctx, args[1:], stdout, stderr)
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
	if sig := stoppedBy(ctx); sig != nil && args[0] != "consume" {
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage {
			fmt.Fprintf(stderr, "oopsflow: %s: stopped by %v\n", args[0], sig)
			return signalCode(sig)
		}
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

// parseFlags parses flags wherever they are among the arguments (scan
// kern.log --format ndjson), as users type them; "--" ends the flags. The
// positional arguments are left in fl.Args().
func parseFlags(fl *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return err
			}
			return &exitError{code: exitUsage}
		}
		rest := fl.Args()
		if len(rest) == 0 {
			break
		}
		// flag stops at the first non-flag argument, or after "--".
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return fl.Parse(append([]string{"--"}, pos...))
}
