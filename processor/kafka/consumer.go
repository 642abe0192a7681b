// Package kafka runs the pipeline as a Kafka consumer group with
// at-least-once delivery that survives rebalances, crashes and outages.
//
// Fleet syslog arrives keyed by host, so one host's lines stay in order on one
// partition. The consumer uses kafka-go's ConsumerGroup and, per assigned
// partition, a plain Reader and a pipeline of its own: a host's assembly
// state lives with its partition.
//
// Commit rule, per partition: an offset is committed only when everything
// before it is durable in the output. The committable offset is the
// pipeline's watermark: the smallest of
//
//   - the first offset (context included) of any report still being assembled,
//   - the first offset of any finished report the output has not taken yet
//     (it was full),
//   - the first offset of any document the output took and has not reported
//     durable (indexed, already there, or dead-lettered), or lost,
//   - the offset after the last message read.
//
// It is committed every CommitInterval, and once more when the partition is
// revoked or the consumer stops, inside the generation (kafka-go allows a
// commit while the group prepares to rebalance).
//
// Failures stop acknowledgement. A document the output cannot take (standard
// output on a full disk) or loses for good (Elasticsearch refusing the
// credentials) pins its partition's watermark; the consumer logs why, turns
// not ready, hands every partition over with what is durable committed, and
// Run returns the error (the process exits non-zero and is restarted, and
// reads again from the last commit).
//
// Revocation and shutdown hand reports over instead of cutting them: a report
// still being assembled is dropped, not emitted, and the commit stays before
// its first line, so the next owner reads it again whole. A crash commits
// nothing more; the next owner re-reads from the last commit, and the
// deterministic _id turns re-sent documents into no-ops. Reading stops at
// once on SIGTERM even when the output is full: a blocked write gives up
// with the context.
//
// Where a report ends is decided on log time and content only, so a stalled
// reader changes nothing in the documents; the wall clock closes only the
// reports of hosts that stay silent for Pipeline.WallIdle (default 5m), so
// that they cannot pin a partition's offset forever.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/pipeline"
)

// Output receives documents: pipeline.Output, plus Flush when it batches
// (the Elasticsearch sink), which the hand-over calls to send what it holds.
type Output = pipeline.Output

// flusher is an output that batches.
type flusher interface {
	Flush(context.Context) error
}

// Config configures the consumer.
type Config struct {
	Brokers []string
	Topic   string
	GroupID string
	Dialer  *kafkago.Dialer // TLS and SASL; nil for plain TCP

	// Pipeline configures decoding and assembly.
	Pipeline pipeline.Config

	MaxMessageBytes int           // longer message values are cut (default 64 KiB)
	CommitInterval  time.Duration // default 1s
	// HandOverTimeout bounds, at revocation and shutdown, the wait for
	// documents in flight to become durable before the final commit
	// (default 5s; keep it well under RebalanceTimeout).
	HandOverTimeout time.Duration

	MinBytes          int           // fetch (default 1)
	MaxBytes          int           // fetch (default 10 MB)
	MaxWait           time.Duration // fetch long poll (default 500ms)
	HeartbeatInterval time.Duration // default 3s
	SessionTimeout    time.Duration // default 30s
	RebalanceTimeout  time.Duration // default 30s
	JoinGroupBackoff  time.Duration // default 5s
	// StartOffset is where a partition with no committed offset starts:
	// kafkago.FirstOffset (default) or kafkago.LastOffset.
	StartOffset int64

	Logger  *slog.Logger
	Metrics *Metrics // nil: no metrics
}

