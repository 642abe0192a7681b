// Package fluentbit is the logic of the Fluent Bit output plugin, without
// the C ABI (plugin/ adapts that): one Instance per [OUTPUT] section, with
// its own configuration, pipeline, output and alerts, and no package-level
// state, so several instances live in one Fluent Bit.
//
// Acknowledgement. Fluent Bit deletes a chunk (from memory, or from its
// filesystem buffer) once the output answers FLB_OK, and sends it again
// later after FLB_RETRY. An instance answers FLB_OK for a chunk only when
// every line of it is durable: no report holding one of its lines is still
// being assembled or waiting for the output, and every document made from it
// is indexed (or already there, or dead-lettered) or written to the NDJSON
// file. Otherwise it answers FLB_RETRY, and never blocks Fluent Bit's worker
// for an outage:
//
//   - a chunk is read (its records fed to the pipeline) once, at its first
//     delivery; the instance remembers it by a 128-bit hash, so a
//     redelivery after FLB_RETRY is only the question "durable yet?", never
//     a second reading;
//   - a chunk whose lines sit in a report still being assembled is answered
//     FLB_RETRY at once (more lines must come first); one whose documents
//     are on their way to the output is given up to Retry_Wait to become
//     durable;
//   - while the output is full or failing, or Max_Pending_Chunks chunks are
//     waiting for their answer, a new chunk is answered FLB_RETRY without
//     being read, so its redelivery is a first delivery;
//   - chunks acknowledged recently are remembered too: Fluent Bit sending
//     one again (after a restart from its filesystem buffer) gets FLB_OK
//     without a second reading;
//   - documents carry deterministic ids, so a report assembled again from
//     lines read again after a restart (kmsg replays the ring buffer) is not
//     indexed twice.
//
// For nothing to be lost when Fluent Bit itself stops or dies, the input
// must be buffered on disk (storage.type filesystem) and retries unlimited
// (Retry_Limit no_limits): Fluent Bit drops a chunk whose retries run out.
// See deploy/fluent-bit/README.md.
//
// What a refused chunk can still cost: if newer chunks are accepted before
// it comes back, a report whose lines straddle it is assembled from lines
// out of order. Use "workers 1" so flushes of one instance stay in order.
package fluentbit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/oopsflow/oopsflow/processor/alert"
	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/elastic"
	"github.com/oopsflow/oopsflow/processor/logline"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/ndjson"
	"github.com/oopsflow/oopsflow/processor/pipeline"
	"github.com/oopsflow/oopsflow/processor/upstream"
	"github.com/oopsflow/oopsflow/signatures"
	"github.com/zeebo/xxh3"
)

// Fluent Bit's return codes.
const (
	FlbError = 0
	FlbOK    = 1
	FlbRetry = 2
)

// Instance is one [OUTPUT] section.
type Instance struct {
	ID  string
	cfg Config
	log *slog.Logger

	// mu guards everything below; flushes of one instance may run
	// concurrently (workers > 1). It is not held while a flush waits for
	// documents to become durable.
	mu       sync.Mutex
	pipe     *pipeline.Pipeline
	sink     *elastic.Sink  // nil for NDJSON
	file     *ndjson.Writer // NDJSON output, nil for Elasticsearch
	notifier *alert.Notifier
	next     int64                 // position of the last record read
	pending  map[chunkKey]*chunk   // read, not yet acknowledged
	acked    map[chunkKey]struct{} // acknowledged recently (bounded FIFO)
	ackOrder []chunkKey
	seed     uint64 // of the chunk hash, random per instance
	reloader *matcher.Reloader
	stop     context.CancelFunc
	ticker   sync.WaitGroup
	closed   bool
	stats    Stats
}

type chunkKey [2]uint64

// chunk is a chunk that was read: its records are the positions first..last.
type chunk struct {
	first, last int64
}

// Stats counts an instance's work.
type Stats struct {
	Chunks     uint64 // chunks read
	Records    uint64 // records read
	Skipped    uint64 // records that were no log line
	Acked      uint64 // FLB_OK answers
	Duplicates uint64 // chunks delivered again after they were acknowledged
	Retries    uint64 // FLB_RETRY answers
	Refused    uint64 // of which for chunks not read (output full or failing)
	Pending    int    // chunks read and not yet acknowledged
}

const maxAcked = 4096

