package format

import "regexp"

// The table. Groups are tried in this order on a line (the first whose
// keyword the line contains and does not suppress wins); within a group,
// the format whose Title matches earliest in the report text wins, ties to
// the one listed first. Fmt uses {1}, {2}, ... for the capture groups of
// Report (or of Title when there is no Report) and {frame} for the frame.

// Kinds shared by several rows.
var (
	kasan      = Kind{Type: "kasan", Severity: 6, End: EndRule}
	kmsan      = Kind{Type: "kmsan", Severity: 6, End: EndRule}
	kcsan      = Kind{Type: "kcsan", Severity: 5, End: EndRule}
	kfence     = Kind{Type: "kfence", Severity: 6, End: EndRule}
	paging     = Kind{Type: "paging_request", Severity: 7, End: EndTrace, EndTrace: true}
	nullDeref  = Kind{Type: "null_pointer_dereference", Severity: 7, End: EndTrace, EndTrace: true}
	bug        = Kind{Type: "bug", Severity: 5, End: EndTrace}
	lockdep    = Kind{Type: "lockdep", Severity: 4, End: EndTrace}
	spinlock   = Kind{Type: "spinlock_bug", Severity: 5, End: EndTrace}
	softLockup = Kind{Type: "soft_lockup", Severity: 6, End: EndTrace}
	atomic     = Kind{Type: "atomic_sleep", Severity: 5, End: EndTrace}
	badPage    = Kind{Type: "bad_page_state", Severity: 6, End: EndTrace}
	leak       = Kind{Type: "memory_leak", Severity: 3, End: EndTrace}
	overflow   = Kind{Type: "stack_overflow", Severity: 8, End: EndTrace}
	warning    = Kind{Type: "warning", Severity: 4, End: EndTrace, EndTrace: true}
	rcuStall   = Kind{Type: "rcu_stall", Severity: 6, End: EndTrace}
	hung       = Kind{Type: "hung_task", Severity: 5, End: EndTrace}
	gpf        = Kind{Type: "general_protection_fault", Severity: 7, End: EndTrace, EndTrace: true}
	panicKind  = Kind{Type: "panic", Severity: 9, End: EndTrace}
	kernelBug  = Kind{Type: "kernel_bug", Severity: 7, End: EndTrace, EndTrace: true}
	ubsan      = Kind{Type: "ubsan", Severity: 6, End: EndRule}
	internal   = Kind{Type: "internal_error", Severity: 7, End: EndTrace, EndTrace: true}
	hardware   = Kind{Type: "hardware_error", Severity: 8, End: EndBlock}
	allocFail  = Kind{Type: "page_allocation_failure", Severity: 3, End: EndTrace}
)

// Recipes shared by several rows.
var (
	ipThenTrace = []Part{Line(ipLine), Line(callTrace), ParseStack}
	traceOnly   = []Part{Line(callTrace), ParseStack}
	ipOnly      = []Part{Line(ipLine)}
	// warnRecipe: the IP line's function, then the frames after it up to
	// the next stack start; if that yields nothing (no IP line, or only
	// skipped frames), the Call Trace's frames.
	warnParts  = []Part{Line(warnIPLine), ParseStack}
	warnParts2 = []Part{Line(callTrace), ParseStack}
)

func warn(name, title, fmt string, skip ...string) *Format {
	return &Format{Name: name, Title: re(title), Fmt: fmt, Stack: &Stack{Parts: warnParts, Parts2: warnParts2, Skip: skip}, Kind: warning}
}

// facility is a WARNING in a facility that blames its caller: the generic
// WARNING recipe, with the facility's own helpers skipped.
func facility(name, title, fmt string, skip ...string) *Format {
	return warn(name, title, fmt, skip...)
}

