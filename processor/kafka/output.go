package kafka

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/oopsflow/oopsflow/processor/document"
)

// NDJSONOutput writes documents as JSON lines; a document is durable once
// written and flushed. Safe for concurrent use.
type NDJSONOutput struct {
	mu      sync.Mutex
	w       *bufio.Writer
	durable func(*document.Document)
}

// NewNDJSONOutput writes to w and calls durable after each write.
func NewNDJSONOutput(w io.Writer, durable func(*document.Document)) *NDJSONOutput {
	return &NDJSONOutput{w: bufio.NewWriter(w), durable: durable}
}

// Emit writes and flushes one document.
func (o *NDJSONOutput) Emit(d *document.Document) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode document: %w", err)
	}
	o.mu.Lock()
	_, err = o.w.Write(append(b, '\n'))
	if err == nil {
		err = o.w.Flush()
	}
	o.mu.Unlock()
	if err != nil {
		return fmt.Errorf("write document: %w", err)
	}
	o.durable(d)
	return nil
}

// Flush is a no-op: Emit flushes.
func (o *NDJSONOutput) Flush(context.Context) error { return nil }
