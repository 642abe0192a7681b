package oops

import (
	"regexp"
	"strings"
)

// skipRe matches functions that are never the culprit: fault entry and
// exception plumbing, sanitizer and debugging internals, allocators,
// locking primitives, string and copy helpers, syscall and interrupt entry,
// scheduler and timer machinery. It follows syzkaller's pkg/report skip list
// in spirit, in fewer words: when the faulting IP is in _raw_spin_lock, the
// bug is in whoever called it.
var skipRe = regexp.MustCompile(`^(?:` + strings.Join([]string{
	// locking
	`_raw_`, `raw_spin`, `do_raw_`, `queued_`, `native_queued`, `(?:__)?spin_`, `spin_`, `(?:__)?mutex_`, `mutex_`,
	`__down`, `down$`, `down_`, `up$`, `up_`, `__up`, `rwsem`, `__rwsem`, `rt_mutex`, `__rt_mutex`, `_?lock_acquire`,
	`__lock_acquire`, `lock_release`, `lock_is_held`, `lockdep`, `__lockdep`, `check_noncircular`, `check_prev_add`,
	`validate_chain`, `print_circular`, `print_usage`, `mark_lock`, `debug_check_no_locks`, `rcu_lock_`, `rcu_read_`,
	// scheduling and waiting
	`(?:__)?schedule`, `preempt_schedule`, `io_schedule`, `schedule_`, `__switch_to`, `context_switch`, `finish_task_switch`,
	`wait_for_completion`, `__wait_for_common`, `wait_for_common`, `do_wait_for_common`, `__might_sleep`,
	`___might_sleep`, `__might_fault`, `might_fault`, `__might_resched`, `__cond_resched`, `_cond_resched`,
	// fault and trap entry
	`die`, `__die`, `oops_`, `no_context`, `__bad_area`, `bad_area`, `__do_page_fault`, `do_page_fault`, `page_fault`,
	`async_page_fault`, `trace_do_page_fault`, `do_async_page_fault`, `do_user_addr_fault`, `do_kern_addr_fault`,
	`kernelmode_fixup_or_oops`, `page_fault_oops`, `exc_`, `asm_exc_`, `do_error_trap`, `do_trap`, `do_invalid_op`,
	`invalid_op`, `handle_bug`, `report_bug`, `fixup_bug`, `do_general_protection`, `general_protection`,
	`el1_`, `el1h_`, `el0_`, `el0t_`, `do_mem_abort`, `__do_kernel_fault`, `do_translation_fault`, `do_bad_area`,
	`die_kernel_fault`, `do_page_fault`, `bug_handler`, `call_break_hook`, `brk_handler`, `do_debug_exception`,
	// printing and warning
	`dump_stack`, `__dump_stack`, `show_stack`, `show_trace`, `show_regs`, `__show_regs`, `panic`, `__warn`,
	`warn_slowpath`, `__warn_printk`, `printk`, `vprintk`, `_printk`, `console_`, `dev_(?:err|warn|info|printk)`,
	`__dev_printk`, `sysrq`,
	// sanitizers
	`kasan`, `__kasan`, `__asan`, `asan_`, `kmsan`, `__msan`, `kcsan`, `__tsan`, `kfence`, `__kfence`, `ubsan`,
	`__ubsan`, `check_memory_region`, `print_address_description`, `print_report`, `memory_is_poisoned`,
	`should_fail`, `kmemleak`,
	// allocation and freeing
	`(?:__)?free_pages`, `__free_page`, `free_unref_page`, `free_pcp`, `(?:__)?kfree$`, `kfree_`, `kvfree`, `kmem_cache_`,
	`__kmem_cache_`, `slab_`, `__slab_`, `___slab`, `(?:__)?kmalloc`, `kmalloc_`, `kzalloc`, `kvmalloc`, `__kvmalloc`,
	`kvzalloc`, `krealloc`, `(?:__)?vmalloc`, `vfree`, `__vfree`, `alloc_pages`, `__alloc_pages`, `__get_free_pages`,
	`get_page_from_freelist`, `prep_new_page`, `put_page`, `__put_page`, `folio_put`, `__folio_put`,
	`kfree_skb`, `__kfree_skb`, `skb_release`, `consume_skb`, `__alloc_skb`, `alloc_skb`,
	// memory and string helpers
	`(?:__)?mem(?:cpy|set|move|cmp|chr|scan)`, `__memcpy`, `__memset`, `fortify_`, `str(?:cpy|ncpy|lcpy|scpy|cmp|ncmp|len|nlen|chr|rchr|cat|ncat|str)$`,
	`copy_(?:to|from)_user`, `_copy_`, `__copy_`, `copyin`, `copyout`, `raw_copy_`, `__put_user`, `__get_user`,
	`__check_object_size`, `check_heap_object`, `usercopy_`,
	// atomics, bits, lists, refcounts
	`atomic_`, `arch_atomic`, `atomic64_`, `refcount_`, `__refcount`, `kref_`, `list_(?:add|del)`, `__list_`,
	`hlist_`, `bit_`, `test_and_`, `set_bit`, `clear_bit`, `_find_`, `find_next_bit`,
	// entry, interrupts, timers, workqueues
	`entry_SYSCALL`, `entry_SYSENTER`, `do_syscall`, `do_fast_syscall`, `syscall_`, `x64_sys_call`, `ret_from_fork`,
	`ret_fast_syscall`, `system_call`, `invoke_syscall`, `do_el0_svc`, `el0_svc`, `kthread$`, `worker_thread`,
	`process_one_work`, `process_scheduled_works`, `apic_timer_interrupt`, `smp_apic_timer_interrupt`, `sysvec_`,
	`asm_sysvec_`, `asm_common_interrupt`, `common_interrupt`, `irq_exit`, `__irq_exit_rcu`, `irq_exit_rcu`,
	`do_softirq`, `__do_softirq`, `handle_softirqs`, `run_ksoftirqd`, `smpboot_thread_fn`, `hrtimer_`,
	`__hrtimer_`, `__run_hrtimer`, `tick_`, `update_process_times`, `watchdog`, `call_timer_fn`, `__run_timers`,
	`run_timer_softirq`, `expire_timers`, `queue_work`, `__queue_work`, `mod_timer`, `del_timer`, `__flush_work`,
	`flush_work`, `rcu_core`, `rcu_do_batch`, `rcu_sched_clock_irq`, `rcu_check_callbacks`, `rcu_pending`,
	`print_cpu_stall`, `check_cpu_stall`, `rcu_dump_cpu_stacks`, `nmi_`, `__nmi`, `default_do_nmi`, `do_nmi`,
	`native_`, `arch_cpu_idle`, `cpu_startup_entry`, `do_idle`, `default_idle`, `cpuidle_`, `secondary_startup`,
	`start_secondary`, `handle_irq`, `handle_edge_irq`, `__handle_irq_event`, `handle_irq_event`,
	`generic_handle_irq`, `gic_handle_irq`, `el1_irq`, `irq_`, `__irq_`, `call_on_stack`, `asm_call_`,
	`trace_hardirqs`, `lockdep_hardirqs`, `dump_backtrace`, `retint_`, `___preempt_schedule`, `preempt_count`,
	`check_preemption_disabled`, `debug_smp_processor_id`, `__this_cpu_preempt_check`, `sched_show_task`,
	`show_regs`, `dump_cpu_task`, `local_apic_timer_interrupt`, `nmi_cpu_backtrace`, `nmi_trigger_cpumask`,
	`arch_trigger_cpumask`, `trigger_`, `rcu_`, `__x86_indirect_thunk`, `__x86_return_thunk`, `__sanitizer`,
	`register_lock_class`, `look_up_lock_class`, `__lock`, `__panic`, `__schedule_bug`, `memcmp`, `__stack_chk_fail`,
	`rcu_dump`, `device_(?:del|unregister|release|add|register|destroy|link_|initialize)`, `put_device`, `get_device`, `kobject_`, `kobj_`, `sysfs_`, `usb_kill_urb`, `kthread_stop`,
	`kthread_`, `finish_wait`, `prepare_to_wait`, `(?:__)?cancel_work`, `(?:__)?cancel_delayed_work`, `skb_panic`,
	`skb_over_panic`, `skb_under_panic`, `skb_put`, `skb_push`, `string$`, `v?sn?printf`, `vscnprintf`, `osq_lock`,
	`add_uevent_var`, `rollback_registered`, `timer_is_static_object`, `debug_object`, `(?:__)?call_rcu`, `pcpu_`,
	`radix_tree_node_alloc`, `idr_`, `ida_`, `xa_`, `__xa`, `strnstr`, `arch_local_irq`, `local_irq`, `lock_sock`,
	`release_sock`, `perf_trace_`, `del_timer_sync`, `(?:__)?timer_delete`, `(?:__)?init_work`, `(?:__)?flush_`,
	`drain_workqueue`, `destroy_workqueue`, `complete$`, `(?:__)?wake_up`, `try_to_wake_up`, `(?:__)?fput`, `____fput`,
	`rb_`, `__rb_`, `do_tag_check_fault`, `report_tag_fault`, `mte_`, `__hwasan`, `hwasan_`, `memdup_user`,
	`free_large_kmalloc`, `warn_`, `ref_tracker`, `__fortify`, `drop_nlink`, `inc_nlink`, `clear_nlink`, `set_nlink`,
	`fast_dput`, `mark_buffer_dirty`, `folio_unlock`, `unlock_page`, `assertfail`, `(?:__)?reiserfs_panic`, `print_`,
	`(?:__|_)?local_bh_enable`, `check_panic_on_warn`, `stack_trace_`, `arch_stack_walk`, `save_stack`, `unwind_`, `__unwind`, `walk_stackframe`,
	`stack_depot`, `_atomic_dec_and`, `atomic_dec_and`, `xas_`, `crc`, `klist_`, `__raw_read`, `__raw_write`,
	`(?:__)?task_rq_lock`, `sk_prot_alloc`, `sk_alloc`, `(?:__)?create_object`, `lock_timer_base`,
	`delayed_fput`, `bad_page`, `napi_consume_skb`, `dump_page`, `__dump_page`, `iput`, `dput`, `__dentry_kill`, `kernfs_`, `(?:__)?kthread_create`, `sock_def_`, `print_other_cpu_stall`, `__sched_text_start`, `df_debug`,
}, `|`) + `)`)

