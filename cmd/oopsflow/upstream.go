package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/upstream"
)

// upstreamCmd runs "oopsflow upstream sync|lookup".
func upstreamCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "sync" && args[0] != "lookup") {
		fmt.Fprint(stderr, `Usage:
  oopsflow upstream sync [--namespace upstream,linux-6.1,linux-5.15] [-o FILE]
      download syzbot's open and fixed bug lists into a local index
  oopsflow upstream lookup [--index FILE] TITLE
      show what the index knows of a report title
`)
		return &exitError{code: exitUsage}
	}
	if args[0] == "lookup" {
		return upstreamLookup(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("upstream sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	namespaces := fs.String("namespace", strings.Join(upstream.DefaultNamespaces, ","), "syzbot namespaces (kernel trees), comma-separated")
	out := fs.String("o", upstream.DefaultPath(), "index file to write (scan, consume and the plugin read this one by default)")
	dash := fs.String("dashboard-url", upstream.DefaultDashboard, "the dashboard (a private mirror, or a test server)")
	timeout := fs.Duration("timeout", time.Minute, "bound on each download")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("upstream sync takes no arguments (got %q)", fs.Args())
	}
	var nss []string
	for _, ns := range strings.Split(*namespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			nss = append(nss, ns)
		}
	}
	cfg := upstream.SyncConfig{Dashboard: *dash, Namespaces: nss, Timeout: *timeout,
		UserAgent: "oopsflow/" + versionString() + " (kernel crash triage; one request per bug list per sync)"}
	// A previous index lets the dashboard answer "not modified".
	if prev, err := upstream.Load(*out); err == nil {
		cfg.Previous = prev
	}
	if isTerminal(stderr) {
		cfg.Progress = func(what string) { fmt.Fprintf(stderr, "\r\x1b[Kfetching %s...", what) }
		defer fmt.Fprint(stderr, "\r\x1b[K")
	}
	x, err := upstream.Sync(ctx, cfg)
	if err != nil {
		return &exitError{code: exitError_, err: fmt.Errorf("upstream sync: %w (the previous index, if any, is unchanged)", err)}
	}
	if err := x.Save(*out); err != nil {
		return &exitError{code: exitError_, err: err}
	}
	fmt.Fprintf(stdout, "oopsflow: upstream index %s: %d bugs from %s (%s)\n", *out, x.Len(), cfg.Dashboard, strings.Join(nss, ", "))
	return nil
}

func upstreamLookup(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("upstream lookup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	index := fs.String("index", upstream.DefaultPath(), "index file (written by upstream sync)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("upstream lookup takes one title")
	}
	x, err := upstream.Load(*index)
	if err != nil {
		return &exitError{code: exitError_, err: err}
	}
	m, ok := x.Lookup(fs.Arg(0))
	if !ok {
		fmt.Fprintln(stdout, "not in the index")
		return nil
	}
	var d document.Document
	d.SetUpstream(m)
	fmt.Fprintln(stdout, d.Oops.Upstream.Summary())
	return nil
}

// loadUpstream opens the upstream index a front end was given (see
// upstream.OpenIndex).
func loadUpstream(spec string) (*upstream.Index, error) { return upstream.OpenIndex(spec) }
