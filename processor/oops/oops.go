// Package oops parses one assembled kernel report into an Oops: its type,
// a short stable title in syzkaller's conventions, the blamed function, the
// faulting IP, the call trace, taint, CPU/PID/comm, hardware, workqueue,
// modules, kernel release, and a fingerprint that is the same for the same
// bug on any host.
//
// What a report kind is, its title formats and which frame a title names
// come from the table of processor/format; this package reads the fields
// every report shares. It never fails: a report it cannot make sense of
// still gets a type, a title from its header line, and a fingerprint.
package oops

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"

	"github.com/oopsflow/oopsflow/processor/format"
)

// Frame is one call-trace entry or a faulting IP, as printed.
type Frame struct {
	Function string `json:"function"`
	Offset   uint64 `json:"offset"`
	Size     uint64 `json:"size,omitempty"`
	Module   string `json:"module,omitempty"`
	// Reliable is false for frames printed with "?" (the unwinder is not sure).
	Reliable bool `json:"reliable"`
	// Stack names the exception stack the frame was printed in ("irq", "nmi",
	// "softirq", "exception"), empty for the task's own stack.
	Stack string `json:"stack,omitempty"`
}

// Oops is a parsed kernel report.
type Oops struct {
	Type         string   // snake_case class, see the Type* constants
	Title        string   // short, stable, human title
	Header       string   // the report's header line as printed
	Function     string   // the blamed function
	IP           *Frame   // the faulting instruction pointer, when printed
	FaultAddress string   // "0x402"
	CPU          *int     // CPU the report was printed on
	PID          *int     // PID of the task in the report
	Comm         string   // the task's name (kworker/4:2)
	Tainted      string   // taint as printed ("G        W  O"), "" when not tainted
	TaintFlags   []string // taint letters decoded to names
	Kernel       string   // kernel release (5.15.0-1075-azure)
	Arch         string   // x86_64, aarch64, arm, ppc64le, s390x, riscv64, i386
	Hardware     string   // "Hardware name:" line
	Workqueue    string   // "Workqueue:" line
	CallTrace    []Frame  // the first call trace
	Modules      []string // "Modules linked in:"
	Context      []string // lines printed just before the report that belong to it
	Panic        bool     // the kernel went on to panic
	Severity     int      // 1 (informational) .. 10 (fatal)
	Fingerprint  string   // stable hash of type, normalised title and top frames
	Corrupted    bool     // the header or the trace could not be made sense of
	// CorruptedReason says why Corrupted is set.
	CorruptedReason string
	// AltTitles are alternative titles of the same bug ("bad-access in
	// f", "stall in f"), as syzkaller uses to merge reports.
	AltTitles []string
	// Format names the row of the report table the title came from.
	Format string
}

// TypeUnknown is the type of a report whose header is not recognised.
const TypeUnknown = "unknown"

const (
	fingerprintVersion  = "2"
	fingerprintFrameCnt = 3
)

var (
	reCPULine   = regexp.MustCompile(`CPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (.*?) +(Not tainted|Tainted: ([A-Z][A-Z ]*?)) +(\d[^ ]*)`)
	reOldPid    = regexp.MustCompile(`^Pid: (\d+), comm: (.*?) +(?:Not tainted|Tainted: ([A-Z][A-Z ]*?)) +(\d[^ ]*)`)
	reTaintLine = regexp.MustCompile(`^\s*(?:Not tainted|Tainted: ([A-Z][A-Z ]*?)) +(\d[^ ]*) #`)
	reTaintNew  = regexp.MustCompile(`^Tainted: (\[[A-Z]\].*)$`)
	reFrame     = regexp.MustCompile(`^(?:\[<?(?:0x)?[0-9a-f]+>?\] ){0,2}(\? )?([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)(?:/0x([0-9a-f]+))?(?: \[([^\]]+)\])?`)
	reArmFrame  = regexp.MustCompile(`^\[<[0-9a-f]+>\] \(([A-Za-z0-9_.$]+)(?:\+0x([0-9a-f]+)/0x([0-9a-f]+))?(?: \[([^\]]+)\])?\) from \[<[0-9a-f]+>\] \(([A-Za-z0-9_.$]+)(?:\+0x([0-9a-f]+)/0x([0-9a-f]+))?(?: \[([^\]]+)\])?\)`)
	reInline    = regexp.MustCompile(`^([A-Za-z0-9_.$]+) [^ ]+\.[a-zA-Z]+:\d+(?::\d+)? \[inline\]`)
	reFaultAddr = regexp.MustCompile(`(?:address[: ]+|at virtual address |\bat |non-canonical address |for address:? )(?:0x)?([0-9a-f]{4,16})\b`)
	reCR2       = regexp.MustCompile(`^CR2: ([0-9a-f]+)`)
)

