package oops

import (
	"regexp"
	"strings"

	"github.com/oopsflow/oopsflow/processor/marker"
)

var (
	reKasanKind    = regexp.MustCompile(`BUG: (KASAN|KMSAN|KFENCE|KCSAN): ([a-z0-9-]+(?::? (?:read|write|free|corruption|access|race))?)(?: in ([A-Za-z0-9_.$]+))?`)
	reAccess       = regexp.MustCompile(`^(Read|Write) (?:of size|at addr)`)
	reKcsan        = regexp.MustCompile(`BUG: KCSAN: ([a-z-]+) in ([A-Za-z0-9_.$]+)(?:\+0x[0-9a-f/x]+)? / ([A-Za-z0-9_.$]+)`)
	reStackRegs    = regexp.MustCompile(`WARNING: kernel stack (regs|frame pointer) at .* has bad ('bp' )?value`)
	reWarnOld      = regexp.MustCompile(`WARNING: (?:CPU: \d+ (?:UID: \d+ )?PID: \d+ )?at ([^ ]+?):\d+ ([A-Za-z0-9_.$]+)\+0x`)
	reWarnOldNoFn  = regexp.MustCompile(`WARNING: (?:CPU: \d+ (?:UID: \d+ )?PID: \d+ )?at ([^ ]+?):\d+`)
	reWarn2025     = regexp.MustCompile(`WARNING: ([^ ]+?):\d+ at (?:([A-Za-z0-9_.$]+)\+0x|0x)`)
	reUbsan        = regexp.MustCompile(`UBSAN: ([A-Za-z -]+?) in `)
	rePanicMsg     = regexp.MustCompile(`Kernel panic - not syncing:? ?(.*)$`)
	reStackProt    = regexp.MustCompile(`stack-protector: Kernel stack is corrupted in: ([A-Za-z0-9_.$]+)`)
	reKilled       = regexp.MustCompile(`Killed process \d+ \(([^)]+)\)`)
	reOOMInvoker   = regexp.MustCompile(`^(.*?) invoked oom-killer`)
	reUnableWhat   = regexp.MustCompile(`nable to handle (?:kernel )?([a-zA-Z -]+?)(?: at| for| in |,|$)`)
	reBugDesc      = regexp.MustCompile(`BUG: (.*)$`)
	reHungComm     = regexp.MustCompile(`INFO: task (.+?):(\d+) (?:blocked|can't die)`)
	reSoftComm     = regexp.MustCompile(`stuck for \d+s! \[(.+?):(\d+)\]`)
	reLockdepDesc  = regexp.MustCompile(`(?:WARNING|INFO|BUG): (.*?)(?: detected)?!?(?: \])?$`)
	reCommPid      = regexp.MustCompile(`^\S+/\d+ `)
	reCallerIs     = regexp.MustCompile(`caller is ([A-Za-z0-9_.$]+)\+0x`)
	reLastFunction = regexp.MustCompile(`^\s*last function: ([A-Za-z0-9_.$]+)`)
	reHexOnly      = regexp.MustCompile(`^(?:0x)?[0-9a-f]+$`)
)

// warningFacilities are files whose WARNINGs blame the caller, not the
// facility, with the title syzkaller gives them.
var warningFacilities = []struct {
	file, title string
	skip        *regexp.Regexp
}{
	{"lib/refcount.c", "WARNING: refcount bug", regexp.MustCompile(`^refcount_|^__refcount`)},
	{"lib/debugobjects.c", "WARNING: ODEBUG bug", regexp.MustCompile(`^debug_|^__debug_|^free_obj|^__free_object|^destroy_|^init_timer|^hrtimer_init|^timer_|^__init_work|^flush_workqueue|^work_`)},
	{"kernel/locking/lockdep.c", "WARNING: locking bug", regexp.MustCompile(`^lock|^__lock|^check_|^validate_|^mark_|^register_lock`)},
	{"mm/usercopy.c", "WARNING: bad usercopy", regexp.MustCompile(`^usercopy|^__check|^check_`)},
	{"lib/kobject.c", "WARNING: kobject bug", regexp.MustCompile(`^kobject_|^kset_|^kobj_`)},
	{"mm/util.c", "WARNING: kmalloc bug", regexp.MustCompile(`^kv?[mz]alloc|^__kv?[mz]alloc|^kvm?alloc_node|^warn_alloc|^__alloc_pages|^alloc_pages|^vmalloc|^__vmalloc`)},
	{"mm/slab_common.c", "WARNING: kmalloc bug", regexp.MustCompile(`^kv?[mz]alloc|^__kv?[mz]alloc|^kmalloc|^warn_alloc|^__alloc_pages|^alloc_pages`)},
	{"mm/page_alloc.c", "WARNING: kmalloc bug", regexp.MustCompile(`^kv?[mz]alloc|^__kv?[mz]alloc|^kmalloc|^warn_alloc|^__alloc_pages|^alloc_pages|^kmalloc_order`)},
	{"mm/vmalloc.c", "WARNING: zero-size vmalloc", regexp.MustCompile(`^v[mz]alloc|^__vmalloc|^vmalloc`)},
	{"lib/list_debug.c", "BUG: corrupted list", regexp.MustCompile(`^__list_|^list_`)},
	{"fs/proc/generic.c", "WARNING: proc registration bug", regexp.MustCompile(`^proc_|^__proc_`)},
}

