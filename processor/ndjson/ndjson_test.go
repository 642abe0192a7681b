package ndjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oopsflow/oopsflow/processor/document"
)

func doc(id string) *document.Document {
	d := &document.Document{Message: "BUG: kernel NULL pointer dereference in f <&>"}
	d.Event.ID = id
	return d
}

func TestLinesAndDone(t *testing.T) {
	var b bytes.Buffer
	w := New(&b)
	var durable int
	for _, id := range []string{"a", "b"} {
		if err := w.Write(context.Background(), doc(id), func(err error) {
			if err == nil {
				durable++
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if durable != 2 || strings.Count(b.String(), "\n") != 2 || !strings.Contains(b.String(), "<&>") {
		t.Fatalf("durable %d, output %q", durable, b.String())
	}
}

// One JSON array, streamed, empty or not.
func TestArray(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		var b bytes.Buffer
		w := NewArray(&b)
		for i := 0; i < n; i++ {
			if err := w.Write(context.Background(), doc(string(rune('a'+i))), func(error) {}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var arr []document.Document
		if err := json.Unmarshal(b.Bytes(), &arr); err != nil || len(arr) != n {
			t.Fatalf("%d documents: %v: %q", n, err, b.String())
		}
	}
}

// A full disk: the write fails, the document is not durable (done is not
// called), and the caller gets the error.
func TestFullDisk(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full")
	}
	defer f.Close()
	w := New(f)
	called := false
	err = w.Write(context.Background(), doc("a"), func(error) { called = true })
	if err == nil || !strings.Contains(err.Error(), "no space left") || called {
		t.Fatalf("err %v, done called %v", err, called)
	}
}

// halfWriter writes half of what it is given to a file, then fails, as a
// disk that fills up in the middle of a document.
type halfWriter struct{ f *os.File }

func (h halfWriter) Write(b []byte) (int, error) {
	n, _ := h.f.Write(b[:len(b)/2])
	return n, errors.New("no space left on device")
}

// A write cut short on a regular file is cut off again: the file never
// holds half a document, so a retry leaves valid NDJSON behind.
func TestFailedWriteIsCutOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.ndjson")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := New(f)
	if err := w.Write(context.Background(), doc("a"), func(error) {}); err != nil {
		t.Fatal(err)
	}
	w.w = halfWriter{f}
	if err := w.Write(context.Background(), doc("b"), func(error) {}); err == nil {
		t.Fatal("the failed write reported no error")
	}
	w.w = f
	if err := w.Write(context.Background(), doc("b"), func(error) {}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), data)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("a broken line is left: %q", l)
		}
	}
}
