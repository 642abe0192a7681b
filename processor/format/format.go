// Package format is the one table of kernel report kinds: for each kind,
// the header keyword that starts it and the lines that must not, how the
// report ends, whether a missing end means it was cut short, its type and
// severity, and its title formats, each with the recipe that picks the
// frame the title names. The assembler reads a kind's ending from it; the
// parser reads its titles; the header index is built from it. A new kind or
// title is one row of linux.go plus its test case (testdata/<row>.txt, with
// the golden testdata/<row>.golden.json).
//
// The table and the frame policy follow syzkaller's Linux report parser
// (pkg/report, Apache-2.0) as described in ../shared/notes/syzkaller-title-
// policy.md: keywords found anywhere in a line, per-keyword suppressions,
// title formats chosen by the earliest match in the report text, frames
// taken in print order with a generic skip list matched anywhere in a name
// plus per-format skips, the stall and hung-task extractors, and
// "corrupted" when no frame survives. Kinds syzkaller does not report (hard
// lockups, OOM kills, hardware errors, allocation failures) are extra rows
// in the same shape.
//
// Everything here is read-only after package initialisation and safe for
// concurrent use.
package format

import (
	"bytes"
	"regexp"
)

// End says how a report of some kind normally ends.
type End uint8

const (
	// EndTrace: at "---[ end trace", or when the call trace is over and a
	// line that is not part of a report follows.
	EndTrace End = iota
	// EndRule: sanitizer reports end at a line of '=' characters.
	EndRule
	// EndKilled: an OOM report ends at the "Killed process" line.
	EndKilled
	// EndLine: the report is a single line.
	EndLine
	// EndBlock: the report goes on while its lines carry the keyword
	// (machine check reports print several "[Hardware Error]:" lines).
	EndBlock
)

// Group is the set of reports a header keyword announces: every line that
// contains Keyword (anywhere) and none of Suppress starts a report of the
// group, whose title is the earliest match among its Formats.
type Group struct {
	Name    string
	Keyword string
	// Also, when not empty, must occur in the line too (one of them).
	Also []string
	// Suppress lists lines that contain the keyword but are not reports.
	Suppress []*regexp.Regexp
	// Continues: inside an open report, the keyword belongs to it instead
	// of starting a new one ("Kernel panic - not syncing" after an oops,
	// arm64's "Internal error:" after "Unable to handle kernel").
	Continues bool
	// Trailer: a line of the group ends the report it continues, but for
	// the few lines that follow it ("Kernel panic" and its "Kernel Offset",
	// "---[ end Kernel panic").
	Trailer bool
	// Absorbs matches header lines of other groups that belong to an open
	// report of this group (SLUB's "INFO: Allocated in ..." lines).
	Absorbs *regexp.Regexp
	// Extra marks the kinds syzkaller does not report (hard lockups, OOM
	// kills, hardware errors, allocation failures, a bare "Oops:"): a
	// header of one printed straight into a report open on the same stream
	// belongs to it (another CPU printed it meanwhile); after lines foreign
	// to the open report, it starts its own. Conformance with syzkaller is
	// measured on the other kinds.
	Extra bool
	// Formats in priority order.
	Formats []*Format
	// Kind applies to a header line that matches none of the formats.
	Kind
}

// Kind is what a report is: its type, its severity and how it ends.
type Kind struct {
	Type     string // oops.type
	Severity int    // 1 (informational) .. 10 (fatal)
	End      End
	// EndTrace: the report prints "---[ end trace" at its end; without it
	// the report was cut short.
	EndTrace bool
}

// Format is one title format of a group.
type Format struct {
	// Name identifies the row: the golden file of its test case is
	// processor/oops/testdata/<Name>.txt.
	Name string
	// Title is searched over the report text; the format whose match
	// starts earliest wins.
	Title *regexp.Regexp
	// Report, when set, must match too (from the same start); its
	// capture groups, not Title's, feed Fmt.
	Report *regexp.Regexp
	// Fmt is the title: {1}, {2}... are the capture groups, {frame} the
	// frame Stack extracts.
	Fmt string
	// FrameArg, when Stack is nil, is the capture group that names the
	// blamed function (1-based; 0 when the title names none).
	FrameArg int
	// Alt are alternative titles in the same form.
	Alt []string
	// Stack extracts the frame; nil when the title names none.
	Stack *Stack
	// NoStackTrace: the report prints no call trace (not corrupted for
	// lacking one).
	NoStackTrace bool
	// Corrupted: reports of this format are always corrupted (the real
	// report was lost or cut).
	Corrupted bool
	Kind
}

