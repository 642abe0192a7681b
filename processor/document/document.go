// Package document builds the enriched, ECS-aligned document indexed for
// each kernel report: DESIGN.md's document contract. Field names here are a
// contract with dashboards, alerts and outside tools: add, never rename.
package document

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/oops"
	"github.com/oopsflow/oopsflow/processor/upstream"
)

// ECSVersion is the ECS release the documents follow.
const ECSVersion = "9.4.0"

// Dataset is event.dataset and data_stream.dataset.
const Dataset = "kernel.oops"

// Document is one report, enriched. Its JSON form is the indexed document.
type Document struct {
	Timestamp  time.Time  `json:"@timestamp"`
	DataStream DataStream `json:"data_stream"`
	ECS        ECS        `json:"ecs"`
	Event      Event      `json:"event"`
	Host       Host       `json:"host"`
	Process    *Process   `json:"process,omitempty"`
	Message    string     `json:"message"`
	Error      Error      `json:"error"`
	Oops       Oops       `json:"oops"`
	Rule       *Rule      `json:"rule,omitempty"`
	Log        *Log       `json:"log,omitempty"`
}

// Log is ECS log.*: the file the report was read from (scan).
type Log struct {
	File LogFile `json:"file"`
}

// LogFile carries log.file.path.
type LogFile struct {
	Path string `json:"path"`
}

// BootID writes a boot id the way ECS and /proc/sys/kernel/random/boot_id
// do, as a dashed UUID; journald's _BOOT_ID is the same 32 hex digits
// without dashes. Anything else is kept as it is.
func BootID(id string) string {
	if len(id) != 32 {
		return id
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return id
		}
	}
	id = strings.ToLower(id)
	return id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
}

// DataStream is ECS data_stream.*: where the document is indexed. The
// Elasticsearch sink sets Namespace; type and dataset are fixed.
type DataStream struct {
	Type      string `json:"type"`      // logs
	Dataset   string `json:"dataset"`   // kernel.oops, equal to event.dataset
	Namespace string `json:"namespace"` // default
}

// ECS carries ecs.version.
type ECS struct {
	Version string `json:"version"`
}

// Event is ECS event.*.
type Event struct {
	Kind     string    `json:"kind"`     // alert when a known issue matched, else event
	Category []string  `json:"category"` // ["host"]
	Type     []string  `json:"type"`     // ["info"]
	Dataset  string    `json:"dataset"`  // kernel.oops
	Module   string    `json:"module"`   // oopsflow
	ID       string    `json:"id"`       // the document _id
	Severity int       `json:"severity"` // 1..10, from the rule or the report type
	Created  time.Time `json:"created"`  // when oopsflow built the document
}

// Host is ECS host.*.
type Host struct {
	Name         string `json:"name"`
	OS           *OS    `json:"os,omitempty"`
	Architecture string `json:"architecture,omitempty"`
	Boot         *Boot  `json:"boot,omitempty"`
}

// OS carries host.os.kernel.
type OS struct {
	Kernel string `json:"kernel"`
}

// Boot carries host.boot.id.
type Boot struct {
	ID string `json:"id"`
}

// Process is ECS process.*: the task in the report.
type Process struct {
	PID  *int   `json:"pid,omitempty"`
	Name string `json:"name,omitempty"`
}

// Error is ECS error.*.
type Error struct {
	Type       string `json:"type"`
	Message    string `json:"message"`
	StackTrace string `json:"stack_trace"`
}

// Rule is ECS rule.*: the matched known issue.
type Rule struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Reference   []string `json:"reference"`
	Category    string   `json:"category"`
	Version     string   `json:"version"`
	// Ruleset is where the signature came from: "builtin", or the name of
	// the user directory that holds it.
	Ruleset string `json:"ruleset,omitempty"`
}

// Oops holds everything kernel-specific.
type Oops struct {
	Type         string       `json:"type"`
	Title        string       `json:"title"`
	Function     string       `json:"function,omitempty"`
	IP           *oops.Frame  `json:"ip,omitempty"`
	FaultAddress string       `json:"fault_address,omitempty"`
	CPU          *int         `json:"cpu,omitempty"`
	Tainted      string       `json:"tainted,omitempty"`
	TaintFlags   []string     `json:"taint_flags,omitempty"`
	Hardware     string       `json:"hardware,omitempty"`
	Workqueue    string       `json:"workqueue,omitempty"`
	CallTrace    []oops.Frame `json:"call_trace,omitempty"`
	Modules      []string     `json:"modules,omitempty"`
	Context      []string     `json:"context,omitempty"`
	Panic        bool         `json:"panic"`
	Truncated    bool         `json:"truncated"`
	Corrupted    bool         `json:"corrupted"`
	// CorruptedReason says why a report is corrupted (lines lost, no call
	// trace, no frame left after skipping...).
	CorruptedReason string   `json:"corrupted_reason,omitempty"`
	AltTitles       []string `json:"alt_titles,omitempty"` // other titles the same bug is known by
	// Format is the report table row that titled the report.
	Format      string   `json:"format,omitempty"`
	EndReason   string   `json:"end_reason"`
	Fingerprint string   `json:"fingerprint"`
	Uptime      *float64 `json:"uptime,omitempty"` // kernel uptime of the header line, seconds
	Match       Match    `json:"match"`
	// Upstream is the bug syzbot's public lists know under the same title,
	// when an upstream index is loaded and has it.
	Upstream *Upstream `json:"upstream,omitempty"`
	Source   Source    `json:"source"`
}