// tryOnly is a context that is already done: an output given it takes a
// document if it has room and never waits.
func tryOnly() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// New starts an instance with cfg; log receives its messages (Fluent Bit's
// log in the plugin).
func New(cfg Config, log *slog.Logger) (*Instance, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	in := &Instance{
		ID: cfg.ID, cfg: cfg, log: log,
		pending: map[chunkKey]*chunk{}, acked: map[chunkKey]struct{}{},
		seed: rand.Uint64(),
	}
	m := matcher.New(nil)
	in.reloader = &matcher.Reloader{M: m, Log: log,
		Sources: matcher.Sources{Builtin: signatures.FS, NoBuiltin: cfg.NoBuiltinSignatures, Dirs: cfg.Signatures, AllowEmpty: true, ExamplesOptional: true}}
	var err error
	if _, err = in.reloader.Load(); err != nil {
		return nil, fmt.Errorf("Signatures: %w", err)
	}
	if cfg.Settings != nil {
		if in.notifier, err = cfg.Settings.Notifier(log); err != nil {
			return nil, err
		}
	}
	if cfg.Pipeline.Upstream, err = upstream.OpenIndex(cfg.UpstreamIndex); err != nil {
		return nil, fmt.Errorf("Upstream_Index: %w", err)
	}
	var out pipeline.Output
	switch cfg.Output {
	case "ndjson":
		if cfg.Path == "" {
			in.file = ndjson.New(os.Stdout)
		} else if in.file, err = ndjson.Create(cfg.Path); err != nil {
			return nil, fmt.Errorf("Path: %w", err)
		}
		out = in.file
	case "elasticsearch":
		cfg.ES.Logger = log
		if in.sink, err = elastic.NewSink(cfg.ES); err != nil {
			return nil, err
		}
		out = in.sink
	}
	if in.notifier != nil {
		out = pipeline.Observe(out, in.notifier.Observe)
	}
	in.pipe = pipeline.New(cfg.Pipeline, m, out)

	ctx, cancel := context.WithCancel(context.Background())
	in.stop = cancel
	in.ticker.Add(1)
	go in.tick(ctx)
	if len(cfg.Signatures) > 0 {
		// Fluent Bit owns the signals: the directories are watched.
		in.ticker.Add(1)
		go func() { defer in.ticker.Done(); in.reloader.Run(ctx, nil) }() //nolint:errcheck // logged
	}
	if in.notifier != nil {
		in.ticker.Add(1)
		go func() { defer in.ticker.Done(); in.notifier.Run(ctx) }()
	}
	return in, nil
}

// tick closes the reports of quiet hosts and offers waiting documents to the
// output again, once a second.
func (in *Instance) tick(ctx context.Context) {
	defer in.ticker.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			in.mu.Lock()
			if !in.closed {
				in.pipe.Tick(tryOnly(), now) //nolint:errcheck // a full output: documents wait; failures surface in Flush
			}
			in.mu.Unlock()
		}
	}
}

// Record is one record of a chunk.
type Record struct {
	Time   time.Time // zero when the record had no usable timestamp
	Fields logline.Fields
}

// Flush handles one delivery of a chunk and returns a Fluent Bit code.
// chunk is the raw chunk (for its hash); records yields its decoded records
// (it must skip group markers and undecodable records itself).
func (in *Instance) Flush(raw []byte, records func(yield func(Record))) int {
	h := xxh3.Hash128Seed(raw, in.seed) // one pass at memory speed, 128 bits
	key := chunkKey{h.Hi, h.Lo}
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return FlbRetry
	}
	if _, ok := in.acked[key]; ok {
		in.stats.Duplicates++
		in.stats.Acked++
		in.mu.Unlock()
		return FlbOK
	}
	c := in.pending[key]
	if c == nil {
		if why := in.refuse(); why != "" {
			in.stats.Retries++
			in.stats.Refused++
			in.mu.Unlock()
			in.log.Warn("chunk refused unread; Fluent Bit will send it again", "why", why)
			return FlbRetry
		}
		c = in.read(key, records)
	}
	in.mu.Unlock()
	return in.answer(key, c)
}

// refuse says why a new chunk cannot be read now, "" when it can. mu held.
func (in *Instance) refuse() string {
	if err := in.pipe.Err(); err != nil {
		return err.Error()
	}
	if in.sink != nil {
		if err := in.sink.Err(); err != nil {
			return err.Error()
		}
	}
	in.pipe.Flush(tryOnly()) //nolint:errcheck // what does not fit stays waiting, checked next
	switch {
	case in.pipe.Waiting() > 0:
		why := ""
		if err := in.pipe.Refused(); err != nil {
			why = " (" + err.Error() + ")"
		}
		return fmt.Sprintf("the output is full: %d documents waiting for room%s", in.pipe.Waiting(), why)
	case in.sink != nil && in.sink.Stats().InFlight >= in.cfg.ES.MaxInFlight:
		return fmt.Sprintf("Elasticsearch is behind: %d documents in flight%s", in.sink.Stats().InFlight, lastErr(in.sink))
	case len(in.pending) >= in.cfg.MaxPendingChunks:
		return fmt.Sprintf("%d chunks wait for their documents to become durable", len(in.pending))
	}
	return ""
}

