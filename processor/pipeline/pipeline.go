// Package pipeline wires the steps together: line -> Line (logline) ->
// report (assemble) -> Oops (oops) -> verdict (matcher) -> Document
// (document) -> Output. The three front ends (the scan command, the Kafka
// consumer and the Fluent Bit plugin) are thin shells around a Pipeline.
//
// Delivery rule. The pipeline knows, for every position it was given (a file
// line, a Kafka offset, a Fluent Bit record), whether what came of it is
// durable: lines in an open report are not; a finished report waiting for
// room in the output is not; a document the output accepted is not until the
// output calls its done callback. Watermark returns the first position that
// is not durable, so a front end acknowledges (commits an offset, answers
// FLB_OK for a chunk) only below it. A document the output loses for good
// (done with an error) pins the watermark and makes Err non-nil: the front
// end stops acknowledging and says so.
//
// A Pipeline is fed by one goroutine; Watermark, InFlight and Err may be
// called from others. It holds no package-level state, so a process may run
// several.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/logline"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/oops"
	"github.com/oopsflow/oopsflow/processor/upstream"
)

// Output receives finished documents: Elasticsearch, an NDJSON file, a test.
type Output interface {
	// Write hands d to the output. It may block while the output is full,
	// until ctx is done (then it returns ctx's error and did not take d;
	// with a ctx that is already done it only tries). After a nil return
	// the output calls done exactly once, from any goroutine and possibly
	// before Write returns: with nil when d is durable (stored, or already
	// there), with an error when it never will be.
	Write(ctx context.Context, d *document.Document, done func(error)) error
}

// OutputFunc adapts a synchronous function to Output: d is durable when f
// returns nil.
type OutputFunc func(*document.Document) error

// Write calls f and reports d durable when f succeeds.
func (f OutputFunc) Write(_ context.Context, d *document.Document, done func(error)) error {
	if err := f(d); err != nil {
		return err
	}
	done(nil)
	return nil
}

// Observe returns an Output that writes to out and calls observe(d) for each
// document out reports durable (alerts go out only for what is stored). It
// passes Flush on to out when out has one.
func Observe(out Output, observe func(*document.Document)) Output {
	return observed{out, observe}
}

type observed struct {
	out     Output
	observe func(*document.Document)
}

func (o observed) Write(ctx context.Context, d *document.Document, done func(error)) error {
	return o.out.Write(ctx, d, func(err error) {
		if err == nil {
			o.observe(d)
		}
		done(err)
	})
}

// Flush flushes the wrapped output if it batches.
func (o observed) Flush(ctx context.Context) error {
	if f, ok := o.out.(interface{ Flush(context.Context) error }); ok {
		return f.Flush(ctx)
	}
	return nil
}

// Config configures a pipeline.
type Config struct {
	Assemble assemble.Config
	// DefaultHost names the host of lines that carry none.
	DefaultHost string
	// Console treats lines in no known format as DefaultHost's console.
	Console bool
	// Location is the zone of timestamps written without one. Default UTC.
	Location *time.Location
	// Keys are the record keys for JSON and Fluent Bit records.
	Keys logline.Keys
	// WallIdle closes, on Tick, every open report once no line at all has
	// come for this long by the wall clock, and the reports of hosts whose
	// lines carry no wall-clock time (kmsg, console) once they have been
	// quiet that long (default 5m). Every other decision about where a
	// report ends is taken on log time and content, so that the same lines
	// give the same documents from every front end, however slowly they
	// come (as long as no gap reaches WallIdle).
	WallIdle time.Duration
	// Now returns the current time (document creation). Default time.Now.
	Now func() time.Time
	// Year is the reference time for RFC 3164 timestamps, which have no
	// year. Default Now.
	Year func() time.Time
	// Upstream, when set, links each document to the syzbot bug with the
	// same title (oops.upstream).
	Upstream *upstream.Index
	// Workers is how many goroutines decode and classify lines for Feed,
	// ahead of the one that assembles them in order (default: the cores
	// Go may use). The documents do not depend on it. Console input is
	// decoded on one (its decoding depends on the lines before).
	Workers int
}

