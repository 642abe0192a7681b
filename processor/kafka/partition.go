package kafka

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

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

	// mu guards pipe, last and handedOver. The partition's goroutine holds
	// it while it processes a message (possibly blocked on a full output);
	// the commit loop only tries it, so one busy partition never holds up
	// the commits of the others.
	mu   sync.Mutex
	pipe *pipeline.Pipeline
	last int64 // offset of the last line processed; start-1 before any
	// handedOver is set once the partition is given up: from then on only
	// the hand-over commits.
	handedOver bool

	committed atomic.Int64
	highWater atomic.Int64
	stats     pipeline.Stats // last counters published to metrics; guarded by mu
}

func (c *Consumer) newPartition(pa kafkago.PartitionAssignment) *partition {
	p := &partition{c: c, topic: c.cfg.Topic, id: pa.ID, start: pa.Offset}
	p.last = pa.Offset - 1
	p.committed.Store(pa.Offset)
	id := pa.ID
	p.pipe = pipeline.New(c.cfg.Pipeline, c.matcher, reporting{c.out, c.met})
	p.pipe.SetSource(document.Source{Topic: c.cfg.Topic, Partition: &id})
	return p
}

// reporting counts each document in the metrics on its way to the output.
type reporting struct {
	out pipeline.Output
	met *Metrics
}

func (r reporting) Write(ctx context.Context, d *document.Document, done func(error)) error {
	if err := r.out.Write(ctx, d, done); err != nil {
		return err
	}
	r.met.report(d)
	return nil
}

// line processes one message value. The error is the pipeline's: ctx ended
// while the output was full, or the output failed.
func (p *partition) line(ctx context.Context, value, key []byte, offset, highWater int64) error {
	p.mu.Lock()
	err := p.pipe.LineHost(ctx, value, key, offset)
	p.last = offset
	p.mu.Unlock()
	p.highWater.Store(highWater)
	return err
}

// watermark is the offset that may be committed now (see the package doc);
// ok is false when the partition is busy or handed over.
func (p *partition) watermark() (int64, bool) {
	if !p.mu.TryLock() {
		return 0, false
	}
	defer p.mu.Unlock()
	if p.handedOver {
		return 0, false
	}
	return p.pipe.Watermark(p.last + 1), true
}

// tick closes the reports of streams quiet for the wall-clock idle bound,
// offers waiting documents to the output again (without waiting for room)
// and publishes the pipeline's counters. It returns the output's failure,
// if any. A busy partition is skipped.
func (p *partition) tick(now time.Time) error {
	if !p.mu.TryLock() {
		return nil
	}
	defer p.mu.Unlock()
	if p.handedOver {
		return nil
	}
	err := p.pipe.Tick(tryOnly, now)
	p.publish()
	if ferr := p.pipe.Err(); ferr != nil {
		return ferr
	}
	_ = err // a full output: the documents wait for the next tick or line
	return nil
}

// publish updates the metrics with the counters since the last call. mu held.
func (p *partition) publish() {
	st := p.pipe.Stats()
	p.c.met.pipeline(p.id, p.stats, st, p.pipe.OpenReports())
	p.stats = st
}

// handOver gives the partition up once its reading has stopped: documents in
// flight get until ctx ends to become durable, then the returned offset is
// the watermark (before the reports still being assembled or waiting, which
// the next owner reads again), and the pipeline is dropped.
func (p *partition) handOver(ctx context.Context, flush func(context.Context)) int64 {
	if p.pipe.InFlight() > 0 {
		flush(ctx) // send partial bulk requests now rather than at the next interval
		p.pipe.WaitInFlight(ctx)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.pipe.Watermark(p.last + 1)
	p.handedOver = true
	p.pipe.Discard()
	p.publish()
	return w
}

// tryOnly is a context that is already done: outputs given it take a
// document if they have room and never wait.
var tryOnly = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()
