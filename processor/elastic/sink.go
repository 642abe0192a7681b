// Package elastic writes documents to Elasticsearch and installs what the
// documents need there (templates, lifecycle, Kibana dashboards).
//
// The sink is go-elasticsearch's esutil.BulkIndexer with what it leaves to
// its callers (see the notes on BulkIndexer): it never retries items, it
// accepts items without bound while Elasticsearch is down, and it trusts a
// bulk response to answer every item. So:
//
//   - every document is a create with its deterministic _id into the data
//     stream logs-kernel.oops-<namespace>; a 409 (already there) counts as
//     success, so replays never duplicate;
//   - whole requests are retried by the client transport on 429/502/503/504
//     with exponential backoff, each try bounded by RequestTimeout; a bulk
//     response that does not answer every item is treated as a failed
//     request (see guard.go);
//   - an item that fails for a reason about the destination, not the
//     document (429, 5xx, 403 security, 404 missing index or data stream,
//     cluster blocks, a failed request) is queued again with capped backoff,
//     without limit, until it is indexed or the sink is closed: it is never
//     dead-lettered;
//   - an item rejected for a reason about the document itself (mapping or
//     parsing errors, too large) goes to the dead-letter file with the
//     reason, and counts as durable there;
//   - credentials Elasticsearch refuses (401) and certificates that do not
//     verify are configuration errors: the sink fails at once (Err), every
//     document in flight is reported lost, and Write refuses new ones;
//   - at most MaxInFlight documents are held: Write blocks beyond that until
//     its context ends, so a slow or absent Elasticsearch slows the pipeline
//     instead of growing it, and never hangs a caller that has a deadline;
//   - each document's done callback runs when it is durable (indexed, already
//     there, or dead-lettered) or lost (a configuration error, or still
//     pending when the sink is closed).
package elastic

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
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

	Namespace      string        // data stream namespace (default "default")
	FlushBytes     int           // bulk request size (default 2 MiB)
	FlushInterval  time.Duration // latest flush of a partial bulk request (default 1s)
	Workers        int           // concurrent bulk requests (default 2)
	MaxInFlight    int           // documents held until durable (default 5000)
	MaxRetries     int           // transport retries of a whole request (default 3)
	RetryBase      time.Duration // first backoff (default 200ms)
	RetryMax       time.Duration // backoff cap (default 30s)
	RequestTimeout time.Duration // one HTTP request, answer included (default 30s)
	// ObserveBulk, when set, is told how long each bulk request took (the
	// answer read) and whether it failed, for a latency histogram.
	ObserveBulk func(d time.Duration, failed bool)

	// DeadLetter receives documents Elasticsearch rejected for good.
	// Default: the file DeadLetterPath, created at the first rejection.
	DeadLetter DeadLetter
	// DeadLetterPath is the default dead-letter file (default
	// "oopsflow-dead-letter.ndjson" in the working directory).
	DeadLetterPath string
	// OnDone is called once per document with its outcome when it is
	// durable (in addition to the document's own done callback). It may be
	// called from several goroutines.
	OnDone func(*document.Document, Outcome)
	Logger *slog.Logger
}

// DefaultDeadLetterPath is the dead-letter file used when none is configured.
const DefaultDeadLetterPath = "oopsflow-dead-letter.ndjson"

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
	Emitted      uint64 // documents given to Write
	Indexed      uint64
	Duplicates   uint64
	Retried      uint64 // item retries (429, 5xx, 403, 404, failed requests)
	DeadLettered uint64
	Abandoned    uint64 // lost: not durable when the sink was closed, or refused by a configuration error
	InFlight     int
	Requests     uint64 // bulk requests sent
	BytesSent    uint64 // bulk bodies, uncompressed
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("elasticsearch sink closed")

// DataStreamPrefix is the data stream name without its namespace.
const DataStreamPrefix = "logs-kernel.oops-"