// DefaultWallIdle is the default Config.WallIdle.
const DefaultWallIdle = 5 * time.Minute

// Stats counts the pipeline's work.
type Stats struct {
	Lines       uint64 // input lines and records
	Bytes       uint64 // input bytes
	Undecodable uint64 // lines in no known format (skipped)
	KernelLines uint64 // lines the kernel printed
	Reports     uint64 // documents built
	Known       uint64 // of which matched a known issue
	Durable     uint64 // documents the output reported durable
	Failed      uint64 // documents the output reported lost for good
	Assemble    assemble.Stats
}

// ErrFailed wraps the error of a document the output lost for good.
var ErrFailed = errors.New("document not delivered")

// Pipeline processes lines into documents.
type Pipeline struct {
	cfg     Config
	dec     logline.Decoder
	asm     *assemble.Assembler
	matcher *matcher.Matcher
	out     Output
	line    logline.Line
	clock   time.Time // log clock: the newest line time seen (see logClock)
	clockN  int64     // clock in Unix nanoseconds (0: none yet)
	stale   bool      // clock is behind clockN
	tickN   int64     // clockN at the last Advance
	fed     bool      // lines came since the last Tick
	active  time.Time // wall clock at the last Tick that followed lines
	source  document.Source
	stats   Stats

	// queue holds finished reports not yet taken by the output, in the
	// order they finished (reports closed together in the order they
	// started). A document the output refused stays at the head.
	queue   []queued
	refused error              // why the output last refused the head of the queue
	closing []*assemble.Report // reports the assembler closed during the current call
	// spans are the first and last positions of the reports closed since
	// the watermark last passed them (see Watermark); a front end that
	// never asks for the watermark (scan) gets them pruned at spanLimit.
	spans     []span
	spanNext  int64 // the position after the last line of a closed report
	spanLimit int

	mu        sync.Mutex    // guards pending, inFlight, failed and the durable counters
	pending   map[int64]int // first position -> documents taken and not yet durable (or lost)
	inFlight  int
	failed    error
	hasFailed atomic.Bool // failed != nil, read without the lock on every line
	durable   uint64
	lost      uint64
	progress  chan struct{} // a document became durable or lost (capacity 1)
}

type queued struct {
	r *assemble.Report
	d *document.Document // built on the first attempt
}

// New returns a pipeline. m may hold no signatures; out must not be nil.
func New(cfg Config, m *matcher.Matcher, out Output) *Pipeline {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.WallIdle <= 0 {
		cfg.WallIdle = DefaultWallIdle
	}
	if m == nil {
		m = matcher.New(nil)
	}
	p := &Pipeline{cfg: cfg, matcher: m, out: out, pending: map[int64]int{}, progress: make(chan struct{}, 1)}
	p.dec = p.newDecoder()
	p.asm = assemble.New(cfg.Assemble, func(r *assemble.Report) { p.closing = append(p.closing, r) })
	return p
}

// newDecoder returns a line decoder configured for the pipeline.
func (p *Pipeline) newDecoder() logline.Decoder {
	d := logline.Decoder{DefaultHost: p.cfg.DefaultHost, Console: p.cfg.Console, Location: p.cfg.Location, Keys: p.cfg.Keys, Now: p.cfg.Year, RawHost: true}
	if d.Now == nil {
		d.Now = p.cfg.Now
	}
	return d
}

// SetSource describes where the following lines come from (file name, Kafka
// topic and partition). Reports carry the source in effect when they end.
func (p *Pipeline) SetSource(s document.Source) { p.source = s }