// Parse parses a report: its header (the first line that starts a report)
// and the lines after it, and the context lines printed before it.
func Parse(context, lines []string) *Oops {
	for i, l := range lines {
		if g, ok := format.Match([]byte(l)); ok {
			return ParseGroup(g, context, lines[i:])
		}
	}
	o := &Oops{Context: context, Type: TypeUnknown, Corrupted: true, CorruptedReason: "no report header"}
	if len(lines) > 0 {
		o.Header = lines[0]
		o.Title = format.Normalize(lines[0])
	}
	o.Fingerprint = fingerprint(o)
	return o
}

// ParseGroup parses a report whose header, lines[0], announced group g (as
// the assembler found it).
func ParseGroup(g *format.Group, context, lines []string) *Oops {
	o := &Oops{Context: context, Type: TypeUnknown}
	if len(lines) == 0 {
		o.Corrupted, o.CorruptedReason = true, "empty report"
		o.Fingerprint = fingerprint(o)
		return o
	}
	lines = format.RealHeader(lines)
	o.Header = lines[0]
	p := &parser{o: o, lines: lines}
	p.fields()
	res := format.Title(g, lines)
	o.Type, o.Severity = res.Kind.Type, res.Kind.Severity
	if o.Type == "" {
		o.Type = TypeUnknown
	}
	o.Title, o.Function, o.AltTitles = res.Title, res.Frame, res.Alt
	o.Corrupted, o.CorruptedReason = res.Corrupted, res.CorruptedReason
	if res.Format != nil {
		o.Format = res.Format.Name
	}
	p.comm()
	if o.Panic && o.Severity < 8 {
		o.Severity = 8
	}
	o.Fingerprint = fingerprint(o)
	return o
}

type parser struct {
	o     *Oops
	lines []string
	// firstTrace is the index of the first "Call Trace:" line, -1 if none.
	firstTrace int
}

var (
	reHungComm = regexp.MustCompile(`INFO: task (.+?):(\d+) (?:blocked|can't die)`)
	reSoftComm = regexp.MustCompile(`stuck for \d+s! \[(.+?):(\d+)\]`)
)

// comm takes the task from hung-task and soft-lockup headers when no CPU
// line named it.
func (p *parser) comm() {
	o := p.o
	if o.Comm != "" {
		return
	}
	if m := reHungComm.FindStringSubmatch(o.Header); m != nil {
		o.Comm = m[1]
		if pid, err := strconv.Atoi(m[2]); err == nil {
			o.PID = &pid
		}
	} else if m := reSoftComm.FindStringSubmatch(o.Header); m != nil {
		o.Comm = m[1]
	}
}