// Upstream is what syzbot's public bug lists say of a report's title: the
// same symptom was reported upstream (and, when fixed, which commits fixed
// it). A title match is not proof of the same bug.
type Upstream struct {
	Status     string           `json:"status"` // fixed or open
	Title      string           `json:"title"`  // the bug's title on the dashboard
	Link       string           `json:"link"`
	Namespace  string           `json:"namespace"` // upstream, linux-6.1, ...
	FixCommits []UpstreamCommit `json:"fix_commits,omitempty"`
	// Recurred: the bug is open again after an earlier fix (FixCommits).
	Recurred bool `json:"recurred,omitempty"`
	// Confidence is low for titles that name no function or a generic one.
	Confidence float64 `json:"confidence"`
	Note       string  `json:"note"`
}

// UpstreamCommit is a fix commit; Hash and Link may be empty.
type UpstreamCommit struct {
	Title string `json:"title"`
	Hash  string `json:"hash,omitempty"`
	Link  string `json:"link,omitempty"`
}

// UpstreamNote is the wording every document with an upstream link carries.
const UpstreamNote = "the same symptom (title) was reported on syzbot's public dashboard; not necessarily the same bug"

// Summary says in one line what the upstream link means: the fix (or that
// the bug is open), the tree, the link, and that a title match is not
// proof of the same bug.
func (u *Upstream) Summary() string {
	var b strings.Builder
	commit := func(c UpstreamCommit) string {
		if len(c.Hash) >= 12 {
			return fmt.Sprintf("%q (%s)", c.Title, c.Hash[:12])
		}
		return fmt.Sprintf("%q", c.Title)
	}
	switch {
	case u.Status == "fixed" && len(u.FixCommits) > 0:
		fmt.Fprintf(&b, "fixed upstream by %s", commit(u.FixCommits[0]))
		if len(u.FixCommits) > 1 {
			fmt.Fprintf(&b, " and %d more", len(u.FixCommits)-1)
		}
	case u.Recurred && len(u.FixCommits) > 0:
		fmt.Fprintf(&b, "open upstream again after %s", commit(u.FixCommits[0]))
	case u.Status == "fixed":
		b.WriteString("fixed upstream")
	default:
		b.WriteString("open upstream")
	}
	fmt.Fprintf(&b, " [%s] %s", u.Namespace, u.Link)
	if u.Confidence < 0.5 {
		b.WriteString(" (weak title: many unrelated crashes share it)")
	}
	b.WriteString("; same symptom reported upstream, not necessarily the same bug")
	return b.String()
}

// SetUpstream records the upstream bug the report's title matches.
func (d *Document) SetUpstream(m upstream.Match) {
	u := &Upstream{Status: m.Status, Title: m.Title, Link: m.Link, Namespace: m.Namespace, Recurred: m.Recurred,
		Confidence: m.Confidence, Note: UpstreamNote}
	for _, c := range m.FixCommits {
		u.FixCommits = append(u.FixCommits, UpstreamCommit{Title: c.Title, Hash: c.Hash, Link: c.Link})
	}
	d.Oops.Upstream = u
}

// Match is the matcher's verdict.
type Match struct {
	Status      string   `json:"status"` // known or unknown
	Confidence  float64  `json:"confidence"`
	Reasons     []string `json:"reasons,omitempty"`
	FixStatus   string   `json:"fix_status"` // affected, fixed or unknown
	FixedIn     []string `json:"fixed_in,omitempty"`
	Remediation string   `json:"remediation,omitempty"`
	Pattern     string   `json:"pattern,omitempty"`
}

// Source says where the report was read.
type Source struct {
	Format    string  `json:"format"`
	File      string  `json:"file,omitempty"`
	Topic     string  `json:"topic,omitempty"`
	Partition *int    `json:"partition,omitempty"`
	Offsets   []int64 `json:"offsets,omitempty"` // first and last offset (Kafka) or line number (files)
}

