package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing/fstest"

	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/draft"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/pipeline"
	"github.com/oopsflow/oopsflow/schemas"
	"github.com/oopsflow/oopsflow/signatures"
)

// rulesNew drafts a signature from one report of a log or of an NDJSON
// file of oopsflow documents.
func rulesNew(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("rules new", flag.ContinueOnError)
	fl.SetOutput(stderr)
	from := fl.String("from", "", "log file, or NDJSON of oopsflow documents, holding the report (- for standard input)")
	report := fl.Int("report", 0, "which report of the file (1 is the first; needed when it holds several)")
	id := fl.String("id", "", "signature id: lower-case words joined by dashes, also the file name")
	out := fl.String("o", ".", "signatures directory to write ID.yaml and examples/ID/ into")
	host := fl.String("host", "", "host name for lines that carry none (console logs, dmesg)")
	force := fl.Bool("force", false, "overwrite an existing signature or example of that id")
	var dirs stringList
	fl.Var(&dirs, "signatures", "knowledge base directory to say whether the report is already known (repeatable)")
	fl.Usage = func() {
		fmt.Fprint(stderr, "Usage: oopsflow rules new --from FILE [--report N] --id ID [-o DIR]\n\nDrafts a signature from one kernel report of a log (plain, gzip, - for stdin) or of\nscan's NDJSON documents: ID.yaml with conditions, kernels and TODO placeholders, and\nexamples/ID/ with the report and a look-alike it must not match. rules test passes on it.\n\nFlags:\n")
		fl.PrintDefaults()
	}
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if *from == "" || *id == "" || fl.NArg() > 0 {
		return usageErr("rules new: want --from FILE --id ID [--report N] [-o DIR]")
	}
	if !draft.ID.MatchString(*id) {
		return usageErr("rules new: id %q: want lower-case words joined by dashes (netfs-rreq-unlock-xa-retry)", *id)
	}
	m, err := loadMatcher(dirs, false)
	if err != nil {
		return &exitError{code: exitError_, err: err}
	}
	docs, err := reportsOf(ctx, *from, stdin, *host, m)
	if err != nil {
		return &exitError{code: exitError_, err: err}
	}
	if len(docs) == 0 {
		return &exitError{code: exitError_, err: fmt.Errorf("%s: no kernel report found", *from)}
	}
	if *report == 0 && len(docs) > 1 {
		fmt.Fprintf(stderr, "%s holds %d reports; choose one with --report N:\n", *from, len(docs))
		listReports(stderr, docs)
		return &exitError{code: exitUsage}
	}
	n := *report
	if n == 0 {
		n = 1
	}
	if n < 1 || n > len(docs) {
		return usageErr("rules new: --report %d: %s holds %d report(s)", n, *from, len(docs))
	}
	d := docs[n-1]
	if d.Rule != nil {
		fmt.Fprintf(stderr, "note: this report already matches %s (%s); a draft with another id adds a second signature for it\n", d.Rule.ID, d.Rule.Ruleset)
	}
	schemaRef := ""
	if _, err := os.Stat(filepath.Join(*out, schemaFile)); err == nil {
		schemaRef = "./" + schemaFile
	}
	dr, err := draft.New(d, *id, schemaRef)
	if err != nil {
		return &exitError{code: exitError_, err: err}
	}
	if err := addLookAlike(ctx, dr, docs, n-1, m); err != nil {
		return &exitError{code: exitError_, err: err}
	}
	yamlPath := filepath.Join(*out, *id+".yaml")
	var paths []string
	for _, ex := range dr.Examples {
		paths = append(paths, filepath.Join(*out, filepath.FromSlash(ex.File)))
	}
	if !*force {
		for _, p := range append([]string{yamlPath}, paths...) {
			if _, err := os.Stat(p); err == nil {
				return &exitError{code: exitError_, err: fmt.Errorf("%s exists (use --force to overwrite it, or another --id)", p)}
			}
		}
	}
	for i, ex := range dr.Examples {
		if err := os.MkdirAll(filepath.Dir(paths[i]), 0o755); err != nil {
			return &exitError{code: exitError_, err: fmt.Errorf("rules new: %w", err)}
		}
		if err := os.WriteFile(paths[i], ex.Data, 0o644); err != nil {
			return &exitError{code: exitError_, err: fmt.Errorf("rules new: %w", err)}
		}
	}
	if err := os.WriteFile(yamlPath, dr.YAML(), 0o644); err != nil {
		return &exitError{code: exitError_, err: fmt.Errorf("rules new: %w", err)}
	}
	fmt.Fprintf(stdout, "drafted %s from report %d (%s on %s)\n", *id, n, d.Oops.Title, dr.Examples[0].Host)
	fmt.Fprintf(stdout, "  wrote %s\n", yamlPath)
	for i, ex := range dr.Examples {
		fmt.Fprintf(stdout, "  wrote %s (%s: %s)\n", paths[i], ex.Expect, ex.Note)
	}
	fmt.Fprintf(stdout, "next: replace the TODOs, add look-alike reports as no_match examples, then\n")
	fmt.Fprintf(stdout, "  oopsflow rules test --signatures %s\n", *out)
	fmt.Fprintf(stdout, "and reload the consumers and Fluent Bit (they watch the directory; or send SIGHUP)\n")
	return nil
}

