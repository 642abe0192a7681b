package main

import (
	"context"
	"io"
	"os"
)

// interruptible returns a reader of r that gives up when ctx ends, even while
// a read is blocked (standard input from a pipe that stays open, as in
// "tail -f kern.log | oopsflow scan -"). Regular files are returned as they
// are: their reads never wait for long.
func interruptible(ctx context.Context, r io.Reader) io.Reader {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			return r
		}
	}
	return &ctxReader{ctx: ctx, r: r}
}

// ctxReader reads r on a goroutine of its own, two buffers in turn, and hands
// the data over until ctx ends. The goroutine may stay blocked in a read
// after that; the process is exiting by then.
type ctxReader struct {
	ctx     context.Context
	r       io.Reader
	started bool
	data    chan readResult
	free    chan []byte
	cur     []byte // unread part of the buffer being consumed
	buf     []byte // that buffer, to give back
	err     error
}

type readResult struct {
	b   []byte
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if !c.started {
		c.started = true
		c.data = make(chan readResult)
		c.free = make(chan []byte, 2)
		c.free <- make([]byte, 128<<10)
		c.free <- make([]byte, 128<<10)
		go c.loop()
	}
	for len(c.cur) == 0 {
		if c.buf != nil {
			c.free <- c.buf
			c.buf = nil
		}
		if c.err != nil {
			return 0, c.err
		}
		select {
		case res := <-c.data:
			c.buf, c.cur, c.err = res.b, res.b, res.err
		case <-c.ctx.Done():
			return 0, context.Cause(c.ctx)
		}
	}
	n := copy(p, c.cur)
	c.cur = c.cur[n:]
	return n, nil
}

func (c *ctxReader) loop() {
	for {
		var buf []byte
		select {
		case buf = <-c.free:
		case <-c.ctx.Done():
			return
		}
		n, err := c.r.Read(buf[:cap(buf)])
		select {
		case c.data <- readResult{buf[:n], err}:
		case <-c.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}
