package oops

import (
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, file := range files {
		t := &testing.T{}
		ctx, lines := readCase(t, file)
		f.Add(strings.Join(ctx, "\n") + "\x00" + strings.Join(lines, "\n"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		ctx, body, _ := strings.Cut(s, "\x00")
		o := Parse(strings.Split(ctx, "\n"), strings.Split(body, "\n"))
		if o.Fingerprint == "" || len(o.Title) > 120 {
			t.Fatalf("fingerprint %q, title of %d bytes", o.Fingerprint, len(o.Title))
		}
	})
}