// reportsOf reads the reports of a file (plain or gzip, "-" for stdin),
// streamed: oopsflow documents when it is NDJSON of them, else a log run
// through the pipeline.
func reportsOf(ctx context.Context, path string, stdin io.Reader, host string, m *matcher.Matcher) ([]*document.Document, error) {
	r, name, closeInput, err := openInput(ctx, path, stdin, nil)
	if err != nil {
		return nil, err
	}
	defer closeInput()
	first, _ := r.Peek(inputBuffer)
	if line, _, _ := bytes.Cut(first, []byte("\n")); isDocuments(line) {
		return readDocuments(name, r)
	}
	docs, err := docsOf(ctx, r, host, m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return docs, nil
}

// docsOf runs a log through the pipeline; host names the console of lines
// that carry none.
func docsOf(ctx context.Context, r io.Reader, host string, m *matcher.Matcher) ([]*document.Document, error) {
	var docs []*document.Document
	cfg := pipeline.Config{DefaultHost: host, Console: host != ""}
	if cfg.DefaultHost == "" {
		cfg.DefaultHost = "unknown"
	}
	p := pipeline.New(cfg, m, pipeline.OutputFunc(func(d *document.Document) error { docs = append(docs, d); return nil }))
	if _, err := pipeline.Feed(ctx, p, r, pipeline.DefaultMaxLine); err != nil {
		return nil, err
	}
	if err := p.Close(ctx, assemble.EOF); err != nil {
		return nil, err
	}
	return docs, nil
}

// isDocuments reports NDJSON whose first object is an oopsflow document
// (it has oops and error objects), not a log in JSON such as journald's.
func isDocuments(first []byte) bool {
	first = bytes.TrimSpace(first)
	if len(first) == 0 || first[0] != '{' {
		return false
	}
	var probe struct {
		Oops  *struct{ Type string } `json:"oops"`
		Error *struct {
			StackTrace string `json:"stack_trace"`
		} `json:"error"`
	}
	return json.Unmarshal(first, &probe) == nil && probe.Oops != nil && probe.Oops.Type != "" && probe.Error != nil
}

func readDocuments(path string, r io.Reader) ([]*document.Document, error) {
	var docs []*document.Document
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		d := &document.Document{}
		if err := json.Unmarshal(sc.Bytes(), d); err != nil {
			return nil, fmt.Errorf("%s:%d: not an oopsflow document: %w", path, line, err)
		}
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return docs, nil
}

func listReports(w io.Writer, docs []*document.Document) {
	for i, d := range docs {
		known := "NEW"
		if d.Rule != nil {
			known = "known: " + d.Rule.ID
		}
		fmt.Fprintf(w, "  %3d  %-20s %s  (%s)\n", i+1, d.Host.Name, d.Oops.Title, known)
	}
}

// checkDraft loads the draft alone, as rules test would, and runs its
// example: a draft that does not match its own report is never written.
func checkDraft(ctx context.Context, dr *draft.Draft) error {
	fsys := fstest.MapFS{dr.ID + ".yaml": {Data: dr.YAML()}}
	for _, ex := range dr.Examples {
		fsys[ex.File] = &fstest.MapFile{Data: ex.Data}
	}
	sigs, err := matcher.Load(fsys)
	if err != nil {
		return err
	}
	results, err := pipeline.RunExamples(ctx, matcher.New(sigs), fsys)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Example.File, r.Err))
		}
	}
	return errors.Join(errs...)
}

