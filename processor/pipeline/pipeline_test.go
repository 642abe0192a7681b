package pipeline

import (
	"bytes"
	"context"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/internal/fleetgen"
	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/signatures"
)

func loadMatcher(t testing.TB) *matcher.Matcher {
	t.Helper()
	sigs, err := matcher.Load(signatures.FS)
	if err != nil {
		t.Fatal(err)
	}
	return matcher.New(sigs)
}

func collect(t testing.TB, m *matcher.Matcher, cfg Config, input []byte) ([]*document.Document, Stats) {
	t.Helper()
	var docs []*document.Document
	p := New(cfg, m, OutputFunc(func(d *document.Document) error { docs = append(docs, d); return nil }))
	if _, err := Feed(context.Background(), p, bytes.NewReader(input), DefaultMaxLine); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(context.Background(), assemble.EOF); err != nil {
		t.Fatal(err)
	}
	return docs, p.Stats()
}

// Every signature's examples, through the whole pipeline: the seed cases
// end to end (this is what "oopsflow rules test" runs).
func TestSignatureExamples(t *testing.T) {
	m := loadMatcher(t)
	results, err := RunExamples(context.Background(), m, signatures.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) < 10 {
		t.Fatalf("only %d examples", len(results))
	}
	for _, r := range results {
		if r.Err != nil {
			t.Errorf("%s %s: %v", r.Signature, r.Example.File, r.Err)
		}
	}
}

func generate(t testing.TB, lines int64, hosts int) ([]byte, fleetgen.Stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := fleetgen.Generate(&buf, fleetgen.Config{Lines: lines, Hosts: hosts, CrashEvery: crashEvery(lines), Seed: 7, Examples: signatures.FS})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), st
}

// A generated fleet log: every crash becomes exactly one document, from the
// right host; user-space "BUG:" lines and kernel segfault lines never do.
func TestGeneratedFleet(t *testing.T) {
	data, st := generate(t, 300_000, 300)
	docs, stats := collect(t, loadMatcher(t), Config{}, data)
	if int64(len(docs)) != st.Crashes {
		t.Fatalf("%d documents for %d generated crashes", len(docs), st.Crashes)
	}
	if stats.Undecodable != 0 {
		t.Errorf("%d generated lines undecodable", stats.Undecodable)
	}
	known, truncated := 0, 0
	for _, d := range docs {
		if strings.Contains(d.Oops.Title, "invariant") || strings.Contains(d.Oops.Title, "segfault") {
			t.Errorf("a non-kernel or non-report line became a report: %q", d.Oops.Title)
		}
		if d.Rule != nil {
			known++
		}
		if d.Oops.Truncated {
			truncated++
		}
	}
	if known == 0 || int64(truncated) < st.Cut {
		t.Errorf("known %d, truncated %d (at least %d crashes were cut short)", known, truncated, st.Cut)
	}
}

// Replaying the same input yields the same document ids: at-least-once
// delivery never duplicates.
func TestReplayIdempotent(t *testing.T) {
	data, _ := generate(t, 100_000, 100)
	m := loadMatcher(t)
	a, _ := collect(t, m, Config{}, data)
	b, _ := collect(t, m, Config{}, data)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d vs %d documents", len(a), len(b))
	}
	ids := map[string]bool{}
	for _, d := range a {
		if ids[d.Event.ID] {
			t.Fatalf("two documents share id %s", d.Event.ID)
		}
		ids[d.Event.ID] = true
	}
	for _, d := range b {
		if !ids[d.Event.ID] {
			t.Fatalf("replay produced a new id %s for %q", d.Event.ID, d.Oops.Title)
		}
	}
}

