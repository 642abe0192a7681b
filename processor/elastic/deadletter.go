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
	mu   sync.Mutex
	w    io.WriteCloser
	path string // when set, the file is opened at the first Write
	name string
}

// NewFileDeadLetter writes to w.
func NewFileDeadLetter(w io.WriteCloser) *FileDeadLetter {
	return &FileDeadLetter{w: w, name: "the dead-letter writer"}
}

// NewLazyFileDeadLetter appends to the file at path, which is created at the
// first rejected document: a run without rejections leaves no file behind,
// and a path that cannot be written is an error of the first rejection (the
// document is then retried, not lost).
func NewLazyFileDeadLetter(path string) *FileDeadLetter {
	return &FileDeadLetter{path: path, name: path}
}

// OpenDeadLetterFile appends to the file at path, creating it now.
func OpenDeadLetterFile(path string) (*FileDeadLetter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("dead-letter file: %w", err)
	}
	return &FileDeadLetter{w: f, name: path}, nil
}

// Name names the destination for messages: the file's path.
func (f *FileDeadLetter) Name() string { return f.name }

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
	if f.w == nil {
		fh, err := os.OpenFile(f.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
		if err != nil {
			return fmt.Errorf("dead-letter file: %w", err)
		}
		f.w = fh
	}
	if _, err := f.w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write dead letter %s: %w", f.name, err)
	}
	return nil
}

// Close closes the underlying writer.
func (f *FileDeadLetter) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.w == nil {
		return nil
	}
	return f.w.Close()
}
