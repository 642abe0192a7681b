package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"text/tabwriter"

	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/pipeline"
	"github.com/oopsflow/oopsflow/signatures"
)

func rulesCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErr("rules: want lint, test, list, new or init")
	}
	sub := args[0]
	switch sub {
	case "new":
		return rulesNew(ctx, args[1:], stdin, stdout, stderr)
	case "init":
		return rulesInit(args[1:], stdout, stderr)
	}
	fl := flag.NewFlagSet("rules "+sub, flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("signatures", "", "knowledge base directory (default: the built-in signatures)")
	verbose := fl.Bool("v", false, "show every example, not only failures")
	if err := parseFlags(fl, args[1:]); err != nil {
		return err
	}
	var fsys fs.FS = signatures.FS
	where := "built-in signatures"
	var sigs []*matcher.Signature
	var err error
	if *dir != "" {
		fsys, where = os.DirFS(*dir), *dir
		sigs, err = matcher.LoadDir(*dir)
	} else {
		sigs, err = matcher.Load(fsys)
	}
	if err != nil {
		return &exitError{code: exitError_, err: fmt.Errorf("knowledge base %s:\n%w", where, err)}
	}
	m := matcher.New(sigs)
	switch sub {
	case "lint":
		fmt.Fprintf(stdout, "%s: %d signatures valid\n", where, len(sigs))
		if *dir != "" {
			// Deployed next to the built-in set, a file of the same id
			// replaces the built-in signature: say so, it is rarely a typo
			// but always worth knowing.
			if builtin, err := matcher.Load(signatures.FS); err == nil {
				ids := map[string]bool{}
				for _, b := range builtin {
					ids[b.ID] = true
				}
				for _, s := range sigs {
					if ids[s.ID] {
						fmt.Fprintf(stdout, "note: %s replaces the built-in signature of the same id\n", s.ID)
					}
				}
			}
		}
		return nil
	case "list":
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSEVERITY\tCATEGORY\tNAME")
		for _, s := range sigs {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", s.ID, s.Severity, s.Category, s.Name)
		}
		return tw.Flush()
	case "test":
		results, err := pipeline.RunExamples(ctx, m, fsys)
		if err != nil {
			return err
		}
		failed := 0
		for _, r := range results {
			status := "ok  "
			if r.Err != nil {
				status = "FAIL"
				failed++
			}
			if r.Err != nil || *verbose {
				fmt.Fprintf(stdout, "%s %s %s (expect %s): %s\n", status, r.Signature, r.Example.File, r.Example.Expect, r.Detail)
				if r.Err != nil {
					fmt.Fprintf(stdout, "     %v\n", r.Err)
				}
			}
		}
		fmt.Fprintf(stdout, "%d passed, %d failed\n", len(results)-failed, failed)
		if failed > 0 {
			return &exitError{code: exitError_}
		}
		return nil
	}
	return usageErr("rules: unknown subcommand %q (want lint, test, list, new or init)", sub)
}