func (c Config) withDefaults() Config {
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 64 << 10
	}
	if c.CommitInterval <= 0 {
		c.CommitInterval = time.Second
	}
	if c.HandOverTimeout <= 0 {
		c.HandOverTimeout = 5 * time.Second
	}
	if c.MinBytes <= 0 {
		c.MinBytes = 1
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 10 << 20
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 500 * time.Millisecond
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 3 * time.Second
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 30 * time.Second
	}
	if c.RebalanceTimeout <= 0 {
		c.RebalanceTimeout = 30 * time.Second
	}
	if c.JoinGroupBackoff <= 0 {
		c.JoinGroupBackoff = 5 * time.Second
	}
	if c.StartOffset == 0 {
		c.StartOffset = kafkago.FirstOffset
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Consumer is one member of the consumer group.
type Consumer struct {
	cfg     Config
	matcher *matcher.Matcher
	out     Output
	log     *slog.Logger
	met     *Metrics

	ready   atomic.Bool
	aborted atomic.Bool

	failMu  sync.Mutex
	failErr error                   // why the consumer stopped, when the output failed
	stopRun context.CancelCauseFunc // ends Run's generations (set by Run)

	posMu     sync.Mutex
	positions map[int]int64 // partition -> last offset processed
}

// New returns a consumer writing to out.
func New(cfg Config, m *matcher.Matcher, out Output) (*Consumer, error) {
	cfg = cfg.withDefaults()
	switch {
	case len(cfg.Brokers) == 0:
		return nil, errors.New("kafka: no brokers")
	case cfg.Topic == "":
		return nil, errors.New("kafka: no topic")
	case cfg.GroupID == "":
		return nil, errors.New("kafka: no consumer group")
	}
	return &Consumer{cfg: cfg, matcher: m, out: out, log: cfg.Logger, met: cfg.Metrics, positions: map[int]int64{}}, nil
}

// Positions returns, per partition this consumer has read, the offset of
// the last message processed.
func (c *Consumer) Positions() map[int]int64 {
	c.posMu.Lock()
	defer c.posMu.Unlock()
	out := make(map[int]int64, len(c.positions))
	for k, v := range c.positions {
		out[k] = v
	}
	return out
}

// Ready reports whether the consumer is a member of a generation and its
// output has not failed.
func (c *Consumer) Ready() bool { return c.ready.Load() && c.Failure() == nil }

// Failure returns why the consumer stopped, nil while it has not failed.
func (c *Consumer) Failure() error {
	c.failMu.Lock()
	defer c.failMu.Unlock()
	return c.failErr
}

// fail stops the consumer because the output failed: every partition hands
// over what is durable and Run returns err.
func (c *Consumer) fail(partition int, err error) {
	c.failMu.Lock()
	first := c.failErr == nil
	if first {
		c.failErr = fmt.Errorf("partition %d: %w", partition, err)
	}
	stop := c.stopRun
	c.failMu.Unlock()
	if first {
		c.log.Error("output failed; stopping: no offset is committed past what is durable", "partition", partition, "err", err)
		c.met.outputFailed()
		if stop != nil {
			stop(err)
		}
	}
}

// Abort stops the consumer as a crash would, for tests: partitions stop
// without handing over or committing anything more. Run still leaves the
// group.
func (c *Consumer) Abort() { c.aborted.Store(true) }

// Run consumes until ctx is cancelled, then hands its partitions over
// (final commits) and leaves the group. It returns nil on a clean stop, and
// the output's error when it stopped because the output failed.
func (c *Consumer) Run(parent context.Context) error {
	ctx, stop := context.WithCancelCause(parent)
	defer stop(nil)
	c.failMu.Lock()
	c.stopRun = stop
	c.failMu.Unlock()
	err := c.run(ctx)
	if ferr := c.Failure(); ferr != nil {
		return ferr
	}
	return err
}

func (c *Consumer) run(ctx context.Context) error {
	cg, err := kafkago.NewConsumerGroup(kafkago.ConsumerGroupConfig{
		ID:                c.cfg.GroupID,
		Brokers:           c.cfg.Brokers,
		Dialer:            c.cfg.Dialer,
		Topics:            []string{c.cfg.Topic},
		HeartbeatInterval: c.cfg.HeartbeatInterval,
		SessionTimeout:    c.cfg.SessionTimeout,
		RebalanceTimeout:  c.cfg.RebalanceTimeout,
		JoinGroupBackoff:  c.cfg.JoinGroupBackoff,
		StartOffset:       c.cfg.StartOffset,
		ErrorLogger:       kafkago.LoggerFunc(func(msg string, args ...any) { c.log.Debug("kafka-go: " + fmt.Sprintf(msg, args...)) }),
	})
	if err != nil {
		return fmt.Errorf("kafka consumer group: %w", err)
	}
	var parts sync.WaitGroup
	defer func() {
		parts.Wait() // final commits happen while the generation is still ours
		c.ready.Store(false)
		cg.Close() //nolint:errcheck // leaving the group; nothing to do on error
	}()
	for {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafkago.ErrGroupClosed) {
				return nil
			}
			c.log.Warn("joining the consumer group failed; retrying", "group", c.cfg.GroupID, "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(c.cfg.JoinGroupBackoff):
			}
			continue
		}
		c.ready.Store(true)
		c.met.rebalance()
		assigned := gen.Assignments[c.cfg.Topic]
		c.log.Info("partitions assigned", "generation", gen.ID, "member", gen.MemberID, "partitions", len(assigned))
		var mine []*partition
		for _, pa := range assigned {
			p := c.newPartition(pa)
			mine = append(mine, p)
			parts.Add(1)
			gen.Start(func(gctx context.Context) {
				defer parts.Done()
				c.runPartition(ctx, gctx, gen, p)
			})
		}
		gen.Start(func(gctx context.Context) { c.commitLoop(ctx, gctx, gen, mine) })
	}
}

