package kafka

import (
	"sync"
	"sync/atomic"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/pipeline"
)

// partition is one assigned partition's state for one generation.
type partition struct {
	c     *Consumer
	topic string
	id    int
	start int64 // committed offset at assignment, or < 0 for none

	mu   sync.Mutex // guards pipe, last and handedOver; held while a line is processed
	pipe *pipeline.Pipeline
	last int64 // offset of the last line processed; start-1 before any
	// handedOver is set, together with discarding the open reports, when
	// the partition is given up. From then on only the hand-over commits:
	// a watermark computed after the discard would no longer see the
	// dropped reports and would commit past them.
	handedOver bool

	// pending counts documents emitted and not yet durable, by the offset
	// of their first line. It has its own lock: outputs report durability
	// from their goroutines while the partition goroutine may be blocked
	// in Emit (back-pressure) holding mu.
	pendMu  sync.Mutex
	pending map[int64]int
	n       int

	committed atomic.Int64
	highWater atomic.Int64
	stats     pipeline.Stats // last counters published to metrics; guarded by mu
}

func (c *Consumer) newPartition(pa kafkago.PartitionAssignment) *partition {
	p := &partition{c: c, topic: c.cfg.Topic, id: pa.ID, start: pa.Offset, pending: map[int64]int{}}
	p.last = pa.Offset - 1
	p.committed.Store(pa.Offset)
	id := pa.ID
	p.pipe = pipeline.New(c.cfg.Pipeline, c.matcher, p)
	p.pipe.SetSource(document.Source{Topic: c.cfg.Topic, Partition: &id})
	return p
}

// line processes one message value.
func (p *partition) line(value, key []byte, offset, highWater int64) {
	p.mu.Lock()
	p.pipe.LineHost(value, key, offset)
	p.last = offset
	p.mu.Unlock()
	p.highWater.Store(highWater)
}

// Emit implements pipeline.Sink: register the document as pending, then
// hand it to the output (which may block for back-pressure).
func (p *partition) Emit(d *document.Document) error {
	first := d.Oops.Source.Offsets[0]
	p.pendMu.Lock()
	p.pending[first]++
	p.n++
	p.pendMu.Unlock()
	p.c.inflight.Store(d, p)
	p.c.met.report(d)
	if err := p.c.out.Emit(d); err != nil {
		if _, ok := p.c.inflight.LoadAndDelete(d); ok {
			p.release(d)
		}
		return err
	}
	return nil
}

func (p *partition) release(d *document.Document) {
	first := d.Oops.Source.Offsets[0]
	p.pendMu.Lock()
	defer p.pendMu.Unlock()
	if p.pending[first]--; p.pending[first] <= 0 {
		delete(p.pending, first)
	}
	p.n--
}

func (p *partition) inFlight() int {
	p.pendMu.Lock()
	defer p.pendMu.Unlock()
	return p.n
}

// pendingFloor is the smallest first offset of a document not yet durable,
// -1 if none.
func (p *partition) pendingFloor() int64 {
	p.pendMu.Lock()
	defer p.pendMu.Unlock()
	floor := int64(-1)
	for off := range p.pending {
		if floor < 0 || off < floor {
			floor = off
		}
	}
	return floor
}

// watermark is the offset that may be committed now (see the package doc),
// or -1 once the partition has been handed over.
func (p *partition) watermark() int64 {
	p.mu.Lock()
	if p.handedOver {
		p.mu.Unlock()
		return -1
	}
	w := p.openFloorLocked()
	p.mu.Unlock()
	return p.withPending(w)
}

// openFloorLocked is the offset after the last line read, or the first line
// of the oldest report being assembled if that is smaller.
func (p *partition) openFloorLocked() int64 {
	w := p.last + 1
	if first, ok := p.pipe.OldestOpenPos(); ok && first < w {
		w = first
	}
	return w
}

func (p *partition) withPending(w int64) int64 {
	if floor := p.pendingFloor(); floor >= 0 && floor < w {
		w = floor
	}
	return w
}

// handOver gives the partition up: it drops the reports being assembled
// (the next owner reads them again) and returns the offset they start at,
// or the offset after the last line read. Documents still in flight are
// not counted here: the caller waits for them, then takes withPending.
func (p *partition) handOver() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.openFloorLocked()
	p.handedOver = true
	p.pipe.Discard()
	st := p.pipe.Stats()
	p.c.met.pipeline(p.id, p.stats, st, 0)
	p.stats = st
	return w
}

// tick closes reports idle for longer than the idle timeout and publishes
// the pipeline's counters.
func (p *partition) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pipe.Tick()
	st := p.pipe.Stats()
	p.c.met.pipeline(p.id, p.stats, st, p.pipe.OpenReports())
	p.stats = st
}
