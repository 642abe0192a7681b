// Package draft turns one parsed report (an oopsflow document) into a first
// draft of a signature: conditions derived from the report (type, blamed
// function, the first distinctive frames, the instruction pointer, a NULL
// fault offset, modules), the kernel release stream in the scheme its
// distribution numbers releases with, placeholders for what only a person
// can write (name, description, remediation, the release with the fix), the
// report itself as the signature's first example, and a slot for the
// look-alike reports the signature must not match.
//
// The draft is deliberately narrow (type and function and a frame are all
// required): a signature that matches too much pages people for the wrong
// bug, one that matches too little is widened after the next crash.
package draft

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/format"
	"github.com/oopsflow/oopsflow/processor/oops"
)

// ID is the pattern a signature id must follow (the signature schema's).
var ID = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Draft is a signature draft and its examples.
type Draft struct {
	ID string
	// Examples are written under the signature directory: first the report
	// drafted from (its lines, read as the console of its host), then the
	// look-alikes added.
	Examples []Example

	head     string // the YAML before examples
	typ      string
	function string
}

// Example is one example file of a draft.
type Example struct {
	File      string // relative to the signature directory
	Expect    string // match or no_match
	Host      string // read the file as this host's console, when set
	FixStatus string
	Note      string
	Data      []byte
}

// framesLooked is how many reliable frames (from the top of the call trace)
// are searched for distinctive ones.
const framesLooked = 8

// SchemaURL is where editors find the signature schema by default.
const SchemaURL = "https://raw.githubusercontent.com/oopsflow/oopsflow/main/schemas/signature.schema.json"