// Line processes one raw line; pos is its position in the source (a line
// number, an offset), increasing. Undecodable lines are counted and
// skipped. The line is always taken; the error says that finished documents
// could not be handed to the output (ctx ended while it was full), or that
// the output lost one for good (Err).
func (p *Pipeline) Line(ctx context.Context, raw []byte, pos int64) error {
	p.stats.Lines++
	p.stats.Bytes += uint64(len(raw)) + 1
	p.fed = true
	if err := p.dec.Decode(raw, &p.line); err != nil {
		p.stats.Undecodable++
		return p.flushQueue(ctx)
	}
	return p.feed(ctx, pos)
}

// LineHost processes one raw line whose host, when the line carries none,
// is host (a Kafka message key). An empty host falls back to DefaultHost.
func (p *Pipeline) LineHost(ctx context.Context, raw, host []byte, pos int64) error {
	if len(host) == 0 {
		return p.Line(ctx, raw, pos)
	}
	saved := p.dec.DefaultHost
	p.dec.DefaultHost = p.dec.InternHost(host)
	err := p.Line(ctx, raw, pos)
	p.dec.DefaultHost = saved
	return err
}

// Record processes one structured record (journald entry, Fluent Bit map)
// with its own timestamp ts (may be zero). A record that is not a log line
// is counted as undecodable.
func (p *Pipeline) Record(ctx context.Context, rec map[string]any, ts time.Time, pos int64) error {
	return p.RecordFields(ctx, logline.MapFields(rec), ts, pos)
}

// RecordFields is Record for a record read through logline.Fields (the
// Fluent Bit plugin reads its msgpack records in place). The record's bytes
// need to stay valid only until it returns.
func (p *Pipeline) RecordFields(ctx context.Context, rec logline.Fields, ts time.Time, pos int64) error {
	p.stats.Lines++
	p.fed = true
	if err := p.dec.DecodeFields(rec, ts, &p.line); err != nil {
		p.stats.Undecodable++
		return p.flushQueue(ctx)
	}
	return p.feed(ctx, pos)
}

func (p *Pipeline) feed(ctx context.Context, pos int64) error {
	l := &p.line
	p.advanceClock(l.Time)
	if l.Kernel {
		p.stats.KernelLines++
		p.asm.Add(l, p.logClock(), pos)
	}
	return p.flushQueue(ctx)
}

// advanceClock moves the log clock (the newest line time seen) and closes
// idle reports once per second of it.
func (p *Pipeline) advanceClock(t time.Time) {
	if t.IsZero() {
		p.advanceClockN(0)
		return
	}
	p.advanceClockN(t.UnixNano())
}

// advanceClockN is advanceClock for a time given in Unix nanoseconds (0
// for a line without a time).
func (p *Pipeline) advanceClockN(n int64) {
	if n > p.clockN {
		p.clockN, p.stale = n, true
	}
	if p.clockN-p.tickN >= int64(time.Second) {
		p.tickN = p.clockN
		p.asm.Advance(p.logClock())
	}
}

// logClock returns the log clock as a time.
func (p *Pipeline) logClock() time.Time {
	if p.stale {
		p.clock, p.stale = time.Unix(0, p.clockN).UTC(), false
	}
	return p.clock
}

// Tick tells the pipeline the wall-clock time: reports of streams quiet for
// WallIdle are closed, and documents waiting for room are offered to the
// output again. Streaming front ends call it about once a second.
func (p *Pipeline) Tick(ctx context.Context, wall time.Time) error {
	if p.fed || p.active.IsZero() {
		p.active, p.fed = wall, false
	}
	p.asm.SetWall(wall)
	p.asm.AdvanceWall(wall, p.cfg.WallIdle, wall.Sub(p.active) >= p.cfg.WallIdle)
	return p.flushQueue(ctx)
}

// Flush offers the documents waiting for room to the output again.
func (p *Pipeline) Flush(ctx context.Context) error { return p.flushQueue(ctx) }

