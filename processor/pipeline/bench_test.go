package pipeline

import (
	"bytes"
	"context"
	"testing"

	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/document"
)

// BenchmarkPipeline runs a generated fleet log (2,000 hosts, the default
// format mix, a crash every 20,000 lines) through the whole pipeline.
func BenchmarkPipeline(b *testing.B) {
	data, st := generate(b, 500_000, 2000)
	m := loadMatcher(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		p := New(Config{}, m, OutputFunc(func(*document.Document) error { return nil }))
		if _, err := Feed(context.Background(), p, bytes.NewReader(data), DefaultMaxLine); err != nil {
			b.Fatal(err)
		}
		p.Close(context.Background(), assemble.EOF)
	}
	b.ReportMetric(float64(st.Lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
