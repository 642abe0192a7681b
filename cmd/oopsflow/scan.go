package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/oopsflow/oopsflow/internal/summary"
	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/config"
	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/elastic"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/ndjson"
	"github.com/oopsflow/oopsflow/processor/pipeline"
	"github.com/oopsflow/oopsflow/signatures"
)

// scanFlags are scan's own flags: how this run prints and stops. Every
// other setting is in the configuration (processor/config).
type scanFlags struct {
	format     string
	host       string
	failOn     string
	progress   string
	stats      bool
	cpuProfile string
	workers    int
}

func scanCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f scanFlags
	config.Register(fs, config.Scan)
	fs.StringVar(&f.format, "format", "", "standard output: table (default on a terminal), ndjson (default otherwise: one document per line), json (an array); with --output elasticsearch only table prints")
	fs.StringVar(&f.host, "host", "", "host name for lines that carry none (console logs, dmesg, kmsg); lines in no syslog format are then read as that host's console")
	fs.StringVar(&f.failOn, "fail-on", "", "exit 3 when a report is found: 'known' (a known issue matched) or 'any'")
	fs.StringVar(&f.progress, "progress", "auto", "progress on stderr: auto (when stderr is a terminal), always, never")
	fs.BoolVar(&f.stats, "stats", false, "print counters to stderr at the end")
	fs.IntVar(&f.workers, "workers", 0, "goroutines that decode lines ahead of the one that assembles them (0: the cores available); the output does not depend on it")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the scan to this file (go tool pprof)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: oopsflow scan [flags] [FILE...|-]\n\nReads files (plain or gzip) or standard input, finds kernel reports, and prints them.\nSettings come from the defaults, then --config, then the environment, then the flags.\nExit status: 0 ok, 1 error, 2 usage, 3 --fail-on condition met, 4 documents dead-lettered,\n130/143 stopped by SIGINT/SIGTERM (open reports are closed as shutdown and written first).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(config.Sources{Front: config.Scan, Flags: fs})
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if f.workers < 0 {
		return usageErr("--workers %d: want 0 (the cores available) or more", f.workers)
	}
	stdoutTTY := isTerminal(stdout)
	if f.format == "" {
		f.format = "ndjson"
		if stdoutTTY {
			f.format = "table"
		}
	}
	switch f.format {
	case "table", "ndjson", "json":
	default:
		return usageErr("--format must be table, ndjson or json, not %q", f.format)
	}
	switch f.failOn {
	case "", "known", "any":
	default:
		return usageErr("--fail-on must be known or any, not %q", f.failOn)
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		if isTerminal(stdin) {
			return usageErr("no input: give files, or pipe logs to standard input (oopsflow scan -h)")
		}
		inputs = []string{"-"}
	}

	m, err := loadMatcher(cfg.Signatures, cfg.NoBuiltinSignatures)
	if err != nil {
		return &exitError{code: exitError_, err: err}
	}
	up, err := loadUpstream(cfg.UpstreamIndex)
	if err != nil {
		return &exitError{code: exitError_, err: err}
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return &exitError{code: exitError_, err: fmt.Errorf("cpu profile: %w", err)}
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return &exitError{code: exitError_, err: fmt.Errorf("cpu profile: %w", err)}
		}
		defer pprof.StopCPUProfile()
	}

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	notifier, err := cfg.Notifier(log)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if notifier != nil {
		go notifier.Run(ctx)
	}

	// The output: standard output in --format, or Elasticsearch. Documents
	// count for the summary, alerts and --fail-on once they are durable.
	sum := summary.New()
	var (
		out      pipeline.Output
		es       *elastic.Sink
		lines    *ndjson.Writer
		known    atomic.Bool
		anything atomic.Bool
	)
	switch {
	case cfg.Output == "elasticsearch":
		if es, err = newESSink(cfg, log); err != nil {
			return err
		}
		out = deadlineOutput{es, cfg.Elasticsearch.Timeout}
	case f.format == "ndjson":
		lines = ndjson.New(stdout)
		out = lines
	case f.format == "json":
		lines = ndjson.NewArray(stdout)
		out = lines
	default:
		out = pipeline.OutputFunc(func(*document.Document) error { return nil })
	}
	out = pipeline.Observe(out, func(d *document.Document) {
		anything.Store(true)
		if d.Rule != nil {
			known.Store(true)
		}
		if f.format == "table" {
			sum.Add(d)
		}
		if notifier != nil {
			notifier.Observe(d)
		}
	})
	pcfg := pipeline.Config{
		Assemble:    cfg.AssembleConfig(),
		DefaultHost: f.host,
		Console:     f.host != "",
		Workers:     f.workers,
		Upstream:    up,
	}
	if pcfg.DefaultHost == "" {
		pcfg.DefaultHost = "unknown"
	}
	p := pipeline.New(pcfg, m, out)

	prog := newProgress(stderr, f.progress, inputs)
	defer prog.stop()
	var cut uint64
	var runErr error
	for _, in := range inputs {
		n, err := scanInput(ctx, p, in, stdin, cfg.Assembly.MaxLineBytes, prog)
		cut += n
		if err != nil {
			runErr = err
			break
		}
	}
	prog.stop()
	// Close the reports still open: at the end of the input, or at a
	// signal (as shutdown, written before exiting). A failed output gets
	// nothing more.
	reason, closeCtx := assemble.EOF, ctx
	if stoppedBy(ctx) != nil {
		reason = assemble.Shutdown
		var cancel context.CancelFunc
		closeCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), cfg.Elasticsearch.Timeout)
		defer cancel()
	}
	if runErr == nil || stoppedBy(ctx) != nil {
		if err := p.Close(closeCtx, reason); err != nil && runErr == nil {
			runErr = err
		}
	}
	var deadLettered uint64
	if es != nil {
		esCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Elasticsearch.Timeout)
		err := es.Close(esCtx)
		cancel()
		st := es.Stats()
		deadLettered = st.DeadLettered
		fmt.Fprintf(stderr, "oopsflow: elasticsearch %s: %d indexed, %d already there, %d dead-lettered, %d retries, %d requests, %d bytes\n",
			es.Index(), st.Indexed, st.Duplicates, st.DeadLettered, st.Retried, st.Requests, st.BytesSent)
		if err != nil && runErr == nil {
			runErr = err
		}
	}
	if lines != nil {
		if err := lines.Close(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if f.format == "table" && runErr == nil {
		bw := bufio.NewWriter(stdout)
		if err := sum.Render(bw, summary.Style{Color: stdoutTTY && os.Getenv("NO_COLOR") == ""}); err == nil {
			err = bw.Flush()
		}
		if err != nil {
			runErr = fmt.Errorf("write output: %w", err)
		}
	}
	if err := closeNotifier(notifier, stderr, f.stats); err != nil && runErr == nil {
		runErr = err
	}
	if f.stats || (isTerminal(stderr) && f.format != "table") {
		s := p.Stats()
		fmt.Fprintf(stderr, "oopsflow: %d lines (%d kernel, %d undecodable, %d cut to --max-line-bytes), %d reports (%d known, %d truncated, %d closed at the memory bound), %d hosts evicted\n",
			s.Lines, s.KernelLines, s.Undecodable, cut, s.Reports, s.Known, s.Assemble.Truncated, s.Assemble.MemoryLimit, s.Assemble.EvictedHosts)
	}
	switch {
	case runErr != nil:
		return &exitError{code: exitError_, err: runErr}
	case deadLettered > 0:
		return &exitError{code: exitDeadLetter, err: fmt.Errorf("%d document(s) rejected by Elasticsearch were written to %s", deadLettered, es.DeadLetterName())}
	case f.failOn == "known" && known.Load(), f.failOn == "any" && anything.Load():
		return &exitError{code: exitFailOn}
	}
	return nil
}

// deadlineOutput bounds each write to Elasticsearch: a full sink that makes
// no room within timeout (Elasticsearch unreachable) fails the scan instead
// of hanging it.
type deadlineOutput struct {
	s       *elastic.Sink
	timeout time.Duration
}

func (o deadlineOutput) Write(ctx context.Context, d *document.Document, done func(error)) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	return o.s.Write(ctx, d, done)
}

