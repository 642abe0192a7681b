// Package pipeline wires the steps together: line -> Line (logline) ->
// report (assemble) -> Oops (oops) -> verdict (matcher) -> Document
// (document) -> Sink. The three front ends (the scan command, the Kafka
// consumer and the Fluent Bit plugin) are thin shells around a Pipeline.
//
// A Pipeline is not safe for concurrent use: one goroutine feeds it. It
// holds no package-level state, so a process may run several.
package pipeline

import (
	"fmt"
	"time"

	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/logline"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/oops"
)

// Sink receives finished documents. The pipeline calls Emit from the
// goroutine that feeds it.
type Sink interface {
	Emit(*document.Document) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(*document.Document) error

// Emit calls f.
func (f SinkFunc) Emit(d *document.Document) error { return f(d) }

// Clock selects what drives idle timeouts.
type Clock uint8

const (
	// EventTime: the clock is the newest line time seen (batch input: scan).
	EventTime Clock = iota
	// WallClock: the clock is time.Now (streams: Kafka, Fluent Bit).
	WallClock
)

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
	// Clock drives idle timeouts.
	Clock Clock
	// Now returns the current time (document creation, wall clock). Default time.Now.
	Now func() time.Time
	// Year is the reference time for RFC 3164 timestamps, which have no
	// year. Default Now.
	Year func() time.Time
}

// Stats counts the pipeline's work.
type Stats struct {
	Lines       uint64 // input lines and records
	Bytes       uint64 // input bytes
	Undecodable uint64 // lines in no known format (skipped)
	KernelLines uint64 // lines the kernel printed
	Reports     uint64 // documents emitted
	Known       uint64 // of which matched a known issue
	SinkErrors  uint64 // documents the sink refused
	Assemble    assemble.Stats
}

// Pipeline processes lines into documents.
type Pipeline struct {
	cfg     Config
	dec     logline.Decoder
	asm     *assemble.Assembler
	matcher *matcher.Matcher
	sink    Sink
	line    logline.Line
	clock   time.Time
	tick    time.Time
	source  document.Source
	stats   Stats
	err     error // first sink error
}

// New returns a pipeline. m may hold no signatures; sink must not be nil.
func New(cfg Config, m *matcher.Matcher, sink Sink) *Pipeline {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if m == nil {
		m = matcher.New(nil)
	}
	p := &Pipeline{cfg: cfg, matcher: m, sink: sink}
	p.dec = logline.Decoder{DefaultHost: cfg.DefaultHost, Console: cfg.Console, Location: cfg.Location, Keys: cfg.Keys, Now: cfg.Year}
	if p.dec.Now == nil {
		p.dec.Now = cfg.Now
	}
	p.asm = assemble.New(cfg.Assemble, p.emit)
	return p
}

// SetSource describes where the following lines come from (file name, Kafka
// topic and partition). Reports carry the source in effect when they end.
func (p *Pipeline) SetSource(s document.Source) { p.source = s }

// Line processes one raw line. pos is its position in the source (a line
// number or an offset). Undecodable lines are counted and skipped.
func (p *Pipeline) Line(raw []byte, pos int64) {
	p.stats.Lines++
	p.stats.Bytes += uint64(len(raw)) + 1
	if err := p.dec.Decode(raw, &p.line); err != nil {
		p.stats.Undecodable++
		return
	}
	p.feed(pos)
}

// LineHost processes one raw line whose host, when the line carries none,
// is host (a Kafka message key). An empty host falls back to DefaultHost.
func (p *Pipeline) LineHost(raw, host []byte, pos int64) {
	if len(host) == 0 {
		p.Line(raw, pos)
		return
	}
	saved := p.dec.DefaultHost
	p.dec.DefaultHost = p.dec.InternHost(host)
	p.Line(raw, pos)
	p.dec.DefaultHost = saved
}

// OldestOpenPos is the position of the first line of the oldest report still
// being assembled; ok is false when none is.
func (p *Pipeline) OldestOpenPos() (pos int64, ok bool) { return p.asm.OldestOpen() }

// Discard drops the reports being assembled without emitting them (a
// revoked Kafka partition: the next owner reads them again).
func (p *Pipeline) Discard() { p.asm.Discard() }

// Record processes one structured record (journald entry, Fluent Bit map)
// with its own timestamp ts (may be zero).
func (p *Pipeline) Record(rec map[string]any, ts time.Time, pos int64) error {
	p.stats.Lines++
	if err := p.dec.DecodeRecord(rec, ts, &p.line); err != nil {
		p.stats.Undecodable++
		return fmt.Errorf("decode record: %w", err)
	}
	p.feed(pos)
	return nil
}

func (p *Pipeline) feed(pos int64) {
	l := &p.line
	now := p.advanceClock(l.Time)
	if !l.Kernel {
		return
	}
	p.stats.KernelLines++
	p.asm.Add(l, now, pos)
}

// advanceClock moves the clock and closes idle reports once per clock second.
func (p *Pipeline) advanceClock(t time.Time) time.Time {
	switch p.cfg.Clock {
	case WallClock:
		p.clock = p.cfg.Now()
	default:
		if t.After(p.clock) {
			p.clock = t
		}
	}
	if p.clock.Sub(p.tick) >= time.Second {
		p.tick = p.clock
		p.asm.Advance(p.clock)
	}
	return p.clock
}

// Tick advances a wall clock without input, closing idle reports (call it
// periodically from streaming front ends).
func (p *Pipeline) Tick() {
	if p.cfg.Clock == WallClock {
		p.advanceClock(time.Time{})
	}
}

// Close ends the input: every open report is closed with reason (EOF for
// files, Shutdown when stopping) and emitted. It returns the first sink
// error seen, if any.
func (p *Pipeline) Close(reason assemble.EndReason) error {
	p.asm.Flush(reason)
	return p.err
}

// Stats returns the counters so far.
func (p *Pipeline) Stats() Stats {
	s := p.stats
	s.Assemble = p.asm.Stats()
	return s
}

// OpenReports is the number of reports being assembled.
func (p *Pipeline) OpenReports() int { return p.asm.OpenReports() }

// Process parses and classifies one assembled report into its document.
// Front ends that assemble on their own (tests, rules test) use it too.
func Process(m *matcher.Matcher, r *assemble.Report, src document.Source, now time.Time) *document.Document {
	o := oops.Parse(r.Context, r.Lines)
	var all []string
	all = append(append(all, r.Context...), r.Lines...)
	res := m.Match(o, all)
	return document.Build(r, o, res, src, now)
}

func (p *Pipeline) emit(r *assemble.Report) {
	src := p.source
	src.Offsets = []int64{r.FirstPos, r.LastPos}
	d := Process(p.matcher, r, src, p.cfg.Now())
	p.stats.Reports++
	if d.Oops.Match.Status == "known" {
		p.stats.Known++
	}
	if err := p.sink.Emit(d); err != nil {
		p.stats.SinkErrors++
		if p.err == nil {
			p.err = fmt.Errorf("sink: %w", err)
		}
	}
}
