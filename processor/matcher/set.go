package matcher

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Builtin is the Ruleset of the signatures built into oopsflow.
const Builtin = "builtin"

// Sources says where a knowledge base comes from: the built-in signatures
// (unless NoBuiltin) and user directories, in order.
type Sources struct {
	Builtin   fs.FS // the built-in signatures (signatures.FS)
	NoBuiltin bool
	Dirs      []string
	// AllowEmpty accepts a user directory that exists but holds no
	// signature yet (a watched directory, such as a Kubernetes ConfigMap
	// with none so far); the set says so in Warnings. Without it an empty
	// directory is an error, like a missing one.
	AllowEmpty bool
	// ExamplesOptional makes a missing example file a warning: a
	// deployment may mount only the signature files (a flat ConfigMap);
	// rules lint and rules test, which run the examples, keep it an error.
	ExamplesOptional bool
}

// Set is a loaded knowledge base.
type Set struct {
	Signatures []*Signature
	// Hash identifies the set's contents (every signature file of every
	// source, under the source's name), for an info metric: two processes
	// with the same hash match alike, on whichever node their directory is
	// mounted.
	Hash string
	// Overridden lists "id: dir over builtin" for user signatures that
	// replaced another source's signature of the same id.
	Overridden []string
	// Warnings are problems that did not stop the load (an empty
	// directory allowed by AllowEmpty).
	Warnings []string
}

// LoadSet loads every source and merges them by id: a signature in a user
// directory replaces one of the same id from the built-in set or from an
// earlier directory. Every error of every source is reported, and a set
// with any error is not loaded (the caller keeps the previous one).
func LoadSet(src Sources) (*Set, error) {
	h := sha256.New()
	var (
		all   []*Signature
		errs  []string
		byID  = map[string]int{}
		set   = &Set{}
		merge = func(sigs []*Signature, ruleset string) {
			for _, s := range sigs {
				s.Ruleset = ruleset
				if i, ok := byID[s.ID]; ok {
					set.Overridden = append(set.Overridden, fmt.Sprintf("%s: %s over %s", s.ID, ruleset, all[i].Ruleset))
					all[i] = s
					continue
				}
				byID[s.ID] = len(all)
				all = append(all, s)
			}
		}
	)
	if !src.NoBuiltin && src.Builtin != nil {
		sigs, err := Load(src.Builtin)
		if err != nil {
			errs = append(errs, fmt.Sprintf("built-in signatures: %v", err))
		}
		hashFS(h, Builtin, src.Builtin)
		merge(sigs, Builtin)
	}
	for _, dir := range src.Dirs {
		sigs, warns, err := loadDir(dir, !src.ExamplesOptional)
		set.Warnings = append(set.Warnings, warns...)
		if err != nil {
			if src.AllowEmpty && errors.Is(err, ErrEmpty) {
				set.Warnings = append(set.Warnings, err.Error())
				hashFS(h, rulesetName(dir), os.DirFS(dir))
				continue
			}
			errs = append(errs, err.Error())
			continue
		}
		hashFS(h, rulesetName(dir), os.DirFS(dir))
		merge(sigs, rulesetName(dir))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("knowledge base not loaded:\n%s", strings.Join(errs, "\n"))
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("knowledge base: no signatures (--no-builtin-signatures and no directory with any)")
	}
	set.Signatures = all
	set.Hash = hex.EncodeToString(h.Sum(nil))[:16]
	return set, nil
}

// rulesetName is a directory's name as a ruleset: its base name.
func rulesetName(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return filepath.Base(abs)
}

// hashFS adds the signature files of fsys (the *.yaml Load reads; the
// examples do not change how reports match) to h, under the source's name.
func hashFS(h io.Writer, name string, fsys fs.FS) {
	files, _ := fs.Glob(fsys, "*.yaml")
	more, _ := fs.Glob(fsys, "*.yml")
	files = append(files, more...)
	sort.Strings(files)
	fmt.Fprintf(h, "source %s\n", name)
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			continue // an unreadable file shows in Load
		}
		fmt.Fprintf(h, "%s %d\n", f, len(data))
		h.Write(data) //nolint:errcheck // hashes do not fail
	}
}