// fields extracts everything that does not depend on the report type.
func (p *parser) fields() {
	o := p.o
	p.firstTrace = -1
	inTrace, stack := false, ""
	var armCaller *Frame // the right-hand side of the last "(A) from (B)" line
	for i := 0; i < len(p.lines); i++ {
		l := p.lines[i]
		t := strings.TrimSpace(l)
		switch {
		case strings.Contains(l, "Kernel panic - not syncing"):
			o.Panic = true
		case o.CPU == nil && strings.Contains(l, "PID: ") && strings.Contains(l, "Comm: "):
			if m := reCPULine.FindStringSubmatch(l); m != nil {
				cpu, _ := strconv.Atoi(m[1])
				pid, _ := strconv.Atoi(m[2])
				o.CPU, o.PID, o.Comm = &cpu, &pid, m[3]
				p.taint(m[5], m[6])
			}
		case o.PID == nil && strings.HasPrefix(t, "Pid: "):
			if m := reOldPid.FindStringSubmatch(t); m != nil {
				pid, _ := strconv.Atoi(m[1])
				o.PID, o.Comm = &pid, m[2]
				p.taint(m[3], m[4])
			}
		case strings.HasPrefix(t, "Tainted: [") && len(o.TaintFlags) == 0:
			if m := reTaintNew.FindStringSubmatch(t); m != nil {
				o.TaintFlags = taintNamesBracketed(m[1])
			}
		case o.Kernel == "" && (strings.HasPrefix(t, "Tainted:") || strings.HasPrefix(t, "Not tainted")):
			if m := reTaintLine.FindStringSubmatch(l); m != nil {
				p.taint(m[1], m[2])
			}
		case o.Hardware == "" && strings.HasPrefix(t, "Hardware name: "):
			o.Hardware = strings.TrimPrefix(t, "Hardware name: ")
		case o.Workqueue == "" && strings.HasPrefix(t, "Workqueue: "):
			o.Workqueue = strings.TrimPrefix(t, "Workqueue: ")
		case o.Modules == nil && strings.HasPrefix(t, "Modules linked in:"):
			list := strings.TrimPrefix(t, "Modules linked in:")
			// A long list wraps onto lines of module names only.
			for i+1 < len(p.lines) && moduleLine(p.lines[i+1]) {
				i++
				list += " " + p.lines[i]
			}
			o.Modules = parseModules(list)
			continue
		case o.IP == nil && isIPLine(t):
			o.IP = parseIP(t)
			p.arch(t)
		case o.FaultAddress == "" && strings.HasPrefix(t, "CR2: "):
			if m := reCR2.FindStringSubmatch(t); m != nil {
				o.FaultAddress = hexAddr(m[1])
			}
		}
		if o.Arch == "" {
			p.arch(t)
		}
		// Call trace: frames from the first trace start until a line that is
		// neither a frame, a register dump nor a stack marker.
		if p.firstTrace < 0 && format.IsTraceStart([]byte(t)) && !p.afterKthreadDump(i) {
			p.firstTrace, inTrace = i, true
			continue
		}
		if !inTrace {
			continue
		}
		if m, rest := splitStackMarker(t); m != "" {
			switch m {
			case "<IRQ>":
				stack = "irq"
			case "<NMI>":
				stack = "nmi"
			case "<SOFTIRQ>":
				stack = "softirq"
			default:
				stack = ""
			}
			if rest == "" {
				continue
			}
			t = rest
		}
		if strings.HasPrefix(t, "Exception stack") || strings.HasPrefix(t, "---") {
			continue
		}
		if f, caller, ok := parseArmFrame(t); ok {
			f.Stack = stack
			o.CallTrace = append(o.CallTrace, f)
			armCaller = caller
			continue
		}
		if f, ok := parseFrame(t); ok {
			f.Stack = stack
			o.CallTrace = append(o.CallTrace, f)
			continue
		}
		if reInline.MatchString(t) {
			continue // a symbolised inline frame: not a frame of the stack
		}
		if len(o.CallTrace) > 0 && traceOver(t) {
			inTrace = false
		}
	}
	if armCaller != nil {
		// The outermost caller of an arm backtrace is printed only on the
		// right of the last line.
		o.CallTrace = append(o.CallTrace, *armCaller)
	}
	if len(o.CallTrace) == 0 {
		p.implicitTrace()
	}
	if a := archFromRelease(o.Kernel); a != "" {
		o.Arch = a // the release names the architecture exactly
	}
	if m := reFaultAddr.FindStringSubmatch(p.lines[0]); m != nil {
		o.FaultAddress = hexAddr(m[1])
	}
	if o.IP == nil {
		o.IP = headerIP(p.lines[0])
	}
}

var (
	// reWarnAt finds the function a WARNING header names: "WARNING: CPU: 1
	// PID: 2 at net/core/dev.c:10896 f+0x1a3/0x2b0 [mod]" and the old
	// "WARNING: at fs/ext4/inode.c:123 f()" or "... f+0x25b/0x270() (Not
	// tainted)".
	reWarnAt = regexp.MustCompile(`WARNING: .*?at [^ ]+:[0-9]+ ([A-Za-z0-9_.]+?)(?:\+0x([0-9a-f]+)/0x([0-9a-f]+))?(?: \[([^\]]+)\])?(?:\(\))?(?:\s|$)`)
	// reHeaderFunc finds "in f+0x1a9/0x2f0" in sanitizer headers.
	reHeaderFunc = regexp.MustCompile(`(?:^|\s)([A-Za-z0-9_.]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[([^\]]+)\])?`)
)

