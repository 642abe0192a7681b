// Package conformance measures the parser against syzkaller's report corpus
// (../shared/corpus/syzkaller): each file is fed line by line through the
// real decoder and assembler, and the first report is parsed and compared
// with syzkaller's expected title.
package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/logline"
	"github.com/oopsflow/oopsflow/processor/oops"
)

// Case is one corpus file.
type Case struct {
	Name      string
	Title     string   // expected title, "" when the log holds no report
	Alt       []string // alternative titles
	Corrupted bool
	Log       []byte
}

// Outcome is what the parser made of one case.
type Outcome struct {
	Case     *Case
	Detected bool
	Title    string
	Function string
	FuncOK   bool // blamed function agrees with the function in TITLE or an ALT
	TitleOK  bool // exact title agreement
}

// Result sums a run.
type Result struct {
	Files, WithTitle, Detected, FalseDetections, Negatives int
	FuncComparable, FuncAgree, TitleAgree                  int
	Outcomes                                               []Outcome
}

// Load reads every numbered file of dir.
func Load(dir string) ([]*Case, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read corpus: %w", err)
	}
	var cases []*Case
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read corpus file: %w", err)
		}
		cases = append(cases, parseCase(e.Name(), data))
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	return cases, nil
}

func parseCase(name string, data []byte) *Case {
	c := &Case{Name: name}
	data = bytes.ReplaceAll(data, []byte("\r"), nil)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		line := string(data[:i])
		data = data[i+1:]
		if line == "" {
			break
		}
		switch {
		case strings.HasPrefix(line, "TITLE: "):
			c.Title = strings.TrimPrefix(line, "TITLE: ")
		case strings.HasPrefix(line, "ALT: "):
			c.Alt = append(c.Alt, strings.TrimPrefix(line, "ALT: "))
		case strings.HasPrefix(line, "CORRUPTED: Y"):
			c.Corrupted = true
		}
	}
	if i := bytes.Index(data, []byte("\nREPORT:\n")); i >= 0 {
		data = data[:i]
	}
	c.Log = data
	return c
}

var reIn = regexp.MustCompile(` in ([A-Za-z0-9_.$]+)(?: / [A-Za-z0-9_.$]+)?$`)

func titleFunc(t string) string {
	if m := reIn.FindStringSubmatch(t); m != nil {
		return m[1]
	}
	return ""
}

// Run parses every case and compares.
func Run(cases []*Case) Result {
	var res Result
	for _, c := range cases {
		o := run1(c)
		res.Files++
		if c.Title == "" {
			res.Negatives++
			if o.Detected {
				res.FalseDetections++
			}
		} else {
			res.WithTitle++
			if o.Detected {
				res.Detected++
			}
			want := map[string]bool{}
			for _, t := range append([]string{c.Title}, c.Alt...) {
				if f := titleFunc(t); f != "" && f != "corrupted" {
					want[f] = true
				}
			}
			if len(want) > 0 {
				res.FuncComparable++
				if o.Detected && (want[o.Function] || want[titleFunc(o.Title)]) {
					o.FuncOK = true
					res.FuncAgree++
				}
			}
			if o.Detected && o.Title == c.Title {
				o.TitleOK = true
				res.TitleAgree++
			}
		}
		res.Outcomes = append(res.Outcomes, o)
	}
	return res
}

func run1(c *Case) Outcome {
	out := Outcome{Case: c}
	var first *assemble.Report
	// The first report is the one that started first: a one-line report
	// printed inside another is emitted before it.
	a := assemble.New(assemble.Config{}, func(r *assemble.Report) {
		if first == nil || r.FirstPos < first.FirstPos {
			first = r
		}
	})
	d := logline.Decoder{DefaultHost: "console", Console: true}
	sc := bufio.NewScanner(bytes.NewReader(c.Log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var l logline.Line
	var pos int64
	for sc.Scan() {
		pos++
		if err := d.Decode(sc.Bytes(), &l); err != nil || !l.Kernel {
			continue
		}
		a.Add(&l, time.Time{}, pos)
	}
	a.Flush(assemble.EOF)
	if first == nil {
		return out
	}
	o := oops.Parse(first.Context, first.Lines)
	out.Detected = true
	out.Title = o.Title
	out.Function = oops.StripSuffix(o.Function)
	return out
}

// Summary formats the figures.
func (r Result) Summary() string {
	pct := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return 100 * float64(a) / float64(b)
	}
	return fmt.Sprintf("files: %d\nreports detected: %d/%d (%.1f%%)\nfalse detections: %d/%d files without TITLE\nblamed-function agreement: %d/%d (%.1f%%)\nexact title agreement: %d/%d (%.1f%%)\n",
		r.Files, r.Detected, r.WithTitle, pct(r.Detected, r.WithTitle), r.FalseDetections, r.Negatives,
		r.FuncAgree, r.FuncComparable, pct(r.FuncAgree, r.FuncComparable), r.TitleAgree, r.WithTitle, pct(r.TitleAgree, r.WithTitle))
}
