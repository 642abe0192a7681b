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
	Type      string   // syzkaller's report type (HANG, WARNING, KASAN-READ...), "" when none
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
	FuncCmp  bool // TITLE or an ALT names a function to compare with
	TitleOK  bool // exact title agreement
	// Corrupted is the parser's verdict; CorruptOK that it agrees with
	// the case's CORRUPTED line.
	Corrupted, CorruptOK bool
}

// Disagreement says how the outcome differs from syzkaller: "" when it does
// not, else "false detection", "missed", "function" (the blamed function
// differs) or "title" (same function, other wording).
func (o Outcome) Disagreement() string {
	switch {
	case o.Case.Title == "" && o.Detected:
		return "false detection"
	case o.Case.Title == "":
		return ""
	case !o.Detected:
		return "missed"
	case o.FuncCmp && !o.FuncOK:
		return "function"
	case !o.TitleOK:
		return "title"
	}
	return ""
}

// Result sums a run.
type Result struct {
	Files, WithTitle, Detected, FalseDetections, Negatives int
	FuncComparable, FuncAgree, TitleAgree                  int
	CorruptAgree                                           int // detected reports whose corrupted flag agrees
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
		case strings.HasPrefix(line, "TYPE: "):
			c.Type = strings.TrimPrefix(line, "TYPE: ")
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

// reIn finds the function a title names: "... in F", and F in the
// two-function shapes "... in F/usb_submit_urb" and "... in F / G".
var reIn = regexp.MustCompile(` in ([A-Za-z0-9_.$]+)(?: ?/ ?[A-Za-z0-9_.$]+)?$`)

// titleFunc is the function a title names, "" when it names none.
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
				o.FuncCmp = true
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
			if o.Detected && o.Corrupted == c.Corrupted {
				o.CorruptOK = true
				res.CorruptAgree++
			}
		}
		res.Outcomes = append(res.Outcomes, o)
	}
	return res
}

func run1(c *Case) Outcome {
	out := Outcome{Case: c}
	first, o := First(c)
	if first == nil {
		return out
	}
	out.Detected = true
	out.Title = o.Title
	out.Corrupted = o.Corrupted
	out.Function = oops.StripSuffix(o.Function)
	return out
}

// First assembles a case's log and returns its first report and what the
// parser made of it (nil when the log holds none).
func First(c *Case) (*assemble.Report, *oops.Oops) {
	var first *assemble.Report
	// The first report is the one whose header came first (a one-line
	// report printed inside another is emitted before it), among the kinds
	// syzkaller reports: hard lockups, OOM kills, hardware errors and
	// allocation failures are oopsflow's own (format.Group.Extra).
	a := assemble.New(assemble.Config{}, func(r *assemble.Report) {
		if r.Group.Extra {
			return
		}
		if first == nil || r.HeaderPos < first.HeaderPos {
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
		return nil, nil
	}
	return first, oops.ParseGroup(first.Group, first.Context, first.Lines)
}

// Summary formats the figures.
func (r Result) Summary() string {
	pct := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return 100 * float64(a) / float64(b)
	}
	return fmt.Sprintf("files: %d\nreports detected: %d/%d (%.1f%%)\nfalse detections: %d/%d files without TITLE\nblamed-function agreement: %d/%d (%.1f%%)\nexact title agreement: %d/%d (%.1f%%)\ncorrupted flag agreement: %d/%d (%.1f%%)\n",
		r.Files, r.Detected, r.WithTitle, pct(r.Detected, r.WithTitle), r.FalseDetections, r.Negatives,
		r.FuncAgree, r.FuncComparable, pct(r.FuncAgree, r.FuncComparable), r.TitleAgree, r.WithTitle, pct(r.TitleAgree, r.WithTitle),
		r.CorruptAgree, r.Detected, pct(r.CorruptAgree, r.Detected))
}

// ByType formats the figures per syzkaller report type, worst first: files,
// detected, blamed function agreeing (of those comparable), exact titles.
func (r Result) ByType() string {
	type row struct{ files, detected, funcOK, funcCmp, titleOK int }
	rows := map[string]*row{}
	for _, o := range r.Outcomes {
		if o.Case.Title == "" {
			continue
		}
		t := o.Case.Type
		if t == "" {
			t = "(none)"
		}
		w := rows[t]
		if w == nil {
			w = &row{}
			rows[t] = w
		}
		w.files++
		if o.Detected {
			w.detected++
		}
		if o.FuncCmp {
			w.funcCmp++
			if o.FuncOK {
				w.funcOK++
			}
		}
		if o.TitleOK {
			w.titleOK++
		}
	}
	types := make([]string, 0, len(rows))
	for t := range rows {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool {
		a, b := rows[types[i]], rows[types[j]]
		if da, db := a.files-a.titleOK, b.files-b.titleOK; da != db {
			return da > db
		}
		return types[i] < types[j]
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%-36s %6s %9s %9s %9s\n", "type", "files", "detected", "function", "title")
	for _, t := range types {
		w := rows[t]
		fmt.Fprintf(&b, "%-36s %6d %9d %4d/%-4d %9d\n", t, w.files, w.detected, w.funcOK, w.funcCmp, w.titleOK)
	}
	return b.String()
}
