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
	"github.com/oopsflow/oopsflow/processor/alert"
	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/elastic"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/ndjson"
	"github.com/oopsflow/oopsflow/processor/pipeline"
	"github.com/oopsflow/oopsflow/signatures"
)

type scanFlags struct {
	webhook      string
	config       string
	output       string
	deadLetter   string
	es           esFlags
	format       string
	host         string
	failOn       string
	sigDirs      stringList
	noBuiltin    bool
	progress     string
	stats        bool
	maxLines     int
	maxHosts     int
	maxOpenBytes int64
	idle         time.Duration
	contextLine  int
	maxLineLen   int
	cpuProfile   string
	workers      int
	upstream     string
}

func scanCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f scanFlags
	d := assemble.DefaultConfig()
	fs.StringVar(&f.output, "output", "ndjson", "where documents go: ndjson (standard output, in --format) or elasticsearch (--es-url ...)")
	fs.StringVar(&f.deadLetter, "dead-letter", elastic.DefaultDeadLetterPath, "with --output elasticsearch: file for documents Elasticsearch rejects for good (created at the first rejection; exit status 4)")
	f.es.register(fs)
	fs.StringVar(&f.webhook, "webhook", "", "generic JSON webhook for alerts, signed with env OOPSFLOW_WEBHOOK_SECRET when set")
	fs.StringVar(&f.config, "config", "", "YAML configuration; scan uses its alerts section (receivers, grouping, policy)")
	fs.StringVar(&f.format, "format", "", "standard output: table (default on a terminal), ndjson (default otherwise: one document per line), json (an array); with --output elasticsearch only table prints")
	fs.StringVar(&f.host, "host", "", "host name for lines that carry none (console logs, dmesg, kmsg); lines in no syslog format are then read as that host's console")
	fs.StringVar(&f.failOn, "fail-on", "", "exit 3 when a report is found: 'known' (a known issue matched) or 'any'")
	fs.Var(&f.sigDirs, "signatures", "knowledge base directory, added to the built-in signatures (repeatable; a signature with a built-in id replaces it)")
	fs.BoolVar(&f.noBuiltin, "no-builtin-signatures", false, "use only the --signatures directories")
	fs.StringVar(&f.progress, "progress", "auto", "progress on stderr: auto (when stderr is a terminal), always, never")
	fs.BoolVar(&f.stats, "stats", false, "print counters to stderr at the end")
	fs.IntVar(&f.maxLines, "max-report-lines", d.MaxLines, "lines per report before it is closed as max_lines")
	fs.IntVar(&f.maxHosts, "max-hosts", d.MaxHosts, "hosts with assembly state; the least recently seen is evicted")
	fs.Int64Var(&f.maxOpenBytes, "max-open-bytes", d.MaxOpenBytes, "bytes held in open reports and context lines; over it the oldest open report is closed as memory_limit")
	fs.DurationVar(&f.idle, "idle", d.Idle, "log time after which a host's unfinished report is closed as idle")
	fs.IntVar(&f.contextLine, "context-lines", d.ContextLines, "lines remembered per host as context for the next report")
	fs.IntVar(&f.maxLineLen, "max-line-bytes", pipeline.DefaultMaxLine, "longer input lines are cut")
	fs.StringVar(&f.upstream, "upstream-index", "auto", "syzbot bug index (oopsflow upstream sync) to link reports to upstream fixes: a file, auto (the default file if it exists) or off")
	fs.IntVar(&f.workers, "workers", 0, "goroutines that decode lines ahead of the one that assembles them (0: the cores available); the output does not depend on it")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the scan to this file (go tool pprof)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: oopsflow scan [flags] [FILE...|-]\n\nReads files (plain or gzip) or standard input, finds kernel reports, and prints them.\nExit status: 0 ok, 1 error, 2 usage, 3 --fail-on condition met, 4 documents dead-lettered,\n130/143 stopped by SIGINT/SIGTERM (open reports are closed as shutdown and written first).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	for name, v := range map[string]float64{
		"max-report-lines": float64(f.maxLines), "max-hosts": float64(f.maxHosts), "max-open-bytes": float64(f.maxOpenBytes),
		"idle": f.idle.Seconds(), "context-lines": float64(f.contextLine), "max-line-bytes": float64(f.maxLineLen),
	} {
		if given[name] && v <= 0 {
			return usageErr("--%s %s: want a positive value (leave it out for the default)", name, fs.Lookup(name).Value)
		}
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
	switch f.output {
	case "ndjson", "elasticsearch":
	default:
		return usageErr("--output must be ndjson or elasticsearch, not %q", f.output)
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

	m, err := loadMatcher(f.sigDirs, f.noBuiltin)
	if err != nil {
		return &exitError{code: exitError_, err: err}
	}
	up, err := loadUpstream(f.upstream)
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

	var alertsCfg alert.FileConfig
	if f.config != "" {
		c, err := loadConsumeConfig(f.config)
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		alertsCfg = c.Alerts
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	notifier, err := buildNotifier(alertsCfg, f.webhook, log)
	if err != nil {
		return err
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
	case f.output == "elasticsearch":
		if es, err = newESSink(&f, log); err != nil {
			return err
		}
		out = deadlineOutput{es, f.es.timeout}
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
	cfg := pipeline.Config{
		Assemble:    assemble.Config{MaxLines: f.maxLines, MaxHosts: f.maxHosts, Idle: f.idle, ContextLines: f.contextLine, MaxOpenBytes: f.maxOpenBytes},
		DefaultHost: f.host,
		Console:     f.host != "",
		Workers:     f.workers,
		Upstream:    up,
	}
	if cfg.DefaultHost == "" {
		cfg.DefaultHost = "unknown"
	}
	p := pipeline.New(cfg, m, out)

	prog := newProgress(stderr, f.progress, inputs)
	defer prog.stop()
	var cut uint64
	var runErr error
	for _, in := range inputs {
		n, err := scanInput(ctx, p, in, stdin, f.maxLineLen, prog)
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
		closeCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), f.es.timeout)
		defer cancel()
	}
	if runErr == nil || stoppedBy(ctx) != nil {
		if err := p.Close(closeCtx, reason); err != nil && runErr == nil {
			runErr = err
		}
	}
	var deadLettered uint64
	if es != nil {
		esCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.es.timeout)
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
	br := bufio.NewReaderSize(r, 256<<10)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			closeInput()
			return nil, name, nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		fileClose := closeInput
		return bufio.NewReaderSize(zr, 256<<10), name, func() { zr.Close(); fileClose() }, nil
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
func newESSink(f *scanFlags, log *slog.Logger) (*elastic.Sink, error) {
	cfg, err := f.es.config()
	if err != nil {
		return nil, err
	}
	cfg.DeadLetterPath = f.deadLetter
	cfg.Logger = log
	s, err := elastic.NewSink(cfg)
	if err != nil {
		return nil, &exitError{code: exitError_, err: err}
	}
	return s, nil
}
