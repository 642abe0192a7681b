package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/internal/estest"
	"github.com/oopsflow/oopsflow/processor/document"
)

func docs(n int, prefix string) []*document.Document {
	var out []*document.Document
	for i := 0; i < n; i++ {
		d := &document.Document{Timestamp: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Message: "BUG: unable to handle kernel NULL pointer dereference in f"}
		d.Event.ID = fmt.Sprintf("%s%028x", prefix, i)
		d.Host.Name = fmt.Sprintf("host-%d", i)
		d.Oops.Type = "null_pointer_dereference"
		out = append(out, d)
	}
	return out
}

type recorder struct {
	mu       sync.Mutex
	outcomes map[string]Outcome
}

func (r *recorder) onDone(d *document.Document, o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outcomes == nil {
		r.outcomes = map[string]Outcome{}
	}
	if _, dup := r.outcomes[d.Event.ID]; dup {
		panic("OnDone called twice for " + d.Event.ID)
	}
	r.outcomes[d.Event.ID] = o
}

func (r *recorder) count(o Outcome) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.outcomes {
		if v == o {
			n++
		}
	}
	return n
}

func testConfig(srv *estest.Server, rec *recorder) Config {
	return Config{
		Addresses:     []string{srv.URL},
		FlushInterval: 20 * time.Millisecond,
		FlushBytes:    64 << 10,
		RetryBase:     5 * time.Millisecond,
		RetryMax:      50 * time.Millisecond,
		MaxRetries:    2,
		OnDone:        rec.onDone,
		DeadLetter:    NewFileDeadLetter(nopCloser{&bytes.Buffer{}}),
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func run(t *testing.T, cfg Config, ds []*document.Document) *Sink {
	t.Helper()
	s, err := NewSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if err := s.Write(context.Background(), d, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(ctxT(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	return s
}

// The same documents twice: the second delivery creates nothing (409 is success).
func TestReplayIsIdempotent(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	ds := docs(500, "a")
	rec := &recorder{}
	s := run(t, testConfig(srv, rec), ds)
	if srv.Count(s.Index()) != 500 || rec.count(Indexed) != 500 {
		t.Fatalf("first run: %d stored, %d indexed", srv.Count(s.Index()), rec.count(Indexed))
	}
	rec2 := &recorder{}
	run(t, testConfig(srv, rec2), ds)
	if srv.Count(s.Index()) != 500 || rec2.count(Duplicate) != 500 {
		t.Fatalf("replay: %d stored, %d duplicates", srv.Count(s.Index()), rec2.count(Duplicate))
	}
	var stored map[string]any
	json.Unmarshal(srv.Doc(s.Index(), ds[0].Event.ID), &stored)
	if stored["data_stream"].(map[string]any)["namespace"] != "default" {
		t.Errorf("data_stream.namespace not set: %v", stored["data_stream"])
	}
}

// 429s per item and per request, and 5xx: everything arrives, exactly once.
func Test429Storm(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.Reject429(700)
	srv.FailNextRequests(429, 503, 429, 502, 504, 429)
	rec := &recorder{}
	s := run(t, testConfig(srv, rec), docs(400, "b"))
	st := s.Stats()
	if srv.Count(s.Index()) != 400 || rec.count(Indexed) != 400 || st.Retried == 0 || st.Abandoned != 0 {
		t.Fatalf("stored %d, indexed %d, stats %+v", srv.Count(s.Index()), rec.count(Indexed), st)
	}
}

// Elasticsearch down, then back: nothing lost, memory bounded meanwhile.
func TestDownThenBack(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.SetDown(true)
	rec := &recorder{}
	cfg := testConfig(srv, rec)
	cfg.MaxInFlight = 50
	s, err := NewSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ds := docs(300, "c")
	var emitted atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, d := range ds {
			if err := s.Write(context.Background(), d, nil); err != nil {
				t.Error(err)
				return
			}
			emitted.Add(1)
		}
	}()
	// While down, Emit blocks at MaxInFlight: the pipeline slows down.
	deadline := time.Now().Add(5 * time.Second)
	for emitted.Load() < 50 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if n := emitted.Load(); n > 50 {
		t.Fatalf("%d documents accepted while Elasticsearch is down, bound 50", n)
	}
	if st := s.Stats(); st.InFlight > 50 || st.Indexed != 0 || rec.count(Indexed) != 0 {
		t.Fatalf("while down: %+v", st)
	}
	srv.SetDown(false)
	<-done
	if err := s.Close(ctxT(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	if srv.Count(s.Index()) != 300 || rec.count(Indexed) != 300 {
		t.Fatalf("after recovery: %d stored, %d indexed", srv.Count(s.Index()), rec.count(Indexed))
	}
}

// A mapping error is permanent: dead-lettered with the reason, counted,
// reported durable; the other documents are indexed.
func TestMappingErrorGoesToDeadLetter(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.SetMappingError(func(doc map[string]any) bool {
		return doc["host"].(map[string]any)["name"] == "host-7"
	})
	var dl bytes.Buffer
	rec := &recorder{}
	cfg := testConfig(srv, rec)
	cfg.DeadLetter = NewFileDeadLetter(nopCloser{&dl})
	s := run(t, cfg, docs(20, "d"))
	if srv.Count(s.Index()) != 19 || rec.count(DeadLettered) != 1 || s.Stats().DeadLettered != 1 {
		t.Fatalf("stored %d, dead-lettered %d", srv.Count(s.Index()), rec.count(DeadLettered))
	}
	var line struct {
		Reason   string             `json:"reason"`
		Document *document.Document `json:"document"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(dl.Bytes()), &line); err != nil {
		t.Fatalf("dead letter %q: %v", dl.String(), err)
	}
	if line.Document.Host.Name != "host-7" || !strings.Contains(line.Reason, "400 document_parsing_exception") {
		t.Fatalf("dead letter: %+v", line)
	}
}

// Closing while Elasticsearch is down abandons what is not durable, says so,
// and never reports those documents as done.
func TestCloseWhileDown(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.SetDown(true)
	rec := &recorder{}
	s, err := NewSink(testConfig(srv, rec))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs(30, "e") {
		if err := s.Write(context.Background(), d, nil); err != nil {
			t.Fatal(err)
		}
	}
	err = s.Close(ctxT(t, 300*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "30 document(s) not indexed") {
		t.Fatalf("close: %v", err)
	}
	if len(rec.outcomes) != 0 || s.Stats().InFlight != 0 {
		t.Fatalf("abandoned documents reported done: %d, in flight %d", len(rec.outcomes), s.Stats().InFlight)
	}
	if err := s.Write(context.Background(), docs(1, "f")[0], nil); err != ErrClosed {
		t.Fatalf("emit after close: %v", err)
	}
}

// Slow Elasticsearch: in-flight documents stay within the bound at every moment.
func TestBackPressureBound(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.SetDelay(30 * time.Millisecond)
	rec := &recorder{}
	cfg := testConfig(srv, rec)
	cfg.MaxInFlight = 20
	s, err := NewSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var maxSeen atomic.Int64
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				if n := int64(s.Stats().InFlight); n > maxSeen.Load() {
					maxSeen.Store(n)
				}
			}
		}
	}()
	for _, d := range docs(200, "g") {
		if err := s.Write(context.Background(), d, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(ctxT(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	close(stop)
	if maxSeen.Load() > 20 || srv.Count(s.Index()) != 200 {
		t.Fatalf("max in flight %d (bound 20), stored %d", maxSeen.Load(), srv.Count(s.Index()))
	}
}

func TestAPIKeyAuth(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.RequireAPIKey("c2VjcmV0OmtleQ==")
	rec := &recorder{}
	cfg := testConfig(srv, rec)
	cfg.APIKey = "c2VjcmV0OmtleQ=="
	s := run(t, cfg, docs(5, "h"))
	if srv.Count(s.Index()) != 5 {
		t.Fatal("not indexed with the API key")
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
