package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/document"
)

// heldOutput takes documents and reports them durable only when told to:
// Elasticsearch that has not answered yet.
type heldOutput struct {
	mu    sync.Mutex
	full  bool // refuse new documents (back-pressure)
	held  []func(error)
	taken []*document.Document
}

func (h *heldOutput) Write(ctx context.Context, d *document.Document, done func(error)) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.full {
		return errors.New("full")
	}
	h.taken = append(h.taken, d)
	h.held = append(h.held, done)
	return nil
}

// release reports every held document durable (err nil) or lost.
func (h *heldOutput) release(err error) {
	h.mu.Lock()
	held := h.held
	h.held = nil
	h.mu.Unlock()
	for _, done := range held {
		done(err)
	}
}

const netfsReport = `Jan  3 13:42:39 n1 kernel: [ 1.000000] BUG: kernel NULL pointer dereference, address: 0000000000000402
Jan  3 13:42:39 n1 kernel: [ 1.000001] RIP: 0010:netfs_rreq_unlock+0xf7/0x3c0 [netfs]
Jan  3 13:42:39 n1 kernel: [ 1.000002] Call Trace:
Jan  3 13:42:39 n1 kernel: [ 1.000003]  netfs_rreq_assess+0x1b4/0x4f0 [netfs]
Jan  3 13:42:39 n1 kernel: [ 1.000004] ---[ end trace 2b1f6f5c7fa3d6a1 ]---`

func feedText(t *testing.T, p *Pipeline, text string, first int64) int64 {
	t.Helper()
	pos := first
	for _, l := range strings.Split(text, "\n") {
		if err := p.Line(context.Background(), []byte(l), pos); err != nil {
			t.Fatalf("line %d: %v", pos, err)
		}
		pos++
	}
	return pos
}

// The watermark stays at a report's first line while it is open, while it
// waits for the output, and while the output has it in flight; it moves on
// only once the output says the document is durable.
func TestWatermarkWaitsForDurable(t *testing.T) {
	out := &heldOutput{}
	p := New(Config{}, nil, out)
	next := feedText(t, p, "Jan  3 13:42:38 n1 sshd[1]: noise", 1)
	next = feedText(t, p, netfsReport, next)
	if w := p.Watermark(next); w != 2 {
		t.Fatalf("open report: watermark %d, want 2 (its first line)", w)
	}
	// Log time moves on: the report ends (its trailer waited 2s of log time).
	next = feedText(t, p, "Jan  3 13:42:45 n2 sshd[1]: later", next)
	if len(out.taken) != 1 {
		t.Fatalf("%d documents handed over, want 1", len(out.taken))
	}
	if w := p.Watermark(next); w != 2 || p.InFlight() != 1 {
		t.Fatalf("in flight: watermark %d (want 2), in flight %d", w, p.InFlight())
	}
	out.release(nil)
	if w := p.Watermark(next); w != next || p.InFlight() != 0 || p.Stats().Durable != 1 {
		t.Fatalf("durable: watermark %d (want %d), stats %+v", w, next, p.Stats())
	}
}

// A document the output loses for good pins the watermark for ever and
// makes every later call fail: nothing after it may be acknowledged.
func TestLostDocumentStopsAcknowledgement(t *testing.T) {
	out := &heldOutput{}
	p := New(Config{}, nil, out)
	next := feedText(t, p, netfsReport, 1)
	next = feedText(t, p, "Jan  3 13:42:45 n2 sshd[1]: later", next)
	out.release(errors.New("401 Unauthorized"))
	if !errors.Is(p.Err(), ErrFailed) || !strings.Contains(p.Err().Error(), "401") {
		t.Fatalf("Err %v", p.Err())
	}
	if err := p.Line(context.Background(), []byte("Jan  3 13:42:46 n2 sshd[1]: more"), next); err == nil {
		t.Fatal("lines accepted silently after a document was lost")
	}
	if w := p.Watermark(next + 1); w != 1 || p.Stats().Failed != 1 {
		t.Fatalf("watermark %d (want 1, pinned), stats %+v", w, p.Stats())
	}
}

