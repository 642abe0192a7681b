package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/logline"
)

// DefaultMaxLine is the longest line Feed passes on; the rest of a longer
// line is skipped (and counted as undecodable input by the caller).
const DefaultMaxLine = 64 << 10

// blockSize is the input Feed reads at a time: whole lines, some hundreds.
// Small enough for a block to stay in the cache from its decoding to its
// assembling on one core.
const blockSize = 128 << 10

// blockBytes is the size of a block: room for two of the longest lines.
func blockBytes(maxLine int) int { return max(blockSize, 2*maxLine) }

// readAhead bounds the input in flight (read, being decoded, waiting to be
// assembled) when lines are long.
const readAhead = 16 << 20

// feedDepth is how many blocks Feed keeps in flight. With the stages
// running at once (procs > 1), enough to keep the workers busy while the
// ordered stage lingers on a block: 8 per worker, within readAhead bytes.
// On one core nothing runs at once, and read-ahead only costs cache (every
// block in flight is memory the reader writes and both stages read again):
// 2 per worker and 2 more, which is also the least ever kept.
func feedDepth(workers, maxLine, procs int) int {
	least := 2*workers + 2
	if procs <= 1 {
		return least
	}
	return min(8*workers+2, max(least, readAhead/blockBytes(maxLine)))
}

// Feed reads lines from r into p, numbering them from 1. Lines longer than
// maxLine are cut to maxLine bytes; the rest is discarded without being held
// in memory, so a 10 MB line costs no more than a short one. It returns the
// number of lines cut. It stops at the first error of the pipeline (ctx
// ended, or the output failed) or of r.
//
// Feed works in two stages. Blocks of whole lines are decoded and
// classified (host, time, kernel or not, which report kind a kernel line
// starts) by Config.Workers goroutines at once; the calling goroutine then
// takes the blocks in input order and does everything that depends on the
// lines before (the log clock, the per-host state machines, the documents).
// The documents are therefore the same for any number of workers, and the
// same as from Line.
func Feed(ctx context.Context, p *Pipeline, r io.Reader, maxLine int) (cut uint64, err error) {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	workers := p.cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if p.cfg.Console {
		workers = 1
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	depth := feedDepth(workers, maxLine, runtime.GOMAXPROCS(0))
	var (
		free    = make(chan *block, depth) // recycled blocks (bounds memory)
		work    = make(chan *block, depth) // to the workers
		ordered = make(chan *block, depth) // to this goroutine, in input order
		readErr error
		wg      sync.WaitGroup
	)
	for i := 0; i < cap(free); i++ {
		free <- &block{}
	}
	// Stage 0: read blocks of whole lines.
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		defer close(ordered)
		br := newBlockReader(r, maxLine)
		for ctx.Err() == nil {
			var b *block
			select {
			case b = <-free:
			case <-ctx.Done():
				return
			}
			var rerr error
			b.data, b.readerCut, rerr = br.next(b.data)
			if len(b.data) > 0 {
				b.done = make(chan struct{})
				work <- b
				ordered <- b
			}
			if rerr != nil {
				if !errors.Is(rerr, io.EOF) {
					readErr = rerr
				}
				return
			}
		}
	}()
	// Stage 1: decode and classify, in parallel.
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec := p.newDecoder()
			for b := range work {
				b.decode(&dec, p.asm, maxLine)
				close(b.done)
			}
		}()
	}
	// Stage 2: in order.
	var n int64
	for b := range ordered {
		<-b.done
		cut += b.readerCut + b.cut
		if err == nil {
			var perr error
			if n, perr = p.apply(ctx, b, n); perr != nil {
				err = fmt.Errorf("line %d: %w", n, perr)
				cancel(err)
			} else if ctx.Err() != nil { // stop reading soon after a signal
				err = fmt.Errorf("line %d: %w", n, context.Cause(ctx))
			}
		}
		b.release()
		select {
		case free <- b:
		default:
		}
	}
	cancel(nil)
	wg.Wait()
	if err == nil && readErr != nil {
		err = fmt.Errorf("read line %d: %w", n+1, readErr)
	}
	return cut, err
}

// block is a run of whole input lines and what stage 1 made of them.
type block struct {
	data      []byte // the lines, each ending in '\n' (the last one may not)
	readerCut uint64 // lines the reader cut (longer than a block)
	cut       uint64 // lines cut to the length limit
	recs      []rec  // one per line
	kernel    []kernelLine
	classes   []assemble.Class // classes[i] is kernel[i]'s
	extra     []byte           // copies of text the decoder did not take from data (JSON)
	done      chan struct{}    // closed once decoded
}

// rec is one line: its time, its length and what it is.
type rec struct {
	tn int64 // the line's time in Unix nanoseconds, 0 when it has none
	n  int32 // bytes, with the newline
	k  int32 // index into kernel; notKernel or undecodable
}

const (
	notKernel   = -1
	undecodable = -2
)

// kernelLine is a kernel line, decoded (Text and HostRaw alias the block)
// and classified.
type kernelLine struct {
	line logline.Line
	// With copied set, Text and HostRaw are at these offsets in extra.
	copied           bool
	text, host, hlen int32
}

