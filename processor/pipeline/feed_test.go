package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/document"
)

// readAll reads every block and returns its lines.
func readAll(t *testing.T, r io.Reader, maxLine int) (lines []string, cut uint64) {
	t.Helper()
	br := newBlockReader(r, maxLine)
	var buf []byte
	for {
		var n uint64
		var err error
		buf, n, err = br.next(buf)
		cut += n
		for _, l := range strings.SplitAfter(string(buf), "\n") {
			if l != "" {
				lines = append(lines, strings.TrimSuffix(l, "\n"))
			}
		}
		if err == io.EOF {
			return lines, cut
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A 10 MB line is cut to the limit without being held whole; lines come
// whole whatever the reads return.
func TestBlockReader(t *testing.T) {
	long := strings.Repeat("x", 10<<20)
	for _, tc := range []struct {
		name string
		r    func(string) io.Reader
	}{
		{"file", func(s string) io.Reader { return strings.NewReader(s) }},
		{"one byte at a time", func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }},
		{"half reads", func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := "short\n" + long + "\nlast"
			if tc.name == "one byte at a time" {
				in = "short\n" + long[:3<<20] + "\nlast" // 10 MB a byte at a time is slow
			}
			lines, cut := readAll(t, tc.r(in), 1000)
			if len(lines) != 3 || lines[0] != "short" || len(lines[1]) != 1000 || lines[2] != "last" || cut != 1 {
				t.Fatalf("%d lines (%d bytes in the second), cut %d", len(lines), len(lines[1]), cut)
			}
		})
	}
}

// A pipe that gives a few lines and then waits: they are passed on at once,
// not held until a block fills.
func TestBlockReaderPassesShortReads(t *testing.T) {
	pr, pw := io.Pipe()
	br := newBlockReader(pr, 1000)
	go pw.Write([]byte("one\ntwo\nthr"))
	got := make(chan string, 1)
	go func() {
		b, _, _ := br.next(nil)
		got <- string(b)
	}()
	select {
	case b := <-got:
		if b != "one\ntwo\n" {
			t.Fatalf("block %q", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the lines given were held back waiting for more input")
	}
	pw.Close()
}

// The documents do not depend on the number of workers, and are those of
// Line called line by line.
func TestFeedSameForAnyWorkers(t *testing.T) {
	data, _ := generate(t, 60_000, 200)
	m := loadMatcher(t)
	now := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	run := func(feed func(p *Pipeline) error) string {
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		p := New(Config{Now: now}, m, OutputFunc(func(d *document.Document) error { return enc.Encode(d) }))
		if err := feed(p); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(context.Background(), assemble.EOF); err != nil {
			t.Fatal(err)
		}
		st := p.Stats()
		return out.String() + "\n" + strings.Join([]string{itoa(st.Lines), itoa(st.KernelLines), itoa(st.Undecodable), itoa(st.Bytes)}, " ")
	}
	byLine := run(func(p *Pipeline) error {
		for i, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			if err := p.Line(context.Background(), []byte(l), int64(i+1)); err != nil {
				return err
			}
		}
		return nil
	})
	if strings.Count(byLine, "\n") < 20 {
		t.Fatalf("only %d documents: the test proves nothing", strings.Count(byLine, "\n"))
	}
	for _, w := range []int{1, 2, 5} {
		got := run(func(p *Pipeline) error {
			p.cfg.Workers = w
			_, err := Feed(context.Background(), p, bytes.NewReader(data), DefaultMaxLine)
			return err
		})
		if got != byLine {
			t.Fatalf("%d workers: output differs from line by line (%d vs %d bytes)", w, len(got), len(byLine))
		}
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// The input in flight stays within 16 MiB however long the lines kept may
// be, unless that leaves fewer than two blocks per worker (then it is what
// it was before the read-ahead grew: 2 per worker + 2).
func TestFeedReadAheadBounded(t *testing.T) {
	for _, workers := range []int{1, 2, 8, 64} {
		for _, maxLine := range []int{1 << 10, DefaultMaxLine, 1 << 20, 10 << 20, 100 << 20} {
			d, size := feedDepth(workers, maxLine), blockBytes(maxLine)
			if floor := 2*workers + 2; d < floor {
				t.Errorf("workers %d, lines up to %d: %d blocks, fewer than %d", workers, maxLine, d, floor)
			}
			if d*size > max(readAhead, (2*workers+2)*size) {
				t.Errorf("workers %d, lines up to %d: %d blocks of %d bytes in flight", workers, maxLine, d, size)
			}
		}
	}
	if d := feedDepth(2, DefaultMaxLine); d != 18 {
		t.Errorf("default, two workers: %d blocks in flight, want 18", d)
	}
}