// simpleKinds are report kinds whose type, title and blame policy follow
// from the header alone.
var simpleKinds = map[marker.Kind]struct {
	typ, title string
	blame      func(*parser) string
	severity   int
}{
	marker.GeneralProtection: {TypeGPF, "general protection fault", (*parser).blameFault, 7},
	marker.StackSegment:      {TypeStackSegment, "stack segment fault", (*parser).blameFault, 7},
	marker.InvalidOpcode:     {TypeInvalidOpcode, "invalid opcode", (*parser).blameFault, 7},
	marker.DivideError:       {TypeDivideError, "divide error", (*parser).blameFault, 7},
	marker.ListCorruption:    {TypeListCorruption, "BUG: corrupted list", (*parser).blameFault, 7},
	marker.Oops:              {TypeOops, "Oops", (*parser).blameFault, 7},
	marker.DoubleFault:       {TypeDoubleFault, "PANIC: double fault", (*parser).blameStall, 8},
	marker.StackOverflow:     {TypeStackOverflow, "BUG: stack guard page was hit", (*parser).blameStall, 8},
	marker.HardLockup:        {TypeHardLockup, "NMI watchdog: hard LOCKUP", (*parser).blameStall, 7},
	marker.RCUStall:          {TypeRCUStall, "INFO: rcu detected stall", (*parser).blameStall, 6},
	marker.MemoryLeak:        {TypeMemoryLeak, "memory leak", (*parser).firstTaskFrame, 3},
}