// New drafts signature id from document d; schema is the reference written
// in the yaml-language-server line (SchemaURL when empty). It fails when
// the report has too little to recognise it by (no function and no
// distinctive frame).
func New(d *document.Document, id, schema string) (*Draft, error) {
	if !ID.MatchString(id) || len(id) > 80 {
		return nil, fmt.Errorf("signature id %q: want lower-case words joined by dashes (netfs-rreq-unlock-xa-retry)", id)
	}
	o := &d.Oops
	if strings.TrimSpace(d.Error.StackTrace) == "" {
		return nil, fmt.Errorf("report %q has no text to use as the example", o.Title)
	}
	fn := oops.StripSuffix(o.Function)
	if o.Corrupted || fn == "corrupted" {
		fn = ""
	}
	frames, within := distinctive(o.CallTrace, fn)
	if fn == "" && len(frames) == 0 {
		return nil, fmt.Errorf("report %q names no function and no distinctive frame: nothing to recognise it by", o.Title)
	}
	host := d.Host.Name
	if host == "" {
		host = "example"
	}
	name := host
	if name == "unknown" || name == "example" {
		name = "report"
	}
	file := "examples/" + id + "/" + fileName(name) + ".log"
	w := &writer{}
	if schema == "" {
		schema = SchemaURL
	}
	w.line("# yaml-language-server: $schema=%s", schema)
	w.line("# Drafted by oopsflow rules new from %s.", quoteComment(o.Title))
	w.line("# Replace every TODO, add look-alike reports as no_match examples, then run:")
	w.line("#   oopsflow rules test --signatures DIR")
	w.line("id: %s", id)
	w.line("name: %s", q("TODO: one line naming the bug (was: "+o.Title+")"))
	w.line("description: >-")
	w.line("  TODO: what goes wrong in the kernel, which workloads hit it, and")
	w.line("  how the report shows it.")
	cat, why := category(o, frames)
	w.line("category: %s  # %s", cat, why)
	w.line("severity: %d  # from the report type %s; 1 (cosmetic) .. 10 (host down)", clampSeverity(d.Event.Severity), o.Type)
	w.line("version: 1")
	w.line("references: []  # TODO: links to the fix, the bug report, the investigation")
	w.line("remediation: >-")
	w.line("  TODO: what an operator does: the kernel to upgrade to, a workaround,")
	w.line("  how to confirm the host is no longer affected.")
	w.line("match:")
	w.line("  - name: %s", q(patternName(o, fn, frames)))
	w.line("    require:")
	types := sameBug(o.Type)
	if len(types) == 1 {
		w.line("      - {field: type, equals: %s}", q(types[0]))
	} else {
		w.line("      # the same bad pointer faults as either type, depending on its value")
		w.line("      - {field: type, in: [%s]}", strings.Join(types, ", "))
	}
	if fn != "" {
		w.line("      - {field: function, equals: %s}", q(fn))
	}
	require := frames
	if fn != "" && len(require) > 1 {
		require = require[:1]
	}
	for i, f := range require {
		w.line("      - {field: frames, equals: %s, within: %d}", q(f), within[i])
	}
	var support []string
	if o.IP != nil && o.IP.Function != "" {
		if ipf := oops.StripSuffix(o.IP.Function); ipf != fn {
			support = append(support, fmt.Sprintf("{field: ip.function, equals: %s}", q(ipf)))
		}
		if o.IP.Module != "" {
			support = append(support, fmt.Sprintf("{field: ip.module, equals: %s}", q(o.IP.Module)))
		}
	}
	if nullOffset(o.FaultAddress) {
		support = append(support, fmt.Sprintf("{field: fault_address, equals: %s, weight: 2}", q(o.FaultAddress)))
	}
	for i := len(require); i < len(frames); i++ {
		support = append(support, fmt.Sprintf("{field: frames, equals: %s, within: %d}", q(frames[i]), within[i]))
	}
	if m := frameModule(o.CallTrace, frames); m != "" {
		support = append(support, fmt.Sprintf("{field: frame_modules, equals: %s, within: %d}", q(m), framesLooked))
	}
	if d.Host.Architecture != "" {
		support = append(support, fmt.Sprintf("{field: architecture, equals: %s}", q(d.Host.Architecture)))
	}
	if len(support) > 0 {
		w.line("    support:")
		for _, s := range support {
			w.line("      - %s", s)
		}
	}
	release := ""
	if d.Host.OS != nil {
		release = d.Host.OS.Kernel
	}
	if k, ok := Kernel(release); ok {
		w.line("kernels:")
		w.line("  - scheme: %s", k.Scheme)
		w.line("    releases: %s", sq(k.Releases))
		w.line("    affected_from: %s  # the release of the report drafted from; the first affected may be older", q(k.AffectedFrom))
		w.line("    # fixed_in: TODO the first %s release with the fix (releases at or above it are reported fixed)", k.Scheme)
	} else {
		w.line("# kernels: the report names no kernel release oopsflow can compare (%s)", q(release))
	}
	text := strings.TrimRight(d.Error.StackTrace, "\n") + "\n"
	own := Example{File: file, Expect: "match", Host: host, Data: []byte(text), Note: "the report this signature was drafted from"}
	if k, ok := Kernel(release); ok && k.AffectedFrom != "" {
		own.FixStatus = "affected"
	}
	return &Draft{ID: id, head: w.String(), Examples: []Example{own}, typ: o.Type, function: fn}, nil
}

// YAML renders the signature file.
func (d *Draft) YAML() []byte {
	w := &writer{}
	w.WriteString(d.head)
	w.line("examples:")
	for _, ex := range d.Examples {
		w.line("  - file: %s", ex.File)
		w.line("    expect: %s", ex.Expect)
		if ex.Host != "" {
			w.line("    host: %s", q(ex.Host))
		}
		if ex.FixStatus != "" {
			w.line("    fix_status: %s", ex.FixStatus)
		}
		if ex.Note != "" {
			w.line("    note: %s", q(ex.Note))
		}
	}
	w.line("  # TODO: more look-alikes, reports that must not match (the same function from")
	w.line("  # another caller, another crash in the same subsystem), from your fleet:")
	w.line("  # - file: examples/%s/look-alike.log", d.ID)
	w.line("  #   expect: no_match")
	w.line("  #   note: why it looks alike and is not this bug")
	return []byte(w.String())
}

// LookAlike adds a report the signature must not match, stored as
// examples/ID/name.
func (d *Draft) LookAlike(name string, data []byte, host, note string) {
	d.Examples = append(d.Examples, Example{File: "examples/" + d.ID + "/" + fileName(name), Expect: "no_match", Host: host, Data: data, Note: note})
}

