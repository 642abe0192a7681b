// Package marker knows the shapes of kernel report lines: which line starts a
// report (a header), which line inside an open report only refines it, which
// line ends one, and which lines look like part of a report body (registers,
// stack frames, stack markers).
//
// It is the shared vocabulary of the assembler (which must decide where a
// report starts and ends while lines stream past) and the parser (which must
// find the header again inside an assembled report). It holds no state and is
// safe for concurrent use.
package marker

import "bytes"

// Kind is the coarse class a header line announces. The parser refines it
// (for example a generic BUG: header may turn out to be a spinlock lockup).
type Kind uint8

// Kinds of header lines, in the order of the table below.
const (
	None Kind = iota
	KASAN
	KMSAN
	KCSAN
	KFENCE
	UBSAN
	NullPointer
	PagingRequest
	GeneralProtection
	StackSegment
	KernelBug
	InvalidOpcode
	DivideError
	DoubleFault
	StackOverflow
	SoftLockup
	HardLockup
	HungTask
	RCUStall
	AtomicSleep
	BadPageState
	ListCorruption
	Lockdep
	Warning
	MemoryLeak
	Bug
	InternalError
	Oops
	Panic
	MachineCheck
	OOMKill
	NetdevRefcount
)

// End says how a report of some kind normally ends.
type End uint8

const (
	// EndTrace: ends at "---[ end trace", or when the call trace is over and a
	// line that is not part of a report follows.
	EndTrace End = iota
	// EndRule: sanitizer reports end at a line of '=' characters.
	EndRule
	// EndKilled: an OOM report ends at the "Killed process" line.
	EndKilled
	// EndLine: the report is a single line.
	EndLine
)

// Header describes one header pattern.
type Header struct {
	Needle []byte
	Kind   Kind
	// Continues is set for headers that, inside an open report, belong to it
	// instead of starting a new one (arm64 "Internal error:" after "Unable to
	// handle kernel", "Kernel panic - not syncing" after an oops, ...).
	Continues bool
	// Also, when non-nil, must occur in the line as well (e.g. "INFO: task "
	// needs "blocked for more than" or "can't die").
	Also [][]byte
}

// headers is ordered most specific first: the first whose needle (and Also)
// occurs in a line wins.
var headers = []Header{
	{Needle: []byte("BUG: KASAN:"), Kind: KASAN},
	{Needle: []byte("BUG: KMSAN:"), Kind: KMSAN},
	{Needle: []byte("BUG: KCSAN:"), Kind: KCSAN},
	{Needle: []byte("BUG: KFENCE:"), Kind: KFENCE},
	{Needle: []byte("UBSAN:"), Kind: UBSAN},
	{Needle: []byte("BUG: kernel NULL pointer dereference"), Kind: NullPointer},
	{Needle: []byte("BUG: unable to handle kernel NULL pointer dereference"), Kind: NullPointer},
	{Needle: []byte("BUG: Kernel NULL pointer dereference"), Kind: NullPointer}, // powerpc
	{Needle: []byte("BUG: unable to handle kernel paging request"), Kind: PagingRequest},
	{Needle: []byte("BUG: unable to handle page fault"), Kind: PagingRequest},
	{Needle: []byte("BUG: unable to handle kernel"), Kind: PagingRequest},
	{Needle: []byte("Unable to handle kernel NULL pointer dereference"), Kind: NullPointer},
	{Needle: []byte("Unable to handle kernel"), Kind: PagingRequest},
	{Needle: []byte("Unhandled fault:"), Kind: PagingRequest},
	{Needle: []byte("general protection fault"), Kind: GeneralProtection},
	{Needle: []byte("stack segment: "), Kind: StackSegment},
	{Needle: []byte("BUG: soft lockup"), Kind: SoftLockup},
	{Needle: []byte("BUG: scheduling while atomic"), Kind: AtomicSleep},
	{Needle: []byte("BUG: sleeping function called from invalid context"), Kind: AtomicSleep},
	{Needle: []byte("BUG: Bad page"), Kind: BadPageState},
	{Needle: []byte("BUG: stack guard page was hit"), Kind: StackOverflow},
	{Needle: []byte("BUG: bad unlock balance"), Kind: Lockdep},
	{Needle: []byte("BUG: held lock freed"), Kind: Lockdep},
	{Needle: []byte("BUG: still has locks held"), Kind: Lockdep},
	{Needle: []byte("still has locks held"), Kind: Lockdep, Also: [][]byte{[]byte("BUG: ")}}, // "[ BUG: comm/123 still has locks held! ]"
	{Needle: []byte("BUG: lock held when returning to user space"), Kind: Lockdep},
	{Needle: []byte("BUG: Invalid wait context"), Kind: Lockdep},
	{Needle: []byte("BUG: memory leak"), Kind: MemoryLeak},
	{Needle: []byte("kernel BUG at"), Kind: KernelBug, Continues: true},
	{Needle: []byte("Kernel BUG at"), Kind: KernelBug, Continues: true},
	{Needle: []byte("kernel BUG "), Kind: KernelBug, Continues: true},
	{Needle: []byte("BUG kmalloc-"), Kind: Bug},
	{Needle: []byte("BUG: "), Kind: Bug},
	{Needle: []byte("WARNING: possible circular locking dependency"), Kind: Lockdep},
	{Needle: []byte("WARNING: possible recursive locking"), Kind: Lockdep},
	{Needle: []byte("WARNING: inconsistent lock state"), Kind: Lockdep},
	{Needle: []byte("WARNING: bad unlock balance"), Kind: Lockdep},
	{Needle: []byte("WARNING: held lock freed"), Kind: Lockdep},
	{Needle: []byte("WARNING: still has locks held"), Kind: Lockdep},
	{Needle: []byte("WARNING: lock held when returning"), Kind: Lockdep},
	{Needle: []byte("WARNING: nested lock was not taken"), Kind: Lockdep},
	{Needle: []byte("WARNING: "), Kind: Warning, Also: [][]byte{[]byte(" at "), []byte("suspicious RCU usage"), []byte("CPU:"), []byte("locking bug")}},
	{Needle: []byte("INFO: possible"), Kind: Lockdep},
	{Needle: []byte("lock order detected"), Kind: Lockdep},
	{Needle: []byte("INFO: trying to register non-static key"), Kind: Lockdep},
	{Needle: []byte("INFO: suspicious RCU usage"), Kind: Warning},
	{Needle: []byte("INFO: task "), Kind: HungTask, Also: [][]byte{[]byte("blocked "), []byte("can't die")}},
	{Needle: []byte("detected stall"), Kind: RCUStall},
	{Needle: []byte("detected expedited stall"), Kind: RCUStall},
	{Needle: []byte("Watchdog detected hard LOCKUP"), Kind: HardLockup},
	{Needle: []byte("Internal error:"), Kind: InternalError, Continues: true},
	{Needle: []byte("invalid opcode:"), Kind: InvalidOpcode, Continues: true},
	{Needle: []byte("divide error:"), Kind: DivideError},
	{Needle: []byte("divide_error:"), Kind: DivideError},
	{Needle: []byte("PANIC: double fault"), Kind: DoubleFault},
	{Needle: []byte("double fault:"), Kind: DoubleFault},
	{Needle: []byte("list_add corruption"), Kind: ListCorruption},
	{Needle: []byte("list_del corruption"), Kind: ListCorruption},
	{Needle: []byte("Kernel panic - not syncing"), Kind: Panic, Continues: true},
	{Needle: []byte("Machine Check Exception"), Kind: MachineCheck},
	{Needle: []byte("invoked oom-killer:"), Kind: OOMKill},
	{Needle: []byte("unregister_netdevice: waiting for"), Kind: NetdevRefcount},
	{Needle: []byte("Oops: "), Kind: Oops, Continues: true},
	{Needle: []byte("memory leak"), Kind: MemoryLeak, Also: [][]byte{[]byte("unreferenced object")}},
}

