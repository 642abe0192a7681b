package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/internal/estest"
	"github.com/oopsflow/oopsflow/internal/fleetgen"
	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/logline"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/ndjson"
	"github.com/oopsflow/oopsflow/signatures"
)

// slowFleet generates fleet syslog at a low rate of log time (a few hundred
// lines per second), so that trailers, idle timeouts and context windows are
// decided inside the data; then one line per partition ten minutes later,
// which closes by log time whatever is still open.
func slowFleet(t testing.TB, lines int64, seed uint64) []msg {
	t.Helper()
	var buf bytes.Buffer
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, err := fleetgen.Generate(&buf, fleetgen.Config{Lines: lines, Hosts: 40, CrashEvery: 250, Seed: seed, Rate: 300, Start: start, Examples: signatures.FS}); err != nil {
		t.Fatal(err)
	}
	var out []msg
	d := logline.Decoder{}
	var l logline.Line
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if err := d.Decode([]byte(line), &l); err != nil {
			t.Fatalf("generated line undecodable: %q", line)
		}
		out = append(out, msg{l.Host, line})
	}
	out = append(out, tail(start.Add(time.Duration(lines)*time.Second/300+10*time.Minute))...)
	return out
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// comparable is a document without what differs between front ends by
// design: when it was built and where it was read.
func comparable(d *document.Document) string {
	c := *d
	c.Event.Created = time.Time{}
	c.Oops.Source = document.Source{}
	c.DataStream.Namespace = ""
	b, _ := json.Marshal(c)
	return string(b)
}

// A reader that stalls (between batches, and on a slow output) changes
// nothing in the documents: the consumer indexes exactly what scan writes
// for the same lines, field for field. The batches are split right after a
// report's "---[ end trace" line, before the "Kernel panic" that belongs to
// it, and the gap is longer than the trailer wait.
func TestSameDocumentsAsScan(t *testing.T) {
	const partitions = 3
	brokers := cluster(t, partitions)
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.SetDelay(20 * time.Millisecond)
	msgs := slowFleet(t, 12_000, 11)
	want := expected(msgs)
	split := []int{}
	for i := 0; i < len(msgs) && len(split) < 2; i++ {
		if strings.Contains(msgs[i].value, "---[ end trace") {
			for j := i + 1; j < len(msgs) && j < i+40; j++ {
				if msgs[j].key == msgs[i].key && strings.Contains(msgs[j].value, "Kernel panic") {
					split = append(split, i+1)
					break
				}
			}
		}
	}
	if len(split) < 2 {
		t.Fatalf("the generated log has %d end-trace/panic pairs to split at, want 2", len(split))
	}
	cfg := testConfig(brokers)
	cfg.Pipeline.WallIdle = 5 * time.Minute // the default: stalls shorter than this change nothing
	m := start(t, cfg, srv, 2)
	produce(t, brokers, msgs[:split[0]])
	time.Sleep(3 * time.Second) // longer than the trailer wait (2 s)
	produce(t, brokers, msgs[split[0]:split[1]])
	time.Sleep(3 * time.Second)
	produce(t, brokers, msgs[split[1]:])
	waitFor(t, fmt.Sprintf("%d documents", len(want)), 90*time.Second, func() bool { return srv.Count(index()) >= len(want) })
	m.stop(t)
	got := map[string]*document.Document{}
	for _, id := range srv.IDs(index()) {
		var d document.Document
		if err := json.Unmarshal(srv.Doc(index(), id), &d); err != nil {
			t.Fatal(err)
		}
		got[id] = &d
	}
	for id, w := range want {
		g := got[id]
		if g == nil {
			t.Errorf("missing %s: %s %q (%s)", id, w.Host.Name, w.Oops.Title, w.Oops.EndReason)
			continue
		}
		if a, b := comparable(g), comparable(w); a != b {
			i := 0
			for i < len(a) && i < len(b) && a[i] == b[i] {
				i++
			}
			from := max(0, i-200)
			t.Errorf("document %s differs from scan's at byte %d:\nconsume: ...%s\nscan:    ...%s", id, i, a[from:min(len(a), i+200)], b[from:min(len(b), i+200)])
		}
	}
	for id, g := range got {
		if want[id] == nil {
			t.Errorf("extra %s: %s %q (%s)", id, g.Host.Name, g.Oops.Title, g.Oops.EndReason)
			for _, w := range want {
				if w.Host.Name == g.Host.Name && w.Oops.Title == g.Oops.Title && got[w.Event.ID] == nil {
					t.Logf("consume's text:\n%s\nscan's text:\n%s", g.Error.StackTrace, w.Error.StackTrace)
				}
			}
		}
	}
}