// Similarity scores how much a look-alike candidate (type, blamed
// function) has in common with the drafted report: the more, the better
// it tests that the signature is narrow enough.
func (d *Draft) Similarity(typ, function string) int {
	score := 0
	if typ == d.typ || slices.Contains(sameBug(d.typ), typ) {
		score++
	}
	if function != "" && oops.StripSuffix(function) == d.function {
		score += 2
	}
	return score
}

// distinctive returns up to two reliable frames among the first
// framesLooked that say something about the bug: not the blamed function
// itself, not a helper the title policy skips, not an entry point or
// dispatcher many crashes share. within[i] is the window (in reliable
// frames) the condition allows, with slack for inlining differences
// between builds.
func distinctive(trace []oops.Frame, fn string) (names []string, within []int) {
	// Frames above the blamed function are what it called (locks, waits,
	// helpers): when it is in the trace, its callers are searched.
	start, n := 0, 0
	for i, f := range trace {
		if !f.Reliable {
			continue
		}
		if n++; n > framesLooked {
			break
		}
		if fn != "" && oops.StripSuffix(f.Function) == fn {
			start = i + 1
			break
		}
	}
	n = 0
	seen := map[string]bool{fn: true}
	for i, f := range trace {
		if !f.Reliable {
			continue
		}
		if i < start {
			n++
			continue
		}
		if !f.Reliable {
			continue
		}
		n++
		if n > framesLooked+start {
			break
		}
		name := oops.StripSuffix(f.Function)
		if seen[name] || format.Helper(name) || format.Dispatcher(name) {
			continue
		}
		seen[name] = true
		names = append(names, name)
		within = append(within, n+1)
		if len(names) == 2 {
			break
		}
	}
	return names, within
}

// sameBug lists the report types one bug can show up as.
func sameBug(t string) []string {
	switch t {
	case "null_pointer_dereference", "paging_request":
		return []string{"null_pointer_dereference", "paging_request"}
	}
	return []string{t}
}

// nullOffset reports a fault address that is a small offset from NULL: the
// same bug faults at the same one, unlike a random bad pointer.
func nullOffset(addr string) bool {
	v, err := strconv.ParseUint(strings.TrimPrefix(addr, "0x"), 16, 64)
	return err == nil && strings.HasPrefix(addr, "0x") && v < 0x10000
}

// frameModule is the module of the first distinctive frame, when it is in
// one.
func frameModule(trace []oops.Frame, frames []string) string {
	if len(frames) == 0 {
		return ""
	}
	for _, f := range trace {
		if f.Reliable && oops.StripSuffix(f.Function) == frames[0] {
			return f.Module
		}
	}
	return ""
}

// patternName names the draft's pattern after what it requires.
func patternName(o *document.Oops, fn string, frames []string) string {
	var b strings.Builder
	b.WriteString(strings.ReplaceAll(o.Type, "_", " "))
	if fn != "" {
		b.WriteString(" in " + fn)
	}
	if len(frames) > 0 {
		b.WriteString(" called from " + frames[0])
	}
	return b.String()
}

// categoryHints map words of function and module names to a category.
var categoryHints = []struct {
	category string
	words    []string
}{
	{"filesystem", []string{"ext4", "xfs", "btrfs", "nfs", "ceph", "cifs", "smb", "fuse", "ovl", "overlay", "netfs", "fscache", "dentry", "d_", "inode", "iput", "vfs", "jbd2", "f2fs", "gfs2"}},
	{"network", []string{"tcp", "udp", "inet", "ip_", "ipv6", "sock", "sk_", "skb", "net", "nf_", "xfrm", "bpf", "dev_queue", "napi", "mlx", "ixgbe", "i40e", "virtnet"}},
	{"storage", []string{"nvme", "scsi", "blk", "bio", "dm_", "md_", "raid", "ata_", "virtblk", "mpt", "megasas", "iscsi"}},
	{"memory", []string{"page", "slab", "slub", "kmalloc", "kfree", "vma", "mmap", "hugetlb", "memcg", "swap", "folio", "oom"}},
	{"locking", []string{"lock", "mutex", "rwsem", "rcu"}},
	{"virtualization", []string{"kvm", "vmx", "svm", "virtio", "xen", "hyperv", "vmbus"}},
	{"scheduler", []string{"sched", "rq_", "task_", "wake_up", "cgroup"}},
	{"hardware", []string{"mce", "edac", "pci", "acpi", "thermal"}},
}

