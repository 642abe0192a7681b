package format

import (
	"regexp"
	"strings"
)

// Regular expression macros of the table (syzkaller's).
var macros = strings.NewReplacer(
	"{{ADDR}}", `0x[0-9a-f]+`,
	"{{PC}}", `\[\<?(?:0x)?[0-9a-f]+\>?\]`,
	"{{FUNC}}", `([a-zA-Z0-9_]+)(?:\.|\+)`,
	"{{SRC}}", `([a-zA-Z0-9-_/.]+\.[a-z]+:[0-9]+)`,
	"{{TASK}}", `[\s\S]{0,100}?`,
)

// re compiles a table expression with its macros expanded.
func re(expr string) *regexp.Regexp { return regexp.MustCompile(macros.Replace(expr)) }

// Lines recipes look for.
var (
	// ipLine is the line naming the faulting instruction: x86 "RIP:
	// 0010:f+0x..", old "IP: [<addr>] f", i386 "EIP: [<addr>] f", arm64 and
	// riscv "pc : f", arm "PC is at f", powerpc "NIP [addr] f". The other
	// alternatives (a user-space address, a null PC) match without naming a
	// function: the step is taken and yields no frame.
	ipLine = re(`(?:IP|NIP|pc |PC is at):? (?:(?:[0-9]+:)?(?:{{PC}} +){0,2}{{FUNC}}|(?:[0-9]+:)?0x[0-9a-f]+|(?:[0-9]+:)?{{PC}} +\[< *\(null\)>\] +\(null\)|[0-9]+: +\(null\))`)
	// warnIPLine adds powerpc's "--- interrupt: N at f" for WARNINGs.
	warnIPLine = re(`(?:(?:IP|NIP|pc |PC is at):? (?:(?:[0-9]+:)?(?:{{PC}} +){0,2}{{FUNC}}|(?:[0-9]+:)?0x[0-9a-f]+|(?:[0-9]+:)?{{PC}} +\[< *\(null\)>\] +\(null\)|[0-9]+: +\(null\))|--- interrupt: [0-9a-f]+ at {{FUNC}})`)
	callTrace  = re(`Call (?:T|t)race:|Backtrace:`)
	// stackStart lines begin a new stack, which ends the one being parsed.
	stackStart = []*regexp.Regexp{
		re(`Call (?:T|t)race`),
		re(`Allocated:`),
		re(`Allocated by task [0-9]+:`),
		re(`Freed:`),
		re(`Freed by task [0-9]+:`),
		re(`(?:^|[^k]) backtrace(?: \(crc [0-9a-f]+\))?:`),
		re(`^ *Backtrace:`),
		re(`Uninit was stored to memory at`),
		re(`^ *status: [0-9a-f]+ badaddr: [0-9a-f]+ cause: [0-9a-f]+`),
	}
	// stackHints: a line starts a stack only if it holds one of these
	// (a cheap test before the expressions above).
	stackHints = []string{"Call T", "Call t", "Allocated", "Freed", "acktrace", "Uninit was stored", "badaddr:"}
)

// frameName returns the frame a line names (syzkaller's frame pattern): up
// to two bracketed addresses, then a name made of letters, digits and '_'
// followed at once by '+' or '.' ("? f+0x.." and "f file.c:12 [inline]" are
// not frames).
func frameName(ln string) (string, bool) {
	i := 0
	for i < len(ln) && ln[i] == ' ' {
		i++
	}
	for n := 0; n < 2 && i < len(ln) && ln[i] == '['; n++ {
		end := pcEnd(ln, i)
		if end < 0 || end >= len(ln) || ln[end] != ' ' {
			break
		}
		i = end + 1
	}
	j := i
	for j < len(ln) && isNameByte(ln[j]) {
		j++
	}
	if j == i || j == len(ln) || (ln[j] != '+' && ln[j] != '.') {
		return "", false
	}
	return ln[i:j], true
}

