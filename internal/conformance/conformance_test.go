package conformance

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	verbose = flag.Bool("conformance.list", false, "list every disagreement")
	show    = flag.String("conformance.show", "", "print the first report of this corpus file as assembled, and what the parser made of it")
)

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
	if *show != "" {
		for _, c := range cases {
			if c.Name == *show {
				r, o := First(c)
				if r == nil {
					t.Logf("%s: no report", c.Name)
					return
				}
				t.Logf("%s: group %s, end %s, %d context lines:\n%s\n--\n%s\n--\ntitle %q function %q format %s corrupted %v (%s)",
					c.Name, r.Group.Name, r.EndReason, len(r.Context), strings.Join(r.Context, "\n"), strings.Join(r.Lines, "\n"), o.Title, o.Function, o.Format, o.Corrupted, o.CorruptedReason)
			}
		}
		return
	}
	res := Run(cases)
	t.Logf("\n%s\n%s", res.Summary(), res.ByType())
	if *verbose {
		byKind := map[string][]string{}
		for _, o := range res.Outcomes {
			if d := o.Disagreement(); d != "" {
				byKind[d] = append(byKind[d], fmt.Sprintf("  %s [%s]: want %q got %q", o.Case.Name, o.Case.Type, o.Case.Title, o.Title))
			}
			if o.Detected && o.Case.Title != "" && !o.CorruptOK {
				byKind["corrupted flag"] = append(byKind["corrupted flag"], fmt.Sprintf("  %s [%s]: want corrupted=%v, got %v: %q", o.Case.Name, o.Case.Type, o.Case.Corrupted, o.Corrupted, o.Title))
			}
		}
		for _, d := range []string{"false detection", "missed", "function", "title", "corrupted flag"} {
			if len(byKind[d]) > 0 {
				t.Logf("%s (%d):\n%s", d, len(byKind[d]), strings.Join(byKind[d], "\n"))
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
	check("exact title agreement", res.TitleAgree, res.WithTitle, minTitle)
	check("corrupted flag agreement", res.CorruptAgree, res.Detected, minCorrupted)
	if res.FalseDetections > maxFalse {
		t.Errorf("false detections: %d, more than the recorded %d", res.FalseDetections, maxFalse)
	}
}

// Recorded levels (see README "Conformance").
const (
	minDetection = 0.99
	minFunction  = 0.99
	minTitle     = 0.975
	minCorrupted = 0.98
	maxFalse     = 0
)