// Sink indexes documents. Write may be called from several goroutines;
// callbacks arrive on the indexer's goroutines.
type Sink struct {
	cfg   Config
	log   *slog.Logger
	bi    esutil.BulkIndexer
	index string
	sem   chan struct{}
	stop  chan struct{} // closed by Close: blocked writers give up
	fatal chan struct{} // closed when a configuration error is latched

	// addMu orders Add against Close: adders hold it for reading and check
	// closed, Close takes it for writing before closing the indexer (an Add
	// after Close panics in esutil).
	addMu    sync.RWMutex
	closed   atomic.Bool
	mu       sync.Mutex // guards timers, live, fatalErr, lastErr
	timers   map[*time.Timer]*pending
	live     map[*pending]struct{} // every document not yet finished or lost
	fatalErr error
	lastErr  string
	progress chan struct{} // a document finished (capacity 1)
	// lastDurable and busySince (Unix nanoseconds) tell how long documents
	// have waited with none becoming durable (Stalled).
	lastDurable, busySince atomic.Int64

	emitted, indexed, duplicates, retried, deadLettered, abandoned atomic.Uint64
}

type pending struct {
	doc      *document.Document
	body     []byte
	attempts int
	done     func(error)
	finished atomic.Bool
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
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.DeadLetterPath == "" {
		c.DeadLetterPath = DefaultDeadLetterPath
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

// CheckURL rejects an Elasticsearch or Kibana URL that cannot work, before
// anything is sent: no scheme, a scheme other than http or https, no host.
// The message never repeats credentials written in the URL.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("URL %q: not a URL", Redact(raw))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %q: the scheme must be http:// or https://", Redact(raw))
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q: no host", Redact(raw))
	}
	return nil
}

// Redact returns a URL with the password of its user info replaced by
// "xxxxx" (the user name is kept), for messages and logs. It works on text
// that does not parse as a URL too ("elastic:pw@es:9200"); text without
// user info comes back unchanged.
func Redact(raw string) string {
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 {
		start = i + 3
	}
	rest := raw[start:]
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return raw
	}
	return raw[:start] + user + ":xxxxx" + raw[start+at:]
}

// NewClient builds the go-elasticsearch client for cfg. Its transport bounds
// every request by RequestTimeout and checks bulk answers (guard.go); onFatal,
// when not nil, hears of configuration errors seen on the wire.
func NewClient(cfg Config, onFatal func(error)) (*elasticsearch.Client, error) {
	cfg = cfg.withDefaults()
	if len(cfg.Addresses) == 0 && cfg.CloudID == "" {
		return nil, errors.New("elasticsearch: give a URL or a Cloud ID")
	}
	for _, a := range cfg.Addresses {
		if err := CheckURL(a); err != nil {
			return nil, fmt.Errorf("elasticsearch: %w", err)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cfg.Workers * 2
	tr.ResponseHeaderTimeout = cfg.RequestTimeout
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
		Transport:     &guard{next: tr, timeout: cfg.RequestTimeout, onFatal: onFatal, observe: cfg.ObserveBulk},
		RetryOnStatus: []int{429, 502, 503, 504},
		MaxRetries:    cfg.MaxRetries,
		RetryBackoff:  cfg.backoff,
	}
	if cfg.CACert != nil {
		// go-elasticsearch adds CACert to an *http.Transport it owns; with
		// ours wrapped, add it here.
		pool, err := certPool(cfg.CACert)
		if err != nil {
			return nil, err
		}
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.TLSClientConfig.RootCAs = pool
		esCfg.CACert = nil
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
	s := &Sink{
		cfg:      cfg,
		log:      cfg.Logger,
		index:    DataStreamPrefix + cfg.Namespace,
		sem:      make(chan struct{}, cfg.MaxInFlight),
		stop:     make(chan struct{}),
		fatal:    make(chan struct{}),
		timers:   map[*time.Timer]*pending{},
		live:     map[*pending]struct{}{},
		progress: make(chan struct{}, 1),
	}
	if err := CheckNamespace(cfg.Namespace); err != nil {
		return nil, err
	}
	if s.cfg.DeadLetter == nil {
		s.cfg.DeadLetter = NewLazyFileDeadLetter(cfg.DeadLetterPath)
	}
	client, err := NewClient(cfg, s.setFatal)
	if err != nil {
		return nil, err
	}
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client:        client,
		NumWorkers:    cfg.Workers,
		FlushBytes:    cfg.FlushBytes,
		FlushInterval: cfg.FlushInterval,
		OnError: func(_ context.Context, err error) {
			// A request cut by our own deadline says nothing new: keep the
			// error that made the documents wait.
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) || s.LastError() == "" {
				s.noteErr(err.Error())
			}
			s.log.Warn("elasticsearch bulk request failed; items will be retried", "err", err)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("bulk indexer: %w", err)
	}
	s.bi = bi
	return s, nil
}

// CheckNamespace rejects a data stream namespace Elasticsearch would refuse:
// it must be lower case, without \ / * ? " < > | , # : or spaces, at most
// 100 bytes.
func CheckNamespace(ns string) error {
	if ns == "" || len(ns) > 100 || strings.ContainsAny(ns, `\/*?"<>|,#: -`) || strings.ToLower(ns) != ns {
		return fmt.Errorf("namespace %q: lower-case letters, digits, '_' and '.' only, at most 100 bytes", ns)
	}
	return nil
}

// Index is the data stream the sink writes to.
func (s *Sink) Index() string { return s.index }

// DeadLetterName names where rejected documents go, for messages.
func (s *Sink) DeadLetterName() string {
	if n, ok := s.cfg.DeadLetter.(interface{ Name() string }); ok {
		return n.Name()
	}
	return "the dead-letter sink"
}

// Err returns the configuration error that stopped the sink (refused
// credentials, a certificate that does not verify), nil if none.
func (s *Sink) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fatalErr
}