// hangSkipRe extends skipRe for hung tasks: a blocked task shows where it
// waits, which is never the interesting part (syzkaller's hang extractor).
var hangSkipRe = regexp.MustCompile(`(?:^(?:__)?(?:schedule|io_schedule)|_lock$|_lock_|_slowlock|_slowpath|^down|rwsem|completion|^kthread|wait|^synchronize_|context_switch|__switch_to|cancel_delayed_work|rcu_barrier|^flush_|msleep|usleep|nanosleep|schedule_timeout|^folio_|^__folio|^__lock_page|^lock_page|^__filemap_get_folio|^filemap_)`)

// syscallPrefix strips syscall wrapper prefixes so that titles are stable
// across kernels that rename the wrappers.
var syscallPrefix = regexp.MustCompile(`^(?:__x64_sys_|__ia32_sys_|__arm64_sys_|__se_sys_|__do_sys_|__sys_|___sys_|____sys_|ksys_|SYSC_|SyS_|compat_SYSC_|compat_SyS_|__x64_compat_sys_)`)

// skipFrame reports a helper frame that must not be blamed.
func skipFrame(fn string) bool { return skipRe.MatchString(StripSuffix(fn)) }

// StripSuffix removes compiler suffixes (.isra.8, .constprop.0, .part.3,
// .cold, .llvm.123) from a function name.
func StripSuffix(fn string) string {
	if i := strings.IndexByte(fn, '.'); i > 0 {
		return fn[:i]
	}
	return fn
}

