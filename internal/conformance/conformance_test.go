package conformance

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var verbose = flag.Bool("conformance.list", false, "list every disagreement")

// corpusDir is ../shared/corpus/syzkaller relative to the repository root.
func corpusDir() string {
	if d := os.Getenv("OOPSFLOW_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "corpus", "syzkaller")
}

// TestConformance runs the parser over syzkaller's corpus and fails when the
// figures fall below the levels measured when they were last recorded in the
// README (a regression guard, not the goal).
func TestConformance(t *testing.T) {
	dir := corpusDir()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("conformance corpus not found at %s (set OOPSFLOW_CORPUS): %v", dir, err)
	}
	cases, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	res := Run(cases)
	t.Logf("\n%s", res.Summary())
	if *verbose {
		for _, o := range res.Outcomes {
			if o.Case.Title == "" && o.Detected {
				t.Logf("FALSE %s: %q", o.Case.Name, o.Title)
			} else if o.Case.Title != "" && !o.Detected {
				t.Logf("MISS  %s: want %q", o.Case.Name, o.Case.Title)
			} else if o.Case.Title != "" && !o.TitleOK {
				t.Logf("TITLE %s: want %q got %q (func ok %v)", o.Case.Name, o.Case.Title, o.Title, o.FuncOK)
			}
		}
	}
	if res.Files == 0 {
		t.Fatal("no corpus files read")
	}
	check := func(name string, got, of int, min float64) {
		if of == 0 {
			return
		}
		if r := float64(got) / float64(of); r < min {
			t.Errorf("%s: %d/%d = %.3f, below the recorded %.3f", name, got, of, r, min)
		}
	}
	check("detection", res.Detected, res.WithTitle, minDetection)
	check("function agreement", res.FuncAgree, res.FuncComparable, minFunction)
	if res.FalseDetections > maxFalse {
		t.Errorf("false detections: %d, more than the recorded %d", res.FalseDetections, maxFalse)
	}
}

// Recorded levels (see README "Conformance").
const (
	minDetection = 0.98
	minFunction  = 0.80
	maxFalse     = 0
)