// Close ends the input: every open report is closed with reason (EOF for
// files, Shutdown when stopping) and handed to the output.
func (p *Pipeline) Close(ctx context.Context, reason assemble.EndReason) error {
	p.asm.Flush(reason)
	return p.flushQueue(ctx)
}

// Discard drops the reports being assembled and the finished ones not yet
// handed to the output, without emitting them (a revoked Kafka partition:
// the next owner reads them again).
func (p *Pipeline) Discard() {
	p.asm.Discard()
	p.closing = p.closing[:0]
	p.queue = nil
	p.spans = nil
}

// span is the positions of a closed report's first and last lines.
type span struct{ first, last int64 }

// minSpanLimit is how many spans are kept before they are pruned without
// a front end asking for the watermark.
const minSpanLimit = 1024

// Undecodable is Stats().Undecodable, without copying the rest.
func (p *Pipeline) Undecodable() uint64 { return p.stats.Undecodable }

// Stats returns the counters so far.
func (p *Pipeline) Stats() Stats {
	s := p.stats
	s.Assemble = p.asm.Stats()
	p.mu.Lock()
	s.Durable, s.Failed = p.durable, p.lost
	p.mu.Unlock()
	return s
}

// OpenReports is the number of reports being assembled.
func (p *Pipeline) OpenReports() int { return p.asm.OpenReports() }

// Waiting is the number of finished documents not yet taken by the output.
func (p *Pipeline) Waiting() int { return len(p.queue) }

// Refused returns why the output last refused a document that is still
// waiting ("output full", a write error), nil when none waits. Call it from
// the feeding goroutine.
func (p *Pipeline) Refused() error {
	if len(p.queue) == 0 {
		return nil
	}
	return p.refused
}

// InFlight is the number of documents the output took and has not yet
// reported durable (or lost). Safe to call from any goroutine.
func (p *Pipeline) InFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inFlight
}

// WaitInFlight waits until no document is in flight or ctx ends; it returns
// the documents still in flight. Safe to call from any goroutine.
func (p *Pipeline) WaitInFlight(ctx context.Context) int {
	for {
		n := p.InFlight()
		if n == 0 {
			return 0
		}
		select {
		case <-p.progress:
		case <-ctx.Done():
			return p.InFlight()
		}
	}
}

