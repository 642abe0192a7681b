package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// docTable is the settings table of docs/configuration.md.
func docTable() string {
	var b strings.Builder
	b.WriteString("| file key | flag | environment | Fluent Bit key | default (scan / consume / plugin) | read by |\n|---|---|---|---|---|---|\n")
	code := func(s, prefix string) string {
		if s == "" {
			return "—"
		}
		return "`" + prefix + s + "`"
	}
	for _, f := range Fields {
		var defs []string
		for _, fr := range []Front{Scan, Consume, Plugin} {
			d := Defaults(fr)
			v := valueAt(&d, f.Key)
			s := "—"
			if !v.IsZero() {
				s = fmt.Sprint(v.Interface())
			}
			defs = append(defs, s)
		}
		def := strings.Join(defs, " / ")
		if defs[0] == defs[1] && defs[1] == defs[2] {
			def = defs[0]
		}
		var fronts []string
		for _, x := range []struct {
			f    Front
			name string
		}{{Scan, "scan"}, {Consume, "consume"}, {Setup, "setup"}, {Plugin, "plugin"}} {
			if f.Fronts&x.f != 0 {
				fronts = append(fronts, x.name)
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", f.Key, code(f.Flag, "--"), code(f.Env, ""), code(f.Plugin, ""), def, strings.Join(fronts, ", "))
	}
	return b.String()
}

// docs/configuration.md lists every setting as the table has it
// (go test -update rewrites the table between its markers).
func TestDocsListEverySetting(t *testing.T) {
	const path = "../../docs/configuration.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- settings table: begin -->\n", "<!-- settings table: end -->"
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	if i < 0 || j < i {
		t.Fatalf("%s: no settings table markers", path)
	}
	want := docTable()
	if *update {
		os.WriteFile(path, []byte(string(doc[:i+len(begin)])+want+string(doc[j:])), 0o644)
		return
	}
	if got := string(doc[i+len(begin) : j]); got != want {
		t.Errorf("%s: the settings table is not the code's (go test ./processor/config -update)", path)
	}
}