// cleanFunction is the form of a function used in titles.
func cleanFunction(fn string) string {
	fn = StripSuffix(fn)
	if s := syscallPrefix.ReplaceAllString(fn, ""); s != "" && s != fn {
		return "sys_" + s
	}
	return fn
}

// blameFault blames the faulting IP unless it is a helper, then the first
// reliable task frame that is not a helper.
func (p *parser) blameFault() string {
	if ip := p.o.IP; ip != nil && !skipFrame(ip.Function) {
		return ip.Function
	}
	if f := p.firstTaskFrame(); f != "" {
		return f
	}
	if ip := p.o.IP; ip != nil {
		return ip.Function // only helpers: the faulting function is still the best name
	}
	// A jump to a bad address (RIP: 0x286) leaves no IP function; the top
	// frame is the caller that made the call, helper or not.
	return p.firstFrame(func(string) bool { return false }, true)
}

// firstTaskFrame is the first helper-free frame, task stack first.
func (p *parser) firstTaskFrame() string { return p.firstFrame(skipFrame, true) }

// firstFrame returns the first reliable frame that skip does not reject,
// preferring the task's own stack over interrupt stacks when taskFirst.
func (p *parser) firstFrame(skip func(string) bool, taskFirst bool) string {
	if taskFirst {
		for _, f := range p.o.CallTrace {
			if f.Reliable && f.Stack == "" && !skip(f.Function) {
				return f.Function
			}
		}
	}
	for _, f := range p.o.CallTrace {
		if f.Reliable && !skip(f.Function) {
			return f.Function
		}
	}
	// Nothing reliable: accept unreliable frames rather than nothing.
	for _, f := range p.o.CallTrace {
		if !skip(f.Function) {
			return f.Function
		}
	}
	return ""
}