// headerIP is where a report without an IP line was raised: the function a
// WARNING header names, or the function with an offset in the header
// ("BUG: KASAN: use-after-free in f+0x1a9/0x2f0").
func headerIP(header string) *Frame {
	t := strings.TrimSpace(header)
	m := reWarnAt.FindStringSubmatch(t)
	if m == nil {
		m = reHeaderFunc.FindStringSubmatch(t)
	}
	if m == nil {
		return nil
	}
	off, _ := strconv.ParseUint(m[2], 16, 64)
	size, _ := strconv.ParseUint(m[3], 16, 64)
	return &Frame{Function: m[1], Offset: off, Size: size, Module: m[4], Reliable: true}
}

// traceOver recognises a line after which the call trace cannot go on: the
// end marker, another report or stack, the panic trailer, the code dump, or
// the heading of another section ("Allocated by task 1:", "Mem-Info:").
// Other lines (a message another CPU printed meanwhile) are skipped over.
func traceOver(t string) bool {
	b := []byte(t)
	switch {
	case strings.HasPrefix(t, "---[ end"), strings.HasPrefix(t, "Code:"), strings.HasPrefix(t, "Kernel panic"),
		format.IsTraceStart(b):
		return true
	case strings.HasSuffix(t, ":") && !isRegisterish(t) && !format.IsRegister(b):
		return true
	}
	_, header := format.Match(b)
	return header
}

// moduleLine recognises a continuation of "Modules linked in:": nothing but
// module names, each optionally flagged ("(OE)"), and "[last unloaded: x]".
func moduleLine(l string) bool {
	t := strings.TrimSpace(l)
	if t == "" || strings.HasPrefix(t, "CPU:") {
		return false
	}
	if i := strings.Index(t, "[last unloaded:"); i >= 0 {
		t = t[:i]
	}
	fields := strings.Fields(t)
	if len(fields) == 0 {
		return strings.Contains(l, "[last unloaded:")
	}
	for _, f := range fields {
		if !reModule.MatchString(f) {
			return false
		}
	}
	return true
}

var reModule = regexp.MustCompile(`^[a-zA-Z0-9_\-]+(?:\([A-Z+\-]+\))?$`)

// stackMarkers open and close the stacks of a call trace.
var stackMarkers = []string{"<IRQ>", "<NMI>", "<SOFTIRQ>", "</IRQ>", "</NMI>", "</SOFTIRQ>", "<EOI>", "<<EOE>>", "<TASK>", "</TASK>"}

// reLeadingStamp is a console timestamp inside a line.
var reLeadingStamp = regexp.MustCompile(`^\[\s*\d+\.\d+\]\s*`)

// splitStackMarker splits a stack marker from the rest of its line. Old
// kernels print the next frame on the marker's line, after a second
// timestamp: "<EOI> [  420.505397]  [<ffffffff812da9eb>] ? smp_call_function_single+0x11b/0x360".
func splitStackMarker(t string) (marker, rest string) {
	for _, m := range stackMarkers {
		if r, ok := strings.CutPrefix(t, m); ok && (r == "" || r[0] == ' ' || r[0] == '\t') {
			return m, reLeadingStamp.ReplaceAllString(strings.TrimSpace(r), "")
		}
	}
	return "", t
}

// afterKthreadDump: RCU stall reports dump the grace-period kthread's stack
// first; that trace is not the stalled CPU's.
func (p *parser) afterKthreadDump(i int) bool {
	for j := i - 1; j >= 0 && j >= i-3; j-- {
		if strings.Contains(p.lines[j], "kthread stack dump") {
			return true
		}
	}
	return false
}

// implicitTrace collects frames printed without a "Call Trace:" line, as
// sanitizers (KMSAN, KFENCE) and some old kernels do: the first run of
// frame lines within a few lines after the header.
func (p *parser) implicitTrace() {
	start := -1
	for i := 1; i < len(p.lines) && i <= 6; i++ {
		if _, ok := parseFrame(strings.TrimSpace(p.lines[i])); ok {
			start = i
			break
		}
	}
	if start < 0 {
		return
	}
	for _, l := range p.lines[start:] {
		t := strings.TrimSpace(l)
		if reInline.MatchString(t) {
			continue
		}
		f, ok := parseFrame(t)
		if !ok {
			break
		}
		p.o.CallTrace = append(p.o.CallTrace, f)
	}
}

