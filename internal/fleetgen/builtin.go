package fleetgen

// builtinCrashes are crashes no signature knows: the "new crash on 300
// hosts" that must become one fingerprint. Kernel text only, one report each.
var builtinCrashes = []string{
	// A general protection fault in a driver, 6.x format.
	`Oops: general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1] PREEMPT SMP NOPTI
CPU: 17 UID: 0 PID: 44120 Comm: kworker/17:1 Not tainted 6.8.0-1021-gcp #23~22.04.1-Ubuntu
Hardware name: Google Google Compute Engine/Google Compute Engine, BIOS Google 08/01/2025
Workqueue: events gve_service_task [gve]
RIP: 0010:gve_tx_clean_pending+0x6e/0x1d0 [gve]
Code: 8b 47 10 48 85 c0 74 2d 48 8b 50 08 <48> 8b 02 48 89 45 d0 e8 7a fe ff ff 48 8b 45 d0 48 89 c7 e8 2e 58
RSP: 0018:ffffa4c7c3a47d88 EFLAGS: 00010246
RAX: dead000000000100 RBX: ffff8c2a41f3b000 RCX: 0000000000000000
Call Trace:
 <TASK>
 gve_service_task+0x8f/0x1f0 [gve]
 process_one_work+0x16f/0x350
 worker_thread+0x306/0x440
 kthread+0xef/0x120
 ret_from_fork+0x44/0x70
 ret_from_fork_asm+0x1b/0x30
 </TASK>
Modules linked in: gve tls xt_conntrack nf_conntrack overlay
---[ end trace 0000000000000000 ]---`,
	// A task hung in the ext4 journal.
	`INFO: task jbd2/sda1-8:412 blocked for more than 122 seconds.
      Not tainted 5.15.0-105-generic #115-Ubuntu
"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
task:jbd2/sda1-8     state:D stack:    0 pid:  412 ppid:     2 flags:0x00004000
Call Trace:
 <TASK>
 __schedule+0x24e/0x590
 schedule+0x69/0x110
 io_schedule+0x46/0x80
 bit_wait_io+0x11/0x70
 __wait_on_bit+0x31/0xa0
 out_of_line_wait_on_bit+0x94/0xb0
 __wait_on_buffer+0x34/0x40
 jbd2_journal_commit_transaction+0x15e4/0x1a50
 kjournald2+0xa9/0x280
 kthread+0x12a/0x150
 ret_from_fork+0x22/0x30
 </TASK>`,
	// A WARNING in the 2025 format.
	`------------[ cut here ]------------
WARNING: net/core/skbuff.c:5012 at skb_try_coalesce+0x3c8/0x420, CPU#6: swapper/6/0
Modules linked in: mlx5_ib mlx5_core bonding overlay
CPU: 6 UID: 0 PID: 0 Comm: swapper/6 Not tainted 6.18.2-200.fc43.x86_64 #1
Hardware name: Dell Inc. PowerEdge R660/0HGTK9, BIOS 2.3.5 09/10/2025
RIP: 0010:skb_try_coalesce+0x3c8/0x420
RSP: 0018:ffffb3e0c0318c28 EFLAGS: 00010246
Call Trace:
 <IRQ>
 tcp_try_coalesce+0x65/0x110
 tcp_queue_rcv+0x5a/0x160
 tcp_rcv_established+0x43d/0x7d0
 tcp_v4_do_rcv+0x12b/0x2a0
 tcp_v4_rcv+0xd8c/0xe40
 ip_protocol_deliver_rcu+0x3b/0x1d0
 ip_local_deliver_finish+0x76/0xa0
 __netif_receive_skb_one_core+0x89/0xa0
 process_backlog+0x81/0x120
 __napi_poll+0x2b/0x1b0
 net_rx_action+0x2b8/0x350
 handle_softirqs+0xe4/0x2c0
 </IRQ>
---[ end trace 0000000000000000 ]---`,
	// The OOM killer: a separate, low-severity class.
	`java invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0
CPU: 3 PID: 77120 Comm: java Not tainted 5.15.0-1075-azure #84-Ubuntu
Hardware name: Microsoft Corporation Virtual Machine/Virtual Machine, BIOS Hyper-V UEFI Release v4.1 08/23/2024
Call Trace:
 <TASK>
 dump_stack_lvl+0x4a/0x63
 dump_header+0x4a/0x1f4
 oom_kill_process.cold+0xb/0x10
 out_of_memory+0x1bd/0x4f0
 __alloc_pages_slowpath.constprop.0+0xc4a/0xd70
 __alloc_pages+0x308/0x330
 handle_mm_fault+0xd8/0x2c0
 do_user_addr_fault+0x1c2/0x660
 exc_page_fault+0x77/0x170
 asm_exc_page_fault+0x27/0x30
 </TASK>
Mem-Info:
active_anon:3863413 inactive_anon:10211 isolated_anon:0
[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name
[    412]     0   412    23122      811   204800        0          -250 systemd-journal
[  77120]  1000 77120  5127331  3852001 31481856        0             0 java
oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/kubepods/pod9,task=java,pid=77120,uid=1000
Out of memory: Killed process 77120 (java) total-vm:20509324kB, anon-rss:15408004kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:30744kB oom_score_adj:0`,
	// An RCU stall seen from the stalled CPU.
	`rcu: INFO: rcu_preempt self-detected stall on CPU
rcu: 	12-....: (21000 ticks this GP) idle=9c6/1/0x4000000000000000 softirq=1288/1288 fqs=5179
	(t=21001 jiffies g=772409 q=3219)
NMI backtrace for cpu 12
CPU: 12 PID: 9182 Comm: bpftrace Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1
Hardware name: HPE ProLiant DL360 Gen10/ProLiant DL360 Gen10, BIOS U32 10/19/2023
Call Trace:
 <IRQ>
 dump_stack_lvl+0x44/0x5c
 nmi_cpu_backtrace.cold+0x30/0x70
 nmi_trigger_cpumask_backtrace+0x109/0x120
 rcu_dump_cpu_stacks+0xd5/0x11b
 rcu_sched_clock_irq.cold+0x2c1/0x7c0
 update_process_times+0x8c/0xc0
 tick_sched_timer+0x72/0x90
 __hrtimer_run_queues+0x112/0x2b0
 hrtimer_interrupt+0xfe/0x220
 __sysvec_apic_timer_interrupt+0x56/0x100
 sysvec_apic_timer_interrupt+0x6d/0x90
 </IRQ>
 <TASK>
 asm_sysvec_apic_timer_interrupt+0x16/0x20
RIP: 0010:htab_map_get_next_key+0x95/0x150
 map_get_next_key+0x117/0x1a0
 __sys_bpf+0x17db/0x2160
 __x64_sys_bpf+0x16/0x20
 do_syscall_64+0x58/0xc0
 entry_SYSCALL_64_after_hwframe+0x64/0xce
 </TASK>`,
}
