package format

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden is what a row's golden file records.
type golden struct {
	Group           string   `json:"group"`
	Format          string   `json:"format"`
	Type            string   `json:"type"`
	Severity        int      `json:"severity"`
	Title           string   `json:"title"`
	Frame           string   `json:"frame,omitempty"`
	Alt             []string `json:"alt,omitempty"`
	Corrupted       bool     `json:"corrupted,omitempty"`
	CorruptedReason string   `json:"corrupted_reason,omitempty"`
}

// Every row of the table has a test case, testdata/<row>.txt: its first
// header line must open a report of the row's group, the row must title
// it, and the result must equal testdata/<row>.golden.json.
func TestEveryRow(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range Groups() {
		for _, f := range g.Formats {
			if seen[f.Name] {
				t.Errorf("two rows are named %s", f.Name)
			}
			seen[f.Name] = true
			t.Run(f.Name, func(t *testing.T) { checkRow(t, g, f) })
		}
	}
	// And no test case is left without its row.
	cases, _ := filepath.Glob("testdata/*.txt")
	for _, c := range cases {
		if name := strings.TrimSuffix(filepath.Base(c), ".txt"); !seen[name] {
			t.Errorf("%s: no row is named %s", c, name)
		}
	}
}

func checkRow(t *testing.T, g *Group, f *Format) {
	data, err := os.ReadFile(filepath.Join("testdata", f.Name+".txt"))
	if err != nil {
		t.Fatalf("row %s has no test case: %v", f.Name, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	start := -1
	var got *Group
	for i, l := range lines {
		if hg, ok := Match([]byte(l)); ok {
			start, got = i, hg
			break
		}
	}
	if start < 0 {
		t.Fatalf("no header line in the test case")
	}
	if got != g {
		t.Fatalf("the header %q opens a report of group %s, want %s", lines[start], got.Name, g.Name)
	}
	res := Title(g, lines[start:])
	if res.Format != f {
		name := "<none>"
		if res.Format != nil {
			name = res.Format.Name
		}
		t.Fatalf("titled by row %s, want %s (title %q)", name, f.Name, res.Title)
	}
	out, err := json.MarshalIndent(golden{
		Group: g.Name, Format: f.Name, Type: res.Kind.Type, Severity: res.Kind.Severity,
		Title: res.Title, Frame: res.Frame, Alt: res.Alt, Corrupted: res.Corrupted, CorruptedReason: res.CorruptedReason,
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	path := filepath.Join("testdata", f.Name+".golden.json")
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it, then review it)", err)
	}
	if string(want) != string(out) {
		t.Errorf("differs from %s:\n%s", path, out)
	}
}

func TestIsBoot(t *testing.T) {
	for text, want := range map[string]bool{
		"Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)": true,
		"Booting Linux on physical CPU 0x0000000000 [0x413fd0c1]":       true,
		"Booting the kernel.":                    true,
		"":                                       false,
		"L":                                      false,
		"Linux agpgart interface v0.103":         false,
		"Booting paravirtualized kernel on KVM":  false,
		" Linux version 6.1.0":                   false,
		"IPv6: ADDRCONF(NETDEV_CHANGE): veth1: ": false,
	} {
		if got := IsBoot([]byte(text)); got != want {
			t.Errorf("IsBoot(%q) = %v, want %v", text, got, want)
		}
	}
}