// suppressed lines look like headers but are not reports.
var suppressed = [][]byte{
	[]byte("---[ end Kernel panic"), // the end marker quotes the panic message
	[]byte("INFO: lockdep is turned off"),
	[]byte("INFO: NMI handler"),
	[]byte("INFO: Stall ended before state dump"),
	[]byte("ODEBUG:"),
	[]byte("DEBUG:"),
	[]byte("BUG: no syscalls can create resource"),
	[]byte("appears to be on the same physical disk"),
}

// byBigram lists, for each two-byte prefix, the headers whose needle starts
// with it (in table order), so that a line is scanned once with one table
// look-up per byte instead of one search per needle.
var byBigram = func() map[uint16][]int {
	m := map[uint16][]int{}
	for i, h := range headers {
		k := uint16(h.Needle[0])<<8 | uint16(h.Needle[1])
		m[k] = append(m[k], i)
	}
	return m
}()

// bigram[k] is 1 + the index of k's list in bigramLists, 0 when no needle
// starts with k.
var bigram, bigramLists = func() (t [1 << 16]uint8, lists [][]int) {
	for k, l := range byBigram {
		lists = append(lists, l)
		t[k] = uint8(len(lists))
	}
	return t, lists
}()

// Match reports the header a kernel message line announces, if any. The
// needle may occur anywhere in the line, as in syzkaller: console lines get
// glued together and prefixes such as "watchdog: " or "rcu: " vary.
func Match(text []byte) (Header, bool) {
	if len(text) < 6 {
		return Header{}, false
	}
	best := -1
	for i := 0; i+1 < len(text); i++ {
		slot := bigram[uint16(text[i])<<8|uint16(text[i+1])]
		if slot == 0 {
			continue
		}
		rest := text[i:]
		for _, j := range bigramLists[slot-1] {
			if best >= 0 && j >= best {
				break
			}
			h := &headers[j]
			if !bytes.HasPrefix(rest, h.Needle) {
				continue
			}
			if h.Also != nil && !containsAny(text, h.Also) {
				continue
			}
			best = j
			break
		}
	}
	if best < 0 {
		return Header{}, false
	}
	if containsAny(text, suppressed) {
		return Header{}, false
	}
	return headers[best], true
}

func containsAny(text []byte, subs [][]byte) bool {
	for _, s := range subs {
		if bytes.Contains(text, s) {
			return true
		}
	}
	return false
}

// EndOf tells how a report of kind k ends.
func EndOf(k Kind) End {
	switch k {
	case KASAN, KMSAN, KCSAN, KFENCE, UBSAN:
		return EndRule
	case OOMKill:
		return EndKilled
	case NetdevRefcount, MachineCheck:
		return EndLine
	}
	return EndTrace
}

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