func (p *parser) taint(letters, release string) {
	o := p.o
	o.Kernel = release
	letters = strings.TrimRight(letters, " ")
	o.Tainted = letters
	if letters != "" {
		o.TaintFlags = taintNames(letters)
	}
}

// arch infers the architecture from register and IP lines.
func (p *parser) arch(t string) {
	o := p.o
	switch {
	case strings.HasPrefix(t, "RIP: ") || strings.HasPrefix(t, "RAX: "):
		o.Arch = "x86_64"
	case strings.HasPrefix(t, "EIP: "):
		o.Arch = "i386"
	case strings.HasPrefix(t, "x29: ") || strings.Contains(t, "pstate: "):
		o.Arch = "aarch64"
	case strings.Contains(t, " psr: "):
		o.Arch = "arm"
	case strings.HasPrefix(t, "NIP:") || strings.HasPrefix(t, "NIP ["):
		o.Arch = "ppc64le"
	case strings.HasPrefix(t, "Krnl PSW"):
		o.Arch = "s390x"
	case strings.HasPrefix(t, "epc : "):
		o.Arch = "riscv64"
	}
}

func archFromRelease(rel string) string {
	switch {
	case rel == "":
		return ""
	case strings.HasSuffix(rel, ".x86_64") || strings.HasSuffix(rel, "-amd64"):
		return "x86_64"
	case strings.HasSuffix(rel, ".aarch64") || strings.HasSuffix(rel, "-arm64"):
		return "aarch64"
	case strings.HasSuffix(rel, ".ppc64le"):
		return "ppc64le"
	case strings.HasSuffix(rel, ".s390x"):
		return "s390x"
	}
	return ""
}

// isIPLine recognises the line that names the faulting instruction.
func isIPLine(t string) bool {
	for _, p := range []string{"RIP: 0010:", "RIP: e030:", "RIP: 0010:[<", "IP: [<", "IP: ", "EIP: ", "EIP is at ", "pc : ", "PC is at ", "NIP [", "epc : ", "Krnl PSW : "} {
		if strings.HasPrefix(t, p) {
			return strings.Contains(t, "+0x")
		}
	}
	return false
}

func parseIP(t string) *Frame {
	// Drop everything up to the last "]" of address brackets or the prefix.
	rest := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(t, "PC is at "), "EIP is at "), "NIP ")
	if strings.HasPrefix(t, "Krnl PSW") { // s390: "Krnl PSW : 0704c... 000003ff80123456 (func+0x5e/0x2a8 [mod])"
		if i := strings.LastIndexByte(t, '('); i >= 0 {
			rest = strings.TrimSuffix(t[i+1:], ")")
		}
	} else if i := strings.Index(rest, ":"); i >= 0 && i < 8 {
		rest = rest[i+1:]
	}
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "0010:") || strings.HasPrefix(rest, "e030:") {
		rest = strings.TrimSpace(rest[5:])
	}
	rest = strings.TrimPrefix(rest, "at ")
	for strings.HasPrefix(rest, "[<") || strings.HasPrefix(rest, "[") {
		j := strings.Index(rest, "] ")
		if j < 0 {
			break
		}
		rest = strings.TrimSpace(rest[j+2:])
	}
	if f, ok := parseFrame(rest); ok {
		f.Reliable = true
		return &f
	}
	return nil
}

// parseFrame parses a stack frame line (prefix already trimmed): x86, arm64,
// ppc64 ("[sp] [pc] f+0x.."), s390 ("([<addr>] f+0x..)" for the first),
// i386. Symbolised "f file.c:12 [inline]" lines are not frames.
func parseFrame(t string) (Frame, bool) {
	t = strings.TrimPrefix(t, "(") // s390 prints the first frame in parentheses
	m := reFrame.FindStringSubmatch(t)
	if m == nil {
		return Frame{}, false
	}
	off, _ := strconv.ParseUint(m[3], 16, 64)
	size, _ := strconv.ParseUint(m[4], 16, 64)
	reliable := m[1] == "" && !strings.HasSuffix(t, "(unreliable)")
	return Frame{Function: m[2], Offset: off, Size: size, Module: m[5], Reliable: reliable}, true
}