// classify sets Type, Title, Function and Severity from the header line.
func (p *parser) classify() {
	o := p.o
	h := p.lines[p.hdr]
	in := func(prefix, fn string) string {
		if fn == "" {
			return prefix
		}
		return prefix + " in " + cleanFunction(fn)
	}
	if k, ok := simpleKinds[p.kind]; ok {
		o.Type, o.Severity = k.typ, k.severity
		o.Function = k.blame(p)
		o.Title = in(k.title, o.Function)
		return
	}
	switch p.kind {
	case marker.NullPointer, marker.PagingRequest:
		o.Type = TypePagingRequest
		what := "paging request"
		if m := reUnableWhat.FindStringSubmatch(h); m != nil {
			what = strings.TrimSpace(m[1])
		}
		switch {
		case strings.Contains(h, "NULL pointer dereference"):
			o.Type, what = TypeNullPointer, "NULL pointer dereference"
		case strings.HasPrefix(what, "page fault"), what == "" || what == "kernel":
			what = "paging request"
		case strings.HasPrefix(h, "Unhandled fault") || strings.Contains(h, "Unhandled fault"):
			o.Function = p.blameFault()
			o.Title = in("Unhandled fault", o.Function)
			o.Severity = 7
			return
		}
		o.Function = p.blameFault()
		o.Title = in("BUG: unable to handle kernel "+what, o.Function)
		o.Severity = 7
	case marker.KernelBug:
		p.kernelBug(h, in)
	case marker.InternalError:
		o.Function = p.blameFault()
		if strings.Contains(h, "BUG") {
			o.Type = TypeKernelBug
			o.Title = in("kernel BUG", o.Function)
		} else {
			o.Type = TypeInternalError
			o.Title = in("Internal error", o.Function)
		}
		o.Severity = 7
	case marker.SoftLockup:
		o.Type = TypeSoftLockup
		o.Function = p.blameStall()
		o.Title = in("BUG: soft lockup", o.Function)
		o.Severity = 6
		if m := reSoftComm.FindStringSubmatch(h); m != nil && o.Comm == "" {
			o.Comm = m[1]
		}
	case marker.HungTask:
		o.Type = TypeHungTask
		o.Function = p.blameHang()
		prefix := "INFO: task hung"
		if strings.Contains(h, "can't die") {
			prefix = "INFO: task can't die"
		}
		o.Title = in(prefix, o.Function)
		o.Severity = 5
		if m := reHungComm.FindStringSubmatch(h); m != nil {
			o.Comm = m[1]
		}
	case marker.AtomicSleep:
		o.Type = TypeAtomicSleep
		o.Function = p.firstTaskFrame()
		prefix := "BUG: sleeping function called from invalid context"
		if strings.Contains(h, "scheduling while atomic") {
			prefix = "BUG: scheduling while atomic"
		}
		o.Title = in(prefix, o.Function)
		o.Severity = 5
	case marker.BadPageState:
		o.Type = TypeBadPageState
		o.Function = p.firstTaskFrame()
		prefix := "BUG: Bad page state"
		if strings.Contains(h, "Bad page map") {
			prefix = "BUG: Bad page map"
		} else if strings.Contains(h, "Bad page cache") {
			prefix = "BUG: Bad page cache"
		}
		o.Title = in(prefix, o.Function)
		o.Severity = 6
	case marker.Lockdep:
		p.lockdep(h, in)
	case marker.Warning:
		p.warning(h, in)
	case marker.KASAN, marker.KMSAN, marker.KFENCE, marker.KCSAN:
		p.sanitizer(h, in)
	case marker.UBSAN:
		o.Type = TypeUBSAN
		kind := "undefined-behaviour"
		if m := reUbsan.FindStringSubmatch(h); m != nil {
			kind = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(m[1]), " ", "-"))
			if kind == "undefined-behaviour" || kind == "undefined-behavior" {
				kind = "undefined-behaviour"
			}
		}
		o.Function = p.firstTaskFrame()
		o.Title = in("UBSAN: "+kind, o.Function)
		o.Severity = 6
	case marker.Panic:
		p.panicReport(h, in)
	case marker.MachineCheck:
		o.Type = TypeMachineCheck
		o.Title = "Machine Check Exception"
		o.Severity = 8
	case marker.OOMKill:
		o.Type = TypeOOMKill
		o.Severity = 3
		victim := ""
		for _, l := range p.lines {
			if m := reKilled.FindStringSubmatch(l); m != nil {
				victim = m[1]
				break
			}
		}
		if victim == "" {
			if m := reOOMInvoker.FindStringSubmatch(h); m != nil {
				victim = m[1]
			}
		}
		o.Title = "Out of memory: killed process " + victim
		if victim == "" {
			o.Title = "Out of memory"
		}
	case marker.NetdevRefcount:
		o.Type = TypeNetdevRefcount
		o.Title = "unregister_netdevice: waiting for DEV to become free"
		o.Severity = 5
	default: // marker.Bug and anything else
		o.Type = TypeBug
		o.Function = p.blameFault()
		for _, l := range p.lines[p.hdr:] {
			if m := reCallerIs.FindStringSubmatch(l); m != nil && !skipFrame(m[1]) {
				o.Function = m[1]
				break
			}
			// "BUG: workqueue leaked lock or atomic: ..." names the work function.
			if m := reLastFunction.FindStringSubmatch(l); m != nil {
				o.Function = m[1]
				break
			}
		}
		desc := "BUG"
		if m := reBugDesc.FindStringSubmatch(h); m != nil {
			desc = "BUG: " + bugDescription(m[1])
		}
		o.Title = in(desc, o.Function)
		o.Severity = 5
	}
}

func (p *parser) kernelBug(h string, in func(string, string) string) {
	o := p.o
	o.Severity = 7
	switch {
	case strings.Contains(h, "lib/list_debug.c"):
		o.Type = TypeListCorruption
		o.Function = p.blameFault()
		o.Title = in("BUG: corrupted list", o.Function)
	case strings.Contains(h, "mm/usercopy.c"):
		o.Type = TypeKernelBug
		o.Function = p.firstTaskFrame()
		o.Title = in("BUG: bad usercopy", o.Function)
	default:
		o.Type = TypeKernelBug
		o.Function = p.blameFault()
		o.Title = in("kernel BUG", o.Function)
	}
}

