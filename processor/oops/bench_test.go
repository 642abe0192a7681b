package oops

import (
	"path/filepath"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	files, _ := filepath.Glob("testdata/*.txt")
	type c struct{ ctx, lines []string }
	var cases []c
	for _, f := range files {
		t := &testing.T{}
		ctx, lines := readCase(t, f)
		cases = append(cases, c{ctx, lines})
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, x := range cases {
			Parse(x.ctx, x.lines)
		}
	}
	b.ReportMetric(float64(len(cases))*float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}
