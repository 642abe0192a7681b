// Package matcher loads the known-issue knowledge base (signatures/*.yaml),
// validates it, and classifies parsed oopses: a report matches a known issue
// with a confidence and the reasons it matched, and the host's kernel release
// is compared with the affected and fixed releases the way its
// distribution compares versions (dpkg, rpm, or upstream numbering).
package matcher

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/oopsflow/oopsflow/schemas"
)

// Signature is one known issue.
type Signature struct {
	ID          string    `yaml:"id"`
	Name        string    `yaml:"name"`
	Description string    `yaml:"description"`
	Category    string    `yaml:"category"`
	Severity    int       `yaml:"severity"`
	Version     int       `yaml:"version"`
	Remediation string    `yaml:"remediation"`
	References  []string  `yaml:"references"`
	Match       []Pattern `yaml:"match"`
	Kernels     []Range   `yaml:"kernels"`
	Examples    []Example `yaml:"examples"`

	// File is the path the signature was loaded from.
	File string `yaml:"-"`
	// Ruleset names where it came from: "builtin", or the name of the
	// user directory it was loaded from (rule.ruleset).
	Ruleset string `yaml:"-"`
}

// Pattern is one way a known issue shows up: all Require conditions must
// hold; Support conditions raise the confidence.
type Pattern struct {
	Name    string      `yaml:"name"`
	Require []Condition `yaml:"require"`
	Support []Condition `yaml:"support"`
}

// Condition tests one field of a parsed report.
type Condition struct {
	Field   string   `yaml:"field"`
	Equals  *string  `yaml:"equals"`
	In      []string `yaml:"in"`
	Matches string   `yaml:"matches"`
	Within  int      `yaml:"within"`
	Not     bool     `yaml:"not"`
	Weight  float64  `yaml:"weight"`

	re *regexp.Regexp
}

// Range says which kernel releases of one distribution family are affected.
type Range struct {
	Scheme       string `yaml:"scheme"` // dpkg, rpm or upstream
	Releases     string `yaml:"releases"`
	AffectedFrom string `yaml:"affected_from"`
	LastAffected string `yaml:"last_affected"`
	FixedIn      string `yaml:"fixed_in"`
	Note         string `yaml:"note"`

	re *regexp.Regexp
}

// Example is a log the signature must (or must not) match.
type Example struct {
	File      string `yaml:"file"`
	Expect    string `yaml:"expect"` // match or no_match
	FixStatus string `yaml:"fix_status"`
	Host      string `yaml:"host"`
	Note      string `yaml:"note"`
}

// ValidationError names the file and the field of a bad signature.
type ValidationError struct {
	File   string
	Field  string // JSON pointer into the document, "" for the file as a whole
	Reason string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.File, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Field, e.Reason)
}

func compileSchema() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemas.Signature))
	if err != nil {
		return nil, fmt.Errorf("embedded signature schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("signature.schema.json", doc); err != nil {
		return nil, fmt.Errorf("embedded signature schema: %w", err)
	}
	s, err := c.Compile("signature.schema.json")
	if err != nil {
		return nil, fmt.Errorf("embedded signature schema: %w", err)
	}
	return s, nil
}

// Load reads and validates every *.yaml file at the top of fsys. Every
// problem in every file is reported (joined), so a typo is never a silent
// skip; a knowledge base with any error is not loaded at all.
func Load(fsys fs.FS) ([]*Signature, error) {
	sigs, _, err := load(fsys, true)
	return sigs, err
}

// load is Load; with examples false a missing example file is a warning
// (returned) instead of an error: examples are what rules test runs, and a
// deployment may mount the signatures without them.
func load(fsys fs.FS, examples bool) ([]*Signature, []string, error) {
	schema, err := compileSchema()
	if err != nil {
		return nil, nil, err
	}
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, nil, fmt.Errorf("list signatures: %w", err)
	}
	more, _ := fs.Glob(fsys, "*.yml")
	files = append(files, more...)
	sort.Strings(files)
	var (
		sigs  []*Signature
		errs  []error
		warns []string
		ids   = map[string]string{}
	)
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", f, err))
			continue
		}
		s, err := parseSignature(schema, f, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := ids[s.ID]; dup {
			errs = append(errs, &ValidationError{File: f, Field: "/id", Reason: fmt.Sprintf("id %q is already used by %s", s.ID, prev)})
			continue
		}
		ids[s.ID] = f
		for i, ex := range s.Examples {
			if _, err := fs.Stat(fsys, ex.File); err != nil {
				e := &ValidationError{File: f, Field: fmt.Sprintf("/examples/%d/file", i), Reason: fmt.Sprintf("example %s: %v", ex.File, err)}
				if examples {
					errs = append(errs, e)
				} else {
					warns = append(warns, e.Error()+" (rules test needs it)")
				}
			}
		}
		sigs = append(sigs, s)
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return sigs, warns, nil
}