// Err returns the first error of a document the output lost for good, nil
// if none. Safe to call from any goroutine.
func (p *Pipeline) Err() error {
	if !p.hasFailed.Load() {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}

// OldestOpen returns the first position of the oldest report still being
// assembled; ok is false when none is. Call it from the feeding goroutine.
func (p *Pipeline) OldestOpen() (pos int64, ok bool) { return p.asm.OldestOpen() }

// Watermark returns the first position whose lines are not all durable:
// the smallest first position of a report being assembled, of a recent line
// that may still become a report's context, of a finished report waiting for
// the output, and of a document the output has not reported durable (or
// lost); next (the position after the last line given) when there is none.
// A front end acknowledges only positions below it. Call it from the
// feeding goroutine (or with the feeding stopped).
//
// The watermark never falls inside a closed report: whoever reads again
// from it must read such a report whole (and index it again, a no-op) and
// not its tail alone, where a line such as "Kernel panic - not syncing"
// would start a report of its own.
func (p *Pipeline) Watermark(next int64) int64 {
	w := next
	if first, ok := p.asm.OldestOpen(); ok && first < w {
		w = first
	}
	if first, ok := p.asm.OldestContext(p.logClock(), p.cfg.WallIdle); ok && first < w {
		w = first
	}
	for _, q := range p.queue {
		if q.r.FirstPos < w {
			w = q.r.FirstPos
		}
	}
	p.mu.Lock()
	for first := range p.pending {
		if first < w {
			w = first
		}
	}
	p.mu.Unlock()
	// Back to the start of a closed report that straddles it, until none
	// does; spans wholly below it are forgotten.
	for moved := true; moved; {
		moved = false
		for _, s := range p.spans {
			if s.first < w && w <= s.last {
				w, moved = s.first, true
			}
		}
	}
	p.spans = slices.DeleteFunc(p.spans, func(s span) bool { return s.last < w })
	return w
}

// flushQueue moves the reports the assembler just closed to the queue, in
// order, and hands the queue to the output until it is empty or the output
// refuses (ctx done while it is full).
func (p *Pipeline) flushQueue(ctx context.Context) error {
	if len(p.closing) == 0 && len(p.queue) == 0 {
		return p.Err() // the common case: nothing to hand over
	}
	for _, r := range p.closing {
		p.queue = append(p.queue, queued{r: r})
		p.spans = append(p.spans, span{r.FirstPos, r.LastPos})
		p.spanNext = max(p.spanNext, r.LastPos+1)
	}
	if len(p.spans) > max(p.spanLimit, minSpanLimit) {
		p.Watermark(p.spanNext) // forgets the spans wholly below it
		p.spanLimit = 2 * len(p.spans)
	}
	p.closing = p.closing[:0]
	for len(p.queue) > 0 {
		q := &p.queue[0]
		if q.d == nil {
			q.d = p.build(q.r)
		}
		if err := p.write(ctx, q.d); err != nil {
			p.refused = err
			return err
		}
		p.queue[0] = queued{}
		p.queue = p.queue[1:]
	}
	if len(p.queue) == 0 {
		p.queue = nil // let the backing array go
	}
	return p.Err()
}

func (p *Pipeline) build(r *assemble.Report) *document.Document {
	src := p.source
	src.Offsets = []int64{r.FirstPos, r.LastPos}
	d := Process(p.matcher, r, src, p.cfg.Now())
	if m, ok := p.cfg.Upstream.Lookup(d.Oops.Title); ok {
		d.SetUpstream(m)
	}
	p.stats.Reports++
	if d.Oops.Match.Status == "known" {
		p.stats.Known++
	}
	return d
}

// write hands one document to the output and tracks it until it is durable.
func (p *Pipeline) write(ctx context.Context, d *document.Document) error {
	first := d.Oops.Source.Offsets[0]
	p.mu.Lock()
	p.pending[first]++
	p.inFlight++
	p.mu.Unlock()
	var once sync.Once
	err := p.out.Write(ctx, d, func(err error) { once.Do(func() { p.done(first, d, err) }) })
	if err != nil {
		p.mu.Lock()
		p.release(first)
		p.mu.Unlock()
		return fmt.Errorf("output: %w", err)
	}
	return nil
}

func (p *Pipeline) done(first int64, d *document.Document, err error) {
	defer func() {
		select {
		case p.progress <- struct{}{}:
		default:
		}
	}()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		// The position stays pending: nothing at or after it may be
		// acknowledged by this pipeline any more.
		p.lost++
		if p.failed == nil {
			p.failed = fmt.Errorf("%w: %s (%q): %w", ErrFailed, d.Event.ID, d.Oops.Title, err)
			p.hasFailed.Store(true)
		}
		p.inFlight--
		return
	}
	p.durable++
	p.release(first)
}

func (p *Pipeline) release(first int64) {
	if p.pending[first]--; p.pending[first] <= 0 {
		delete(p.pending, first)
	}
	p.inFlight--
}

// Process parses and classifies one assembled report into its document.
// Front ends that assemble on their own (tests, rules test) use it too.
func Process(m *matcher.Matcher, r *assemble.Report, src document.Source, now time.Time) *document.Document {
	var o *oops.Oops
	if r.Group != nil {
		o = oops.ParseGroup(r.Group, r.Context, r.Lines)
	} else {
		o = oops.Parse(r.Context, r.Lines)
	}
	var all []string
	all = append(append(all, r.Context...), r.Lines...)
	res := m.Match(o, all)
	return document.Build(r, o, res, src, now)
}