// scanInput feeds one file (or stdin for "-") into the pipeline, unzipping
// gzip input. It returns the number of lines cut to the length limit.
func scanInput(ctx context.Context, p *pipeline.Pipeline, name string, stdin io.Reader, maxLine int, prog *progress) (uint64, error) {
	r, name, closeInput, err := openInput(ctx, name, stdin, prog)
	if err != nil {
		return 0, err
	}
	defer closeInput()
	p.SetSource(document.Source{File: name})
	cut, err := pipeline.Feed(ctx, p, r, maxLine)
	if err != nil {
		return cut, fmt.Errorf("%s: %w", name, err)
	}
	return cut, nil
}

// inputBuffer is the buffer of openInput's reader: room for what "rules
// new" peeks at, and smaller than the blocks pipeline.Feed reads, so that
// those reads go past it into the block instead of being copied twice.
const inputBuffer = 64 << 10

// openInput opens a file, or stdin for "-" (named "stdin"), interruptible
// by ctx, counted by prog (may be nil), unzipped when it is gzip. The
// reader is buffered: Peek works on it.
func openInput(ctx context.Context, name string, stdin io.Reader, prog *progress) (*bufio.Reader, string, func(), error) {
	var r io.Reader
	closeInput := func() {}
	if name == "-" {
		r = stdin
		name = "stdin"
	} else {
		fh, err := os.Open(name)
		if err != nil {
			return nil, name, nil, fmt.Errorf("open input: %w", err)
		}
		r, closeInput = fh, func() { fh.Close() }
	}
	r = interruptible(ctx, r)
	if prog != nil {
		r = prog.count(r)
	}
	br := bufio.NewReaderSize(r, inputBuffer)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			closeInput()
			return nil, name, nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		fileClose := closeInput
		return bufio.NewReaderSize(zr, inputBuffer), name, func() { zr.Close(); fileClose() }, nil
	}
	return br, name, closeInput, nil
}

