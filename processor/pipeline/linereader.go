package pipeline

import (
	"bufio"
	"errors"
	"io"
)

// LineReader returns lines of at most a fixed length, discarding the excess
// of longer lines without buffering it.
type LineReader struct {
	r       *bufio.Reader
	max     int
	buf     []byte
	Cut     uint64 // lines that were longer than the limit
	BytesIn uint64 // bytes read
}

// NewLineReader reads lines of at most max bytes from r.
func NewLineReader(r io.Reader, max int) *LineReader {
	if max <= 0 {
		max = DefaultMaxLine
	}
	return &LineReader{r: bufio.NewReaderSize(r, 256<<10), max: max}
}

// Next returns the next line without its newline. The slice is valid until
// the next call. At the end of input it returns the last line (if any) and
// io.EOF.
func (lr *LineReader) Next() ([]byte, error) {
	lr.buf = lr.buf[:0]
	cut := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.BytesIn += uint64(len(chunk))
		if !cut {
			room := lr.max - len(lr.buf)
			if len(chunk) > room {
				lr.buf = append(lr.buf, chunk[:room]...)
				cut = true
				lr.Cut++
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			return trimNL(lr.buf), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(lr.buf) == 0 {
				return nil, io.EOF
			}
			return trimNL(lr.buf), io.EOF
		default:
			return nil, err
		}
	}
}

func trimNL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
