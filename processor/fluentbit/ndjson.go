package fluentbit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/oopsflow/oopsflow/processor/document"
)

// ndjson writes one document per line and flushes it at once: a document
// is on disk (or on Fluent Bit's stdout) before the chunk is acknowledged.
// Callers serialise writes (the instance lock).
type ndjson struct {
	w   *bufio.Writer
	enc *json.Encoder
}

func newNDJSON(w io.Writer) *ndjson {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &ndjson{w: bw, enc: enc}
}

func (n *ndjson) write(d *document.Document) error {
	if err := n.enc.Encode(d); err != nil {
		return fmt.Errorf("encode document: %w", err)
	}
	if err := n.w.Flush(); err != nil {
		return fmt.Errorf("write document: %w", err)
	}
	return nil
}
