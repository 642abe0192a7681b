// Package elastic writes documents to Elasticsearch and installs what the
// documents need there (templates, lifecycle, Kibana dashboards).
//
// The sink is go-elasticsearch's esutil.BulkIndexer with what it leaves to
// its callers (see the notes on BulkIndexer): it never retries items, and it
// accepts items without bound while Elasticsearch is down. So:
//
//   - every document is a create with its deterministic _id into the data
//     stream logs-kernel.oops-<namespace>; a 409 (already there) counts as
//     success, so replays never duplicate;
//   - whole requests are retried by the client transport on 429/502/503/504
//     with exponential backoff; items that still fail, or that come back 429
//     or 5xx, are queued again with capped backoff, without limit, until they
//     are indexed or the sink is closed;
//   - other item failures (mapping errors) are permanent: the document goes
//     to the dead-letter sink with the reason and is counted;
//   - at most MaxInFlight documents are held: Emit blocks beyond that, so a
//     slow or absent Elasticsearch slows the pipeline instead of growing it;
//   - OnDone reports each document when it is durable (indexed, already
//     there, or dead-lettered), so callers commit or alert only then.
package elastic

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/oopsflow/oopsflow/processor/document"
)

// Config configures the connection and the sink.
type Config struct {
	Addresses []string // Elasticsearch URLs; or CloudID
	CloudID   string
	APIKey    string // base64 "id:key", as Elasticsearch returns it
	Username  string
	Password  string
	CACert    []byte // PEM; adds to the system roots
	// InsecureSkipVerify turns TLS verification off. Never the default.
	InsecureSkipVerify bool

	Namespace     string        // data stream namespace (default "default")
	FlushBytes    int           // bulk request size (default 2 MiB)
	FlushInterval time.Duration // latest flush of a partial bulk request (default 1s)
	Workers       int           // concurrent bulk requests (default 2)
	MaxInFlight   int           // documents held until durable (default 5000)
	MaxRetries    int           // transport retries of a whole request (default 3)
	RetryBase     time.Duration // first backoff (default 200ms)
	RetryMax      time.Duration // backoff cap (default 30s)

	// DeadLetter receives documents Elasticsearch rejected for good.
	// Default: a writer of NDJSON to stderr, never a silent drop.
	DeadLetter DeadLetter
	// OnDone is called once per document when it is durable. It may be
	// called from several goroutines.
	OnDone func(*document.Document, Outcome)
	Logger *slog.Logger
}

// Outcome is how a document ended.
type Outcome uint8

// Outcomes.
const (
	Indexed      Outcome = iota // created now
	Duplicate                   // an earlier delivery created it (409)
	DeadLettered                // rejected for good, written to the dead-letter sink
)

func (o Outcome) String() string {
	return [...]string{"indexed", "duplicate", "dead_lettered"}[o]
}

// Stats counts the sink's work.
type Stats struct {
	Emitted      uint64 // documents given to Emit
	Indexed      uint64
	Duplicates   uint64
	Retried      uint64 // item retries (429, 5xx, failed requests)
	DeadLettered uint64
	Abandoned    uint64 // not durable when the sink was closed
	InFlight     int
	Requests     uint64 // bulk requests sent
	BytesSent    uint64 // bulk bodies, uncompressed
}

// ErrClosed is returned by Emit after Close.
var ErrClosed = errors.New("elasticsearch sink closed")

// DataStreamPrefix is the data stream name without its namespace.
const DataStreamPrefix = "logs-kernel.oops-"

// Sink indexes documents. Emit may be called from one goroutine at a time;
// callbacks arrive on the indexer's goroutines.
type Sink struct {
	cfg    Config
	log    *slog.Logger
	bi     esutil.BulkIndexer
	index  string
	sem    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc

	// addMu orders Add against Close: adders hold it for reading and check
	// closed, Close takes it for writing before closing the indexer (an Add
	// after Close panics in esutil).
	addMu  sync.RWMutex
	closed atomic.Bool
	mu     sync.Mutex // guards timers
	timers map[*time.Timer]*pending

	emitted, indexed, duplicates, retried, deadLettered, abandoned atomic.Uint64
}

type pending struct {
	doc      *document.Document
	body     []byte
	attempts int
}