func (p *parser) warning(h string, in func(string, string) string) {
	o := p.o
	o.Type = TypeWarning
	o.Severity = 4
	if strings.Contains(h, "suspicious RCU usage") {
		o.Function = p.firstTaskFrame()
		prefix := "WARNING: suspicious RCU usage"
		if strings.Contains(h, "INFO:") {
			prefix = "INFO: suspicious RCU usage"
		}
		o.Title = in(prefix, o.Function)
		return
	}
	file, fn := "", ""
	if m := reWarn2025.FindStringSubmatch(h); m != nil {
		file, fn = m[1], m[2]
	} else if m := reWarnOld.FindStringSubmatch(h); m != nil {
		file, fn = m[1], m[2]
	} else if m := reWarnOldNoFn.FindStringSubmatch(h); m != nil {
		file = m[1]
	}
	if m := reStackRegs.FindStringSubmatch(h); m != nil {
		o.Title = "WARNING: kernel stack " + m[1] + " has bad " + m[2] + "value"
		return
	}
	for _, f := range warningFacilities {
		// The facility's title applies when the warning fired inside the
		// facility (refcount_warn_saturate, kvmalloc_node), not merely in
		// its file.
		if strings.HasSuffix(file, f.file) && (fn == "" || f.skip.MatchString(StripSuffix(fn))) {
			if f.title == "BUG: corrupted list" {
				o.Type = TypeListCorruption
			}
			o.Function = p.firstFrame(func(s string) bool { return skipFrame(s) || f.skip.MatchString(s) }, true)
			o.Title = in(f.title, o.Function)
			return
		}
	}
	switch {
	case fn != "" && !skipFrame(fn):
		o.Function = fn
	case o.IP != nil && !skipFrame(o.IP.Function):
		o.Function = o.IP.Function
	default:
		o.Function = p.firstTaskFrame()
		if o.Function == "" {
			o.Function = fn // nothing but helpers: name the warning's own function
		}
	}
	o.Title = in("WARNING", o.Function)
}

func (p *parser) lockdep(h string, in func(string, string) string) {
	o := p.o
	o.Type = TypeLockdep
	o.Severity = 4
	fn := ""
	if strings.Contains(h, "circular locking") {
		fn = p.chainZero()
	}
	for _, f := range p.atFuncs {
		if fn != "" {
			break
		}
		if !skipFrame(f) {
			fn = f
			break
		}
	}
	if fn == "" {
		fn = p.firstTaskFrame()
	}
	o.Function = fn
	switch {
	case strings.Contains(h, "possible circular locking"), strings.Contains(h, "possible recursive locking"),
		strings.Contains(h, "lock inversion"), strings.Contains(h, "INFO: possible"):
		o.Title = in("possible deadlock", fn)
	case strings.Contains(h, "lock order detected"):
		o.Title = in("possible deadlock", fn)
	case strings.Contains(h, "inconsistent lock state"):
		o.Title = in("inconsistent lock state", fn)
	case strings.Contains(h, "trying to register non-static key"):
		o.Title = in("INFO: trying to register non-static key", fn)
	default:
		desc := "WARNING: locking bug"
		if m := reLockdepDesc.FindStringSubmatch(strings.TrimSpace(h)); m != nil {
			prefix := "WARNING"
			if strings.Contains(h, "BUG: ") {
				prefix = "BUG"
			}
			desc = prefix + ": " + reCommPid.ReplaceAllString(strings.TrimSuffix(m[1], " detected"), "")
		}
		o.Title = in(desc, fn)
	}
}

func (p *parser) sanitizer(h string, in func(string, string) string) {
	o := p.o
	o.Severity = 6
	if m := reKcsan.FindStringSubmatch(h); m != nil {
		o.Type = TypeKCSAN
		o.Function = m[2]
		o.Title = "KCSAN: " + m[1] + " in " + cleanFunction(m[2]) + " / " + cleanFunction(m[3])
		return
	}
	m := reKasanKind.FindStringSubmatch(h)
	if m == nil {
		o.Type = strings.ToLower(strings.TrimPrefix(strings.SplitN(h, ":", 3)[1], " "))
		o.Function = p.firstTaskFrame()
		o.Title = in(strings.TrimSpace(h), o.Function)
		o.Corrupted = true
		return
	}
	tool, kind, fn := m[1], m[2], m[3]
	o.Type = strings.ToLower(tool)
	if kind == "double-free or invalid-free" || strings.HasPrefix(kind, "double-free") {
		kind = "invalid-free"
	}
	access := ""
	if tool == "KASAN" && kind != "invalid-free" {
		for _, l := range p.lines[p.hdr+1:] {
			if a := reAccess.FindStringSubmatch(strings.TrimSpace(l)); a != nil {
				access = " " + a[1]
				break
			}
		}
	}
	if fn == "" || skipFrame(fn) {
		if f := p.firstTaskFrame(); f != "" || fn == "" {
			fn = f
		} // else: no better frame than the header's own function
	}
	o.Function = fn
	o.Title = in(tool+": "+kind+access, fn)
}

