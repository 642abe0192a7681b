// Package fluentbit is the logic of the Fluent Bit output plugin, without
// the C ABI (plugin/ adapts that): one Instance per [OUTPUT] section, with
// its own configuration, pipeline, sink and alerts, and no package-level
// state, so several instances live in one Fluent Bit.
//
// Retries. Fluent Bit redelivers a whole chunk after FLB_RETRY, possibly
// after newer chunks. An instance therefore decides before it reads a
// chunk: when its sink has no room (Elasticsearch slow or down) for longer
// than Retry_Wait, it answers FLB_RETRY without having assembled a single
// line of the chunk, so the redelivery is a first delivery. Every chunk it
// does accept is remembered by its SHA-256 (a bounded set): a chunk
// delivered again (after a Fluent Bit restart from filesystem storage, or
// a retry Fluent Bit made on its own) is acknowledged without being
// assembled twice. Documents themselves carry deterministic ids, so a
// report that is re-assembled from re-read lines (kmsg re-reads the ring
// buffer when Fluent Bit restarts) is not indexed twice.
//
// What a refused chunk can still cost: if newer chunks are accepted before
// it comes back, a report whose lines straddle it is assembled from lines
// out of order. Keep Retry_Wait above the sink's usual latency and use
// "workers 1" so flushes of one instance stay in order.
package fluentbit

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oopsflow/oopsflow/processor/alert"
	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/elastic"
	"github.com/oopsflow/oopsflow/processor/logline"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/pipeline"
	"github.com/oopsflow/oopsflow/signatures"
	"gopkg.in/yaml.v3"
)

// Fluent Bit's return codes.
const (
	FlbError = 0
	FlbOK    = 1
	FlbRetry = 2
)

// Instance is one [OUTPUT] section.
type Instance struct {
	ID string

	mu        sync.Mutex // flushes of one instance may run concurrently (workers > 1)
	pipe      *pipeline.Pipeline
	sink      *elastic.Sink     // nil for NDJSON
	file      *os.File          // NDJSON output, nil for stdout
	notifier  *alert.Notifier   // nil without receivers
	seen      map[[32]byte]bool // accepted chunks
	seenOrder [][32]byte        // FIFO for the bound
	retryWait time.Duration
	maxFlight int
	stop      context.CancelFunc
	ticker    sync.WaitGroup
	log       func(format string, args ...any)
	closed    bool
	stats     Stats
}

// Stats counts an instance's work.
type Stats struct {
	Chunks, Records, Skipped, Duplicates, Retries uint64
}

const maxSeenChunks = 4096

