package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/matcher"
)

// ExampleResult is the outcome of one signature example.
type ExampleResult struct {
	Signature string
	Example   matcher.Example
	Reports   int    // reports found in the example
	Err       error  // nil when the example behaved as expected
	Detail    string // what the matching report said (title, confidence, fix status)
}

// RunExamples runs every example of every signature through the whole
// pipeline, with the whole knowledge base loaded (so an example may also
// prove that a look-alike goes to no other signature... or to the right one).
// It stops early, with ctx's cause, when ctx ends.
func RunExamples(ctx context.Context, m *matcher.Matcher, fsys fs.FS) ([]ExampleResult, error) {
	var out []ExampleResult
	for _, s := range m.Signatures() {
		for _, ex := range s.Examples {
			if ctx.Err() != nil {
				return out, context.Cause(ctx)
			}
			out = append(out, runExample(ctx, m, fsys, s, ex))
		}
	}
	return out, nil
}

func runExample(ctx context.Context, m *matcher.Matcher, fsys fs.FS, s *matcher.Signature, ex matcher.Example) ExampleResult {
	res := ExampleResult{Signature: s.ID, Example: ex}
	data, err := fs.ReadFile(fsys, ex.File)
	if err != nil {
		res.Err = fmt.Errorf("read example: %w", err)
		return res
	}
	var docs []*document.Document
	host := ex.Host
	p := New(Config{
		DefaultHost: firstNonEmpty(host, "example"),
		Console:     host != "",
		Now:         func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	}, m, OutputFunc(func(d *document.Document) error { docs = append(docs, d); return nil }))
	if _, err := Feed(ctx, p, bytes.NewReader(data), DefaultMaxLine); err != nil {
		res.Err = err
		return res
	}
	if err := p.Close(ctx, assemble.EOF); err != nil {
		res.Err = err
		return res
	}
	res.Reports = len(docs)
	var hit *document.Document
	for _, d := range docs {
		if d.Rule != nil && d.Rule.ID == s.ID {
			hit = d
			break
		}
	}
	if hit != nil {
		res.Detail = fmt.Sprintf("%q confidence %.2f fix_status %s", hit.Oops.Title, hit.Oops.Match.Confidence, hit.Oops.Match.FixStatus)
	} else if len(docs) > 0 {
		res.Detail = fmt.Sprintf("%q matched %s", docs[0].Oops.Title, docs[0].Oops.Match.Status)
	}
	switch ex.Expect {
	case "match":
		switch {
		case hit == nil:
			res.Err = fmt.Errorf("expected a match, %d report(s) found, none matched %s", len(docs), s.ID)
		case ex.FixStatus != "" && hit.Oops.Match.FixStatus != ex.FixStatus:
			res.Err = fmt.Errorf("fix_status %s (kernel %q), expected %s", hit.Oops.Match.FixStatus, kernelOf(hit), ex.FixStatus)
		}
	case "no_match":
		switch {
		case len(docs) == 0:
			// A negative example with no report in it proves nothing.
			res.Err = fmt.Errorf("no report found: a negative example must contain a report that does not match")
		case hit != nil:
			res.Err = fmt.Errorf("expected no match, but %s matched: %s", s.ID, res.Detail)
		}
	}
	return res
}

func kernelOf(d *document.Document) string {
	if d.Host.OS != nil {
		return d.Host.OS.Kernel
	}
	return ""
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}