func (p *parser) panicReport(h string, in func(string, string) string) {
	o := p.o
	o.Type = TypePanic
	o.Severity = 9
	o.Panic = true
	msg := ""
	if m := rePanicMsg.FindStringSubmatch(h); m != nil {
		msg = strings.TrimSpace(m[1])
	}
	switch {
	case reStackProt.MatchString(h):
		fn := reStackProt.FindStringSubmatch(h)[1]
		if reHexOnly.MatchString(fn) {
			fn = p.blameStall()
		}
		o.Type, o.Function = TypeStackProtector, fn
		o.Title = in("kernel panic: stack is corrupted", fn)
	case strings.Contains(msg, "corrupted stack end"):
		o.Type = TypeStackOverflow
		o.Function = p.blameStall()
		o.Title = in("kernel panic: corrupted stack end", o.Function)
	case strings.HasPrefix(msg, "Fatal exception"), strings.HasPrefix(msg, "Fatal exception in interrupt"):
		// The report that caused it was missed (cut or not recognised).
		o.Function = p.blameFault()
		o.Title = "kernel panic: Fatal exception"
		o.Corrupted = true
	default:
		o.Function = p.firstTaskFrame()
		o.Title = "kernel panic: " + panicDescription(msg)
	}
}

var (
	reAddrLike = regexp.MustCompile(`(?:0x)?[0-9a-f]{6,}`)
	reBrackets = regexp.MustCompile(`\s*(?:\[[^\]]+\]|\([^)]+\)|\{[^}]+\})`)
)

// bugDescription turns "spinlock lockup suspected on CPU#0, syz/123" into
// "spinlock lockup suspected": the part before per-instance details.
func bugDescription(s string) string {
	for _, sep := range []string{" on CPU", ", ", ": ", " at ", " - ", " (", " for "} {
		if i := strings.Index(s, sep); i > 0 {
			s = s[:i]
		}
	}
	s = reBrackets.ReplaceAllString(s, "")
	s = reAddrLike.ReplaceAllString(s, "")
	return strings.Join(strings.Fields(s), " ")
}

// panicDescription keeps a panic message's stable words.
func panicDescription(s string) string {
	s = reBrackets.ReplaceAllString(s, "")
	s = reAddrLike.ReplaceAllString(s, "ADDR")
	if i := strings.Index(s, ": "); i > 0 && i < len(s)-2 && strings.Contains(s[:i], " ") {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// sanitizeTitle bounds a title to 120 bytes of printable ASCII with collapsed
// white space, as syzkaller does.
func sanitizeTitle(s string) string {
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\t' || c == ' ' {
			space = len(b) > 0
			continue
		}
		if c < 0x20 || c >= 0x7f {
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, c)
	}
	if len(b) > maxTitle {
		b = b[:maxTitle]
	}
	return strings.TrimSpace(string(b))
}

var normalizers = []struct {
	re  *regexp.Regexp
	rep string
}{
	{regexp.MustCompile(`([^a-zA-Z0-9])(?:0x)?[0-9a-f]{6,}`), "${1}ADDR"},
	{regexp.MustCompile(`\d+\.\d+\.\d+\.\d+`), "IP"},
	{regexp.MustCompile(`(\.\w+)(:[0-9]+)+`), "${1}:LINE"},
	{regexp.MustCompile(`([a-zA-Z0-9_.]+)\+0x[0-9a-f]+(?:/0x[0-9a-f]+)?`), "${1}"},
	{regexp.MustCompile(`CPU#[0-9]+`), "CPU"},
	{regexp.MustCompile(`(\W)(\d+)(\W|$)`), "${1}NUM${3}"},
}

// NormalizeTitle replaces addresses, IPs, source lines, offsets, CPU numbers
// and decimal numbers in a title, so that the same bug has the same
// normalised title on every host (syzkaller's dynamic title replacement).
func NormalizeTitle(t string) string {
	for _, n := range normalizers {
		for {
			s := n.re.ReplaceAllString(t, n.rep)
			if s == t {
				break
			}
			t = s
		}
	}
	return t
}
