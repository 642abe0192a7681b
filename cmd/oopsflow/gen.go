package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/oopsflow/oopsflow/internal/fleetgen"
	"github.com/oopsflow/oopsflow/signatures"
)

func genCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("gen", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var c fleetgen.Config
	out := fl.String("o", "-", "output file (.gz is compressed), tcp://host:port (a log shipper's TCP input), or - for stdout")
	fl.BoolVar(&c.JSON, "json", false, "write JSON records {\"host\": ..., \"log\": line}, as a log shipper would")
	fl.BoolVar(&c.Realtime, "realtime", false, "pace the output at --rate lines per second of wall-clock time (a live stream)")
	start := fl.String("start", "2026-03-01T00:00:00Z", "time of the first line (RFC 3339), or now (live demos: dashboards show recent time)")
	formats := fl.String("formats", "rfc3164=60,rfc3339=25,rfc5424=10,journald=5", "per-host syslog formats and their weights")
	fl.IntVar(&c.Hosts, "hosts", 2000, "number of hosts")
	fl.Int64Var(&c.Lines, "lines", 1_000_000, "lines to write")
	fl.Int64Var(&c.CrashEvery, "crash-every", 20_000, "start a kernel crash report every N lines on average")
	fl.Float64Var(&c.CutRate, "cut-rate", 0.1, "fraction of crashes cut short, as when the host dies")
	fl.Float64Var(&c.KernelShare, "kernel-share", 0, "fraction of ordinary lines printed by the kernel (0: about a quarter)")
	fl.Uint64Var(&c.Seed, "seed", 1, "random seed (same seed, same output)")
	fl.IntVar(&c.Rate, "rate", 20_000, "fleet lines per second of log time")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	t, err := parseStart(*start, time.Now())
	if err != nil {
		return usageErr("--start: %v", err)
	}
	c.Start = t
	c.Formats = map[string]int{}
	for _, kv := range strings.Split(*formats, ",") {
		var name string
		var w int
		if _, err := fmt.Sscanf(strings.Replace(kv, "=", " ", 1), "%s %d", &name, &w); err != nil {
			return usageErr("--formats: %q is not name=weight", kv)
		}
		switch name {
		case "rfc3164", "rfc3339", "rfc5424", "journald":
		default:
			return usageErr("--formats: unknown format %q (rfc3164, rfc3339, rfc5424, journald)", name)
		}
		c.Formats[name] = w
	}
	c.Examples = signatures.FS

	w := stdout
	var closers []io.Closer
	if addr, ok := strings.CutPrefix(*out, "tcp://"); ok {
		conn, err := dialRetry(ctx, addr, time.Minute)
		if err != nil {
			return fmt.Errorf("gen: %w", err)
		}
		closers = append(closers, conn)
		w = conn
	} else if *out != "-" {
		fh, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("create output: %w", err)
		}
		closers = append(closers, fh)
		w = fh
		if strings.HasSuffix(*out, ".gz") {
			zw := gzip.NewWriter(fh)
			closers = append([]io.Closer{zw}, closers...)
			w = zw
		}
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	st, err := fleetgen.Generate(ctxWriter{ctx, bw}, c)
	if err == nil {
		err = bw.Flush()
	}
	for _, cl := range closers {
		if cerr := cl.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	fmt.Fprintf(stderr, "oopsflow gen: %d lines, %d bytes, %d hosts, %d crash reports (%d cut short)\n", st.Lines, st.Bytes, c.Hosts, st.Crashes, st.Cut)
	return nil
}

// ctxWriter stops a writer when ctx ends (a signal): the generator then
// returns with ctx's cause.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(b []byte) (int, error) {
	if c.ctx.Err() != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.w.Write(b)
}

// dialRetry connects to addr, retrying while the receiver is starting.
func dialRetry(ctx context.Context, addr string, within time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return conn, nil
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(time.Second):
		}
	}
}

// parseStart reads --start: an RFC 3339 time, or "now".
func parseStart(s string, now time.Time) (time.Time, error) {
	if s == "now" {
		return now.UTC().Truncate(time.Second), nil
	}
	return time.Parse(time.RFC3339, s)
}