// sources is the knowledge base of a front end: the built-in signatures
// (unless noBuiltin) and the user directories.
func sources(dirs []string, noBuiltin bool) matcher.Sources {
	return matcher.Sources{Builtin: signatures.FS, NoBuiltin: noBuiltin, Dirs: dirs}
}

func loadMatcher(dirs []string, noBuiltin bool) (*matcher.Matcher, error) {
	set, err := matcher.LoadSet(sources(dirs, noBuiltin))
	if err != nil {
		return nil, err
	}
	return matcher.New(set.Signatures), nil
}

// stringList is a repeatable string flag (also "a,b").
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func isTerminal(x any) bool {
	f, ok := x.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress prints bytes read (and a percentage for files) to a terminal.
type progress struct {
	w       io.Writer
	total   int64
	read    atomic.Int64
	done    chan struct{}
	exited  sync.WaitGroup
	stopped atomic.Bool
	on      bool
}

func newProgress(w io.Writer, mode string, inputs []string) *progress {
	p := &progress{w: w, done: make(chan struct{})}
	switch mode {
	case "always":
		p.on = true
	case "auto":
		p.on = isTerminal(w)
	}
	for _, in := range inputs {
		if st, err := os.Stat(in); err == nil && in != "-" {
			p.total += st.Size()
		}
	}
	if p.on {
		p.exited.Add(1)
		go func() {
			defer p.exited.Done()
			p.loop()
		}()
	}
	return p
}

func (p *progress) count(r io.Reader) io.Reader {
	if !p.on {
		return r
	}
	return &countingReader{r: r, n: &p.read}
}

func (p *progress) loop() {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-p.done:
			fmt.Fprint(p.w, "\r\x1b[K")
			return
		case <-t.C:
			read := p.read.Load()
			var b strings.Builder
			fmt.Fprintf(&b, "\rscanning: %s", humanBytes(read))
			if p.total > 0 {
				fmt.Fprintf(&b, " of %s (%.0f%%)", humanBytes(p.total), 100*float64(read)/float64(p.total))
			}
			if secs := time.Since(start).Seconds(); secs > 0 {
				fmt.Fprintf(&b, ", %s/s", humanBytes(int64(float64(read)/secs)))
			}
			fmt.Fprint(p.w, b.String()+"\x1b[K")
		}
	}
}

func (p *progress) stop() {
	if p.on && p.stopped.CompareAndSwap(false, true) {
		close(p.done)
		p.exited.Wait()
	}
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// newESSink connects the Elasticsearch sink of scan --output elasticsearch.
func newESSink(cfg *config.Config, log *slog.Logger) (*elastic.Sink, error) {
	escfg, err := cfg.ElasticConfig()
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	escfg.Logger = log
	s, err := elastic.NewSink(escfg)
	if err != nil {
		return nil, &exitError{code: exitError_, err: err}
	}
	return s, nil
}