// New configures an instance from get(key), which returns "" for absent
// keys. Invalid values are errors naming the key.
func New(get func(key string) string, logf func(format string, args ...any)) (*Instance, error) {
	in := &Instance{ID: get("Id"), seen: map[[32]byte]bool{}, log: logf}
	if in.ID == "" {
		in.ID = "oopsflow"
	}
	intKey := func(key string, def int) (int, error) {
		v := get(key)
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%s: %q is not a positive integer", key, v)
		}
		return n, nil
	}
	durKey := func(key string, def time.Duration) (time.Duration, error) {
		v := get(key)
		if v == "" {
			return def, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%s: %q is not a duration such as 30s", key, v)
		}
		return d, nil
	}
	var err error
	cfg := pipeline.Config{Clock: pipeline.WallClock}
	if cfg.Assemble.MaxLines, err = intKey("Max_Report_Lines", 0); err != nil {
		return nil, err
	}
	if cfg.Assemble.MaxHosts, err = intKey("Max_Hosts", 0); err != nil {
		return nil, err
	}
	if cfg.Assemble.Idle, err = durKey("Idle", 0); err != nil {
		return nil, err
	}
	if in.retryWait, err = durKey("Retry_Wait", 2*time.Second); err != nil {
		return nil, err
	}
	keys := logline.DefaultKeys()
	if v := get("Host_Key"); v != "" {
		keys.Host = append(splitList(v), keys.Host...)
	}
	if v := get("Message_Key"); v != "" {
		keys.Message = append(splitList(v), keys.Message...)
	}
	cfg.Keys = keys
	cfg.DefaultHost = get("Hostname")
	if cfg.DefaultHost == "" {
		// kmsg records carry no host: Fluent Bit runs on the node they
		// come from.
		cfg.DefaultHost, _ = os.Hostname()
	}

	sigs, err := matcher.Load(signatures.FS)
	if err != nil {
		return nil, fmt.Errorf("knowledge base: %w", err)
	}

	var notifierErr error
	in.notifier, notifierErr = buildNotifier(get("Webhook"), get("Alerts_Config"))
	if notifierErr != nil {
		return nil, notifierErr
	}
	var out pipeline.Sink
	switch output := strings.ToLower(get("Output")); output {
	case "", "ndjson":
		w := os.Stdout
		if p := get("Path"); p != "" {
			f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
			if err != nil {
				return nil, fmt.Errorf("Path: %w", err)
			}
			in.file, w = f, f
		}
		enc := newNDJSON(w)
		out = pipeline.SinkFunc(func(d *document.Document) error {
			if err := enc.write(d); err != nil {
				return err
			}
			if in.notifier != nil {
				in.notifier.Observe(d)
			}
			return nil
		})
	case "elasticsearch":
		escfg, err := esConfig(get)
		if err != nil {
			return nil, err
		}
		if in.notifier != nil {
			n := in.notifier
			escfg.OnDone = func(d *document.Document, _ elastic.Outcome) { n.Observe(d) }
		}
		if in.sink, err = elastic.NewSink(escfg); err != nil {
			return nil, err
		}
		in.maxFlight = escfg.MaxInFlight
		out = in.sink
	default:
		return nil, fmt.Errorf("Output: %q: want elasticsearch or ndjson", output)
	}
	in.pipe = pipeline.New(cfg, matcher.New(sigs), out)

	ctx, cancel := context.WithCancel(context.Background())
	in.stop = cancel
	in.ticker.Add(1)
	go in.tick(ctx)
	if in.notifier != nil {
		in.ticker.Add(1)
		go func() { defer in.ticker.Done(); in.notifier.Run(ctx) }()
	}
	return in, nil
}

func esConfig(get func(string) string) (elastic.Config, error) {
	cfg := elastic.Config{
		Addresses: splitList(get("Es_Url")), CloudID: get("Es_Cloud_Id"), APIKey: get("Es_Api_Key"),
		Username: get("Es_User"), Password: get("Es_Password"), Namespace: get("Es_Namespace"),
	}
	if len(cfg.Addresses) == 0 && cfg.CloudID == "" {
		return cfg, fmt.Errorf("Output elasticsearch needs Es_Url or Es_Cloud_Id")
	}
	switch v := strings.ToLower(get("Es_Insecure")); v {
	case "", "off", "false", "no":
	case "on", "true", "yes":
		cfg.InsecureSkipVerify = true
	default:
		return cfg, fmt.Errorf("Es_Insecure: %q: want on or off", v)
	}
	if f := get("Es_Ca_File"); f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return cfg, fmt.Errorf("Es_Ca_File: %w", err)
		}
		cfg.CACert = pem
	}
	if v := get("Es_Max_In_Flight"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return cfg, fmt.Errorf("Es_Max_In_Flight: %q is not a positive integer", v)
		}
		cfg.MaxInFlight = n
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = 5000
	}
	if p := get("Dead_Letter"); p != "" {
		dl, err := elastic.OpenDeadLetterFile(p)
		if err != nil {
			return cfg, fmt.Errorf("Dead_Letter: %w", err)
		}
		cfg.DeadLetter = dl
	}
	return cfg, nil
}