// Stalled reports documents waiting for longer than d with none becoming
// durable meanwhile (Elasticsearch down, a missing privilege, a blocked
// cluster), and why: the last error and what to change.
func (s *Sink) Stalled(d time.Duration) (bool, string) {
	if len(s.sem) == 0 {
		return false, ""
	}
	since := max(s.lastDurable.Load(), s.busySince.Load())
	if time.Since(time.Unix(0, since)) <= d {
		return false, ""
	}
	why := fmt.Sprintf("%d document(s) waiting, none indexed for %s", len(s.sem), time.Since(time.Unix(0, since)).Round(time.Second))
	return true, why + s.lastErrSuffix()
}

// LastError is the most recent request or item error, "" if none: what to
// tell a user when documents do not become durable.
func (s *Sink) LastError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

func (s *Sink) noteErr(msg string) {
	s.mu.Lock()
	s.lastErr = msg
	s.mu.Unlock()
}

// setFatal latches a configuration error: documents in flight and those
// waiting to be retried are lost, and Write refuses new ones.
func (s *Sink) setFatal(err error) {
	s.mu.Lock()
	if s.fatalErr != nil {
		s.mu.Unlock()
		return
	}
	s.fatalErr = err
	s.lastErr = err.Error()
	close(s.fatal)
	var waiting []*pending
	for t, p := range s.timers {
		t.Stop()
		delete(s.timers, t)
		waiting = append(waiting, p)
	}
	s.mu.Unlock()
	s.log.Error("elasticsearch: configuration error; no document can be indexed", "err", err)
	for _, p := range waiting {
		s.lose(p, err)
	}
}

// Write queues a document. It blocks while MaxInFlight documents are not yet
// durable (back-pressure), until ctx ends; with a ctx already done it only
// tries. It fails at once after a configuration error or Close.
func (s *Sink) Write(ctx context.Context, d *document.Document, done func(error)) error {
	if err := s.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	select {
	case s.sem <- struct{}{}:
	default:
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("elasticsearch: %d documents waiting to be indexed: %w%s", len(s.sem), context.Cause(ctx), s.lastErrSuffix())
		case <-s.fatal:
			return s.Err()
		case <-s.stop:
			return ErrClosed
		}
	}
	if len(s.sem) == 1 {
		s.busySince.Store(time.Now().UnixNano()) // the first document waiting
	}
	d.DataStream.Namespace = s.cfg.Namespace
	body, err := json.Marshal(d)
	if err != nil {
		<-s.sem
		return fmt.Errorf("encode document %s: %w", d.Event.ID, err)
	}
	s.emitted.Add(1)
	p := &pending{doc: d, body: body, done: done}
	s.mu.Lock()
	s.live[p] = struct{}{}
	s.mu.Unlock()
	s.add(p)
	return nil
}

func (s *Sink) lastErrSuffix() string {
	if e := s.LastError(); e != "" {
		if h := Hint(e); h != "" {
			return "; last error: " + e + " (" + h + ")"
		}
		return "; last error: " + e
	}
	return ""
}