// Bad input loses nothing else: binary blobs, a 10 MB line and invalid JSON
// around a real report.
func TestBadInputAroundAReport(t *testing.T) {
	report := "Jan  3 13:42:39 n1 kernel: [ 1.0] BUG: kernel NULL pointer dereference, address: 0000000000000402\n" +
		"Jan  3 13:42:39 n1 kernel: [ 1.0] RIP: 0010:netfs_rreq_unlock+0xf7/0x3c0 [netfs]\n" +
		"Jan  3 13:42:39 n1 kernel: [ 1.0] Call Trace:\n" +
		"Jan  3 13:42:39 n1 kernel: [ 1.0]  netfs_rreq_assess+0x1b4/0x4f0 [netfs]\n" +
		"Jan  3 13:42:39 n1 kernel: [ 1.0] ---[ end trace 2b1f6f5c7fa3d6a1 ]---\n"
	var in bytes.Buffer
	in.WriteString("\x00\x01\x02 binary \xff\xfe\n")
	in.WriteString(`{"MESSAGE": broken json` + "\n")
	in.WriteString("Jan  3 13:42:39 n2 kernel: " + strings.Repeat("A", 10<<20) + "\n")
	in.WriteString(report)
	rng := rand.New(rand.NewPCG(3, 4))
	blob := make([]byte, 1<<16)
	for i := range blob {
		blob[i] = byte(rng.UintN(256))
	}
	in.Write(blob)
	in.WriteString("\n")
	docs, stats := collect(t, loadMatcher(t), Config{}, in.Bytes())
	if len(docs) != 1 || docs[0].Oops.Function != "netfs_rreq_unlock" || docs[0].Oops.Truncated {
		t.Fatalf("the report among bad input: %d docs", len(docs))
	}
	if stats.Undecodable < 3 {
		t.Errorf("undecodable %d, want the bad lines counted", stats.Undecodable)
	}
}

// Memory stays bounded by configuration under adversarial input: many
// hosts, each starting a report that never ends.
func TestMemoryBoundedUnderAdversarialInput(t *testing.T) {
	cfg := Config{Assemble: assemble.Config{MaxHosts: 1000, MaxLines: 100, MaxBytes: 16 << 10}}
	var reports int
	p := New(cfg, nil, OutputFunc(func(d *document.Document) error {
		reports++
		return nil
	}))
	line := []byte("Jan  3 13:42:39 host-000000 kernel: [ 1.0]  frame_function_name+0x1/0x2 " + strings.Repeat("z", 100))
	header := []byte("Jan  3 13:42:39 host-000000 kernel: [ 1.0] BUG: soft lockup - CPU#1 stuck for 22s! [a:1]")
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// First every host starts a report, then the reports grow forever.
	for i := 0; i < 400_000; i++ {
		h := i % 20000 // 20x more hosts than the bound
		b := line
		if i < 20000 {
			b = header
		}
		copy(b[16:27], "host-"+pad6(h))
		p.Line(context.Background(), b, int64(i))
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if p.OpenReports() > 1000 {
		t.Fatalf("%d open reports, bound 1000 hosts", p.OpenReports())
	}
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	// 1000 hosts x (100 lines x ~130 B + context) is ~15 MB at most.
	if grown > 64<<20 {
		t.Fatalf("heap grew %d MB", grown>>20)
	}
	p.Close(context.Background(), assemble.EOF)
	if reports == 0 {
		t.Fatal("no reports emitted")
	}
}

func pad6(n int) string {
	s := []byte("000000")
	for i := 5; i >= 0 && n > 0; i-- {
		s[i] = byte('0' + n%10)
		n /= 10
	}
	return string(s)
}

// Idle reports close on the event clock as time moves in the input.
func TestIdleOnEventClock(t *testing.T) {
	in := "Jan  3 13:42:39 dead kernel: [ 1.0] BUG: kernel NULL pointer dereference, address: 0000000000000402\n" +
		"Jan  3 13:42:39 dead kernel: [ 1.0] RIP: 0010:f+0x1/0x2\n" +
		"Jan  3 13:43:39 alive sshd[1]: Accepted publickey\n"
	var docs []*document.Document
	p := New(Config{Assemble: assemble.Config{Idle: 30 * time.Second}}, nil, OutputFunc(func(d *document.Document) error { docs = append(docs, d); return nil }))
	if _, err := Feed(context.Background(), p, strings.NewReader(in), DefaultMaxLine); err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Oops.EndReason != "idle" || !docs[0].Oops.Truncated {
		t.Fatalf("want one idle, truncated report before EOF; got %d", len(docs))
	}
}

// crashEvery keeps test logs crash-dense and benchmark logs realistic.
func crashEvery(lines int64) int64 {
	if lines >= 500_000 {
		return 20_000
	}
	return 2000
}