// decode splits the block into lines and decodes each.
func (b *block) decode(dec *logline.Decoder, asm *assemble.Assembler, maxLine int) {
	b.recs, b.kernel, b.classes, b.extra, b.cut = b.recs[:0], b.kernel[:0], b.classes[:0], b.extra[:0], 0
	data := b.data
	var l logline.Line
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		n := i + 1
		if i < 0 {
			line, n = data, len(data)+1 // the last line, without a newline
		} else {
			line = data[:i]
		}
		data = data[min(n, len(data)):]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if len(line) > maxLine {
			line = line[:maxLine]
			b.cut++
		}
		r := rec{n: int32(n), k: notKernel}
		if err := dec.Decode(line, &l); err != nil {
			r.k = undecodable
		} else {
			if !l.Time.IsZero() {
				r.tn = l.Time.UnixNano()
			}
			if l.Kernel {
				r.k = int32(len(b.kernel))
				kl := kernelLine{line: l}
				b.classes = append(b.classes, asm.Classify(&l))
				if l.Format == logline.FormatJournald || l.Format == logline.FormatJSON {
					// The decoder's JSON parser owns these bytes until
					// the next line: keep a copy.
					kl.copied = true
					kl.text = int32(len(b.extra))
					b.extra = append(b.extra, l.Text...)
					kl.host, kl.hlen = int32(len(b.extra)), int32(len(l.HostRaw))
					b.extra = append(b.extra, l.HostRaw...)
				}
				b.kernel = append(b.kernel, kl)
			}
		}
		b.recs = append(b.recs, r)
	}
	for i := range b.kernel { // extra has stopped moving
		if kl := &b.kernel[i]; kl.copied {
			kl.line.Text = b.extra[kl.text:kl.host]
			kl.line.HostRaw = b.extra[kl.host : kl.host+kl.hlen]
		}
	}
}

// release drops the block's references into its data before it is reused.
func (b *block) release() {
	clear(b.kernel)
	b.kernel = b.kernel[:0]
}

// apply runs stage 2 over a decoded block: the same steps as Line for each
// line, in order. n is the position of the line before the block; it returns
// the position of the last line taken.
func (p *Pipeline) apply(ctx context.Context, b *block, n int64) (int64, error) {
	for i := range b.recs {
		r := &b.recs[i]
		n++
		p.stats.Lines++
		p.stats.Bytes += uint64(r.n)
		p.fed = true
		switch r.k {
		case undecodable:
			p.stats.Undecodable++
		case notKernel:
			p.advanceClockN(r.tn)
		default:
			p.advanceClockN(r.tn)
			p.asm.Prefetch(b.classes[r.k+1:])
			kl := &b.kernel[r.k]
			p.stats.KernelLines++
			p.asm.AddClassified(&kl.line, p.logClock(), n, b.classes[r.k])
		}
		if len(p.closing) > 0 || len(p.queue) > 0 || p.hasFailed.Load() {
			if err := p.flushQueue(ctx); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// blockReader reads blocks of whole lines. A line longer than a block is
// cut to max bytes and the rest of it skipped as it is read.
type blockReader struct {
	r     io.Reader
	max   int
	size  int
	carry []byte // the start of a line that did not fit in the last block
	skip  bool   // discarding the rest of a cut line
	eof   bool
}

func newBlockReader(r io.Reader, maxLine int) *blockReader {
	return &blockReader{r: r, max: maxLine, size: blockBytes(maxLine)}
}

// next fills dst (reusing its memory) with whole lines and returns it, the
// number of lines it cut, and io.EOF with the last block.
func (br *blockReader) next(dst []byte) ([]byte, uint64, error) {
	if cap(dst) < br.size {
		dst = make([]byte, 0, br.size)
	}
	dst = append(dst[:0], br.carry...)
	br.carry = br.carry[:0]
	var cut uint64
	lastNL := bytes.LastIndexByte(dst, '\n') // the carry holds none: -1
	for {
		if br.eof {
			return dst, cut, io.EOF
		}
		n0 := len(dst)
		want := cap(dst) - n0
		m, err := br.r.Read(dst[n0:cap(dst)])
		dst = dst[:n0+m]
		if br.skip && m > 0 {
			if i := bytes.IndexByte(dst[n0:], '\n'); i < 0 {
				dst = dst[:n0] // all of it is the cut line's rest
			} else {
				dst = dst[:n0+copy(dst[n0:], dst[n0+i+1:])]
				br.skip = false
			}
		}
		if i := bytes.LastIndexByte(dst[n0:], '\n'); i >= 0 {
			lastNL = n0 + i
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return dst, cut, err
			}
			br.eof = true
			continue
		}
		if len(dst) < cap(dst) && (m == want || m == 0) {
			continue // fill the block
		}
		// The block is full, or the input gave what it had (a pipe, a
		// live stream): pass the whole lines on now.
		if lastNL >= 0 {
			br.carry = append(br.carry, dst[lastNL+1:]...)
			return dst[:lastNL+1], cut, nil
		}
		if len(dst) < cap(dst) {
			continue
		}
		// One line fills the block: keep its first max bytes.
		dst = append(dst[:br.max], '\n')
		cut++
		br.skip = true
		return dst, cut, nil
	}
}
