// Package summary groups documents the way an SRE reads them: one entry per
// known issue or, for unknown crashes, per fingerprint, with hosts, kernels,
// fix status and the remediation; and renders that as a terminal table.
package summary

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/oopsflow/oopsflow/processor/document"
)

// Group is one known issue or one unknown fingerprint.
type Group struct {
	Known       bool
	Key         string // rule id or fingerprint
	Name        string // rule name or the report title
	Title       string // a report title
	Type        string
	Severity    int
	Reports     int
	Hosts       map[string]int
	Kernels     map[string]string // kernel -> fix status
	Remediation string
	References  []string
	Confidence  float64 // highest seen
	First, Last time.Time
	Truncated   int
	Panics      int
	Upstream    *document.Upstream // the upstream bug its title matches, if any
}

// Summary accumulates documents.
type Summary struct {
	groups map[string]*Group
	total  int
}

// New returns an empty summary.
func New() *Summary { return &Summary{groups: map[string]*Group{}} }

// Add counts one document.
func (s *Summary) Add(d *document.Document) {
	s.total++
	key := "fp:" + d.Oops.Fingerprint
	if d.Rule != nil {
		key = "rule:" + d.Rule.ID
	}
	g := s.groups[key]
	if g == nil {
		g = &Group{Hosts: map[string]int{}, Kernels: map[string]string{}, First: d.Timestamp, Last: d.Timestamp,
			Title: d.Oops.Title, Type: d.Oops.Type, Severity: d.Event.Severity}
		if d.Rule != nil {
			g.Known, g.Key, g.Name = true, d.Rule.ID, d.Rule.Name
			g.Remediation, g.References = d.Oops.Match.Remediation, d.Rule.Reference
		} else {
			g.Key, g.Name = d.Oops.Fingerprint, d.Oops.Title
		}
		s.groups[key] = g
	}
	g.Reports++
	if g.Upstream == nil {
		g.Upstream = d.Oops.Upstream
	}
	g.Hosts[d.Host.Name]++
	if d.Host.OS != nil && d.Host.OS.Kernel != "" {
		g.Kernels[d.Host.OS.Kernel] = d.Oops.Match.FixStatus
	}
	if d.Oops.Match.Confidence > g.Confidence {
		g.Confidence = d.Oops.Match.Confidence
	}
	if d.Timestamp.Before(g.First) {
		g.First = d.Timestamp
	}
	if d.Timestamp.After(g.Last) {
		g.Last = d.Timestamp
	}
	if d.Oops.Truncated {
		g.Truncated++
	}
	if d.Oops.Panic {
		g.Panics++
	}
}

// Total is the number of documents added.
func (s *Summary) Total() int { return s.total }

// Groups returns known issues first, then unknown fingerprints, each by
// number of hosts, then reports, then key.
func (s *Summary) Groups() []*Group {
	out := make([]*Group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Known != b.Known {
			return a.Known
		}
		if len(a.Hosts) != len(b.Hosts) {
			return len(a.Hosts) > len(b.Hosts)
		}
		if a.Reports != b.Reports {
			return a.Reports > b.Reports
		}
		return a.Key < b.Key
	})
	return out
}

// Style turns colour on or off.
type Style struct{ Color bool }

func (st Style) c(code, s string) string {
	if !st.Color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Render writes the table.
func (s *Summary) Render(w io.Writer, st Style) error {
	groups := s.Groups()
	if len(groups) == 0 {
		_, err := fmt.Fprintln(w, "No kernel reports found.")
		return err
	}
	known, unknown := 0, 0
	for _, g := range groups {
		if g.Known {
			known++
		} else {
			unknown++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d kernel reports: %d known issue(s), %d unknown crash fingerprint(s)\n", s.total, known, unknown)
	for _, g := range groups {
		b.WriteByte('\n')
		if g.Known {
			fmt.Fprintf(&b, "%s %s  %s\n", st.c("1;31", "KNOWN"), st.c("1", g.Key), g.Name)
		} else {
			fmt.Fprintf(&b, "%s %s  %s\n", st.c("1;33", "NEW  "), st.c("1", "fingerprint "+g.Key), g.Title)
		}
		fmt.Fprintf(&b, "  reports   %d on %d host(s), %s .. %s", g.Reports, len(g.Hosts), stamp(g.First), stamp(g.Last))
		if g.Panics > 0 {
			fmt.Fprintf(&b, ", %d panicked", g.Panics)
		}
		if g.Truncated > 0 {
			fmt.Fprintf(&b, ", %d truncated", g.Truncated)
		}
		b.WriteByte('\n')
		if g.Known {
			fmt.Fprintf(&b, "  title     %s (%s, severity %d, confidence %.2f)\n", g.Title, g.Type, g.Severity, g.Confidence)
		} else {
			fmt.Fprintf(&b, "  type      %s, severity %d\n", g.Type, g.Severity)
		}
		fmt.Fprintf(&b, "  hosts     %s\n", list(g.Hosts, 6))
		if len(g.Kernels) > 0 {
			ks := make([]string, 0, len(g.Kernels))
			for k, fs := range g.Kernels {
				if g.Known {
					ks = append(ks, k+" "+st.fix(fs))
				} else {
					ks = append(ks, k)
				}
			}
			sort.Strings(ks)
			fmt.Fprintf(&b, "  kernels   %s\n", strings.Join(ks, ", "))
		}
		if g.Remediation != "" {
			fmt.Fprintf(&b, "  fix       %s\n", wrap(g.Remediation, 90, "            "))
		}
		if g.Upstream != nil {
			fmt.Fprintf(&b, "  upstream  %s\n", wrap(g.Upstream.Summary(), 90, "            "))
		}
		for _, r := range g.References {
			fmt.Fprintf(&b, "  see       %s\n", r)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (st Style) fix(s string) string {
	switch s {
	case "affected":
		return st.c("31", "(affected)")
	case "fixed":
		return st.c("32", "(fixed)")
	}
	return st.c("33", "(fix status unknown)")
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

// list shows up to n names, most reports first, then a count of the rest.
func list(m map[string]int, n int) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if m[names[i]] != m[names[j]] {
			return m[names[i]] > m[names[j]]
		}
		return names[i] < names[j]
	})
	more := 0
	if len(names) > n {
		more = len(names) - n
		names = names[:n]
	}
	s := strings.Join(names, ", ")
	if more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

func wrap(s string, width int, indent string) string {
	words := strings.Fields(s)
	var b strings.Builder
	col := 0
	for _, w := range words {
		if col > 0 && col+1+len(w) > width {
			b.WriteString("\n" + indent)
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}
