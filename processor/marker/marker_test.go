package marker

import "testing"

func TestMatch(t *testing.T) {
	tests := []struct {
		line      string
		kind      Kind
		continues bool
	}{
		{"BUG: kernel NULL pointer dereference, address: 0000000000000402", NullPointer, false},
		{"BUG: unable to handle kernel NULL pointer dereference at 000000000000001c", NullPointer, false},
		{"BUG: unable to handle page fault for address: ffffc90000a4c000", PagingRequest, false},
		{"Unable to handle kernel paging request at virtual address 0001950b", PagingRequest, false},
		{"Oops: general protection fault, probably for non-canonical address 0xdffffc0000000000: 0000 [#1] PREEMPT SMP KASAN", GeneralProtection, false},
		{"general protection fault: 0000 [#1] SMP", GeneralProtection, false},
		{"kernel BUG at mm/slub.c:305!", KernelBug, true},
		{"invalid opcode: 0000 [#1] SMP", InvalidOpcode, true},
		{"WARNING: CPU: 0 PID: 1 at net/core/dev.c:123 f+0x1/0x2", Warning, false},
		{"WARNING: lib/debugobjects.c:615 at 0x0, CPU#1: kworker/1:1/123", Warning, false},
		{"watchdog: BUG: soft lockup - CPU#7 stuck for 22s! [kworker/u128:1:29371]", SoftLockup, false},
		{"NMI watchdog: Watchdog detected hard LOCKUP on cpu 5", HardLockup, false},
		{"INFO: task ip:31337 blocked for more than 120 seconds.", HungTask, false},
		{"rcu: INFO: rcu_preempt self-detected stall on CPU", RCUStall, false},
		{"INFO: rcu_sched detected stalls on CPUs/tasks:", RCUStall, false},
		{"BUG: KASAN: use-after-free in f+0x1/0x2", KASAN, false},
		{"BUG: KFENCE: out-of-bounds read in f+0x1/0x2", KFENCE, false},
		{"UBSAN: array-index-out-of-bounds in net/x.c:12:3", UBSAN, false},
		{"list_del corruption, ffff8880 ->next is LIST_POISON1 (dead000000000100)", ListCorruption, false},
		{"BUG: Bad page state in process swapper/0  pfn:1a0f4", BadPageState, false},
		{"BUG: scheduling while atomic: a/1/0x00000002", AtomicSleep, false},
		{"WARNING: possible circular locking dependency detected", Lockdep, false},
		{"Kernel panic - not syncing: Fatal exception", Panic, true},
		{"PANIC: double fault, error_code: 0x0", DoubleFault, false},
		{"divide error: 0000 [#1] SMP", DivideError, false},
		{"mce: [Hardware Error]: CPU 0: Machine Check Exception: 5 Bank 4: b200000000070f0f", MachineCheck, false},
		{"java invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0", OOMKill, false},
		{"unregister_netdevice: waiting for lo to become free. Usage count = 1", NetdevRefcount, false},
		{"Internal error: Oops: 96000004 [#1] SMP", InternalError, true},
		{"Oops: 0000 [#1] SMP NOPTI", Oops, true},
	}
	for _, tc := range tests {
		h, ok := Match([]byte(tc.line))
		if !ok || h.Kind != tc.kind || h.Continues != tc.continues {
			t.Errorf("%q: got %v kind %d continues %v, want kind %d continues %v", tc.line, ok, h.Kind, h.Continues, tc.kind, tc.continues)
		}
	}
	for _, l := range []string{
		"python3[123]: segfault at 0 ip 00007f3ecc5b2c4d sp 00007fff64cd5d58 error 4 in libc.so.6",
		"IPv4: Attempt to release TCP socket in state 10 ffff805624a7b800",
		"INFO: lockdep is turned off.",
		"---[ end Kernel panic - not syncing: Fatal exception ]---",
		"EXT4-fs (sda1): mounted filesystem with ordered data mode",
		"WARNING: retrying",
		"",
		"BUG",
	} {
		if h, ok := Match([]byte(l)); ok {
			t.Errorf("%q: false header %+v", l, h)
		}
	}
}

func TestIsBody(t *testing.T) {
	for _, l := range []string{" d_delete+0x2c/0xb0", "RAX: 0000000000000000 RBX: ffff93b8da3446c0", "x29: ffff00000b6efa40 x28: ffff805624a7b800", "f900: 000000000001950b", "[<ffff00000873ce54>] __inet_lookup_listener+0xac/0x2a8", "Code: 48 8b", "<IRQ>", "---[ end trace 4e652b8aa299aa2d ]---", "RSP <ffff881f66bbfce0>"} {
		if !IsBody([]byte(l)) {
			t.Errorf("%q: want body", l)
		}
	}
	for _, l := range []string{"nf_conntrack: nf_conntrack: table full, dropping packet", "IPv6: ADDRCONF(NETDEV_CHANGE): veth1: link becomes ready", "audit: type=1400 audit(1.2:3): apparmor=\"DENIED\""} {
		if IsBody([]byte(l)) {
			t.Errorf("%q: want not body", l)
		}
	}
}