// parseSignature validates one file against the JSON Schema, then decodes it
// strictly and compiles its regular expressions and versions.
func parseSignature(schema *jsonschema.Schema, file string, data []byte) (*Signature, error) {
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, &ValidationError{File: file, Reason: fmt.Sprintf("invalid YAML: %v", err)}
	}
	js, err := json.Marshal(raw)
	if err != nil {
		return nil, &ValidationError{File: file, Reason: fmt.Sprintf("not representable as JSON: %v", err)}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, &ValidationError{File: file, Reason: err.Error()}
	}
	if err := schema.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return nil, schemaError(file, ve)
		}
		return nil, &ValidationError{File: file, Reason: err.Error()}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	s := &Signature{File: file}
	if err := dec.Decode(s); err != nil {
		return nil, &ValidationError{File: file, Reason: err.Error()}
	}
	if base := strings.TrimSuffix(strings.TrimSuffix(path.Base(file), ".yaml"), ".yml"); base != s.ID {
		return nil, &ValidationError{File: file, Field: "/id", Reason: fmt.Sprintf("id %q must equal the file name %q", s.ID, base)}
	}
	for pi := range s.Match {
		for _, list := range []struct {
			name  string
			conds []Condition
		}{{"require", s.Match[pi].Require}, {"support", s.Match[pi].Support}} {
			for ci := range list.conds {
				c := &list.conds[ci]
				field := fmt.Sprintf("/match/%d/%s/%d", pi, list.name, ci)
				if c.Matches != "" {
					re, err := regexp.Compile(c.Matches)
					if err != nil {
						return nil, &ValidationError{File: file, Field: field + "/matches", Reason: err.Error()}
					}
					c.re = re
				}
				if c.Within > 0 && c.Field != "frames" && c.Field != "frame_modules" {
					return nil, &ValidationError{File: file, Field: field + "/within", Reason: "within applies to frames and frame_modules only"}
				}
				if c.Weight == 0 {
					c.Weight = 1
				}
			}
		}
	}
	for i := range s.Kernels {
		k := &s.Kernels[i]
		field := fmt.Sprintf("/kernels/%d", i)
		re, err := regexp.Compile(k.Releases)
		if err != nil {
			return nil, &ValidationError{File: file, Field: field + "/releases", Reason: err.Error()}
		}
		k.re = re
		for name, v := range map[string]string{"affected_from": k.AffectedFrom, "last_affected": k.LastAffected, "fixed_in": k.FixedIn} {
			if v == "" {
				continue
			}
			if _, err := parseVersion(k.Scheme, v); err != nil {
				return nil, &ValidationError{File: file, Field: field + "/" + name, Reason: err.Error()}
			}
		}
	}
	return s, nil
}

// schemaError turns the deepest schema violation into a file/field error.
func schemaError(file string, ve *jsonschema.ValidationError) error {
	leaf := ve
	for len(leaf.Causes) > 0 {
		leaf = leaf.Causes[0]
	}
	loc := "/" + strings.Join(leaf.InstanceLocation, "/")
	msg := leaf.ErrorKind.LocalizedString(message.NewPrinter(language.English))
	return &ValidationError{File: file, Field: loc, Reason: msg}
}

// ErrEmpty is the error of a signatures directory with no signature in it.
var ErrEmpty = errors.New("no signature (*.yaml) in it")

// LoadDir loads the signatures of a directory (see Load). A directory that
// does not exist, is not a directory, or holds no signature is an error: a
// mistyped path must not run with an empty knowledge base.
func LoadDir(dir string) ([]*Signature, error) {
	sigs, _, err := loadDir(dir, true)
	return sigs, err
}

func loadDir(dir string, examples bool) ([]*Signature, []string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("signatures directory: %w", err)
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("signatures directory %s: not a directory", dir)
	}
	sigs, warns, err := load(os.DirFS(dir), examples)
	if err != nil {
		return nil, nil, err
	}
	if len(sigs) == 0 {
		return nil, nil, fmt.Errorf("signatures directory %s: %w", dir, ErrEmpty)
	}
	return sigs, warns, nil
}
