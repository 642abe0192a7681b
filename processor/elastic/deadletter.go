package elastic

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/oopsflow/oopsflow/processor/document"
)

// DeadLetter stores documents Elasticsearch rejected for good, with the reason.
type DeadLetter interface {
	Write(d *document.Document, reason string) error
	Close() error
}

// FileDeadLetter writes one JSON line per rejected document:
// {"@timestamp": ..., "reason": ..., "document": {...}}. Safe for concurrent use.
type FileDeadLetter struct {
	mu sync.Mutex
	w  io.WriteCloser
}

// NewFileDeadLetter writes to w.
func NewFileDeadLetter(w io.WriteCloser) *FileDeadLetter { return &FileDeadLetter{w: w} }

// OpenDeadLetterFile appends to the file at path, creating it.
func OpenDeadLetterFile(path string) (*FileDeadLetter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("dead-letter file: %w", err)
	}
	return NewFileDeadLetter(f), nil
}

// Write appends the document and reason.
func (f *FileDeadLetter) Write(d *document.Document, reason string) error {
	line, err := json.Marshal(struct {
		Timestamp time.Time          `json:"@timestamp"`
		Reason    string             `json:"reason"`
		Document  *document.Document `json:"document"`
	}{time.Now().UTC(), reason, d})
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write dead letter: %w", err)
	}
	return nil
}

// Close closes the underlying writer.
func (f *FileDeadLetter) Close() error { return f.w.Close() }

func stderr() io.Writer { return os.Stderr }