// Stack is a frame recipe: Parts run in order over the lines from the title
// match on; Parts2 runs when Parts yields no frame. Skip adds to the generic
// skip list; Extractor picks the frame among the candidates (the first by
// default).
type Stack struct {
	Parts     []Part
	Parts2    []Part
	Skip      []string
	Extractor func(frames []string) string

	skip *nameSet // Skip, compiled; nil when empty
}

// Part is one step of a recipe: with Line set, "the first line like Line"
// (its capture groups are candidate frames); otherwise "parse the stack from
// here to the next stack start".
type Part struct {
	Line *regexp.Regexp
}

// ParseStack is the "parse the stack from here" step.
var ParseStack = Part{}

// Line is the "first line like re" step.
func Line(re *regexp.Regexp) Part { return Part{Line: re} }

// Match returns the group whose keyword a kernel line contains, if the line
// starts a report: the keyword may occur anywhere in the line (console lines
// get glued together, prefixes such as "watchdog: " vary), and the line must
// not be suppressed. Groups are tried in table order.
func Match(text []byte) (*Group, bool) {
	return index.match(text)
}

// KindOf returns the kind of a report whose header line is header: the kind
// of the first format of g whose title matches the line, else g's own.
func KindOf(g *Group, header string) Kind {
	for _, f := range g.Formats {
		if f.Title.MatchString(header) {
			return f.Kind
		}
	}
	return g.Kind
}

// Groups returns the table, in priority order.
func Groups() []*Group { return groups }

var (
	endTrace = []byte("---[ end trace")
	endPanic = []byte("---[ end Kernel panic")
	killed   = []byte("Killed process")
	cutHere  = []byte("------------[ cut here ]------------")
)

// IsEndTrace reports a "---[ end trace ... ]---" line.
func IsEndTrace(text []byte) bool { return bytes.Contains(text, endTrace) }

// IsEndPanic reports a "---[ end Kernel panic - not syncing: ... ]---" line,
// after which the machine prints nothing more.
func IsEndPanic(text []byte) bool { return bytes.Contains(text, endPanic) }

// IsKilled reports the OOM killer's "Killed process" line.
func IsKilled(text []byte) bool { return bytes.Contains(text, killed) }

// IsCutHere reports the "------------[ cut here ]------------" line printed
// before a WARNING or BUG.
func IsCutHere(text []byte) bool { return bytes.Contains(text, cutHere) }

// IsRule reports a separator line of at least 20 '=' characters, which opens
// and closes sanitizer reports.
func IsRule(text []byte) bool {
	t := bytes.TrimSpace(text)
	if len(t) < 20 {
		return false
	}
	for _, c := range t {
		if c != '=' {
			return false
		}
	}
	return true
}

var bootBanners = [][]byte{
	[]byte("Linux version "),                 // the first line every kernel prints
	[]byte("Booting Linux on physical CPU "), // arm, arm64
	[]byte("Booting the kernel."),            // x86 decompressor
}

// bootFirst[c] says whether a boot banner starts with byte c: most kernel
// lines are passed over by their first byte.
var bootFirst = func() (first [256]bool) {
	for _, b := range bootBanners {
		first[b[0]] = true
	}
	return first
}()

// IsBoot reports a boot banner: the machine restarted, and a report still
// open on it will never end.
func IsBoot(text []byte) bool {
	if len(text) == 0 || !bootFirst[text[0]] {
		return false
	}
	for _, b := range bootBanners {
		if bytes.HasPrefix(text, b) {
			return true
		}
	}
	return false
}