// Build assembles the document for a report. now is the creation time.
func Build(r *assemble.Report, o *oops.Oops, m matcher.Result, src Source, now time.Time) *Document {
	d := &Document{
		Timestamp:  r.Time.UTC(),
		DataStream: DataStream{Type: "logs", Dataset: Dataset, Namespace: "default"},
		ECS:        ECS{Version: ECSVersion},
		Event: Event{
			Kind:     "event",
			Category: []string{"host"},
			Type:     []string{"info"},
			Dataset:  Dataset,
			Module:   "oopsflow",
			Severity: o.Severity,
			Created:  now.UTC(),
		},
		Host:    Host{Name: r.Host, Architecture: o.Arch},
		Message: o.Title,
		Error: Error{
			Type:       o.Type,
			Message:    o.Header,
			StackTrace: strings.Join(append(append([]string(nil), r.Context...), r.Lines...), "\n"),
		},
		Oops: Oops{
			Type:            o.Type,
			Title:           o.Title,
			Function:        o.Function,
			IP:              o.IP,
			FaultAddress:    o.FaultAddress,
			CPU:             o.CPU,
			Tainted:         o.Tainted,
			TaintFlags:      o.TaintFlags,
			Hardware:        o.Hardware,
			Workqueue:       o.Workqueue,
			CallTrace:       o.CallTrace,
			Modules:         o.Modules,
			Context:         r.Context,
			Panic:           o.Panic,
			Truncated:       r.Truncated,
			Corrupted:       o.Corrupted,
			CorruptedReason: o.CorruptedReason,
			AltTitles:       o.AltTitles,
			Format:          o.Format,
			EndReason:       string(r.EndReason),
			Fingerprint:     o.Fingerprint,
			Match:           Match{Status: "unknown", FixStatus: matcher.Unknown},
			Source:          src,
		},
	}
	if d.Timestamp.IsZero() {
		// Console and kmsg lines carry no wall-clock time: the report is
		// stamped when oopsflow saw it.
		d.Timestamp = now.UTC()
	}
	if src.Format == "" {
		d.Oops.Source.Format = r.Format.String()
	}
	if r.HasUptime {
		up := r.Uptime.Seconds()
		d.Oops.Uptime = &up
	}
	if o.Kernel != "" {
		d.Host.OS = &OS{Kernel: o.Kernel}
	}
	if r.Boot != "" {
		d.Host.Boot = &Boot{ID: BootID(r.Boot)}
	}
	if src.File != "" && src.File != "-" {
		d.Log = &Log{File: LogFile{Path: src.File}}
	}
	if o.PID != nil || o.Comm != "" {
		d.Process = &Process{PID: o.PID, Name: o.Comm}
	}
	if m.Known() {
		s := m.Signature
		d.Event.Kind = "alert"
		d.Event.Severity = s.Severity
		if o.Panic && d.Event.Severity < 8 {
			d.Event.Severity = 8
		}
		d.Rule = &Rule{
			ID:          s.ID,
			Name:        s.Name,
			Description: s.Description,
			Reference:   s.References,
			Category:    s.Category,
			Version:     strconv.Itoa(s.Version),
			Ruleset:     s.Ruleset,
		}
		d.Oops.Match = Match{
			Status:      "known",
			Confidence:  m.Confidence,
			Reasons:     m.Reasons,
			FixStatus:   m.FixStatus,
			FixedIn:     m.FixedIn,
			Remediation: s.Remediation,
			Pattern:     m.Pattern,
		}
	}
	d.Event.ID = ID(r)
	return d
}

// ID is the deterministic document id: a hash of the host, the boot id, the
// report's first-line time (kernel uptime when printed, which is the same
// whichever path the line took; else the wall-clock time) and the whole
// report text. Replaying the same log from Kafka, re-reading it in Fluent
// Bit or re-scanning a file assembles the same report and gives the same id,
// so at-least-once delivery never duplicates a document; two different
// reports get different ids even when they start with the same line in the
// same second. Nothing that differs between front ends (line numbers,
// offsets, the time oopsflow read the line) goes in.
func ID(r *assemble.Report) string {
	h := sha256.New()
	h.Write([]byte(r.Host))
	h.Write([]byte{0})
	h.Write([]byte(r.Boot))
	h.Write([]byte{0})
	switch {
	case r.HasUptime:
		h.Write([]byte("up:" + strconv.FormatInt(int64(r.Uptime/time.Microsecond), 10)))
	case !r.Time.IsZero():
		h.Write([]byte("t:" + r.Time.UTC().Format(time.RFC3339Nano)))
	}
	for _, l := range r.Lines {
		h.Write([]byte{0})
		h.Write([]byte(l))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