func (c Config) withDefaults() Config {
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	if c.FlushBytes <= 0 {
		c.FlushBytes = 2 << 20
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 5000
	}
	if c.MaxRetries <= 0 {
		c.MaxRetries = 3
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 200 * time.Millisecond
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// backoff is the capped exponential backoff with jitter for attempt n (1-based).
func (c Config) backoff(n int) time.Duration {
	d := c.RetryBase << min(n-1, 20)
	if d > c.RetryMax || d <= 0 {
		d = c.RetryMax
	}
	return d/2 + rand.N(d/2+1)
}

// NewClient builds the go-elasticsearch client for cfg.
func NewClient(cfg Config) (*elasticsearch.Client, error) {
	cfg = cfg.withDefaults()
	if len(cfg.Addresses) == 0 && cfg.CloudID == "" {
		return nil, errors.New("elasticsearch: give a URL or a Cloud ID")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.Workers * 2
	if cfg.InsecureSkipVerify {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // explicit user choice
	}
	esCfg := elasticsearch.Config{
		Addresses:     cfg.Addresses,
		CloudID:       cfg.CloudID,
		APIKey:        cfg.APIKey,
		Username:      cfg.Username,
		Password:      cfg.Password,
		CACert:        cfg.CACert,
		Transport:     tr,
		RetryOnStatus: []int{429, 502, 503, 504},
		MaxRetries:    cfg.MaxRetries,
		RetryBackoff:  cfg.backoff,
	}
	c, err := elasticsearch.NewClient(esCfg)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch client: %w", err)
	}
	return c, nil
}

// NewSink connects the sink. It does not contact Elasticsearch until the
// first flush; "oopsflow setup" checks the cluster.
func NewSink(cfg Config) (*Sink, error) {
	cfg = cfg.withDefaults()
	client, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.DeadLetter == nil {
		cfg.DeadLetter = NewFileDeadLetter(nopCloser{stderr()})
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sink{
		cfg:    cfg,
		log:    cfg.Logger,
		index:  DataStreamPrefix + cfg.Namespace,
		sem:    make(chan struct{}, cfg.MaxInFlight),
		ctx:    ctx,
		cancel: cancel,
		timers: map[*time.Timer]*pending{},
	}
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client:        client,
		NumWorkers:    cfg.Workers,
		FlushBytes:    cfg.FlushBytes,
		FlushInterval: cfg.FlushInterval,
		OnError: func(_ context.Context, err error) {
			s.log.Warn("elasticsearch bulk request failed; items will be retried", "err", err)
		},
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("bulk indexer: %w", err)
	}
	s.bi = bi
	return s, nil
}

// Index is the data stream the sink writes to.
func (s *Sink) Index() string { return s.index }

// Emit queues a document. It blocks while MaxInFlight documents are not yet
// durable (back-pressure) and returns ErrClosed once the sink is closing.
func (s *Sink) Emit(d *document.Document) error {
	select {
	case s.sem <- struct{}{}:
	case <-s.ctx.Done():
		return ErrClosed
	}
	d.DataStream.Namespace = s.cfg.Namespace
	body, err := json.Marshal(d)
	if err != nil {
		<-s.sem
		return fmt.Errorf("encode document %s: %w", d.Event.ID, err)
	}
	s.emitted.Add(1)
	return s.add(&pending{doc: d, body: body})
}

func (s *Sink) add(p *pending) error {
	s.addMu.RLock()
	defer s.addMu.RUnlock()
	if s.closed.Load() {
		s.abandon(p)
		return ErrClosed
	}
	p.attempts++
	err := s.bi.Add(s.ctx, esutil.BulkIndexerItem{
		Index:      s.index,
		Action:     "create",
		DocumentID: p.doc.Event.ID,
		Body:       bytes.NewReader(p.body),
		OnSuccess: func(context.Context, esutil.BulkIndexerItem, esutil.BulkIndexerResponseItem) {
			s.done(p, Indexed)
		},
		OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
			s.failed(p, res, err)
		},
	})
	if err != nil {
		// The indexer refuses only when its context is gone: closing.
		s.abandon(p)
		return fmt.Errorf("queue document %s: %w", p.doc.Event.ID, err)
	}
	return nil
}

func (s *Sink) failed(p *pending, res esutil.BulkIndexerResponseItem, err error) {
	switch {
	case err == nil && res.Status == http.StatusConflict:
		s.done(p, Duplicate)
	case err != nil || res.Status == http.StatusTooManyRequests || res.Status >= 500:
		reason := res.Error.Type
		if err != nil {
			reason = err.Error()
		}
		s.retry(p, reason)
	default:
		reason := fmt.Sprintf("%d %s: %s", res.Status, res.Error.Type, res.Error.Reason)
		if werr := s.cfg.DeadLetter.Write(p.doc, reason); werr != nil {
			// The dead-letter sink failing is not a reason to lose the
			// document: keep retrying until someone fixes the mapping or the
			// file system.
			s.log.Error("dead-letter write failed; retrying the document", "id", p.doc.Event.ID, "err", werr)
			s.retry(p, "dead-letter write failed")
			return
		}
		s.log.Error("document rejected by elasticsearch; written to the dead-letter sink", "id", p.doc.Event.ID, "reason", reason)
		s.done(p, DeadLettered)
	}
}

// retry queues the document again after a backoff, unless the sink closed.
func (s *Sink) retry(p *pending, reason string) {
	s.retried.Add(1)
	delay := s.cfg.backoff(p.attempts)
	s.log.Debug("retrying document", "id", p.doc.Event.ID, "attempt", p.attempts, "reason", reason, "in", delay)
	if s.closed.Load() {
		s.abandon(p)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		s.mu.Lock()
		_, ok := s.timers[t]
		delete(s.timers, t)
		s.mu.Unlock()
		if ok { // else stopped and abandoned by Close
			s.add(p) //nolint:errcheck // failures are counted as abandoned inside
		}
	})
	s.timers[t] = p
}