// parseArmFrame parses arm's "[<pc>] (f+0x0/0x10) from [<lr>] (g+0x../0x..)"
// and the newer "[<pc>] (f) from [<lr>] (g+0x..)": the frame f, and g, the
// caller, which only the last line of a backtrace has no frame of its own.
func parseArmFrame(t string) (Frame, *Frame, bool) {
	m := reArmFrame.FindStringSubmatch(t)
	if m == nil {
		return Frame{}, nil, false
	}
	off, _ := strconv.ParseUint(m[2], 16, 64)
	size, _ := strconv.ParseUint(m[3], 16, 64)
	f := Frame{Function: m[1], Offset: off, Size: size, Module: m[4], Reliable: true}
	coff, _ := strconv.ParseUint(m[6], 16, 64)
	csize, _ := strconv.ParseUint(m[7], 16, 64)
	caller := &Frame{Function: m[5], Offset: coff, Size: csize, Module: m[8], Reliable: true}
	return f, caller, true
}

func isRegisterish(t string) bool {
	return strings.HasPrefix(t, "RIP: ") || strings.HasPrefix(t, "RSP: ") || strings.HasPrefix(t, "RAX: ") ||
		strings.HasPrefix(t, "RDX: ") || strings.HasPrefix(t, "RBP: ") || strings.HasPrefix(t, "R10: ") ||
		strings.HasPrefix(t, "R13: ") || strings.HasPrefix(t, "R8: ") || strings.HasPrefix(t, "R08: ") ||
		strings.HasPrefix(t, "? ") || strings.HasPrefix(t, "Code: ")
}

// parseModules splits "Modules linked in: a b(OE) c [last unloaded: d]".
func parseModules(s string) []string {
	if i := strings.Index(s, "[last unloaded"); i >= 0 {
		s = s[:i]
	}
	fields := strings.Fields(s)
	mods := make([]string, 0, len(fields))
	for _, f := range fields {
		if i := strings.IndexByte(f, '('); i > 0 {
			f = f[:i]
		}
		if f != "" {
			mods = append(mods, f)
		}
	}
	return mods
}

// StripSuffix removes compiler suffixes (.isra.8, .constprop.0, .part.3,
// .cold, .llvm.123) from a function name.
func StripSuffix(fn string) string {
	if i := strings.IndexByte(fn, '.'); i > 0 {
		return fn[:i]
	}
	return fn
}

// hexAddr normalises an address to 0x-prefixed lower-case hex without
// leading zeros.
func hexAddr(s string) string {
	s = strings.TrimPrefix(strings.ToLower(s), "0x")
	s = strings.TrimLeft(s, "0")
	if s == "" {
		s = "0"
	}
	return "0x" + s
}

var taintLetters = map[rune]string{
	'P': "proprietary_module", 'F': "forced_module", 'S': "cpu_out_of_spec", 'R': "forced_rmmod",
	'M': "machine_check", 'B': "bad_page", 'U': "user", 'D': "died_recently", 'A': "overridden_acpi_table",
	'W': "warn", 'C': "staging_driver", 'I': "firmware_workaround", 'O': "oot_module", 'E': "unsigned_module",
	'L': "soft_lockup", 'K': "livepatch", 'X': "aux", 'T': "randstruct", 'N': "test",
}

// taintNames decodes "G        W  O" (G means no proprietary module: no flag).
func taintNames(letters string) []string {
	var out []string
	for _, r := range letters {
		if n, ok := taintLetters[r]; ok {
			out = append(out, n)
		}
	}
	return out
}

// taintNamesBracketed decodes 6.x's "[W]=WARN, [O]=OOT_MODULE".
func taintNamesBracketed(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if len(part) >= 3 && part[0] == '[' && part[2] == ']' {
			if n, ok := taintLetters[rune(part[1])]; ok {
				out = append(out, n)
			}
		}
	}
	return out
}

// fingerprint hashes the type, the normalised title and the top reliable
// frames that are not helpers. Addresses, offsets, PIDs, CPUs, hosts and
// times never enter it.
func fingerprint(o *Oops) string {
	var b strings.Builder
	b.WriteString(fingerprintVersion)
	b.WriteByte(0)
	b.WriteString(o.Type)
	b.WriteByte(0)
	b.WriteString(o.Title)
	n := 0
	for _, f := range o.CallTrace {
		if n == fingerprintFrameCnt {
			break
		}
		if !f.Reliable || f.Stack != "" || format.Helper(f.Function) {
			continue
		}
		b.WriteByte(0)
		b.WriteString(StripSuffix(f.Function))
		n++
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}
