package elastic

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/internal/estest"
	"github.com/oopsflow/oopsflow/processor/document"
)

// dones collects each document's done callback, failing on a second call.
type dones struct {
	mu   sync.Mutex
	errs map[string]error
	t    *testing.T
}

func newDones(t *testing.T) *dones { return &dones{errs: map[string]error{}, t: t} }

func (d *dones) for_(doc *document.Document) func(error) {
	return func(err error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if _, dup := d.errs[doc.Event.ID]; dup {
			d.t.Errorf("done called twice for %s", doc.Event.ID)
		}
		d.errs[doc.Event.ID] = err
	}
}

func (d *dones) count() (ok, failed int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.errs {
		if e == nil {
			ok++
		} else {
			failed++
		}
	}
	return ok, failed
}

func writeAll(t *testing.T, s *Sink, ds []*document.Document, dn *dones) {
	t.Helper()
	for _, d := range ds {
		if err := s.Write(context.Background(), d, dn.for_(d)); err != nil {
			t.Fatal(err)
		}
	}
}

// Item errors about the destination (403 security, 404 missing data
// stream, 503 unavailable shards) are retried until they pass, never
// dead-lettered; only the document's own errors are.
func TestDestinationErrorsAreRetriedNotDeadLettered(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.FailItems(
		estest.ItemFault{Status: 403, Type: "security_exception", Reason: "action [indices:admin/auto_create] is unauthorized for user [writer]", Count: 30},
		estest.ItemFault{Status: 404, Type: "index_not_found_exception", Reason: "no such index [logs-kernel.oops-default] and [action.auto_create_index] is [false]", Count: 30},
		estest.ItemFault{Status: 503, Type: "unavailable_shards_exception", Reason: "primary shard is not active", Count: 30},
		estest.ItemFault{Status: 403, Type: "cluster_block_exception", Reason: "index [x] blocked by: [FORBIDDEN/8/index write (api)]", Count: 30},
	)
	rec := &recorder{}
	cfg := testConfig(srv, rec)
	s, err := NewSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dn := newDones(t)
	ds := docs(100, "i")
	writeAll(t, s, ds, dn)
	if err := s.Close(ctxT(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if ok, failed := dn.count(); ok != 100 || failed != 0 || srv.Count(s.Index()) != 100 || st.DeadLettered != 0 || st.Retried < 120 {
		t.Fatalf("durable %d, failed %d, stored %d, stats %+v", ok, failed, srv.Count(s.Index()), st)
	}
}

// Wrong credentials fail at once: the sink says why, refuses new documents,
// and reports the ones in flight lost (a consumer must not commit them).
func TestUnauthorizedFailsFast(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.RequireAPIKey("right")
	rec := &recorder{}
	cfg := testConfig(srv, rec)
	cfg.APIKey = "wrong"
	s, err := NewSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dn := newDones(t)
	writeAll(t, s, docs(10, "j"), dn)
	start := time.Now()
	for s.Err() == nil && time.Since(start) < 10*time.Second {
		time.Sleep(5 * time.Millisecond)
	}
	if s.Err() == nil || !strings.Contains(s.Err().Error(), "401") {
		t.Fatalf("no configuration error after %s: %v", time.Since(start), s.Err())
	}
	if err := s.Write(context.Background(), docs(1, "k")[0], nil); err == nil {
		t.Fatal("a document accepted after the credentials were refused")
	}
	err = s.Close(ctxT(t, 10*time.Second))
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("close: %v", err)
	}
	if ok, failed := dn.count(); ok != 0 || failed != 10 {
		t.Fatalf("durable %d, lost %d; want 0 and 10", ok, failed)
	}
}

// A cluster that accepts the connection and never answers: each request
// times out and is retried; when it answers again, everything arrives once.
func TestNeverAnswersThenAnswers(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.Hang(true)
	rec := &recorder{}
	cfg := testConfig(srv, rec)
	cfg.RequestTimeout = 200 * time.Millisecond
	s, err := NewSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dn := newDones(t)
	writeAll(t, s, docs(40, "l"), dn)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.LastError(), "no answer within") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(s.LastError(), "no answer within") {
		t.Fatalf("last error %q, want the request timeout", s.LastError())
	}
	srv.Hang(false)
	if err := s.Close(ctxT(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := dn.count(); ok != 40 || srv.Count(s.Index()) != 40 {
		t.Fatalf("durable %d, stored %d", ok, srv.Count(s.Index()))
	}
}

// An answer that leaves items out is not trusted: the items are sent again
// (and found already there), none forgotten.
func TestPartialBulkAnswer(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.DropItems(3)
	rec := &recorder{}
	s := run(t, testConfig(srv, rec), docs(60, "m"))
	st := s.Stats()
	if srv.Count(s.Index()) != 60 || st.Indexed+st.Duplicates != 60 || st.Abandoned != 0 {
		t.Fatalf("stored %d, stats %+v", srv.Count(s.Index()), st)
	}
}

// 5xx for a while, then healthy: nothing lost.
func TestServerErrorsForAWhile(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.FailFor(500, 300*time.Millisecond)
	rec := &recorder{}
	s := run(t, testConfig(srv, rec), docs(50, "n"))
	if srv.Count(s.Index()) != 50 || s.Stats().Retried == 0 {
		t.Fatalf("stored %d, stats %+v", srv.Count(s.Index()), s.Stats())
	}
}

// A certificate that does not verify is a configuration error, not a
// reason to retry until a timeout.
func TestUntrustedCertificateFailsFast(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.WriteHeader(200)
	}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	s, err := NewSink(Config{Addresses: []string{tlsSrv.URL}, FlushInterval: 10 * time.Millisecond, RetryBase: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	dn := newDones(t)
	writeAll(t, s, docs(3, "o"), dn)
	deadline := time.Now().Add(10 * time.Second)
	for s.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.Err() == nil || !strings.Contains(s.Err().Error(), "certificate") {
		t.Fatalf("error %v, want a certificate error", s.Err())
	}
	s.Close(ctxT(t, 5*time.Second))
	if _, failed := dn.count(); failed != 3 {
		t.Fatalf("%d documents reported lost, want 3", failed)
	}
}

// URLs that cannot work, and namespaces Elasticsearch would refuse, are
// errors before anything is sent; messages never repeat a password.
func TestBadConfiguration(t *testing.T) {
	for _, u := range []string{"es:9200", "ftp://es:9200", "http://", "http://elastic:s3cret@%zz"} {
		_, err := NewSink(Config{Addresses: []string{u}})
		if err == nil {
			t.Errorf("%q accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: message shows the password: %v", u, err)
		}
	}
	for _, ns := range []string{"Prod", "a b", "x/y", strings.Repeat("n", 101)} {
		if _, err := NewSink(Config{Addresses: []string{"http://localhost:9200"}, Namespace: ns}); err == nil {
			t.Errorf("namespace %q accepted", ns)
		}
	}
	if got := Redact("https://elastic:s3cret@es.example:9200/"); strings.Contains(got, "s3cret") || !strings.Contains(got, "es.example") {
		t.Errorf("Redact: %q", got)
	}
}

// Write never blocks past its context: with the in-flight bound full and
// Elasticsearch down, a writer with a deadline gets an error that says why.
func TestWriteHonoursItsDeadline(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.SetDown(true)
	rec := &recorder{}
	cfg := testConfig(srv, rec)
	cfg.MaxInFlight = 5
	s, err := NewSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctxT(t, 100*time.Millisecond))
	dn := newDones(t)
	writeAll(t, s, docs(5, "p"), dn)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Write(ctx, docs(1, "q")[0], nil)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "5 documents waiting") {
		t.Fatalf("write on a full sink: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("write blocked %s past its deadline", time.Since(start))
	}
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if err := s.Write(done, docs(1, "r")[0], nil); err == nil {
		t.Fatal("a write with a done context took a document while full")
	}
}

// When a destination error lasts past the deadline, the error names what
// to change: the privilege or the cluster setting.
func TestDestinationErrorsNameTheFix(t *testing.T) {
	for _, tc := range []struct {
		fault estest.ItemFault
		want  string
	}{
		{estest.ItemFault{Status: 403, Type: "security_exception", Reason: "action [indices:admin/auto_create] is unauthorized for user [writer] with effective roles [oopsflow_writer] on indices [logs-kernel.oops-default]"}, "auto_configure"},
		{estest.ItemFault{Status: 404, Type: "index_not_found_exception", Reason: "no such index [logs-kernel.oops-default] and [action.auto_create_index] ([-*]) doesn't match"}, "run oopsflow setup"},
		{estest.ItemFault{Status: 429, Type: "cluster_block_exception", Reason: "index [.ds-logs-kernel.oops-default] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block]"}, "flood-stage"},
	} {
		srv := estest.New("8.15.0")
		tc.fault.Count = 1 << 30
		srv.FailItems(tc.fault)
		s, err := NewSink(testConfig(srv, &recorder{}))
		if err != nil {
			t.Fatal(err)
		}
		dn := newDones(t)
		writeAll(t, s, docs(3, "h"), dn)
		err = s.Close(ctxT(t, 500*time.Millisecond))
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.fault.Type, err)
		}
		if st := s.Stats(); st.DeadLettered != 0 {
			t.Errorf("%s: dead-lettered %d", tc.fault.Type, st.DeadLettered)
		}
	}
}