func (s *Sink) done(p *pending, o Outcome) {
	switch o {
	case Indexed:
		s.indexed.Add(1)
	case Duplicate:
		s.duplicates.Add(1)
	case DeadLettered:
		s.deadLettered.Add(1)
	}
	if s.cfg.OnDone != nil {
		s.cfg.OnDone(p.doc, o)
	}
	<-s.sem
}

func (s *Sink) abandon(*pending) {
	s.abandoned.Add(1)
	<-s.sem
}

// Flush sends everything queued and waits for the requests to finish.
// Documents waiting for a retry stay pending.
func (s *Sink) Flush(ctx context.Context) error {
	if err := s.bi.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}

// Close flushes and waits until every document is durable or ctx ends. Then
// it stops the indexer; documents still pending are abandoned (counted, not
// reported durable, so a Kafka consumer will not commit them) and Close
// returns an error saying how many.
func (s *Sink) Close(ctx context.Context) error {
	for len(s.sem) > 0 && ctx.Err() == nil {
		s.bi.Flush(ctx) //nolint:errcheck // failures come back through the items
		if len(s.sem) == 0 {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond): // retries are waiting on their timers
		}
	}
	s.addMu.Lock()
	s.closed.Store(true)
	s.addMu.Unlock()
	s.mu.Lock()
	for t, p := range s.timers {
		t.Stop()
		delete(s.timers, t)
		s.abandon(p)
	}
	s.mu.Unlock()
	closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.bi.Close(closeCtx) // items still in the indexer fail and are abandoned
	s.cancel()
	if dlErr := s.cfg.DeadLetter.Close(); dlErr != nil && err == nil {
		err = dlErr
	}
	if n := s.abandoned.Load(); n > 0 {
		return fmt.Errorf("elasticsearch sink closed with %d document(s) not indexed", n)
	}
	if err != nil {
		return fmt.Errorf("close bulk indexer: %w", err)
	}
	return nil
}

// Stats returns the counters so far.
func (s *Sink) Stats() Stats {
	bs := s.bi.Stats()
	return Stats{
		Emitted:      s.emitted.Load(),
		Indexed:      s.indexed.Load(),
		Duplicates:   s.duplicates.Load(),
		Retried:      s.retried.Load(),
		DeadLettered: s.deadLettered.Load(),
		Abandoned:    s.abandoned.Load(),
		InFlight:     len(s.sem),
		Requests:     bs.NumRequests,
		BytesSent:    bs.FlushedBytes,
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