func buildNotifier(webhook, configFile string) (*alert.Notifier, error) {
	var f alert.FileConfig
	if configFile != "" {
		data, err := os.ReadFile(configFile)
		if err != nil {
			return nil, fmt.Errorf("Alerts_Config: %w", err)
		}
		var doc struct {
			Alerts alert.FileConfig `yaml:"alerts"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("Alerts_Config %s: %w", configFile, err)
		}
		f = doc.Alerts
	}
	if webhook != "" {
		f.Receivers = append(f.Receivers, alert.ReceiverConfig{Type: "webhook", Name: "fluent-bit", URL: webhook})
	}
	if len(f.Receivers) == 0 {
		return nil, nil
	}
	cfg, err := f.Build()
	if err != nil {
		return nil, err
	}
	return alert.New(cfg), nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// tick closes idle reports once a second.
func (in *Instance) tick(ctx context.Context) {
	defer in.ticker.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			in.mu.Lock()
			if !in.closed {
				in.pipe.Tick()
			}
			in.mu.Unlock()
		}
	}
}

// Record is one decoded record of a chunk.
type Record struct {
	Time time.Time // zero when the record had no usable timestamp
	Body map[string]any
}

// Flush processes one chunk. chunk is the raw chunk (for its hash); records
// yields its decoded records (it must skip group markers and undecodable
// records itself). It returns a Fluent Bit code.
func (in *Instance) Flush(chunk []byte, records func(yield func(Record))) int {
	sum := sha256.Sum256(chunk)
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return FlbRetry
	}
	if in.seen[sum] {
		in.stats.Duplicates++
		in.mu.Unlock()
		return FlbOK
	}
	in.mu.Unlock()
	if !in.waitForRoom() {
		in.mu.Lock()
		in.stats.Retries++
		in.mu.Unlock()
		return FlbRetry // nothing of this chunk was read: the redelivery is a first delivery
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return FlbRetry
	}
	if in.seen[sum] { // a concurrent flush took the same chunk meanwhile
		in.stats.Duplicates++
		return FlbOK
	}
	in.stats.Chunks++
	records(func(r Record) {
		in.stats.Records++
		if err := in.pipe.Record(r.Body, r.Time, int64(in.stats.Records)); err != nil {
			in.stats.Skipped++
		}
	})
	in.remember(sum)
	return FlbOK
}

// waitForRoom waits up to Retry_Wait for the sink to have room for a chunk's
// documents (half its in-flight bound free).
func (in *Instance) waitForRoom() bool {
	if in.sink == nil {
		return true
	}
	deadline := time.Now().Add(in.retryWait)
	for in.sink.Stats().InFlight > in.maxFlight/2 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func (in *Instance) remember(sum [32]byte) {
	in.seen[sum] = true
	in.seenOrder = append(in.seenOrder, sum)
	if len(in.seenOrder) > maxSeenChunks {
		delete(in.seen, in.seenOrder[0])
		in.seenOrder = in.seenOrder[1:]
	}
}

// Exit closes open reports as shutdown, flushes the sink and the alerts,
// and stops the instance's goroutines. Fluent Bit calls it once.
func (in *Instance) Exit() error {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil
	}
	in.closed = true
	err := in.pipe.Close(assemble.Shutdown)
	in.mu.Unlock()
	in.stop()
	in.ticker.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
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
	return err
}

// Stats returns the counters.
func (in *Instance) Stats() Stats {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.stats
}

// ConfigKeys lists the configuration keys an instance reads. Fluent Bit's
// core keeps "Host" (and Match, Workers, Retry_Limit, ...) for itself, so
// the fallback host name is "Hostname".
func ConfigKeys() []string {
	return []string{
		"Id", "Output", "Path", "Es_Url", "Es_Cloud_Id", "Es_Api_Key", "Es_User", "Es_Password", "Es_Ca_File",
		"Es_Insecure", "Es_Namespace", "Es_Max_In_Flight", "Dead_Letter", "Host_Key", "Message_Key", "Hostname",
		"Max_Report_Lines", "Max_Hosts", "Idle", "Retry_Wait", "Webhook", "Alerts_Config",
	}
}
