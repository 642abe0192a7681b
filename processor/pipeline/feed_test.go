package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"runtime"
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

// longLines yields n lines of size bytes each (not log lines), made as
// they are read, and samples the heap as it goes.
type longLines struct {
	n, size, at int
	reads       int
	peak        uint64
}

func (l *longLines) Read(p []byte) (int, error) {
	if l.reads++; l.reads%16 == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		l.peak = max(l.peak, ms.HeapInuse)
	}
	total := l.n * l.size
	if l.at >= total {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && l.at < total {
		if l.at%l.size == l.size-1 {
			p[k] = '\n'
		} else {
			p[k] = 'x'
		}
		k++
		l.at++
	}
	return k, nil
}

// The input in flight is bounded whatever the input's size: 300 MiB of
// 1 MiB lines (blocks of 2 MiB) hold the heap within the blocks of the
// read-ahead (16 MiB, or two per worker and two more if that is more) and
// a few more. Also the depth itself, on one core and on several.
func TestFeedReadAheadBounded(t *testing.T) {
	const maxLine = 1 << 20
	for _, workers := range []int{1, 3} {
		p := New(Config{Workers: workers}, loadMatcher(t), OutputFunc(func(*document.Document) error { return nil }))
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		in := &longLines{n: 300, size: maxLine}
		if _, err := Feed(context.Background(), p, in, maxLine); err != nil {
			t.Fatal(err)
		}
		if st := p.Stats(); st.Lines != 300 {
			t.Fatalf("%d lines read, want 300", st.Lines)
		}
		bound := uint64(max(readAhead, (2*workers+2)*blockBytes(maxLine))) + 3*uint64(blockBytes(maxLine)) + 8<<20
		if grown := in.peak - min(in.peak, before.HeapInuse); grown > bound || in.peak == 0 {
			t.Fatalf("%d workers: the heap grew by %d MiB reading 300 MiB (bound %d MiB)", workers, grown>>20, bound>>20)
		}
	}
	for _, tc := range []struct{ workers, maxLine, procs, want int }{
		{1, DefaultMaxLine, 1, 4}, {2, DefaultMaxLine, 1, 6}, // one core: no more than needed
		{1, DefaultMaxLine, 2, 10}, {2, DefaultMaxLine, 2, 18}, // 8 per worker + 2
		{2, 1 << 20, 2, 8}, {2, 10 << 20, 2, 6}, {64, DefaultMaxLine, 64, 130}, // within 16 MiB, at least 2 per worker + 2
	} {
		if got := feedDepth(tc.workers, tc.maxLine, tc.procs); got != tc.want {
			t.Errorf("feedDepth(%d workers, lines up to %d, %d cores) = %d, want %d", tc.workers, tc.maxLine, tc.procs, got, tc.want)
		}
	}
}