// category guesses the category from the blamed function and the
// distinctive frames, and says it is a guess.
func category(o *document.Oops, frames []string) (string, string) {
	names := append([]string{oops.StripSuffix(o.Function)}, frames...)
	if o.IP != nil && o.IP.Module != "" {
		names = append(names, o.IP.Module)
	}
	for _, h := range categoryHints {
		for _, n := range names {
			for _, w := range h.words {
				if strings.Contains(strings.ToLower(n), w) {
					return h.category, fmt.Sprintf("guessed from %q; check it", n)
				}
			}
		}
	}
	return "other", "TODO: filesystem, network, storage, memory, scheduler, locking, driver, virtualization, security, hardware or other"
}

func clampSeverity(s int) int {
	switch {
	case s < 1:
		return 5
	case s > 10:
		return 10
	}
	return s
}

// Range is the kernels entry of a draft.
type Range struct {
	Scheme       string
	Releases     string
	AffectedFrom string
}

var (
	reRPM      = regexp.MustCompile(`\.(?:el\d+|al\d+|fc\d+|amzn\d+|an\d+|oe\d*|ky\d+|ctl\d+|mga\d+|azl\d+|cm\d+)`)
	reDpkg     = regexp.MustCompile(`^(\d+\.\d+\.\d+)-\d+-([A-Za-z][A-Za-z0-9-]*)$`)
	reRPMSplit = regexp.MustCompile(`^(\d+(?:\.\d+)+)-(\d+)\.`)
	reUpstream = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.\d+)?`)
	reArchTail = regexp.MustCompile(`\.(?:x86_64|aarch64|ppc64le|ppc64|s390x|i686|armv7hl)$`)
)

// Kernel derives the kernels range for a release: RPM releases
// (3.10.0-514.26.2.el7.x86_64) as the stream of their first release
// number, Debian and Ubuntu ones (5.15.0-1075-azure) as the ABI series of
// their flavour, others as their upstream major.minor.
func Kernel(release string) (Range, bool) {
	switch {
	case release == "":
		return Range{}, false
	case reRPM.MatchString(release) || reArchTail.MatchString(release):
		if m := reRPMSplit.FindStringSubmatch(release); m != nil {
			return Range{Scheme: "rpm", Releases: "^" + regexp.QuoteMeta(m[1]+"-"+m[2]+"."), AffectedFrom: reArchTail.ReplaceAllString(release, "")}, true
		}
	case reDpkg.MatchString(release):
		m := reDpkg.FindStringSubmatch(release)
		return Range{Scheme: "dpkg", Releases: "^" + regexp.QuoteMeta(m[1]) + `-\d+-` + regexp.QuoteMeta(m[2]) + "$", AffectedFrom: release}, true
	}
	if m := reUpstream.FindStringSubmatch(release); m != nil {
		return Range{Scheme: "upstream", Releases: "^" + m[1] + `\.` + m[2] + `\.`, AffectedFrom: m[0]}, true
	}
	return Range{}, false
}

// fileName makes a host name safe as a file name.
func fileName(host string) string {
	b := []byte(host)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '-'
		}
	}
	return strings.Trim(string(b), ".")
}

// q quotes a YAML scalar (a JSON string is a valid YAML double-quoted
// scalar).
func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// sq single-quotes a YAML scalar (regular expressions read better without
// doubled backslashes).
func sq(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// quoteComment keeps a title on one comment line.
func quoteComment(s string) string { return q(strings.ReplaceAll(s, "\n", " ")) }

type writer struct{ strings.Builder }

func (w *writer) line(f string, args ...any) {
	fmt.Fprintf(&w.Builder, f, args...)
	w.WriteByte('\n')
}