// pcEnd returns the index after a bracketed address "[<ffff..>]",
// "[ffff..]" or "[<0x..>]" starting at ln[i], -1 when there is none.
func pcEnd(ln string, i int) int {
	i++ // '['
	if i < len(ln) && ln[i] == '<' {
		i++
	}
	if strings.HasPrefix(ln[i:], "0x") {
		i += 2
	}
	start := i
	for i < len(ln) && (ln[i] >= '0' && ln[i] <= '9' || ln[i] >= 'a' && ln[i] <= 'f') {
		i++
	}
	if i == start {
		return -1
	}
	if i < len(ln) && ln[i] == '>' {
		i++
	}
	if i >= len(ln) || ln[i] != ']' {
		return -1
	}
	return i + 1
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// armFrames returns both names of arm's newer "[<pc>] (f) from [<lr>]
// (g+0x../0x..)": f as printed, g cut at its first '.' (syzkaller's
// pattern; the older "(f+0x0/0x10) from" shape yields nothing).
func armFrames(ln string) (f, g string, ok bool) {
	k := strings.Index(ln, ") from [")
	if k < 0 {
		return "", "", false
	}
	i := 0
	for i < len(ln) && ln[i] == ' ' {
		i++
	}
	if i >= len(ln) || ln[i] != '[' {
		return "", "", false
	}
	i = pcEnd(ln, i)
	if i < 0 {
		return "", "", false
	}
	for i < len(ln) && ln[i] == ' ' {
		i++
	}
	if i >= len(ln) || ln[i] != '(' {
		return "", "", false
	}
	f = ln[i+1 : max(i+1, k)]
	for j := 0; j < len(f); j++ {
		if !isNameByte(f[j]) && f[j] != '.' {
			return "", "", false
		}
	}
	if f == "" {
		return "", "", false
	}
	rest := ln[k+len(") from "):]
	e := pcEnd(rest, 0)
	if e < 0 {
		return "", "", false
	}
	rest = strings.TrimLeft(rest[e:], " ")
	if !strings.HasPrefix(rest, "(") {
		return "", "", false
	}
	g, ok = frameName(rest[1:])
	if !ok || strings.HasPrefix(rest[1:], " ") {
		return "", "", false
	}
	return f, g, true
}

// faultInjected reports a should_fail frame: the report was provoked on
// purpose.
func faultInjected(ln string) bool {
	name, ok := frameName(ln)
	return ok && (name == "should_fail" || name == "should_failslab")
}

// genericSkip are the frames never blamed, matched anywhere in a name
// (section 6 of the policy): library-style helpers, not subsystems.
var genericSkip = []string{
	// Sanitizer and detector internals.
	`__sanitizer`, `__asan`, `kasan`, `hwasan`, `__msan`, `kmsan`, `kcsan_setup_watchpoint`,
	`check_memory_region`, `check_heap_object`, `check_object`, `read_word_at_a_time`,
	`(?:read|write)_once_.*nocheck`, `print_address_description`, `print_report`, `print_usage_bug`,
	`print_unlock`, `imbalance_bug`, `print_tainted`, `^get_taint$`, `__fortify_report`,
	// Trap, panic, warning and dump machinery.
	`panic`, `invalid_op`, `report_bug`, `fixup_bug`, `do_error`, `_trap$`, `do_trap`, `show_stack`,
	`dump_stack`, `walk_stack`, `dump_backtrace`, `warn_slowpath`, `warn_alloc`, `warn_bogus`, `__warn`,
	`stack_trace_consume_entry`, `arch_stack_walk`, `stack_trace_save`, `program_check_`,
	`do_kernel_fault`, `do_translation_fault`, `do_mem_abort`, `el1_abort`, `el1h_64_sync`, `__phys_addr`,
	// Allocators and page cache.
	`alloc_page`, `k?v?(?:m|z|c)alloc`, `krealloc`, `kmem_cache`, `allocate_slab`, `slab_`,
	`__alloc_frozen_pages_noprof`, `folio_(?:alloc|unlock)`, `filemap_alloc_folio`, `__filemap_get_folio`,
	`find_or_create_page`, `do_read_cache_folio`, `read_cache_page`, `pagecache_get_page`,
	`grab_cache_page_write_begin`, `^kfree$`, `^kvfree$`, `kfree_skb`, `memdup`, `strdup`, `strndup`,
	`kasprintf`, `kvasprintf`,
	// Locking and synchronisation.
	`lockdep`, `lock_acquire`, `lock_release`, `lock_class`, `mark_lock`, `(?:mark|reacquire)_held_locks`,
	`raw_spin_rq`, `spin_lock`, `spin_trylock`, `spin_unlock`, `read_lock`, `read_trylock`, `write_lock`,
	`write_trylock`, `read_unlock`, `write_unlock`, `^down$`, `down_read`, `down_write`, `down_trylock`,
	`up_read`, `up_write`, `^mutex_`, `^__mutex_`, `^rt_mutex_`, `owner_on_cpu`, `osq_lock`, `osq_unlock`,
	`bh_enable`, `bh_disable`, `(?:trace|lockdep)_(?:hard|soft)irqs_(?:on|off)`, `^complete$`,
	`wait_for_completion`, `__wake_up`, `finish_wait`, `^lock_page`, `^unlock_page`, `lock_timer_base`,
	// Atomics, bits, refcounts, lists, trees.
	`atomic(?:64)?_(?:dec|inc|read|set|or|xor|and|add|sub|fetch|xchg|cmpxchg|try)`,
	`(?:set|clear|change|test)_bit`, `^refcount_`, `^kref_`, `ref_tracker`, `seqprop_assert`,
	`list_add`, `list_del`, `list_replace`, `list_move`, `list_splice`, `^rb_`, `^__rb_`, `^klist_`,
	`xas_start`, `xas_load`, `xas_find`, `rhashtable_lookup`, `ida_free`,
	// Memory and string helpers, user copies, formatting.
	`memcpy`, `memcmp`, `memset`, `memchr`, `memmove`, `strcmp`, `strncmp`, `strcpy`, `strlcpy`,
	`strncpy`, `strscpy`, `strlen`, `strnlen`, `strstr`, `strnstr`, `strchr`, `copy_to_user`,
	`copy_from_user`, `copy_to_iter`, `copy_from_iter`, `copy_page_to_iter`, `copy_page_from_iter`,
	`copy_folio_to_iter`, `^copyin$`, `^copyout$`, `put_user`, `get_user`, `might_fault`, `might_sleep`,
	`__might_resched`, `extract_user_to_sg`, `extract_iter_to_sg`, `string`, `pointer`, `snprintf`,
	`scnprintf`, `printk`, `va_format`, `hex_dump_to_buffer`, `print_hex_dump`,
	`dev_(?:info|notice|warn|err|alert|crit|emerg)`, `^crc[0-9]+`, `crc_itu_t`, `_indirect_thunk_`,
	`(?:read|write)[bwlq]$`, `logic_in`, `logic_out`, `assertfail`,
	// Timers, workqueues, teardown plumbing.
	`del_timer`, `__timer_delete_sync`, `sk_stop_timer_sync`, `__mod_timer`, `timer_is_static_object`,
	`work_is_static_object`, `debug_object`, `flush_work`, `__cancel_work_timer`, `cancel_work_sync`,
	`try_to_grab_pending`, `flush_workqueue`, `drain_workqueue`, `destroy_workqueue`, `queue_work`,
	`insert_work`, `__queue_delayed_work`, `queue_delayed_work_on`, `cleanup_srcu_struct`, `kthread_stop`,
	`perf_trace`,
	// Device/driver-model and VFS teardown helpers.
	`kobject_`, `add_uevent_var`, `get_device_parent`, `device_add`, `device_del`, `device_unregister`,
	`device_destroy`, `device_release`, `devres_release_all`, `device_for_each_child`, `^put_device$`,
	`sysfs_remove`, `device_remove_file`, `hwrng_unregister`, `i2c_del_adapter`, `__unregister_client`,
	`tty_unregister_device`, `rollback_registered`, `unregister_netdev`, `^iput$`, `^iput_final$`,
	`^ihold$`, `dput`, `fast_dput`, `drop_nlink`, `mark_buffer_dirty`, `find_lock_entries`,
	`truncate_inode_pages_range`,
	// USB plumbing.
	`dummy_urb_enqueue`, `usb_kill_urb`, `usb_kill_anchored_urbs`, `usb_control_msg`, `usb_hcd_submit_urb`,
	`usb_submit_urb`,
}

var genericSkipSet = newNameSet(genericSkip)

// Helper reports a function the generic skip list never blames (allocators,
// locking primitives, string helpers, sanitizer internals...).
func Helper(name string) bool { return genericSkipSet.match(name) }

// compile prepares a recipe's extra skips.
func (s *Stack) compile() {
	if len(s.Skip) > 0 {
		s.skip = newNameSet(s.Skip)
	}
}

// Skipped reports whether the recipe never blames frame name: the generic
// skip list or the recipe's own skips match it.
func (s *Stack) Skipped(name string) bool {
	return genericSkipSet.match(name) || s.skip != nil && s.skip.match(name)
}

// syscallPrefixes are the wrappers around a system call's own function.
var syscallPrefixes = []string{
	"SYSC_", "SyS_", "sys_", "__x64_", "__ia32_", "__arm64_", "____sys_", "___sys_", "__sys_",
	"__se_", "__se_sys_", "__do_sys_", "compat_SYSC_", "compat_SyS_", "ksys_",
}

// CleanName removes one system call wrapper prefix from a frame name, the
// one whose removal leaves the shortest name: __se_sys_foo and __do_sys_foo
// become foo, __x64_sys_foo becomes sys_foo.
func CleanName(name string) string {
	best := name
	for _, p := range syscallPrefixes {
		if rest, ok := strings.CutPrefix(name, p); ok && rest != "" && len(rest) < len(best) {
			best = rest
		}
	}
	return best
}

// Stall anchors (section 8): dispatchers below which a stalled CPU loops.
var stallAnchors = newNameSet([]string{
	// Work dispatch and thread start.
	`process_one_work`, `smpboot_thread_fn`, `run_ksoftirqd`, `^kthread$`, `start_secondary`,
	`cpu_startup_entry`, `ret_from_fork`,
	// System call entry.
	`do_syscall_`, `do_fast_syscall_`, `sysenter_dispatch`, `tracesys_phase2`, `el0_svc_handler`,
	`invoke_syscall`, `ret_fast_syscall`,
	// Interrupt-context dispatch.
	`netif_receive_skb`, `do_softirq`, `call_timer_fn`, `_run_timers`, `run_timer_softirq`, `hrtimer_run`,
	`tasklet_action`, `tasklet_hi_action`,
	// File operations.
	`vfs_read`, `vfs_write`, `vfs_iter_read`, `vfs_iter_write`, `do_iter_read`, `do_iter_write`,
	`do_iter_readv_writev`, `call_read_iter`, `call_write_iter`, `new_sync_read`, `new_sync_write`,
	`vfs_ioctl`, `ksys_ioctl`, `compat_ioctl`, `compat_sys_ioctl`, `blkdev_ioctl`, `blkdev_driver_ioctl`,
	`call_mmap`, `mmap_region`, `do_mmap`, `do_dentry_open`, `vfs_open`,
	// Sockets and netlink.
	`^sock_sendmsg`, `^sock_recvmsg`, `^sock_release`, `^__sock_release`, `^sock_mmap`, `^sock_do_ioctl`,
	`^sock_ioctl`, `^compat_sock_ioctl`, `^nfnetlink_rcv_msg`, `^rtnetlink_rcv_msg`, `^netlink_dump`,
	`^setsockopt$`, `^listen$`, `^accept$`, `kernel_setsockopt`, `sock_common_setsockopt`, `kernel_listen`,
	`sk_common_release`, `kernel_accept`, `^(?:sys_)?socketpair`, `^(?:sys_)?connect`, `^(?:sys_)?ioctl`,
	// Page faults.
	`__do_fault`, `do_page_fault`, `^page_fault$`,
	// Return to user space.
	`__fput`, `task_work_run`, `exit_to_usermode`,
	// Cross-CPU calls: named as such.
	`smp_call_function`,
})

// StallFrame implements the stall anchor rule (section 8): the frame just
// before the first dispatcher (the function the dispatcher called), the
// dispatcher itself when it comes first, "smp_call_function" for a stall in
// a cross-CPU call, "" when no anchor is found.
func StallFrame(frames []string) string {
	for i, f := range frames {
		if !stallAnchors.match(f) {
			continue
		}
		switch {
		case strings.Contains(f, "smp_call_function"):
			return "smp_call_function"
		case i == 0:
			return f
		}
		return frames[i-1]
	}
	return ""
}

var hangWait = []string{"sched", "_lock", "_slowlock", "down", "rwsem", "completion", "kthread", "wait",
	"synchronize", "context_switch", "__switch_to", "cancel_delayed_work", "rcu_barrier"}

// HangFrame implements the hung-task rule (section 9): waits in
// synchronize_rcu and friends are one bucket, waits for the RTNL another;
// otherwise the first frame that is not waiting machinery.
func HangFrame(frames []string) string {
	for _, f := range frames {
		switch {
		case strings.Contains(f, "synchronize_rcu"), strings.Contains(f, "synchronize_srcu"),
			strings.Contains(f, "synchronize_net"), strings.Contains(f, "synchronize_sched"):
			return "synchronize_rcu"
		case strings.Contains(f, "rtnl_lock"):
			return f
		}
	}
next:
	for _, f := range frames {
		for _, w := range hangWait {
			if strings.Contains(f, w) {
				continue next
			}
		}
		return f
	}
	return ""
}

// dispatcherPrefixes start the names of system call entry, interrupt and
// exception entry, scheduler and worker functions.
var dispatcherPrefixes = []string{
	"entry_", "ret_from_", "system_call", "do_syscall", "syscall_", "__x64_sys", "__ia32_sys", "__arm64_sys",
	"__se_sys", "__do_sys", "sys_", "SyS_", "SYSC_", "ksys_", "el0_", "el1_", "el0t_", "asm_", "irq_", "__irq_",
	"do_IRQ", "handle_irq", "common_interrupt", "apic_timer_interrupt", "smp_apic_timer_interrupt",
	"sysvec_", "__sysvec_", "exc_", "do_page_fault", "__do_page_fault", "page_fault", "handle_mm_fault",
	"__handle_mm_fault", "do_user_addr_fault", "vfs_", "do_sync_", "new_sync_", "__vfs_", "do_sys_",
	"exit_to_user_mode", "syscall_exit", "do_el0_", "invoke_syscall", "__invoke_syscall", "gic_handle_irq",
	"schedule", "__schedule", "io_schedule", "preempt_schedule", "wait_for_", "__wait_", "wait_on_",
	"__mutex_lock", "mutex_lock", "rwsem_down", "down_read", "down_write", "__down", "rt_mutex",
}

// dispatchers are whole names of dispatchers many unrelated crashes share.
var dispatchers = map[string]bool{
	"kthread": true, "worker_thread": true, "process_one_work": true, "process_scheduled_works": true,
	"schedule": true, "__schedule": true, "schedule_timeout": true, "smpboot_thread_fn": true,
	"__do_softirq": true, "handle_softirqs": true, "do_softirq": true, "run_ksoftirqd": true, "call_timer_fn": true,
	"run_timer_softirq": true, "expire_timers": true, "__run_timers": true, "rcu_core": true, "rcu_do_batch": true,
	"net_rx_action": true, "__napi_poll": true, "napi_poll": true, "do_exit": true, "do_group_exit": true,
	"get_signal": true, "do_signal": true, "cpu_startup_entry": true, "do_idle": true, "start_kernel": true,
	"secondary_startup_64": true, "start_secondary": true, "panic": true, "die": true, "oops_end": true,
	"no_context": true, "__bad_area_nosemaphore": true, "bad_area": true, "show_stack": true, "dump_stack": true,
	"dump_stack_lvl": true, "watchdog_timer_fn": true, "__hrtimer_run_queues": true, "hrtimer_interrupt": true,
	"smp_call_function": true, "smp_call_function_many": true, "smp_call_function_single": true,
}

// Dispatcher reports a frame that says little about which bug crashed:
// system call and interrupt entry, the scheduler, lock and wait
// primitives, workers and timers, the fault handler, the VFS dispatchers.
// Unlike Helper (which the title policy skips), these may be blamed by a
// title, but a title or a signature keyed on one matches many unrelated
// crashes.
func Dispatcher(name string) bool {
	if dispatchers[name] {
		return true
	}
	for _, p := range dispatcherPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