// Hint says what to change for an error about the destination: the
// privilege the writer lacks, the cluster setting in the way.
func Hint(reason string) string {
	r := strings.ToLower(reason)
	switch {
	case strings.Contains(r, "auto_create") && strings.Contains(r, "unauthorized"):
		return "the writer cannot create the data stream: grant it auto_configure and create_doc on logs-kernel.oops-* (docs/troubleshooting.md)"
	case strings.Contains(r, "security_exception") || strings.Contains(r, "unauthorized for") || strings.HasPrefix(r, "403"):
		return "the writer lacks a privilege: it needs create_doc and auto_configure on logs-kernel.oops-* (docs/troubleshooting.md)"
	case strings.Contains(r, "index_not_found") && strings.Contains(r, "auto_create_index"):
		return "the cluster does not auto-create indices (action.auto_create_index): run oopsflow setup, whose index template allows auto-creation of logs-kernel.oops-* whatever that setting says"
	case strings.Contains(r, "index_not_found"):
		return "the data stream does not exist and was not created: run oopsflow setup, and check action.auto_create_index"
	case strings.Contains(r, "cluster_block") && strings.Contains(r, "flood"):
		return "the cluster blocks writes: a disk passed the flood-stage watermark; free space, the block lifts by itself"
	case strings.Contains(r, "cluster_block"):
		return "the cluster or index blocks writes (read-only): see index.blocks.write and cluster.blocks.read_only"
	case strings.HasPrefix(r, "429") || strings.Contains(r, "es_rejected_execution"):
		return "Elasticsearch is overloaded (429): it will be retried; lower the in-flight bound or add capacity if it lasts"
	}
	return ""
}

func (s *Sink) add(p *pending) {
	s.addMu.RLock()
	defer s.addMu.RUnlock()
	if s.closed.Load() {
		s.lose(p, ErrClosed)
		return
	}
	if err := s.Err(); err != nil {
		s.lose(p, err)
		return
	}
	p.attempts++
	err := s.bi.Add(context.Background(), esutil.BulkIndexerItem{
		Index:      s.index,
		Action:     "create",
		DocumentID: p.doc.Event.ID,
		Body:       bytes.NewReader(p.body),
		OnSuccess: func(context.Context, esutil.BulkIndexerItem, esutil.BulkIndexerResponseItem) {
			s.finish(p, Indexed)
		},
		OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
			s.failed(p, res, err)
		},
	})
	if err != nil {
		s.lose(p, fmt.Errorf("queue document %s: %w", p.doc.Event.ID, err))
	}
}

// failed sorts an item failure into its class (see the package doc).
func (s *Sink) failed(p *pending, res esutil.BulkIndexerResponseItem, err error) {
	if err == nil && res.Status == http.StatusConflict {
		s.finish(p, Duplicate)
		return
	}
	reason := itemReason(res, err)
	if err != nil || !documentError(res) {
		s.noteErr(reason)
		s.retry(p, reason)
		return
	}
	if werr := s.cfg.DeadLetter.Write(p.doc, reason); werr != nil {
		// The dead-letter sink failing is not a reason to lose the
		// document: keep retrying until someone fixes the mapping or the
		// file system.
		s.noteErr("dead-letter write failed: " + werr.Error())
		s.log.Error("dead-letter write failed; retrying the document", "id", p.doc.Event.ID, "err", werr)
		s.retry(p, "dead-letter write failed")
		return
	}
	s.log.Error("document rejected by elasticsearch; written to the dead-letter file", "id", p.doc.Event.ID, "reason", reason, "file", s.DeadLetterName())
	s.finish(p, DeadLettered)
}

func itemReason(res esutil.BulkIndexerResponseItem, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d %s: %s", res.Status, res.Error.Type, res.Error.Reason)
}

// documentError reports an item failure caused by the document itself,
// which no retry can cure: everything 4xx except what is about the
// destination (403 security, 404 missing index or data stream, 408, 409
// handled before, 429) and cluster blocks.
func documentError(res esutil.BulkIndexerResponseItem) bool {
	switch {
	case res.Status >= 500, res.Status < 400:
		return false
	case res.Status == http.StatusForbidden, res.Status == http.StatusNotFound,
		res.Status == http.StatusRequestTimeout, res.Status == http.StatusTooManyRequests,
		res.Status == http.StatusUnauthorized:
		return false
	case strings.Contains(res.Error.Type, "cluster_block"), strings.Contains(res.Error.Type, "index_not_found"),
		strings.Contains(res.Error.Type, "security"), strings.Contains(res.Error.Type, "unavailable_shards"):
		return false
	}
	return true
}

