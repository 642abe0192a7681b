package summary

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/processor/document"
)

func doc(host, kernel, fp, rule, fix string) *document.Document {
	d := &document.Document{Timestamp: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	d.Host.Name = host
	d.Host.OS = &document.OS{Kernel: kernel}
	d.Oops.Fingerprint = fp
	d.Oops.Title = "title " + fp
	d.Oops.Match.FixStatus = fix
	if rule != "" {
		d.Rule = &document.Rule{ID: rule, Name: "name of " + rule}
		d.Oops.Match.Remediation = "upgrade"
	}
	return d
}

func TestGrouping(t *testing.T) {
	s := New()
	s.Add(doc("h1", "k1", "f1", "r1", "affected"))
	s.Add(doc("h2", "k2", "f1", "r1", "fixed"))
	s.Add(doc("h2", "k2", "f1", "r1", "fixed"))
	for _, h := range []string{"a", "b", "c"} {
		s.Add(doc(h, "k9", "fX", "", "unknown"))
	}
	g := s.Groups()
	if len(g) != 2 || !g[0].Known || g[0].Reports != 3 || len(g[0].Hosts) != 2 || g[1].Known || len(g[1].Hosts) != 3 {
		t.Fatalf("groups %+v %+v", g[0], g[1])
	}
	var out bytes.Buffer
	if err := s.Render(&out, Style{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"6 kernel reports: 1 known issue(s), 1 unknown crash fingerprint(s)", "KNOWN r1", "k1 (affected)", "k2 (fixed)", "NEW   fingerprint fX", "fix       upgrade"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
}