// blameHang implements the hung-task policy: waits in synchronize_rcu and
// friends are one bucket, waits for the RTNL another; otherwise the first
// frame that is not waiting machinery.
func (p *parser) blameHang() string {
	for _, f := range p.o.CallTrace {
		fn := StripSuffix(f.Function)
		switch {
		case strings.HasPrefix(fn, "synchronize_rcu") || strings.HasPrefix(fn, "synchronize_srcu") ||
			strings.HasPrefix(fn, "synchronize_net") || strings.HasPrefix(fn, "synchronize_sched"):
			return "synchronize_rcu"
		case fn == "rtnl_lock" || fn == "rtnl_lock_killable":
			return "rtnl_lock"
		}
	}
	return p.firstFrame(func(fn string) bool {
		return skipFrame(fn) || hangSkipRe.MatchString(StripSuffix(fn))
	}, true)
}

// stallAnchorRe matches functions that dispatch work: a loop that stalls a
// CPU sits somewhere below one of them, in the function the anchor called
// (syzkaller's stall extractor). A syscall dispatcher makes the syscall the
// culprit, sock_sendmsg the protocol's sendmsg, call_timer_fn the timer.
var stallAnchorRe = regexp.MustCompile(`^(?:do_syscall_|do_fast_syscall|do_int80_syscall|invoke_syscall|x64_sys_call|el0_svc_common|` +
	`(?:__)?sock_sendmsg|sock_recvmsg|__sock_recvmsg|sock_write_iter|sock_read_iter|sock_ioctl|` +
	`__netif_receive_skb|netif_receive_skb|process_backlog|ip_local_deliver_finish|ip6_input_finish|` +
	`task_work_run|call_timer_fn|rtnetlink_rcv_msg|nfnetlink_rcv_msg|nfnetlink_rcv_batch|` +
	`(?:compat_)?(?:__x64_sys|__ia32_sys|__arm64_sys|__se_sys|__do_sys|ksys|SyS|sys)_ioctl$|` +
	`vfs_ioctl|do_vfs_ioctl|vfs_read|vfs_write|__vfs_read|__vfs_write|vfs_iter_read|vfs_iter_write|` +
	`new_sync_read|new_sync_write|call_read_iter|call_write_iter|__kernel_read|__kernel_write|` +
	`process_one_work|tasklet_action_common|kthread$)`)

// compatSyscallRe matches compat system call entry points, which are
// culprits in their own right (compat_SyS_mount is the mount syscall).
var compatSyscallRe = regexp.MustCompile(`(?:^|_)(?:SyS|sys)_`)

// compatWrapper reports whether fn is a 32-bit compat wrapper of a handler
// (lo_compat_ioctl, compat_blkdev_ioctl), not a system call.
func compatWrapper(fn string) bool {
	return strings.Contains(fn, "compat_") && !compatSyscallRe.MatchString(fn)
}

// blameStall blames where a CPU was spinning: the function a dispatch anchor
// called, else the IP when it is not a helper, else the first task frame
// outside the interrupt that reported the stall.
func (p *parser) blameStall() string {
	// Interrupt frames count too: a lockup may sit in a softirq or a
	// tasklet; the detector's own frames are helpers, never anchors.
	var task []Frame
	for _, f := range p.o.CallTrace {
		if f.Reliable {
			task = append(task, f)
		}
	}
	for _, f := range task {
		if strings.HasPrefix(f.Function, "smp_call_function") {
			return "smp_call_function"
		}
	}
	for i := 1; i < len(task); i++ {
		if stallAnchorRe.MatchString(StripSuffix(task[i].Function)) {
			fn := StripSuffix(task[i-1].Function)
			if strings.HasPrefix(fn, "smp_call_function") {
				return "smp_call_function"
			}
			// 32-bit compat wrappers (lo_compat_ioctl, compat_blkdev_ioctl)
			// only translate arguments: blame the handler they call, or
			// the IP when the handler is where the CPU was.
			k := i - 1
			for k >= 0 && task[k].Stack == task[i-1].Stack && compatWrapper(task[k].Function) {
				k--
			}
			switch {
			case k >= 0 && task[k].Stack == task[i-1].Stack:
				return task[k].Function
			case k != i-1 && p.o.IP != nil && !skipFrame(p.o.IP.Function):
				return p.o.IP.Function
			}
			return task[i-1].Function
		}
	}
	if ip := p.o.IP; ip != nil && !skipFrame(ip.Function) {
		return ip.Function
	}
	return p.firstTaskFrame()
}

// chainZero returns the first helper-free frame of lockdep's "-> #0" chain,
// the lock acquisition that closes a circular dependency.
func (p *parser) chainZero() string {
	in := false
	for _, l := range p.lines[p.hdr:] {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "-> #0") {
			in = true
			continue
		}
		if !in {
			continue
		}
		f, ok := parseFrame(t)
		if !ok {
			if strings.HasPrefix(t, "-> #") || t == "" || strings.HasPrefix(t, "other info") {
				return ""
			}
			continue
		}
		if !skipFrame(f.Function) {
			return f.Function
		}
	}
	return ""
}