// retry queues the document again after a backoff, unless the sink closed.
func (s *Sink) retry(p *pending, reason string) {
	s.retried.Add(1)
	delay := s.cfg.backoff(p.attempts)
	s.log.Debug("retrying document", "id", p.doc.Event.ID, "attempt", p.attempts, "reason", reason, "in", delay)
	s.mu.Lock()
	if s.closed.Load() || s.fatalErr != nil {
		err := s.fatalErr
		s.mu.Unlock()
		if err == nil {
			err = ErrClosed
		}
		s.lose(p, err)
		return
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		s.mu.Lock()
		_, ok := s.timers[t]
		delete(s.timers, t)
		s.mu.Unlock()
		if ok { // else stopped and lost by Close or a configuration error
			s.add(p)
		}
	})
	s.timers[t] = p
	s.mu.Unlock()
}

func (s *Sink) finish(p *pending, o Outcome) {
	if !p.finished.CompareAndSwap(false, true) {
		return
	}
	s.forget(p)
	s.lastDurable.Store(time.Now().UnixNano())
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
	if p.done != nil {
		p.done(nil)
	}
	s.signal()
}

// lose reports a document that will not be durable.
func (s *Sink) lose(p *pending, err error) {
	if !p.finished.CompareAndSwap(false, true) {
		return
	}
	s.abandoned.Add(1) // before forget: Close counts once live is empty
	s.forget(p)
	<-s.sem
	if p.done != nil {
		p.done(err)
	}
	s.signal()
}

func (s *Sink) forget(p *pending) {
	s.mu.Lock()
	delete(s.live, p)
	s.mu.Unlock()
}

func (s *Sink) signal() {
	select {
	case s.progress <- struct{}{}:
	default:
	}
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
// it stops the indexer; documents still pending are lost (counted, their
// done called with an error, so a Kafka consumer does not commit them) and
// Close returns an error saying how many and why.
func (s *Sink) Close(ctx context.Context) error {
	for len(s.sem) > 0 && ctx.Err() == nil && s.Err() == nil {
		s.bi.Flush(ctx) //nolint:errcheck // failures come back through the items
		if len(s.sem) == 0 {
			break
		}
		select {
		case <-ctx.Done():
		case <-s.progress: // a document finished; retries may be waiting on timers
		case <-s.fatal:
		}
	}
	s.addMu.Lock()
	s.closed.Store(true)
	close(s.stop)
	s.addMu.Unlock()
	s.mu.Lock()
	var waiting []*pending
	for t, p := range s.timers {
		t.Stop()
		delete(s.timers, t)
		waiting = append(waiting, p)
	}
	s.mu.Unlock()
	cause := ErrClosed
	if ctx.Err() != nil {
		cause = fmt.Errorf("%w before the document was indexed: %w", ErrClosed, context.Cause(ctx))
	}
	for _, p := range waiting {
		s.lose(p, cause)
	}
	// Items still in the indexer are lost too; a worker stuck in a request
	// is not waited for past ctx (it finishes on its own, and its late
	// callbacks find the items already lost).
	closeCtx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	err := s.bi.Close(closeCtx)
	s.mu.Lock()
	var left []*pending
	for p := range s.live {
		left = append(left, p)
	}
	s.mu.Unlock()
	for _, p := range left {
		s.lose(p, cause)
	}
	// A document another goroutine is losing or finishing right now (a
	// retry timer, a late bulk callback) leaves live after its counter
	// moved: wait for them, briefly, so the count below is whole.
	for i := 0; i < 1000; i++ {
		s.mu.Lock()
		n := len(s.live)
		s.mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if dlErr := s.cfg.DeadLetter.Close(); dlErr != nil && err == nil {
		err = dlErr
	}
	if n := s.abandoned.Load(); n > 0 {
		if ferr := s.Err(); ferr != nil {
			return fmt.Errorf("elasticsearch: %d document(s) not indexed: %w", n, ferr)
		}
		return fmt.Errorf("elasticsearch: %d document(s) not indexed%s", n, s.lastErrSuffix())
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