// Standard output on a full disk: the consumer stops with the error, turns
// not ready, and never commits past the first report it could not write;
// consumed again with a working output, every report comes out once.
func TestOutputFailureStopsCommits(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full")
	}
	defer full.Close()
	brokers := cluster(t, 1)
	msgs, crashes := fleet(t, 6000, 5)
	produce(t, brokers, msgs)
	sigs, _ := matcher.Load(signatures.FS)
	cfg := testConfig(brokers)
	metrics := NewMetrics(nil)
	cfg.Metrics = metrics
	c, err := New(cfg, matcher.New(sigs), ndjson.New(full))
	if err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(context.Background()) }()
	select {
	case err = <-runErr:
	case <-time.After(60 * time.Second):
		t.Fatal("the consumer went on with nowhere to write")
	}
	if err == nil || !strings.Contains(err.Error(), "no space left") || c.Ready() || c.Failure() == nil {
		t.Fatalf("Run: %v, ready %v", err, c.Ready())
	}
	if got := counterValue(t, metrics, "oopsflow_output_failures_total"); got != 1 {
		t.Errorf("output failures counted %v", got)
	}
	first := firstReportOffset(t, msgs)
	if off := committedOffset(t, brokers, cfg.GroupID); off > first {
		t.Fatalf("committed %d, past the first report at %d that was never written", off, first)
	}
	// A working output now: every report, once.
	var mu sync.Mutex
	var out bytes.Buffer
	w := ndjson.New(&lockedWriter{mu: &mu, w: &out})
	c2, _ := New(cfg, matcher.New(sigs), w)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c2.Run(ctx) }()
	waitFor(t, "every report", 60*time.Second, func() bool { return int64(w.Count()) >= crashes })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	ids := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var d document.Document
		json.Unmarshal([]byte(line), &d)
		if ids[d.Event.ID] {
			t.Errorf("written twice: %s", d.Event.ID)
		}
		ids[d.Event.ID] = true
	}
	if int64(len(ids)) != crashes {
		t.Fatalf("%d documents, want %d", len(ids), crashes)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// firstReportOffset is the offset of the first line of the first report in
// msgs (partition 0 of a one-partition topic).
func firstReportOffset(t testing.TB, msgs []msg) int64 {
	t.Helper()
	want := expected(msgs)
	first := int64(-1)
	for _, d := range want {
		if first < 0 || d.Oops.Source.Offsets[0] < first {
			first = d.Oops.Source.Offsets[0]
		}
	}
	return first
}

// SIGTERM while the output is full (Elasticsearch accepts connections and
// never answers): the consumer stops within the hand-over bound instead of
// hanging, commits nothing that is not durable, and the next run indexes
// every report once.
func TestStopUnderBackPressure(t *testing.T) {
	brokers := cluster(t, 2)
	srv := estest.New("8.15.0")
	defer srv.Close()
	msgs, crashes := fleet(t, 8000, 6)
	produce(t, brokers, msgs)
	srv.Hang(true)
	cfg := testConfig(brokers)
	m := start(t, cfg, srv, 2)
	waitFor(t, "the output to fill up", 30*time.Second, func() bool { return m.sink.Stats().InFlight >= 2 })
	time.Sleep(300 * time.Millisecond) // the partitions are now blocked on the full output
	stopped := make(chan struct{})
	go func() {
		m.cancel()
		<-m.done
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("the consumer did not stop while its output was full")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	m.sink.Close(ctx) //nolint:errcheck // documents in flight are lost here, by design
	cancel()
	if n := srv.Count(index()); n != 0 {
		t.Fatalf("%d documents stored while Elasticsearch did not answer", n)
	}
	srv.Hang(false)
	m2 := start(t, cfg, srv, 100)
	waitFor(t, "every report after the restart", 60*time.Second, func() bool { return int64(srv.Count(index())) >= crashes })
	m2.stop(t)
	checkStored(t, srv, msgs, crashes)
}

var _ = errors.New
