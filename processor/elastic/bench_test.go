package elastic

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/internal/estest"
	"github.com/oopsflow/oopsflow/internal/fleetgen"
	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/pipeline"
	"github.com/oopsflow/oopsflow/signatures"
)

// realDocs runs a generated fleet log through the pipeline: documents with
// real call traces and stack_trace text, the size that goes on the wire.
func realDocs(b *testing.B) []*document.Document {
	sigs, err := matcher.Load(signatures.FS)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := fleetgen.Generate(&buf, fleetgen.Config{Lines: 400_000, Hosts: 500, CrashEvery: 400, Seed: 3, Examples: signatures.FS}); err != nil {
		b.Fatal(err)
	}
	var out []*document.Document
	p := pipeline.New(pipeline.Config{}, matcher.New(sigs), pipeline.OutputFunc(func(d *document.Document) error { out = append(out, d); return nil }))
	if _, err := pipeline.Feed(context.Background(), p, &buf, pipeline.DefaultMaxLine); err != nil {
		b.Fatal(err)
	}
	p.Close(context.Background(), assemble.EOF)
	return out
}

// BenchmarkSink: documents per second through the sink to the in-process
// test double, and bytes per document on the wire.
func BenchmarkSink(b *testing.B) {
	ds := realDocs(b)
	srv := estest.New("8.15.0")
	defer srv.Close()
	var docs, bytesSent uint64
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s, err := NewSink(Config{Addresses: []string{srv.URL}, Namespace: fmt.Sprintf("b%d", i), FlushInterval: 100 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range ds {
			if err := s.Write(context.Background(), d, nil); err != nil {
				b.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := s.Close(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		st := s.Stats()
		docs += st.Indexed
		bytesSent += st.BytesSent
	}
	b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(float64(bytesSent)/float64(docs), "bytes/doc")
}