func lastErr(s *elastic.Sink) string {
	if e := s.LastError(); e != "" {
		return " (last error: " + e + ")"
	}
	return ""
}

// read feeds a chunk's records to the pipeline. Documents that do not fit in
// the output wait in the pipeline (at most what one chunk makes). mu held.
func (in *Instance) read(key chunkKey, records func(yield func(Record))) *chunk {
	c := &chunk{first: in.next + 1}
	ctx := tryOnly()
	records(func(r Record) {
		in.next++
		in.stats.Records++
		before := in.pipe.Undecodable()
		in.pipe.RecordFields(ctx, r.Fields, r.Time, in.next) //nolint:errcheck // durability is what answer checks
		if in.pipe.Undecodable() != before {
			in.stats.Skipped++
		}
	})
	c.last = in.next
	in.stats.Chunks++
	in.pending[key] = c
	return c
}

// answer waits (up to Retry_Wait, and only while that can help) for the
// chunk's lines to be durable: FLB_OK when they are, FLB_RETRY otherwise.
func (in *Instance) answer(key chunkKey, c *chunk) int {
	ctx, cancel := context.WithTimeout(context.Background(), in.cfg.RetryWait)
	defer cancel()
	for {
		ok, wait := in.durable(key, c)
		if ok {
			return FlbOK
		}
		if !wait || ctx.Err() != nil {
			in.mu.Lock()
			in.stats.Retries++
			in.mu.Unlock()
			return FlbRetry
		}
		in.pipe.WaitInFlight(ctx)
	}
}

// durable acknowledges the chunk if its lines are durable. Otherwise wait
// says whether waiting can help: documents are on their way to the output
// (not: the output failed, the lines are in a report still being assembled,
// or they are recent lines that may become context, which only later
// chunks or Wall_Idle settle).
func (in *Instance) durable(key chunkKey, c *chunk) (ok, wait bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return false, false
	}
	in.pipe.Flush(tryOnly()) //nolint:errcheck // a full output: documents wait
	if in.pipe.Watermark(in.next+1) > c.last {
		delete(in.pending, key)
		in.remember(key)
		in.stats.Acked++
		return true, false
	}
	if in.pipe.Err() != nil {
		return false, false
	}
	if open, ok := in.pipe.OldestOpen(); ok && open <= c.last {
		return false, false
	}
	// Only documents on their way to the output can make the chunk
	// durable without more input (recent lines that may still become a
	// report's context wait for later chunks, or for Wall_Idle).
	return false, in.pipe.InFlight() > 0 || in.pipe.Waiting() > 0
}

// remember adds an acknowledged chunk to the bounded set. mu held.
func (in *Instance) remember(key chunkKey) {
	in.acked[key] = struct{}{}
	in.ackOrder = append(in.ackOrder, key)
	if len(in.ackOrder) > maxAcked {
		delete(in.acked, in.ackOrder[0])
		in.ackOrder = in.ackOrder[1:]
	}
}

// Exit closes open reports as shutdown, hands them to the output and waits,
// up to Exit_Timeout in all, for the documents in flight; then it stops the
// instance's goroutines. Fluent Bit calls it once, at shutdown.
func (in *Instance) Exit() error {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil
	}
	in.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), in.cfg.ExitTimeout)
	defer cancel()
	err := in.pipe.Close(ctx, assemble.Shutdown)
	waiting := in.pipe.Waiting()
	in.mu.Unlock()
	in.stop()
	in.ticker.Wait()
	if in.sink != nil {
		if serr := in.sink.Close(ctx); serr != nil && err == nil {
			err = serr
		}
	}
	if in.notifier != nil {
		if nerr := in.notifier.Close(ctx); nerr != nil && err == nil {
			err = nerr
		}
	}
	if in.file != nil {
		if ferr := in.file.Close(); ferr != nil && err == nil {
			err = ferr
		}
	}
	if waiting > 0 {
		err = errors.Join(err, fmt.Errorf("%d document(s) never reached the output", waiting))
	}
	return err
}

// Stats returns the counters.
func (in *Instance) Stats() Stats {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.stats
	s.Pending = len(in.pending)
	return s
}