// An output that is full refuses a document: it waits in the pipeline, in
// order, pinning the watermark, and is handed over once there is room.
func TestRefusedDocumentWaits(t *testing.T) {
	out := &heldOutput{full: true}
	p := New(Config{}, nil, out)
	next := feedText(t, p, netfsReport, 1)
	err := p.Line(context.Background(), []byte("Jan  3 13:42:45 n2 sshd[1]: later"), next)
	next++
	if err == nil || p.Waiting() != 1 || p.Refused() == nil {
		t.Fatalf("full output: err %v, waiting %d, refused %v", err, p.Waiting(), p.Refused())
	}
	if w := p.Watermark(next); w != 1 {
		t.Fatalf("watermark %d, want 1", w)
	}
	out.mu.Lock()
	out.full = false
	out.mu.Unlock()
	if err := p.Flush(context.Background()); err != nil || p.Waiting() != 0 || len(out.taken) != 1 || p.Refused() != nil {
		t.Fatalf("after room: err %v, waiting %d, taken %d, refused %v", err, p.Waiting(), len(out.taken), p.Refused())
	}
	out.release(nil)
	if w := p.Watermark(next); w != next {
		t.Fatalf("watermark %d, want %d", w, next)
	}
}

// The same input gives the same documents in the same order, byte for byte
// (event.created aside): reports closed together (idle, end of input) come
// out in the order they started, whatever the map order inside.
func TestDeterministicOutput(t *testing.T) {
	var in bytes.Buffer
	for i := 0; i < 40; i++ { // 40 hosts, each with an unfinished report
		fmt.Fprintf(&in, "Jan  3 13:42:%02d h%02d kernel: [ %d.0] BUG: soft lockup - CPU#1 stuck for 22s! [a:%d]\n", i%60, i, i+1, i)
		fmt.Fprintf(&in, "Jan  3 13:42:%02d h%02d kernel: [ %d.1] RIP: 0010:spin+0x1/0x2\n", i%60, i, i+1)
	}
	run := func() []byte {
		var out bytes.Buffer
		now := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
		p := New(Config{Now: now}, nil, OutputFunc(func(d *document.Document) error {
			fmt.Fprintf(&out, "%s %s %s\n", d.Event.ID, d.Host.Name, d.Oops.EndReason)
			return nil
		}))
		if _, err := Feed(context.Background(), p, bytes.NewReader(in.Bytes()), DefaultMaxLine); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(context.Background(), assemble.EOF); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	first := run()
	if bytes.Count(first, []byte("\n")) != 40 {
		t.Fatalf("%d documents", bytes.Count(first, []byte("\n")))
	}
	for i := 0; i < 5; i++ {
		if got := run(); !bytes.Equal(got, first) {
			t.Fatalf("run %d differs:\n%s\nfirst:\n%s", i, got, first)
		}
	}
	if !bytes.HasPrefix(first, []byte(strings.Fields(string(first))[0]+" h00 ")) {
		t.Fatalf("not in start order:\n%s", first)
	}
}

// The wall clock closes reports only when the whole input has been quiet
// for WallIdle (nothing can move the log clock then), never because one
// host paused while others talk or a reader was slow.
func TestWallIdleOnlyWhenSilent(t *testing.T) {
	var docs []*document.Document
	p := New(Config{WallIdle: time.Minute}, nil, OutputFunc(func(d *document.Document) error { docs = append(docs, d); return nil }))
	ctx := context.Background()
	w0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.Tick(ctx, w0)
	pos := feedText(t, p, strings.SplitN(netfsReport, "\n", 3)[0]+"\n"+strings.SplitN(netfsReport, "\n", 3)[1], 1)
	// Another host talks every 10 s of wall time, within the same log second.
	for i := 1; i <= 12; i++ {
		pos = feedText(t, p, "Jan  3 13:42:39 n2 sshd[1]: noise", pos)
		p.Tick(ctx, w0.Add(time.Duration(i)*10*time.Second))
	}
	if len(docs) != 0 {
		t.Fatalf("closed by the wall clock while the input was not quiet: %+v", docs[0].Oops.EndReason)
	}
	// Then nothing at all for a minute.
	p.Tick(ctx, w0.Add(130*time.Second))
	p.Tick(ctx, w0.Add(185*time.Second))
	if len(docs) != 1 || docs[0].Oops.EndReason != "idle" {
		t.Fatalf("after a quiet minute: %d documents", len(docs))
	}
}

// A report whose "Kernel panic" trailer comes after another host's report
// began: the lines of two hosts interleave.
const straddlingReports = `Jan  3 13:42:38 n1 sshd[1]: noise
Jan  3 13:42:39 n1 kernel: [ 1.000000] BUG: kernel NULL pointer dereference, address: 0000000000000402
Jan  3 13:42:39 n1 kernel: [ 1.000001] RIP: 0010:netfs_rreq_unlock+0xf7/0x3c0 [netfs]
Jan  3 13:42:39 n1 kernel: [ 1.000002] Call Trace:
Jan  3 13:42:39 n1 kernel: [ 1.000003]  netfs_rreq_assess+0x1b4/0x4f0 [netfs]
Jan  3 13:42:39 n1 kernel: [ 1.000004] ---[ end trace 2b1f6f5c7fa3d6a1 ]---
Jan  3 13:42:39 n2 kernel: [ 7.000000] general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] SMP NOPTI
Jan  3 13:42:39 n1 kernel: [ 1.000005] Kernel panic - not syncing: Fatal exception
Jan  3 13:42:39 n2 kernel: [ 7.000001] RIP: 0010:list_del+0x1a/0x40
Jan  3 13:42:39 n1 kernel: [ 1.000006] ---[ end Kernel panic - not syncing: Fatal exception ]---
Jan  3 13:42:39 n2 kernel: [ 7.000002] Call Trace:
Jan  3 13:42:39 n2 kernel: [ 7.000003]  release_pages+0x1b4/0x4f0
Jan  3 13:42:39 n2 kernel: [ 7.000004] ---[ end trace 00000000deadbeef ]---
Jan  3 13:42:40 n3 sshd[1]: noise
Jan  3 13:42:45 n3 sshd[1]: later
Jan  3 13:42:55 n3 sshd[1]: much later`

// A front end that stops after any line and whose successor reads again
// from the watermark indexes every report once: never a tail of a report
// already indexed (whose trailer would start a report of its own), never a
// report lost. Checked at every line of an interleaved input and of a
// generated fleet.
func TestResumeFromWatermarkAtEveryLine(t *testing.T) {
	fleet, _ := generate(t, 6000, 12)
	for _, c := range []struct {
		name  string
		lines []string
		every int
	}{
		{"straddling trailer", strings.Split(straddlingReports, "\n"), 1},
		{"generated fleet", strings.Split(strings.TrimSpace(string(fleet)), "\n"), 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := func(lines []string, first int64, close bool) (map[string]bool, *Pipeline) {
				ids := map[string]bool{}
				p := New(Config{}, nil, OutputFunc(func(d *document.Document) error { ids[d.Event.ID] = true; return nil }))
				for i, l := range lines {
					if err := p.Line(context.Background(), []byte(l), first+int64(i)); err != nil {
						t.Fatal(err)
					}
				}
				if close {
					if err := p.Close(context.Background(), assemble.EOF); err != nil {
						t.Fatal(err)
					}
				}
				return ids, p
			}
			want, _ := run(c.lines, 0, true)
			if len(want) < 2 {
				t.Fatalf("only %d reports in the input", len(want))
			}
			for k := 1; k < len(c.lines); k += c.every {
				before, p := run(c.lines[:k], 0, false)
				w := p.Watermark(int64(k))
				after, _ := run(c.lines[w:], w, true)
				for id := range after {
					before[id] = true
				}
				for id := range before {
					if !want[id] {
						t.Fatalf("stopped after line %d, resumed at %d: a document no single run makes (%d ids, want %d)", k, w, len(before), len(want))
					}
				}
				for id := range want {
					if !before[id] {
						t.Fatalf("stopped after line %d, resumed at %d: a report lost", k, w)
					}
				}
			}
		})
	}
}

// A front end that never asks for the watermark (scan) does not make the
// pipeline remember every report it closed.
func TestSpansBoundedWithoutWatermark(t *testing.T) {
	p := New(Config{}, nil, OutputFunc(func(*document.Document) error { return nil }))
	next := int64(0)
	for i := 0; i < 5000; i++ {
		text := strings.ReplaceAll(netfsReport, "n1 kernel: [ 1.", fmt.Sprintf("n1 kernel: [ %d.", i+1))
		text = strings.ReplaceAll(text, "13:42:39", fmt.Sprintf("%02d:%02d:%02d", 10+i/3600, i/60%60, i%60))
		next = feedText(t, p, text, next)
	}
	if p.stats.Reports < 4000 {
		t.Fatalf("only %d reports closed", p.stats.Reports)
	}
	if len(p.spans) > 2048 { // twice minSpanLimit: pruned, not kept
		t.Errorf("%d spans remembered after %d reports", len(p.spans), p.stats.Reports)
	}
}