// IsTraceStart reports a line that opens a call trace.
func IsTraceStart(text []byte) bool {
	t := bytes.TrimSpace(text)
	return bytes.HasPrefix(t, []byte("Call Trace")) || bytes.HasPrefix(t, []byte("Call trace")) ||
		bytes.HasSuffix(t, []byte("Call Trace:")) || // glued to a stack dump line: "dffffc0000000000Call Trace:"
		bytes.HasPrefix(t, []byte("Backtrace:")) || bytes.Equal(t, []byte("backtrace:")) ||
		bytes.HasPrefix(t, []byte("backtrace (crc"))
}

var bodyPrefixes = [][]byte{
	[]byte("Call Trace"), []byte("Call trace"), []byte("Code:"), []byte("Modules linked in"),
	[]byte("CPU:"), []byte("Hardware name:"), []byte("Workqueue:"), []byte("Exception stack"),
	[]byte("---["), []byte("Kernel panic"), []byte("Kernel Offset"), []byte("Rebooting in"),
	[]byte("Shutting down cpus"), []byte("Sending NMI"), []byte("NMI backtrace"), []byte("Instruction dump"),
	[]byte("Tainted:"), []byte("task:"), []byte("Stack:"), []byte("Backtrace:"), []byte("pc :"), []byte("lr :"),
	[]byte("sp :"), []byte("pstate:"), []byte("Mem abort info"), []byte("ESR ="), []byte("EC ="), []byte("SET ="),
	[]byte("FSC ="), []byte("Data abort info"), []byte("ISV ="), []byte("CM ="), []byte("user pgtable"),
	[]byte("[") /* [<addr>] frames and [ pid ] tables */, []byte("<"), []byte("PGD "), []byte("#PF:"),
	[]byte("Oops"), []byte("Internal error"), []byte("Process "), []byte("Call trace:"), []byte("Showing"),
	[]byte("\"echo 0 >"), []byte("INFO: lockdep"), []byte("irq event stamp"), []byte("hardirqs "),
	[]byte("softirqs "), []byte("PKRU:"), []byte("---"), []byte("Dumping ftrace"), []byte("(ftrace buffer"),
	[]byte("RIP  [<"), []byte("RSP <"), []byte("EIP: ["), []byte("ESP:"), []byte("LR is at"), []byte("PC is at"),
	[]byte("Krnl PSW"), []byte("Krnl GPRS"), []byte("Krnl Code"), []byte("Last Breaking-Event-Address"),
	[]byte("NIP"), []byte("LR ="), []byte("MSR:"), []byte("GPR"), []byte("Function entered at"),
}

// IsBody reports whether a line looks like part of a kernel report's body:
// an indented line (stack frames print with a leading space), a stack frame,
// a register dump line, a stack marker such as <IRQ>, or one of the known
// report lines. The assembler ends a report at the first line after the call
// trace that is none of these.
func IsBody(text []byte) bool {
	if len(text) == 0 {
		return true
	}
	if text[0] == ' ' || text[0] == '\t' {
		return true
	}
	for _, p := range bodyPrefixes {
		if bytes.HasPrefix(text, p) {
			return true
		}
	}
	if isRegisterLine(text) {
		return true
	}
	// A bare frame: func+0x1a/0x40 [module]
	if i := bytes.Index(text, []byte("+0x")); i > 0 && bytes.Contains(text[i:], []byte("/0x")) {
		return true
	}
	return false
}

// IsRegister reports a register dump line ("RAX: ...", "x29: ...",
// "r7:00000000 r6:...").
func IsRegister(text []byte) bool { return isRegisterLine(bytes.TrimSpace(text)) }

// isRegisterLine recognises register dumps: "RAX: 0000...", "R10: ...",
// "FS:  0000...", "x29: ffff...", "CR2: ...", "EIP: ...".
func isRegisterLine(t []byte) bool {
	i := bytes.IndexByte(t, ':')
	if i < 2 || i > 7 {
		return false
	}
	name := t[:i]
	if isHex(name) { // arm64 exception stack dumps: "f900: 000000000001950b ..."
		return true
	}
	if name[0] == 'x' || name[0] == 'r' || name[0] == 'a' || name[0] == 's' || name[0] == 't' || name[0] == 'g' {
		// arm64 x0..x29, riscv/ppc style lower-case registers with digits.
		for _, c := range name[1:] {
			if (c < '0' || c > '9') && c != ' ' {
				return false
			}
		}
		return true
	}
	for _, c := range name {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