// commitLoop closes idle reports and commits watermarks periodically.
func (c *Consumer) commitLoop(ctx, gctx context.Context, gen *kafkago.Generation, parts []*partition) {
	t := time.NewTicker(c.cfg.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-gctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		for _, p := range parts {
			if err := p.tick(now); err != nil {
				c.fail(p.id, err)
				return
			}
			if w, ok := p.watermark(); ok {
				c.commit(gen, p, w)
			}
		}
	}
}

// commit commits w for p if it moved forward.
func (c *Consumer) commit(gen *kafkago.Generation, p *partition, w int64) {
	if w <= p.committed.Load() || c.aborted.Load() {
		return
	}
	err := gen.CommitOffsets(map[string]map[int]int64{c.cfg.Topic: {p.id: w}})
	if err != nil {
		c.log.Warn("commit failed; the next commit retries", "partition", p.id, "offset", w, "err", err)
		c.met.commitFailed()
		return
	}
	p.committed.Store(w)
	c.log.Debug("committed", "partition", p.id, "offset", w)
	c.met.committed(p.id, w, p.highWater.Load())
}

func (c *Consumer) runPartition(ctx, gctx context.Context, gen *kafkago.Generation, p *partition) {
	rctx, cancel := context.WithCancel(gctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()

	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:   c.cfg.Brokers,
		Topic:     c.cfg.Topic,
		Partition: p.id,
		Dialer:    c.cfg.Dialer,
		MinBytes:  c.cfg.MinBytes,
		MaxBytes:  c.cfg.MaxBytes,
		MaxWait:   c.cfg.MaxWait,
	})
	defer r.Close()
	start := p.start
	if start < 0 {
		start = c.cfg.StartOffset
	}
	if err := r.SetOffset(start); err != nil {
		c.log.Error("cannot position the partition reader", "partition", p.id, "err", err)
		return
	}
	for {
		m, err := r.FetchMessage(rctx)
		if err != nil {
			if rctx.Err() != nil {
				break
			}
			c.log.Warn("fetch failed", "partition", p.id, "err", err)
			c.met.fetchFailed()
			continue
		}
		if c.aborted.Load() {
			return // a crash: no more processing, no hand-over, no commit
		}
		value := m.Value
		if len(value) > c.cfg.MaxMessageBytes {
			value = value[:c.cfg.MaxMessageBytes]
			c.met.oversized()
		}
		err = p.line(rctx, value, m.Key, m.Offset, m.HighWaterMark)
		c.posMu.Lock()
		c.positions[p.id] = m.Offset
		c.posMu.Unlock()
		if err != nil {
			if rctx.Err() == nil { // not a stop: the output failed
				c.fail(p.id, err)
			}
			break
		}
	}
	if c.aborted.Load() {
		return
	}
	c.handOver(gen, p)
}

// handOver ends a partition's ownership: documents in flight get a bounded
// time to become durable, the watermark is committed, and the reports being
// assembled or waiting are dropped (the next owner reads them again).
func (c *Consumer) handOver(gen *kafkago.Generation, p *partition) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.HandOverTimeout)
	defer cancel()
	w := p.handOver(ctx, func(ctx context.Context) {
		if f, ok := c.out.(flusher); ok {
			if err := f.Flush(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("flush at hand-over failed", "partition", p.id, "err", err)
			}
		}
	})
	c.commit(gen, p, w)
	c.met.revoked(p.id)
	c.log.Info("partition handed over", "partition", p.id, "committed", p.committed.Load(), "in_flight", p.pipe.InFlight())
}