// addLookAlike gives the draft its first no_match example (the schema
// asks for one: a signature is only as good as what it rejects): the most
// similar report the draft does not match, among the other reports of the
// input and the examples of the built-in signatures, which are real
// reports. The user replaces it with a look-alike of their fleet.
func addLookAlike(ctx context.Context, dr *draft.Draft, docs []*document.Document, chosen int, m *matcher.Matcher) error {
	type candidate struct {
		name, host, note string
		data             []byte
		score            int
	}
	var cands []candidate
	for i, d := range docs {
		if i == chosen || strings.TrimSpace(d.Error.StackTrace) == "" {
			continue
		}
		cands = append(cands, candidate{
			name: fmt.Sprintf("look-alike-%s-%d.log", d.Host.Name, i+1), host: firstNonEmpty(d.Host.Name, "example"),
			note: fmt.Sprintf("report %d of the same input (%s): a look-alike the draft must not match", i+1, d.Oops.Title),
			data: []byte(strings.TrimRight(d.Error.StackTrace, "\n") + "\n"), score: dr.Similarity(d.Oops.Type, d.Oops.Function),
		})
	}
	sigs, err := matcher.Load(signatures.FS)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, sig := range sigs {
		for _, ex := range sig.Examples {
			if seen[ex.File] {
				continue
			}
			seen[ex.File] = true
			data, err := fs.ReadFile(signatures.FS, ex.File)
			if err != nil {
				return fmt.Errorf("built-in example: %w", err)
			}
			found, err := docsOf(ctx, bytes.NewReader(data), ex.Host, m)
			if err != nil || len(found) == 0 {
				continue
			}
			cands = append(cands, candidate{
				name: "look-alike-" + path.Base(ex.File), host: ex.Host,
				note: fmt.Sprintf("TODO: replace with a look-alike from your fleet; a placeholder from oopsflow's built-in %s (%s)", ex.File, found[0].Oops.Title),
				data: data, score: dr.Similarity(found[0].Oops.Type, found[0].Oops.Function),
			})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	var first error
	for _, c := range cands {
		try := *dr
		try.Examples = slices.Clone(dr.Examples)
		try.LookAlike(c.name, c.data, c.host, c.note)
		err := checkDraft(ctx, &try)
		if err == nil {
			*dr = try
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return fmt.Errorf("the draft fails its examples with every look-alike tried; the first: %w", first)
}

// schemaFile is the signature schema's name in a signatures repository.
const schemaFile = "signature.schema.json"

// rulesInit lays out a signatures repository for a team: a README, the
// schema for editors, and CI that lints and tests every change.
func rulesInit(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("rules init", flag.ContinueOnError)
	fl.SetOutput(stderr)
	force := fl.Bool("force", false, "overwrite files that exist")
	fl.Usage = func() {
		fmt.Fprint(stderr, "Usage: oopsflow rules init DIR\n\nLays out a signatures repository: README, signature.schema.json for editors,\nci.sh (rules lint and rules test) and a GitHub Actions workflow running it.\n\nFlags:\n")
		fl.PrintDefaults()
	}
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() != 1 {
		return usageErr("rules init: want one directory")
	}
	dir := fl.Arg(0)
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"README.md", []byte(strings.ReplaceAll(repoReadme, "DIR", filepath.Base(dir))), 0o644},
		{schemaFile, schemas.Signature, 0o644},
		{"examples/.gitkeep", nil, 0o644},
		{".github/workflows/signatures.yaml", []byte(repoWorkflow), 0o644},
		{"ci.sh", []byte(repoCI), 0o755},
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if _, err := os.Stat(p); err == nil && !*force {
			return &exitError{code: exitError_, err: fmt.Errorf("%s exists (use --force to overwrite)", p)}
		}
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return &exitError{code: exitError_, err: fmt.Errorf("rules init: %w", err)}
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return &exitError{code: exitError_, err: fmt.Errorf("rules init: %w", err)}
		}
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	fmt.Fprintf(stdout, "next: oopsflow rules new --from CRASH.log --id SOME-BUG -o %s\n", dir)
	return nil
}

const repoReadme = `# DIR: our kernel signatures

Known kernel bugs of our fleet, for [oopsflow](https://github.com/oopsflow/oopsflow).
One YAML file per bug (its file name is its id), and under examples/ID/
the reports it must match and the look-alikes it must not.

## Adding a bug

    oopsflow scan /var/log/kern.log                         # a NEW fingerprint in the table
    oopsflow rules new --from /var/log/kern.log --report 2 --id some-bug -o .
    $EDITOR some-bug.yaml                                    # replace every TODO, add look-alikes
    ./ci.sh                                                  # rules lint and rules test

Editors with the YAML language server validate as you type: each file's
first line points at signature.schema.json.

## Using it

    oopsflow scan --signatures . /var/log/kern.log
    oopsflow consume --config consume.yaml      # signatures: [/etc/oopsflow/signatures/DIR]
    # Fluent Bit: Signatures /etc/oopsflow/signatures/DIR

Signatures here are merged with oopsflow's built-in ones; a file here with a
built-in id replaces it (documents say rule.ruleset: DIR). consume and the
Fluent Bit plugin watch the directory and reload on change or SIGHUP; a set
that does not validate is rejected whole and the previous one keeps running.
`

const repoWorkflow = `# Lint and test the signatures on every change.
name: signatures
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version: stable
      - run: go install github.com/oopsflow/oopsflow/cmd/oopsflow@latest
      - run: ./ci.sh
`

const repoCI = `#!/bin/sh
# Lint and test the signatures of this directory (used by CI; run it before a push).
set -eu
cd "$(dirname "$0")"
oopsflow rules lint --signatures .
oopsflow rules test --signatures .
`
