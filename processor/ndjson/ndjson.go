// Package ndjson writes documents as JSON, one per line (or as one JSON
// array), to standard output or a file: the output of scan and consume
// without Elasticsearch, and the Fluent Bit plugin's "Output ndjson".
//
// A document is durable once its whole line has been written to the
// operating system: Write calls done(nil) only then. A write that fails
// (a full disk, a closed pipe) returns the error and the document is not
// durable; on a regular file the partial line is cut off again, so that a
// later retry does not leave half a document in the file.
package ndjson

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/oopsflow/oopsflow/processor/document"
)

// Writer writes documents. Safe for concurrent use.
type Writer struct {
	mu     sync.Mutex
	w      io.Writer
	file   *os.File // set when w is a regular file we may truncate
	closer io.Closer
	buf    bytes.Buffer
	enc    *json.Encoder
	array  bool // write one JSON array instead of lines
	n      int  // documents written
	closed bool
}

// New writes JSON lines to w. If w is a regular *os.File, a failed write is
// cut off again.
func New(w io.Writer) *Writer {
	nw := &Writer{w: w}
	nw.enc = json.NewEncoder(&nw.buf)
	nw.enc.SetEscapeHTML(false)
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			nw.file = f
		}
	}
	return nw
}

// NewArray writes one JSON array to w: "[" before the first document and
// "]" at Close, so that the output is one JSON value however many
// documents there are, without holding them in memory.
func NewArray(w io.Writer) *Writer {
	nw := New(w)
	nw.array = true
	return nw
}

// Create appends JSON lines to the file at path, creating it (mode 0640).
// Close closes the file.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open output: %w", err)
	}
	w := New(f)
	w.closer = f
	return w, nil
}

// Write writes d and calls done(nil) once it is written. It never blocks
// for longer than the write itself.
func (w *Writer) Write(_ context.Context, d *document.Document, done func(error)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("write document %s: output closed", d.Event.ID)
	}
	w.buf.Reset()
	if w.array {
		if w.n == 0 {
			w.buf.WriteString("[\n")
		} else {
			w.buf.WriteString(",\n")
		}
	}
	if err := w.enc.Encode(d); err != nil {
		return fmt.Errorf("encode document %s: %w", d.Event.ID, err)
	}
	if w.array { // the encoder ends the value with a newline; the separator adds it
		w.buf.Truncate(w.buf.Len() - 1)
	}
	if err := w.write(w.buf.Bytes()); err != nil {
		return fmt.Errorf("write document %s: %w", d.Event.ID, err)
	}
	w.n++
	done(nil)
	return nil
}

// write writes b whole or cuts a regular file back to where it was.
func (w *Writer) write(b []byte) error {
	var size int64 = -1
	if w.file != nil {
		if st, err := w.file.Stat(); err == nil {
			size = st.Size()
		}
	}
	_, err := w.w.Write(b)
	if err != nil && size >= 0 {
		w.file.Truncate(size) //nolint:errcheck // best effort: the write error is what the caller needs
	}
	return err
}

// Count returns the number of documents written.
func (w *Writer) Count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Close ends the array (an empty one when nothing was written) and closes
// the file opened by Create.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	var err error
	if w.array {
		end := "\n]\n"
		if w.n == 0 {
			end = "[]\n"
		}
		if err = w.write([]byte(end)); err != nil {
			err = fmt.Errorf("write output: %w", err)
		}
	}
	if w.closer != nil {
		if cerr := w.closer.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close output: %w", cerr)
		}
	}
	return err
}