var groups = []*Group{
	{
		Name: "bug", Keyword: "BUG:", Kind: bug,
		Suppress: []*regexp.Regexp{re(`DEBUG:`), re(`xlog_status:`), re(`BUG: no syscalls can create resource`)},
		Formats: []*Format{
			{Name: "kasan", Title: re(`BUG: KASAN: ([a-z\-]+) in {{FUNC}}(?:.*\n)+?.*(Read|Write) (?:of size|at addr)`),
				Fmt: "KASAN: {1} {3} in {frame}", Alt: []string{"bad-access in {frame}"}, Kind: kasan,
				Stack: &Stack{Parts: []Part{Line(re(`BUG: KASAN: (?:[a-z\-]+) in {{FUNC}}`)), Line(callTrace), ParseStack},
					Skip: []string{`kernel_fault`, `tag_check`, `mem_abort`, `^el1_`, `^el1h_`}}},
			{Name: "kasan_invalid_free", Title: re(`BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in {{FUNC}}`),
				Fmt: "KASAN: invalid-free in {frame}", Kind: kasan,
				Stack: &Stack{Parts: []Part{Line(re(`BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in {{FUNC}}`)), Line(callTrace), ParseStack},
					Skip: []string{`slab_`, `kfree`, `vunmap`, `vfree`}}},
			{Name: "kasan_on_address", Title: re(`BUG: KASAN: ([a-z\-]+) on address(?:.*\n)+?.*(Read|Write) of size ([0-9]+)`),
				Fmt: "KASAN: {1} {2}", Kind: kasan},
			{Name: "kasan_corrupted", Title: re(`BUG: KASAN: (.*)`), Fmt: "KASAN: {1}", Corrupted: true, Kind: kasan},
			{Name: "kmsan_usb_infoleak", Title: re(`BUG: KMSAN: kernel-usb-infoleak`), Report: re(`BUG: KMSAN: kernel-usb-infoleak in {{FUNC}}`),
				Fmt: "KMSAN: kernel-usb-infoleak in {frame}", NoStackTrace: true, Kind: kmsan,
				Stack: &Stack{Parts: []Part{ParseStack, Line(re(`(?:Local variable .* created at:|Uninit was created at:)`)), ParseStack},
					Skip: []string{`alloc_skb`, `usb_submit_urb`, `usb_start_wait_urb`, `usb_bulk_msg`, `usb_interrupt_msg`, `usb_control_msg`}}},
			{Name: "kmsan", Title: re(`BUG: KMSAN: ([a-z\-]+) in `), Report: re(`BUG: KMSAN: ([a-z\-]+) in {{FUNC}}`),
				Fmt: "KMSAN: {1} in {frame}", Alt: []string{"bad-access in {frame}"}, NoStackTrace: true, Kind: kmsan,
				Stack: &Stack{Parts: []Part{ParseStack, Line(re(`(?:Local variable .* created at:|Uninit was created at:)`)), ParseStack},
					Skip: []string{`alloc_skb`, `netlink_ack`, `netlink_rcv_skb`, `_encrypt$`, `^crypto_`, `^cipher_`, `^drbg_`, `^rng_`}}},
			{Name: "kcsan", Title: re(`BUG: KCSAN: (.*)`), Fmt: "KCSAN: {1}", NoStackTrace: true, Kind: kcsan},
			{Name: "kfence_access", Title: re(`BUG: KFENCE: (use-after-free|out-of-bounds) (read|write) in {{FUNC}}`),
				Fmt: "KFENCE: {1} {2} in {frame}", NoStackTrace: true, Kind: kfence,
				Stack: &Stack{Parts: []Part{Line(re(`BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}`)), ParseStack}}},
			{Name: "kfence_invalid_free", Title: re(`BUG: KFENCE: invalid free in {{FUNC}}`), Fmt: "KFENCE: invalid free in {frame}", NoStackTrace: true, Kind: kfence,
				Stack: &Stack{Parts: []Part{Line(re(`BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}`)), ParseStack}}},
			{Name: "kfence_invalid_access", Title: re(`BUG: KFENCE: invalid (read|write) in {{FUNC}}`), Fmt: "KFENCE: invalid {1} in {frame}", NoStackTrace: true, Kind: kfence,
				Stack: &Stack{Parts: []Part{Line(re(`BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}`)), ParseStack}}},
			{Name: "kfence_corruption", Title: re(`BUG: KFENCE: memory corruption in {{FUNC}}`), Fmt: "KFENCE: memory corruption in {frame}", NoStackTrace: true, Kind: kfence,
				Stack: &Stack{Parts: []Part{Line(re(`BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}`)), ParseStack}}},
			{Name: "paging_request", Title: re(`BUG: (?:unable to handle kernel paging request|unable to handle page fault for address|Unable to handle kernel data access)`),
				Fmt: "BUG: unable to handle kernel paging request in {frame}", Alt: []string{"bad-access in {frame}"}, Kind: paging,
				Stack: &Stack{Parts: ipThenTrace}},
			{Name: "null_pointer", Title: re(`BUG: (?:unable to handle kernel NULL pointer dereference|kernel NULL pointer dereference|Kernel NULL pointer dereference)`),
				Fmt: "BUG: unable to handle kernel NULL pointer dereference in {frame}", Alt: []string{"bad-access in {frame}"}, Kind: nullDeref,
				Stack: &Stack{Parts: ipThenTrace}},
			{Name: "unable_to_handle_cut", Title: re(`BUG: unable to handle kernel`), Fmt: "BUG: unable to handle kernel", Corrupted: true, Kind: paging},
			{Name: "spinlock", Title: re(`BUG: (spinlock|rwlock) (lockup suspected|already unlocked|recursion|bad magic|wrong owner|wrong CPU|trylock failure on UP)`),
				Fmt: "BUG: {1} {2} in {frame}", Kind: spinlock,
				Stack: &Stack{Parts: traceOnly, Skip: []string{`spin_`, `_lock`, `_unlock`}}},
			{Name: "soft_lockup", Title: re(`BUG: soft lockup`), Fmt: "BUG: soft lockup in {frame}", Alt: []string{"stall in {frame}"}, Kind: softLockup,
				Stack: &Stack{Parts: ipThenTrace, Extractor: StallFrame}},
			{Name: "bug_locks_held", Title: re(`BUG: .*still has locks held!`), Report: re(`BUG: .*still has locks held!(?:.*\n)+?.*{{PC}} +{{FUNC}}`),
				Fmt: "BUG: still has locks held in {1}", FrameArg: 1, NoStackTrace: true, Kind: lockdep},
			{Name: "scheduling_while_atomic", Title: re(`BUG: scheduling while atomic`), Fmt: "BUG: scheduling while atomic in {frame}", Kind: atomic,
				Stack: &Stack{Parts: traceOnly, Skip: []string{`schedule`}}},
			{Name: "bug_lock_held_return", Title: re(`BUG: lock held when returning to user space`),
				Report: re(`BUG: lock held when returning to user space(?:.*\n)+?.*leaving the kernel with locks still held(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}`),
				Fmt:    "BUG: lock held when returning to user space in {1}", FrameArg: 1,
				NoStackTrace: true, Kind: lockdep},
			{Name: "bug_bad_unlock_balance", Title: re(`BUG: bad unlock balance detected!`), Fmt: "BUG: bad unlock balance in {frame}", Kind: lockdep,
				Stack: &Stack{Parts: []Part{Line(re(`{{PC}} +{{FUNC}}`)), Line(callTrace), ParseStack}}},
			{Name: "bug_held_lock_freed", Title: re(`BUG: held lock freed!`), Fmt: "BUG: held lock freed in {frame}", Kind: lockdep,
				Stack: &Stack{Parts: []Part{Line(re(`at: (?:{{PC}} +)?{{FUNC}}`))}}},
			{Name: "bad_rss_counter", Title: re(`BUG: Bad rss-counter state`), Fmt: "BUG: Bad rss-counter state", NoStackTrace: true, Kind: bug},
			{Name: "nr_ptes", Title: re(`BUG: non-zero (nr_ptes|nr_pmds) on freeing mm`), Fmt: "BUG: non-zero {1} on freeing mm", NoStackTrace: true, Kind: bug},
			{Name: "dentry_in_use", Title: re(`BUG: Dentry .* still in use \([0-9]+\) \[([a-z]+) of ([^\]]+)\]`),
				Fmt: "BUG: Dentry still in use in {1}", Alt: []string{"BUG: Dentry still in use [{1} of {2}]"}, NoStackTrace: true, Kind: bug},
			{Name: "bad_page_state", Title: re(`BUG: Bad page (state|cache)`), Fmt: "BUG: Bad page {1} in {frame}", Kind: badPage,
				Stack: &Stack{Parts: []Part{Line(re(`page last allocated`)), ParseStack},
					Skip: []string{`(?:free|put|get|update|release)_page`, `free_unref`, `^_*folio`, `truncate_inode_pages`, `page_frag_free`, `alloc`, `vmap`, `page_owner`}}},
			{Name: "bad_page_map", Title: re(`BUG: Bad page map`), Fmt: "BUG: Bad page map", Kind: badPage},
			{Name: "workqueue_lockup", Title: re(`BUG: workqueue lockup`), Fmt: "BUG: workqueue lockup", NoStackTrace: true,
				Kind: Kind{Type: "workqueue_lockup", Severity: 5, End: EndTrace}},
			{Name: "sleeping_function", Title: re(`BUG: sleeping function called from invalid context at (.*)`),
				Fmt: "BUG: sleeping function called from invalid context in {frame}", Kind: atomic,
				Stack: &Stack{Parts: traceOnly}},
			{Name: "preemptible", Title: re(`BUG: using ([a-z_]+)\(\) in preemptible`), Fmt: "BUG: using {1}() in preemptible code in {frame}", Kind: atomic,
				Stack: &Stack{Parts: traceOnly, Skip: []string{`dump_stack`, `preemption`, `preempt`, `debug_`, `processor_id`, `this_cpu`}}},
			{Name: "workqueue_leaked_lock", Title: re(`BUG: workqueue leaked lock or atomic`),
				Report: re(`BUG: workqueue leaked lock or atomic(?:.*\n)+?.*last function: ([a-zA-Z0-9_]+)`),
				Fmt:    "BUG: workqueue leaked lock or atomic in {1}", FrameArg: 1, NoStackTrace: true, Kind: lockdep},
			{Name: "memory_leak", Title: re(`BUG: memory leak`), Fmt: "memory leak in {frame}", Kind: leak,
				Stack: &Stack{Parts: []Part{Line(re(`backtrace(?: \(crc [0-9a-f]+\))?:`)), ParseStack},
					Skip: []string{`kmemleak`, `mmap`, `kmem`, `slab`, `alloc`, `create_object`, `idr_get`, `list_lru_init`, `kasprintf`, `kvasprintf`, `pcpu_create`, `strdup`, `strndup`, `memdup`}}},
			{Name: "stack_guard_page", Title: re(`BUG: .*stack guard page was hit at`), Fmt: "BUG: stack guard page was hit in {frame}",
				Alt: []string{"stack-overflow in {frame}"}, Kind: overflow,
				Stack: &Stack{Parts: ipThenTrace, Extractor: StallFrame}},
			{Name: "invalid_wait_context", Title: re(`BUG: Invalid wait context`), Fmt: "WARNING: locking bug in {frame}", Kind: lockdep,
				Stack: &Stack{Parts: traceOnly, Skip: []string{`lock_sock`, `release_sock`}}},
			{Name: "bug_corrupted", Title: re(`BUG:[[:space:]]*(?:\n|$)`), Fmt: "BUG: corrupted", Corrupted: true, Kind: bug},
		},
	},
	{
		Name: "warning", Keyword: "WARNING:", Kind: warning,
		Suppress: []*regexp.Regexp{
			re(`WARNING: /etc/ssh/moduli does not exist, using fixed modulus`),
			re(`WARNING: workqueue cpumask: online intersect > possible intersect`),
			re(`WARNING: [Tt]he mand mount option`),
			re(`WARNING: Unsupported flag value\(s\) of 0x%x in DT_FLAGS_1`),
			re(`WARNING: Unprivileged eBPF is enabled with eIBRS`),
			re(`WARNING: fbcon: Driver '(?:.*)' missed to adjust virtual screen size`),
			re(`WARNING: See https.* for mitigation options`),
			re(`WARNING: kernel not compiled with CPU_SRSO`),
			re(`EXT4-[Ff][Ss]`),
			re(`uses (?:deprecated v2 capabilities|wireless extensions)`),
			re(`XFS \(.*\): WARNING`),
		},
		Formats: []*Format{
			facility("warning_odebug", `WARNING: .*lib/debugobjects\.c.* (?:debug_print|debug_check|at )`, "WARNING: ODEBUG bug in {frame}",
				`debug_`, `rcu`, `hrtimer_`, `timer_`, `work_`, `percpu_`, `vunmap`, `vfree`, `__free_`, `debug_check`, `kobject_`),
			facility("warning_usercopy", `WARNING: .*mm/usercopy\.c`, "WARNING: bad usercopy in {frame}", `usercopy`, `__check`),
			facility("warning_kobject", `WARNING: .*lib/kobject\.c`, "WARNING: kobject bug in {frame}", `kobject_`),
			facility("warning_proc", `WARNING: .*fs/proc/generic\.c`, "WARNING: proc registration bug in {frame}", `proc_`),
			facility("warning_refcount", `WARNING: .*lib/refcount\.c`, "WARNING: refcount bug in {frame}", `refcount`, `kobject_`),
			facility("warning_lockdep", `WARNING: .*kernel/locking/lockdep\.c.*lock_`, "WARNING: locking bug in {frame}", `lock_sock`, `release_sock`),
			facility("warning_kmalloc", `WARNING: .*mm/[a-z_]+\.c.* k?.?malloc`, "WARNING: kmalloc bug in {frame}", `kmalloc`, `krealloc`, `slab`, `kmem`),
			facility("warning_zero_vmalloc", `WARNING: .*mm/vmalloc\.c.*__vmalloc_node`, "WARNING: zero-size vmalloc in {frame}"),
			facility("warning_usb_submit_urb", `WARNING: .*usb_submit_urb`, "WARNING in {frame}/usb_submit_urb",
				`usb_submit_urb`, `usb_start_wait_urb`, `usb_bulk_msg`, `usb_interrupt_msg`, `usb_control_msg`),
			{Name: "lockdep_circular", Title: re(`WARNING: possible circular locking dependency detected`),
				Report: re(`WARNING: possible circular locking dependency detected(?:.*\n)+?.*is trying to acquire lock`),
				Fmt:    "possible deadlock in {frame}", Kind: lockdep,
				Stack: &Stack{Parts: []Part{Line(re(`at: (?:{{PC}} +)?{{FUNC}}`)), Line(re(`at: (?:{{PC}} +)?{{FUNC}}`)), ParseStack},
					Skip: []string{`process_one_work`, `flush_workqueue`, `drain_workqueue`, `destroy_workqueue`}}},
			{Name: "lockdep_irq_inversion", Title: re(`WARNING: possible irq lock inversion dependency detected`),
				Report: re(`WARNING: possible irq lock inversion dependency detected(?:.*\n)+?.*just changed the state of lock(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}`),
				Fmt:    "possible deadlock in {1}", FrameArg: 1, Kind: lockdep},
			{Name: "lockdep_safe_unsafe", Title: re(`WARNING: .*-safe -> .*-unsafe lock order detected`),
				Fmt: "possible deadlock in {frame}", Kind: lockdep,
				Stack: &Stack{Parts: []Part{Line(re(`which became (?:.*) at:`)), ParseStack}}},
			{Name: "lockdep_recursive", Title: re(`WARNING: possible recursive locking detected`),
				Report: re(`WARNING: possible recursive locking detected(?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}`),
				Fmt:    "possible deadlock in {1}", FrameArg: 1, Kind: lockdep},
			{Name: "lockdep_inconsistent", Title: re(`WARNING: inconsistent lock state`),
				Report: re(`WARNING: inconsistent lock state(?:.*\n)+?.*takes(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}`),
				Fmt:    "inconsistent lock state in {frame}", Kind: lockdep,
				Stack: &Stack{Parts: traceOnly}},
			{Name: "warning_locks_held", Title: re(`WARNING: .*still has locks held!`),
				Report: re(`WARNING: .*still has locks held!(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}`),
				Fmt:    "WARNING: still has locks held in {1}", FrameArg: 1, NoStackTrace: true, Kind: lockdep},
			warnKind(warn("warning_nested_lock", `WARNING: nested lock was not taken`, "WARNING: nested lock was not taken in {frame}"), lockdep),
			{Name: "warning_lock_held_return", Title: re(`WARNING: lock held when returning to user space`),
				Report: re(`WARNING: lock held when returning to user space(?:.*\n)+?.*leaving the kernel with locks still held(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}`),
				Fmt:    "WARNING: lock held when returning to user space in {1}", FrameArg: 1,
				NoStackTrace: true, Kind: lockdep},
			{Name: "warning_bad_unlock_balance", Title: re(`WARNING: bad unlock balance detected!`), Fmt: "WARNING: bad unlock balance in {frame}", Kind: lockdep,
				Stack: &Stack{Parts: []Part{Line(re(`{{PC}} +{{FUNC}}`)), Line(callTrace), ParseStack}}},
			{Name: "warning_held_lock_freed", Title: re(`WARNING: held lock freed!`), Fmt: "WARNING: held lock freed in {frame}", Kind: lockdep,
				Stack: &Stack{Parts: []Part{Line(re(`at: (?:{{PC}} +)?{{FUNC}}`))}}},
			{Name: "warning_suspicious_rcu", Title: re(`WARNING: suspicious RCU usage`),
				Report: re(`WARNING: suspicious RCU usage(?:.*\n)+?.*?{{SRC}}`),
				Fmt:    "WARNING: suspicious RCU usage in {frame}", Kind: lockdep,
				Stack: &Stack{Parts: traceOnly, Skip: []string{`rcu`, `kmem`, `slab`}}},
			{Name: "warning_stack_regs_bp", Title: re(`WARNING: kernel stack regs at [0-9a-f]+ in \S+ has bad 'bp' value`),
				Fmt: "WARNING: kernel stack regs has bad 'bp' value", NoStackTrace: true, Kind: warning},
			{Name: "warning_stack_frame", Title: re(`WARNING: kernel stack frame pointer at [0-9a-f]+ in \S+ has bad value`),
				Fmt: "WARNING: kernel stack frame pointer has bad value", NoStackTrace: true, Kind: warning},
			// Other forms (hashed pointers print "(ptrval)") are one bucket.
			{Name: "warning_stack_regs", Title: re(`WARNING: kernel stack (?:regs|frame pointer) at .* has bad .*value`),
				Fmt: "WARNING: kernel stack regs has bad value", NoStackTrace: true, Kind: warning},
			// The generic WARNINGs, old and 2025 forms: the function comes
			// from the IP line or the stack, never from the header.
			warn("warning", `WARNING: (?:.* )?at (?:{{SRC}}|[a-zA-Z0-9_.]+\+0x)`, "WARNING in {frame}"),
			warn("warning_2025", `WARNING: {{SRC}} at`, "WARNING in {frame}"),
			{Name: "warning_corrupted", Title: re(`WARNING:[[:space:]]*(?:\n|$)`), Fmt: "WARNING: corrupted", Corrupted: true, Kind: warning},
		},
	},
	{
		Name: "info", Keyword: "INFO:", Kind: Kind{Type: "info", Severity: 4, End: EndTrace},
		Suppress: []*regexp.Regexp{
			re(`INFO: lockdep is turned off`),
			re(`INFO: Stall ended before state dump start`),
			re(`INFO: NMI handler .* took too long to run`),
			re(`_INFO:`),
			re(`INFO: recovery required on readonly filesystem`),
			re(`(?:handler|interrupt).*took too long`),
			re(`rmt_storage:INFO:`),
		},
		Formats: []*Format{
			{Name: "lockdep_old_circular", Title: re(`INFO: possible circular locking dependency detected`),
				Report: re(`INFO: possible circular locking dependency detected(?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: {{PC}} +{{FUNC}}`),
				Fmt:    "possible deadlock in {1}", FrameArg: 1, Kind: lockdep},
			{Name: "lockdep_old_irq_inversion", Title: re(`INFO: possible irq lock inversion dependency detected`),
				Report: re(`INFO: possible irq lock inversion dependency detected(?:.*\n)+?.*just changed the state of lock(?:.*\n)+?.*at: {{PC}} +{{FUNC}}`),
				Fmt:    "possible deadlock in {1}", FrameArg: 1, Kind: lockdep},
			{Name: "lockdep_old_safe_unsafe", Title: re(`INFO: (?:SOFTIRQ|HARDIRQ)-safe -> (?:SOFTIRQ|HARDIRQ)-unsafe lock order detected`),
				Report: re(`INFO: (?:SOFTIRQ|HARDIRQ)-safe -> (?:SOFTIRQ|HARDIRQ)-unsafe lock order detected(?:.*\n)+?.*is trying to acquire(?:.*\n)+?.*at: {{PC}} +{{FUNC}}`),
				Fmt:    "possible deadlock in {1}", FrameArg: 1, Kind: lockdep},
			{Name: "lockdep_old_recursive", Title: re(`INFO: possible recursive locking detected`),
				Report: re(`INFO: possible recursive locking detected(?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: {{PC}} +{{FUNC}}`),
				Fmt:    "possible deadlock in {1}", FrameArg: 1, Kind: lockdep},
			{Name: "lockdep_old_inconsistent", Title: re(`INFO: inconsistent lock state`),
				Report: re(`INFO: inconsistent lock state(?:.*\n)+?.*takes(?:.*\n)+?.*at: {{PC}} +{{FUNC}}`),
				Fmt:    "inconsistent lock state in {1}", FrameArg: 1, Kind: lockdep},
			{Name: "rcu_stall", Title: re(`INFO: rcu_(?:preempt|sched|bh|tasks) (?:self-)?detected(?: expedited)? stall`),
				Fmt: "INFO: rcu detected stall in {frame}", Alt: []string{"stall in {frame}"}, Kind: rcuStall,
				Stack: &Stack{
					Parts:     []Part{Line(re(`apic_timer_interrupt`)), Line(ipLine), ParseStack},
					Parts2:    []Part{Line(re(`apic_timer_interrupt|Exception stack|el1h_64_irq`)), ParseStack},
					Skip:      []string{`apic_timer_interrupt`, `rcu`},
					Extractor: StallFrame,
				}},
			{Name: "non_static_key", Title: re(`INFO: trying to register non-static key`), Fmt: "INFO: trying to register non-static key in {frame}", Kind: lockdep,
				Stack: &Stack{Parts: traceOnly, Skip: []string{`stack`, `lock`, `IRQ`}}},
			{Name: "info_suspicious_rcu", Title: re(`INFO: suspicious RCU usage`),
				Report: re(`INFO: suspicious RCU usage(?:.*\n)+?.*?{{SRC}}`),
				Fmt:    "INFO: suspicious RCU usage in {frame}", Kind: lockdep,
				Stack: &Stack{Parts: traceOnly, Skip: []string{`rcu`, `kmem`, `slab`}}},
			{Name: "hung_task", Title: re(`INFO: task {{TASK}} blocked (?:in I/O wait )?for more than [0-9]+ seconds`),
				Fmt: "INFO: task hung in {frame}", Alt: []string{"hang in {frame}"}, Kind: hung,
				Stack: &Stack{Parts: traceOnly, Extractor: HangFrame}},
			{Name: "task_cant_die", Title: re(`INFO: task {{TASK}} can't die for more than [0-9]+ seconds`),
				Fmt: "INFO: task can't die in {frame}", Kind: hung,
				Stack: &Stack{Parts: traceOnly, Skip: []string{`schedule`}}},
			{Name: "slub_debug", Title: re(`INFO: (Freed|Allocated) in (.*)`), Fmt: "INFO: {1} in {2}", Corrupted: true,
				Kind: Kind{Type: "slub_debug", Severity: 5, End: EndTrace}},
			{Name: "info_corrupted", Title: re(`INFO:[[:space:]]*(?:\n|$)`), Fmt: "INFO: corrupted", Corrupted: true, Kind: Kind{Type: "info", Severity: 4, End: EndTrace}},
		},
	},
	{
		Name: "unable_to_handle", Keyword: "Unable to handle kernel", Kind: paging,
		Formats: []*Format{
			{Name: "arm_paging_request", Title: re(`Unable to handle kernel (paging request)`), Fmt: "BUG: unable to handle kernel {1} in {frame}",
				Alt: []string{"bad-access in {frame}"}, Kind: paging, Stack: &Stack{Parts: ipThenTrace}},
			{Name: "arm_null_pointer", Title: re(`Unable to handle kernel (NULL pointer dereference)`), Fmt: "BUG: unable to handle kernel {1} in {frame}",
				Alt: []string{"bad-access in {frame}"}, Kind: nullDeref, Stack: &Stack{Parts: ipThenTrace}},
			{Name: "arm_user_access", Title: re(`Unable to handle kernel (access to user memory)`), Fmt: "BUG: unable to handle kernel {1} in {frame}",
				Alt: []string{"bad-access in {frame}"}, Kind: paging, Stack: &Stack{Parts: ipThenTrace}},
		},
	},
	{
		Name: "general_protection_fault", Keyword: "general protection fault", Kind: gpf,
		Suppress: []*regexp.Regexp{re(`general protection fault .* error:[0-9]+ in `)},
		Formats: []*Format{
			{Name: "general_protection_fault", Title: re(`general protection fault`), Fmt: "general protection fault in {frame}",
				Alt: []string{"bad-access in {frame}"}, Kind: gpf, Stack: &Stack{Parts: ipThenTrace}},
		},
	},
	{
		Name: "stack_segment", Keyword: "stack segment: ", Kind: Kind{Type: "stack_segment_fault", Severity: 7, End: EndTrace, EndTrace: true},
		Formats: []*Format{
			{Name: "stack_segment", Title: re(`stack segment: `), Fmt: "stack segment fault in {frame}",
				Kind: Kind{Type: "stack_segment_fault", Severity: 7, End: EndTrace, EndTrace: true}, Stack: &Stack{Parts: ipThenTrace}},
		},
	},
	{
		Name: "kernel_panic", Keyword: "Kernel panic", Continues: true, Trailer: true, Kind: panicKind,
		Suppress: []*regexp.Regexp{re(`---\[ end Kernel panic`)},
		Formats: []*Format{
			{Name: "stack_protector", Title: re(`Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: {{FUNC}}`),
				Fmt: "kernel panic: stack is corrupted in {1}", FrameArg: 1,
				NoStackTrace: true, Kind: Kind{Type: "stack_protector", Severity: 9, End: EndTrace}},
			{Name: "stack_protector_address", Title: re(`Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: (?:0x)?[0-9a-f]+`),
				Fmt: "kernel panic: stack is corrupted in {frame}", Kind: Kind{Type: "stack_protector", Severity: 9, End: EndTrace},
				Stack: &Stack{Parts: traceOnly, Skip: []string{`stack_chk`}}},
			{Name: "corrupted_stack_end", Title: re(`Kernel panic - not syncing: corrupted stack end`), Fmt: "kernel panic: corrupted stack end in {frame}",
				Kind:  Kind{Type: "stack_overflow", Severity: 9, End: EndTrace},
				Stack: &Stack{Parts: traceOnly, Skip: []string{`schedule`, `retint_kernel`}, Extractor: StallFrame}},
			{Name: "kernel_stack_overflow", Title: re(`Kernel panic - not syncing: kernel stack overflow`), Fmt: "kernel stack overflow in {frame}",
				Kind:  Kind{Type: "stack_overflow", Severity: 9, End: EndTrace},
				Stack: &Stack{Parts: traceOnly, Skip: []string{`bad_stack`}, Extractor: StallFrame}},
			{Name: "panic_kill_init", Title: re(`Kernel panic - not syncing: Attempted to kill init!`), Fmt: "kernel panic: Attempted to kill init!",
				Kind: panicKind},
			{Name: "panic_n_tty", Title: re(`Kernel panic - not syncing: Couldn't open N_TTY ldisc for [^ ]+ --- error -[0-9]+\.`),
				Fmt: "kernel panic: Couldn't open N_TTY ldisc", Kind: panicKind},
			{Name: "panic_fatal", Title: re(`Kernel panic - not syncing: (Fatal exception|panic_on_warn set|hung_task: blocked tasks)`),
				Fmt: "kernel panic: {1}", Corrupted: true, NoStackTrace: true, Kind: panicKind},
			{Name: "panic", Title: re(`Kernel panic - not syncing: (.*)`), Fmt: "kernel panic: {1}", Kind: panicKind},
		},
	},
	{
		Name: "double_fault", Keyword: "PANIC: double fault", Continues: true, Kind: Kind{Type: "double_fault", Severity: 8, End: EndTrace},
		Formats: []*Format{
			{Name: "double_fault", Title: re(`PANIC: double fault`), Fmt: "PANIC: double fault in {frame}",
				Kind: Kind{Type: "double_fault", Severity: 8, End: EndTrace}, Stack: &Stack{Parts: ipOnly}},
		},
	},
	{
		Name: "kernel_bug", Keyword: "kernel BUG", Kind: kernelBug,
		Formats: []*Format{
			{Name: "kernel_bug_usercopy", Title: re(`kernel BUG at mm/usercopy\.c`), Fmt: "BUG: bad usercopy in {frame}", Kind: kernelBug,
				Stack: &Stack{Parts: traceOnly, Skip: []string{`usercopy`, `__check`}}},
			{Name: "list_corruption", Title: re(`kernel BUG at lib/list_debug\.c`), Fmt: "BUG: corrupted list in {frame}", Alt: []string{"bad-access in {frame}"},
				Kind: Kind{Type: "list_corruption", Severity: 7, End: EndTrace, EndTrace: true}, Stack: &Stack{Parts: traceOnly}},
			{Name: "kernel_bug", Title: re(`kernel BUG`), Fmt: "kernel BUG in {frame}", Kind: kernelBug,
				Stack: &Stack{Parts: ipThenTrace, Skip: []string{`^skb_`}}},
		},
	},
	{
		Name: "kernel_bug_upper", Keyword: "Kernel BUG", Kind: kernelBug,
		Formats: []*Format{
			{Name: "kernel_bug_upper", Title: re(`Kernel BUG (.*)`), Fmt: "kernel BUG {1}", Kind: kernelBug},
		},
	},
	{
		Name: "slub_object_free", Keyword: "BUG kmalloc-", Kind: bug,
		// SLUB debug reports go on with "INFO:" lines of their own.
		Absorbs: re(`INFO: (?:Allocated in|Freed in|Slab 0x|Object 0x|0x[0-9a-f]+-0x[0-9a-f]+)`),
		Formats: []*Format{
			{Name: "slub_object_free", Title: re(`BUG kmalloc-.*: Object already free`), Fmt: "BUG: Object already free",
				Kind: Kind{Type: "slub_debug", Severity: 6, End: EndTrace}},
		},
	},
	{
		Name: "divide_error", Keyword: "divide error:", Kind: Kind{Type: "divide_error", Severity: 7, End: EndTrace, EndTrace: true},
		Formats: []*Format{
			{Name: "divide_error", Title: re(`divide error:`), Fmt: "divide error in {frame}",
				Kind: Kind{Type: "divide_error", Severity: 7, End: EndTrace, EndTrace: true}, Stack: &Stack{Parts: ipOnly}},
		},
	},
	{
		Name: "divide_error_old", Keyword: "divide_error:", Kind: Kind{Type: "divide_error", Severity: 7, End: EndTrace, EndTrace: true},
		Formats: []*Format{
			{Name: "divide_error_old", Title: re(`divide_error:`), Fmt: "divide error in {frame}",
				Kind: Kind{Type: "divide_error", Severity: 7, End: EndTrace, EndTrace: true}, Stack: &Stack{Parts: ipOnly}},
		},
	},
	{
		Name: "invalid_opcode", Keyword: "invalid opcode:", Continues: true, Kind: Kind{Type: "invalid_opcode", Severity: 7, End: EndTrace, EndTrace: true},
		Formats: []*Format{
			{Name: "invalid_opcode", Title: re(`invalid opcode:`), Fmt: "invalid opcode in {frame}",
				Kind: Kind{Type: "invalid_opcode", Severity: 7, End: EndTrace, EndTrace: true}, Stack: &Stack{Parts: ipOnly}},
		},
	},
	{
		Name: "int3", Keyword: "int3:", Kind: Kind{Type: "int3", Severity: 7, End: EndTrace, EndTrace: true},
		Formats: []*Format{
			{Name: "int3", Title: re(`int3:`), Fmt: "int3 in {frame}", Kind: Kind{Type: "int3", Severity: 7, End: EndTrace, EndTrace: true},
				Stack: &Stack{Parts: ipThenTrace}},
		},
	},
	{
		Name: "ubsan", Keyword: "UBSAN:", Kind: ubsan,
		Formats: []*Format{
			{Name: "ubsan_old", Title: re(`UBSAN: Undefined behaviour in`), Fmt: "UBSAN: undefined-behaviour in {frame}", Kind: ubsan,
				Stack: &Stack{Parts: traceOnly, Skip: []string{`ubsan`, `overflow`}}},
			{Name: "ubsan_array_index", Title: re(`UBSAN: array-index-out-of-bounds in`), Fmt: "UBSAN: array-index-out-of-bounds in {frame}",
				Alt: []string{"bad-access in {frame}"}, Kind: ubsan, Stack: &Stack{Parts: traceOnly, Skip: []string{`ubsan`, `overflow`}}},
			{Name: "ubsan", Title: re(`UBSAN: (.*?) in`), Fmt: "UBSAN: {1} in {frame}", Kind: ubsan,
				Stack: &Stack{Parts: traceOnly, Skip: []string{`ubsan`, `overflow`}}},
		},
	},
	{
		Name: "netdev_refcount", Keyword: "unregister_netdevice: waiting for", Continues: true,
		Kind: Kind{Type: "netdev_refcount", Severity: 5, End: EndLine},
		Formats: []*Format{
			{Name: "netdev_refcount", Title: re(`unregister_netdevice: waiting for (?:.*) to become free`),
				Fmt: "unregister_netdevice: waiting for DEV to become free", NoStackTrace: true,
				Kind: Kind{Type: "netdev_refcount", Severity: 5, End: EndLine}},
		},
	},
	{
		Name: "vfs_file_count", Keyword: "VFS: Close: file count is 0", Kind: Kind{Type: "use_after_free", Severity: 6, End: EndLine},
		Formats: []*Format{
			{Name: "vfs_file_count", Title: re(`VFS: Close: file count is 0`), Fmt: "VFS: Close: file count is zero (use-after-free)",
				NoStackTrace: true, Kind: Kind{Type: "use_after_free", Severity: 6, End: EndLine}},
		},
	},
	{
		Name: "vfs_busy_inodes", Keyword: "VFS: Busy inodes after unmount", Kind: Kind{Type: "use_after_free", Severity: 6, End: EndLine},
		Formats: []*Format{
			{Name: "vfs_busy_inodes", Title: re(`VFS: Busy inodes after unmount`), Fmt: "VFS: Busy inodes after unmount (use-after-free)",
				NoStackTrace: true, Kind: Kind{Type: "use_after_free", Severity: 6, End: EndLine}},
		},
	},
	{
		Name: "internal_error", Keyword: "Internal error:", Continues: true, Kind: internal,
		Formats: []*Format{
			{Name: "internal_error", Title: re(`Internal error:`), Fmt: "Internal error in {frame}", Alt: []string{"bad-access in {frame}"},
				Kind: internal, Stack: &Stack{Parts: ipThenTrace}},
		},
	},
	{
		Name: "unhandled_fault", Keyword: "Unhandled fault:", Kind: paging,
		Formats: []*Format{
			{Name: "unhandled_fault", Title: re(`Unhandled fault:`), Fmt: "Unhandled fault in {frame}", Alt: []string{"bad-access in {frame}"},
				Kind: paging, Stack: &Stack{Parts: ipThenTrace}},
		},
	},
	{
		Name: "alignment_trap", Keyword: "Alignment trap:", Kind: paging,
		Formats: []*Format{
			{Name: "alignment_trap", Title: re(`Alignment trap:`), Fmt: "Alignment trap in {frame}", Kind: paging,
				Stack: &Stack{Parts: ipThenTrace}},
		},
	},

	// Kinds syzkaller does not report, in the same shape.
	{
		Name: "hard_lockup", Extra: true, Keyword: "Watchdog detected hard LOCKUP", Kind: Kind{Type: "hard_lockup", Severity: 7, End: EndTrace},
		Formats: []*Format{
			{Name: "hard_lockup", Title: re(`Watchdog detected hard LOCKUP`), Fmt: "NMI watchdog: hard LOCKUP in {frame}",
				Kind:  Kind{Type: "hard_lockup", Severity: 7, End: EndTrace},
				Stack: &Stack{Parts: ipThenTrace, Extractor: StallFrame}},
		},
	},
	{
		Name: "oom_kill", Extra: true, Keyword: "invoked oom-killer:", Kind: Kind{Type: "oom_kill", Severity: 3, End: EndKilled},
		Formats: []*Format{
			{Name: "oom_kill", Title: re(`invoked oom-killer:`), Report: re(`invoked oom-killer:(?:.*\n)+?.*Killed process [0-9]+ \(([^)]+)\)`),
				Fmt: "Out of memory: killed process {1}", NoStackTrace: true, Kind: Kind{Type: "oom_kill", Severity: 3, End: EndKilled}},
		},
	},
	{
		Name: "machine_check", Extra: true, Keyword: "Machine Check Exception", Kind: hardware,
		Formats: []*Format{
			{Name: "machine_check", Title: re(`Machine Check Exception`), Fmt: "hardware error: machine check exception", NoStackTrace: true, Kind: hardware},
		},
	},
	{
		Name: "hardware_error", Extra: true, Keyword: "[Hardware Error]:", Kind: hardware,
		Formats: []*Format{
			{Name: "hardware_error_logged", Title: re(`\[Hardware Error\]: Machine check events logged`), Fmt: "hardware error: machine check events logged",
				NoStackTrace: true, Kind: Kind{Type: "hardware_error", Severity: 4, End: EndBlock}},
			{Name: "hardware_error", Title: re(`\[Hardware Error\]: (?:CPU [0-9]+: )?(.*)`), Fmt: "hardware error: {1}", NoStackTrace: true, Kind: hardware},
		},
	},
	{
		Name: "page_allocation_failure", Extra: true, Keyword: "page allocation failure:", Kind: allocFail,
		Formats: []*Format{
			{Name: "page_allocation_failure", Title: re(`page allocation failure: order:([0-9]+)`), Fmt: "page allocation failure: order:{1} in {frame}",
				Kind: allocFail, Stack: &Stack{Parts: traceOnly}},
		},
	},
	{
		Name: "vmalloc_failure", Extra: true, Keyword: "vmalloc: allocation failure", Kind: allocFail,
		Formats: []*Format{
			{Name: "vmalloc_failure", Title: re(`vmalloc: allocation failure`), Fmt: "vmalloc: allocation failure in {frame}",
				Kind: allocFail, Stack: &Stack{Parts: traceOnly}},
		},
	},
	{
		Name: "oops", Extra: true, Keyword: "Oops: ", Continues: true, Kind: Kind{Type: "oops", Severity: 7, End: EndTrace, EndTrace: true},
		Formats: []*Format{
			{Name: "oops", Title: re(`Oops: `), Fmt: "Oops in {frame}", Kind: Kind{Type: "oops", Severity: 7, End: EndTrace, EndTrace: true},
				Stack: &Stack{Parts: ipThenTrace}},
		},
	},
}

func warnKind(f *Format, k Kind) *Format {
	f.Kind = k
	return f
}

func init() {
	for _, g := range groups {
		for i, s := range g.Suppress { // benign messages in any case ("WARNING: ... USES WIRELESS EXTENSIONS")
			g.Suppress[i] = regexp.MustCompile("(?i)" + s.String())
		}
		for _, f := range g.Formats {
			if f.Stack != nil {
				f.Stack.compile()
			}
		}
	}
	index = newIndex(groups)
}
