package assemble

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/processor/logline"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const oopsText = `BUG: kernel NULL pointer dereference, address: 0000000000000402
#PF: supervisor read access in kernel mode
Oops: 0000 [#1] SMP NOPTI
CPU: 4 PID: 2688731 Comm: kworker/4:2 Not tainted 5.15.0-1075-azure #84-Ubuntu
RIP: 0010:netfs_rreq_unlock+0xf7/0x3c0 [netfs]
RAX: 0000000000000402 RBX: 0000000000000402 RCX: 0000000000000000
Call Trace:
 <TASK>
 netfs_rreq_assess+0x1b4/0x4f0 [netfs]
 process_one_work+0x225/0x3d0
 worker_thread+0x53/0x420
 kthread+0x12a/0x150
 ret_from_fork+0x22/0x30
 </TASK>
Modules linked in: ceph libceph netfs
CR2: 0000000000000402
---[ end trace 2b1f6f5c7fa3d6a1 ]---`

const hungText = `INFO: task ip:31337 blocked for more than 120 seconds.
      Not tainted 4.16.13-1.el7.elrepo.x86_64 #1
"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
Call Trace:
 __schedule+0x28e/0x890
 schedule+0x2c/0x80
 mutex_lock+0x2f/0x40
 copy_net_ns+0xbb/0x1a0
 do_syscall_64+0x79/0x1b0`

type feeder struct {
	a       *Assembler
	reports []*Report
	pos     int64
	now     time.Time
}

func newFeeder(cfg Config) *feeder {
	f := &feeder{now: t0}
	f.a = New(cfg, func(r *Report) { f.reports = append(f.reports, r) })
	return f
}

func (f *feeder) line(host, caller, text string) {
	f.pos++
	f.now = f.now.Add(time.Millisecond)
	l := logline.Line{Host: host, Caller: caller, Kernel: true, Text: []byte(text), Time: f.now, Uptime: f.now.Sub(t0) + time.Hour, HasUptime: true}
	f.a.Add(&l, f.now, f.pos)
}

// host returns the state of a host, nil if it has none.
func (f *feeder) host(name string) *host {
	return f.a.hosts.find(f.a.HostHash(&logline.Line{Host: name}), []byte(name))
}

func (f *feeder) text(host, text string) {
	for _, l := range strings.Split(text, "\n") {
		f.line(host, "", l)
	}
}

func TestInterleavedHosts(t *testing.T) {
	f := newFeeder(Config{})
	a := strings.Split(oopsText, "\n")
	b := strings.Split(hungText, "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		if i < len(a) {
			f.line("host-a", "", a[i])
		}
		if i < len(b) {
			f.line("host-b", "", b[i])
		}
		f.line("host-c", "", "IPv6: ADDRCONF(NETDEV_CHANGE): veth1: link becomes ready")
	}
	f.line("host-b", "", "EXT4-fs (sda1): re-mounted")
	f.line("host-b", "", "EXT4-fs (sda1): re-mounted")
	f.line("host-b", "", "EXT4-fs (sda1): re-mounted")
	f.a.Flush(EOF)
	if len(f.reports) != 2 {
		t.Fatalf("want 2 reports, got %d", len(f.reports))
	}
	byHost := map[string]*Report{}
	for _, r := range f.reports {
		byHost[r.Host] = r
	}
	if r := byHost["host-a"]; r == nil || len(r.Lines) != len(a) || r.EndReason != EndMarker || r.Truncated {
		t.Fatalf("host-a: %+v", r)
	}
	if r := byHost["host-b"]; r == nil || len(r.Lines) != len(b) || r.EndReason != TraceEnd || r.Truncated {
		t.Fatalf("host-b: lines %d end %s truncated %v", len(r.Lines), r.EndReason, r.Truncated)
	}
}

func TestTwoReportsInARow(t *testing.T) {
	f := newFeeder(Config{})
	f.text("h", hungText)
	f.text("h", hungText)
	f.a.Flush(EOF)
	if len(f.reports) != 2 {
		t.Fatalf("want 2 reports, got %d", len(f.reports))
	}
	if f.reports[0].EndReason != NextReport || f.reports[0].Truncated {
		t.Errorf("first: end %s truncated %v", f.reports[0].EndReason, f.reports[0].Truncated)
	}
	if f.reports[1].EndReason != EOF || f.reports[1].Truncated {
		t.Errorf("second: end %s truncated %v (a hung task whose trace is complete is not truncated)", f.reports[1].EndReason, f.reports[1].Truncated)
	}
}

func TestCutOffByIdleAndEOF(t *testing.T) {
	lines := strings.Split(oopsText, "\n")[:9] // the host died mid-trace
	f := newFeeder(Config{Idle: 10 * time.Second})
	for _, l := range lines {
		f.line("dead", "", l)
	}
	f.a.Advance(f.now.Add(5 * time.Second))
	if len(f.reports) != 0 {
		t.Fatal("closed before the idle timeout")
	}
	f.a.Advance(f.now.Add(11 * time.Second))
	if len(f.reports) != 1 || f.reports[0].EndReason != Idle || !f.reports[0].Truncated {
		t.Fatalf("idle: %+v", f.reports)
	}
	g := newFeeder(Config{})
	for _, l := range lines {
		g.line("dead", "", l)
	}
	g.a.Flush(Shutdown)
	if len(g.reports) != 1 || g.reports[0].EndReason != Shutdown || !g.reports[0].Truncated {
		t.Fatalf("shutdown: %+v", g.reports)
	}
}

func TestEndTraceThenPanicIsOneReport(t *testing.T) {
	f := newFeeder(Config{})
	f.text("h", oopsText)
	f.line("h", "", "RIP: 0010:netfs_rreq_unlock+0xf7/0x3c0 [netfs]")
	f.line("h", "", "IPv6: ADDRCONF(NETDEV_CHANGE): veth1: link becomes ready") // printed by another CPU meanwhile
	f.line("h", "", "Kernel panic - not syncing: Fatal exception")
	f.line("h", "", "Kernel Offset: 0x17000000 from 0xffffffff81000000")
	f.line("h", "", "---[ end Kernel panic - not syncing: Fatal exception ]---")
	if len(f.reports) != 1 {
		t.Fatal("the report did not close at ---[ end Kernel panic")
	}
	f.line("h", "", "EXT4-fs (sda1): re-mounted")
	f.a.Flush(EOF)
	if len(f.reports) != 1 {
		t.Fatalf("want 1 report, got %d", len(f.reports))
	}
	r := f.reports[0]
	if !strings.Contains(strings.Join(r.Lines, "\n"), "Kernel panic - not syncing") || r.EndReason != EndMarker || r.Truncated {
		t.Fatalf("panic not attached: end %s lines %d", r.EndReason, len(r.Lines))
	}
}

func TestContextLines(t *testing.T) {
	f := newFeeder(Config{})
	f.line("h", "", "EXT4-fs (sda1): re-mounted") // too old: 10 s before
	f.now = f.now.Add(10 * time.Second)
	f.line("h", "", "IPv4: Attempt to release TCP socket in state 10 ffff805624a7b800")
	f.line("h", "", "------------[ cut here ]------------")
	f.line("h", "", "WARNING: CPU: 2 PID: 1 at fs/netfs/read_helper.c:596 netfs_rreq_unlock+0x2d1/0x3c0 [netfs]")
	f.line("h", "", "Call Trace:")
	f.line("h", "", " process_one_work+0x225/0x3d0")
	f.line("h", "", "---[ end trace 6e2d2f1b0a0c9b11 ]---")
	f.line("other", "", "IPv4: not context of h")
	f.a.Flush(EOF)
	if len(f.reports) != 1 {
		t.Fatalf("want 1 report, got %d", len(f.reports))
	}
	got := strings.Join(f.reports[0].Context, "|")
	want := "IPv4: Attempt to release TCP socket in state 10 ffff805624a7b800|------------[ cut here ]------------"
	if got != want {
		t.Fatalf("context %q, want %q", got, want)
	}
	if f.reports[0].FirstPos != 2 {
		t.Errorf("FirstPos %d, want 2 (the first context line)", f.reports[0].FirstPos)
	}
}

func TestInterleavedLineInsideTrace(t *testing.T) {
	f := newFeeder(Config{})
	lines := strings.Split(oopsText, "\n")
	for i, l := range lines {
		f.line("h", "", l)
		if i == 9 { // inside the call trace
			f.line("h", "", "nf_conntrack: nf_conntrack: table full, dropping packet")
		}
	}
	f.a.Flush(EOF)
	if len(f.reports) != 1 || len(f.reports[0].Lines) != len(lines) || f.reports[0].EndReason != EndMarker {
		t.Fatalf("a stray line split or polluted the report: %d reports, first has %d lines (want %d)", len(f.reports), len(f.reports[0].Lines), len(lines))
	}
	if f.a.Stats().Interleaved != 1 {
		t.Errorf("interleaved count %d, want 1", f.a.Stats().Interleaved)
	}
}

// Reports of an "extra" kind (an NMI backtrace, an OOM kill) printed
// inside an open report belong to it; once lines foreign to the open
// report came first, they start a report of their own.
func TestExtraHeaders(t *testing.T) {
	cut := strings.Split(oopsText, "\n")[:10] // the end marker never comes
	for _, tc := range []struct {
		name   string
		strays int
		want   int
	}{
		{"inside the trace", 0, 1},
		{"after the trace ended", 3, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFeeder(Config{})
			for _, l := range cut {
				f.line("h", "", l)
			}
			for i := 0; i < tc.strays; i++ {
				f.line("h", "", "python3[15032]: segfault at 0 ip 00007f3ecc5b2c4d sp 00007fff64cd5d58 error 4 in libc.so.6")
			}
			f.line("h", "", "java invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0")
			f.a.Flush(EOF)
			if len(f.reports) != tc.want {
				t.Fatalf("%d reports, want %d", len(f.reports), tc.want)
			}
			if tc.want == 2 && (len(f.reports[0].Lines) != len(cut) || f.reports[1].Group.Name != "oom_kill") {
				t.Fatalf("first report %d lines (want %d), second %q", len(f.reports[0].Lines), len(cut), f.reports[1].Group.Name)
			}
		})
	}
}

// Old kernels glue "Call Trace:" to the last stack dump line; the trace
// still starts there, so a stray line inside it is kept out of the report.
func TestGluedTraceStartKeepsStraysOut(t *testing.T) {
	f := newFeeder(Config{})
	report := []string{
		"BUG: using __this_cpu_read() in preemptible [00000000] code: ipsec-helper/2210",
		"caller is __this_cpu_preempt_check+0x1c/0x20",
		"CPU: 0 PID: 2210 Comm: ipsec-helper Not tainted 4.9.0-19-amd64 #1 Debian 4.9.320-2",
		" 0000000000000001 ffffffffa04c2360Call Trace:",
		" [<ffffffff8132a3e4>] dump_stack+0x63/0x8e",
		" [<ffffffff8134f6dc>] __this_cpu_preempt_check+0x1c/0x20",
		" [<ffffffffa04c1f78>] ipcomp_init_state+0x188/0x3a0 [xfrm_ipcomp]",
		" [<ffffffff81614fbb>] entry_SYSCALL_64_fastpath+0x1e/0xad",
	}
	for i, l := range report {
		f.line("h", "", l)
		if i == 5 {
			f.line("h", "", "nf_conntrack: default automatic helper assignment has been turned off for security reasons")
		}
	}
	f.a.Flush(EOF)
	if len(f.reports) != 1 || len(f.reports[0].Lines) != len(report) {
		t.Fatalf("%d reports; want one of %d lines without the stray", len(f.reports), len(report))
	}
}

func TestCallerIDsSeparateStreams(t *testing.T) {
	f := newFeeder(Config{})
	a := strings.Split(oopsText, "\n")
	b := strings.Split(hungText, "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		if i < len(a) {
			f.line("h", "T100", a[i])
		}
		if i < len(b) {
			f.line("h", "T200", b[i])
		}
	}
	f.a.Flush(EOF)
	if len(f.reports) != 2 {
		t.Fatalf("want 2 reports from two callers of one host, got %d", len(f.reports))
	}
	for _, r := range f.reports {
		want := len(a)
		if r.Caller == "T200" {
			want = len(b)
		}
		if len(r.Lines) != want {
			t.Errorf("caller %s: %d lines, want %d", r.Caller, len(r.Lines), want)
		}
	}
}

// A report that never ends is closed at the line cap; memory never holds
// more than MaxLines lines of it.
func TestBoundMaxLines(t *testing.T) {
	f := newFeeder(Config{MaxLines: 50})
	f.line("h", "", "BUG: soft lockup - CPU#1 stuck for 22s! [a:1]")
	f.line("h", "", "Call Trace:")
	for i := 0; i < 10000; i++ {
		f.line("h", "", fmt.Sprintf(" frame_%d+0x1/0x2", i))
	}
	f.a.Flush(EOF)
	for _, r := range f.reports {
		if len(r.Lines) > 50 {
			t.Fatalf("report of %d lines, cap 50", len(r.Lines))
		}
	}
	if f.reports[0].EndReason != MaxLines || !f.reports[0].Truncated {
		t.Fatalf("first report: %s truncated %v", f.reports[0].EndReason, f.reports[0].Truncated)
	}
}

func TestBoundMaxBytesAndLineLength(t *testing.T) {
	f := newFeeder(Config{MaxBytes: 10000, MaxLineBytes: 1000})
	f.line("h", "", "BUG: soft lockup - CPU#1 stuck for 22s! [a:1]")
	f.line("h", "", " "+strings.Repeat("x", 10<<20)) // a 10 MB line
	for i := 0; i < 100; i++ {
		f.line("h", "", " "+strings.Repeat("y", 500))
	}
	f.a.Flush(EOF)
	r := f.reports[0]
	total := 0
	for _, l := range r.Lines {
		if len(l) > 1000 {
			t.Fatalf("line of %d bytes kept, cap 1000", len(l))
		}
		total += len(l)
	}
	if total > 10000+1000 || r.EndReason != MaxLines || r.CutLines == 0 {
		t.Fatalf("bytes %d, end %s, cut %d", total, r.EndReason, r.CutLines)
	}
}

func TestBoundMaxHosts(t *testing.T) {
	f := newFeeder(Config{MaxHosts: 3})
	for i := 0; i < 10; i++ {
		h := fmt.Sprintf("h%d", i)
		f.line(h, "", "BUG: soft lockup - CPU#1 stuck for 22s! [a:1]")
		if f.a.Hosts() > 3 {
			t.Fatalf("%d hosts held, bound 3", f.a.Hosts())
		}
	}
	if f.a.Stats().EvictedHosts != 7 {
		t.Fatalf("evicted %d hosts, want 7", f.a.Stats().EvictedHosts)
	}
	evicted := 0
	for _, r := range f.reports {
		if r.EndReason == Evicted {
			evicted++
		}
	}
	if evicted != 7 {
		t.Fatalf("%d reports closed by eviction, want 7 (evicted reports are emitted, not lost)", evicted)
	}
	// The least recently seen host goes first: touch h7, then add a host.
	f.line("h7", "", "EXT4-fs: x")
	f.line("h10", "", "EXT4-fs: x")
	if f.host("h7") == nil {
		t.Fatal("recently seen host evicted before older ones")
	}
}

// With many hosts, the order of hosts is kept only nearly: a host seen
// again while still near the front is not moved (a move writes to two other
// hosts, random cache misses on every kernel line). Still, a host is evicted
// only once at least 7/8 of MaxHosts other hosts have printed since its last
// line.
func TestBoundMaxHostsNearlyLRU(t *testing.T) {
	const maxHosts = 80
	f := newFeeder(Config{MaxHosts: maxHosts})
	rng := rand.New(rand.NewPCG(7, 8))
	var seq []string // host of each line
	last := map[string]int{}
	held := map[string]bool{}
	evictions := 0
	for i := 0; i < 20000; i++ {
		// A skewed mix: some hosts print often, most rarely.
		h := fmt.Sprintf("h%d", rng.IntN(1+rng.IntN(200)))
		f.line(h, "", "EXT4-fs: x")
		seq = append(seq, h)
		last[h], held[h] = i, true
		for name := range held {
			if f.host(name) != nil {
				continue
			}
			delete(held, name)
			evictions++
			since := map[string]bool{}
			for _, o := range seq[last[name]+1:] {
				since[o] = true
			}
			if len(since) < maxHosts-1-maxHosts/8 {
				t.Fatalf("line %d: %s evicted after only %d other hosts printed since its last line", i, name, len(since))
			}
		}
		if f.a.Hosts() > maxHosts {
			t.Fatalf("%d hosts held, bound %d", f.a.Hosts(), maxHosts)
		}
	}
	if evictions < 100 {
		t.Fatalf("only %d evictions: the test input is too tame", evictions)
	}
}

func TestBoundStreamsPerHost(t *testing.T) {
	f := newFeeder(Config{MaxStreamsPerHost: 4})
	for i := 0; i < 100; i++ {
		f.line("h", fmt.Sprintf("T%d", i), "BUG: soft lockup - CPU#1 stuck for 22s! [a:1]")
	}
	if n := len(f.host("h").streams); n > 4 {
		t.Fatalf("%d streams for one host, bound 4", n)
	}
	if f.a.OpenReports() > 4 {
		t.Fatalf("%d open reports, bound 4", f.a.OpenReports())
	}
}

// Random bytes and random report fragments from many hosts: no panic, and
// the bounds hold at every step.
func TestAdversarialRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cfg := Config{MaxLines: 30, MaxHosts: 20, MaxStreamsPerHost: 3, MaxBytes: 4096, MaxLineBytes: 256}
	f := newFeeder(cfg)
	frags := append(strings.Split(oopsText, "\n"), strings.Split(hungText, "\n")...)
	for i := 0; i < 50000; i++ {
		var text string
		if rng.IntN(3) == 0 {
			b := make([]byte, rng.IntN(400))
			for j := range b {
				b[j] = byte(rng.UintN(256))
			}
			text = string(b)
		} else {
			text = frags[rng.IntN(len(frags))]
		}
		f.line(fmt.Sprintf("h%d", rng.IntN(50)), fmt.Sprintf("T%d", rng.IntN(5)), text)
		if f.a.Hosts() > cfg.MaxHosts || f.a.OpenReports() > cfg.MaxHosts*cfg.MaxStreamsPerHost {
			t.Fatalf("bounds broken: %d hosts, %d open", f.a.Hosts(), f.a.OpenReports())
		}
	}
	f.a.Flush(EOF)
	for _, r := range f.reports {
		if len(r.Lines) > cfg.MaxLines {
			t.Fatalf("report of %d lines", len(r.Lines))
		}
	}
	if f.a.OpenReports() != 0 {
		t.Fatal("reports left open after Flush")
	}
}

func FuzzAssemble(f *testing.F) {
	f.Add([]byte(oopsText + "\n" + hungText))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Config{MaxLines: 20, MaxHosts: 4, MaxStreamsPerHost: 2}
		var n int
		a := New(cfg, func(r *Report) {
			n++
			if len(r.Lines) > cfg.MaxLines || len(r.Lines) == 0 {
				t.Fatalf("report with %d lines", len(r.Lines))
			}
		})
		now := t0
		for i, line := range strings.Split(string(data), "\n") {
			now = now.Add(time.Second)
			host := "h" + string(rune('0'+i%6))
			l := logline.Line{Host: host, Kernel: true, Text: []byte(line), Time: now}
			a.Add(&l, now, int64(i))
			if a.Hosts() > cfg.MaxHosts {
				t.Fatalf("%d hosts", a.Hosts())
			}
		}
		a.Flush(EOF)
		if a.OpenReports() != 0 {
			t.Fatal("open after flush")
		}
	})
}

func TestOldestOpenAndDiscard(t *testing.T) {
	f := newFeeder(Config{})
	f.line("a", "", "EXT4-fs: noise")                                // pos 1
	f.line("a", "", "BUG: soft lockup - CPU#1 stuck for 22s! [a:1]") // pos 2
	f.line("b", "", "BUG: soft lockup - CPU#2 stuck for 22s! [b:1]") // pos 3
	if pos, ok := f.a.OldestOpen(); !ok || pos != 1 {
		t.Fatalf("oldest open %d %v, want 1 (the context line is part of the report)", pos, ok)
	}
	f.a.Discard()
	if _, ok := f.a.OldestOpen(); ok || f.a.OpenReports() != 0 || f.a.Hosts() != 0 {
		t.Fatal("state left after Discard")
	}
	f.a.Flush(EOF)
	if len(f.reports) != 0 {
		t.Fatalf("Discard emitted %d reports", len(f.reports))
	}
}

// A report that printed its end marker closes after TrailerIdle, well before
// Idle: streaming consumers do not hold finished reports for long.
func TestTrailerIdle(t *testing.T) {
	f := newFeeder(Config{Idle: time.Minute, TrailerIdle: time.Second})
	f.text("h", oopsText)
	f.a.Advance(f.now.Add(500 * time.Millisecond))
	if len(f.reports) != 0 {
		t.Fatal("closed before TrailerIdle")
	}
	f.a.Advance(f.now.Add(1500 * time.Millisecond))
	if len(f.reports) != 1 || f.reports[0].EndReason != EndMarker || f.reports[0].Truncated {
		t.Fatalf("after TrailerIdle: %+v", f.reports)
	}
}

// The byte budget holds whatever the input: 10,000 hosts each growing a
// report that never ends. Over budget, the oldest open report is closed as
// truncated (memory_limit), not lost; the bytes held never pass the bound by
// more than one line.
func TestByteBudget(t *testing.T) {
	const limit = 4 << 20
	f := newFeeder(Config{MaxOpenBytes: limit, MaxLines: 10000, MaxBytes: 1 << 30})
	frame := " " + strings.Repeat("f", 200) + "+0x1/0x2"
	for round := 0; round < 30; round++ {
		for h := 0; h < 10000; h++ {
			host := fmt.Sprintf("h%05d", h)
			if round == 0 {
				f.line(host, "", "BUG: soft lockup - CPU#1 stuck for 22s! [a:1]")
				continue
			}
			f.line(host, "", frame)
			if held := f.a.Stats().Bytes; held > limit+int64(len(frame))+lineOverhead {
				t.Fatalf("%d bytes held, bound %d", held, limit)
			}
		}
	}
	st := f.a.Stats()
	if st.MemoryLimit == 0 {
		t.Fatal("no report closed at the memory bound")
	}
	n := 0
	for _, r := range f.reports {
		if r.EndReason == MemoryLimit {
			n++
			if !r.Truncated {
				t.Fatal("a report closed at the memory bound is not marked truncated")
			}
		}
	}
	if uint64(n) != st.MemoryLimit {
		t.Fatalf("%d memory_limit reports emitted, %d counted", n, st.MemoryLimit)
	}
	f.a.Flush(EOF)
	if b := f.a.Stats().Bytes; b != 0 {
		t.Fatalf("%d bytes still charged after Flush", b)
	}
}

// A budget shared by several assemblers (one per Kafka partition) bounds
// them together.
func TestSharedBudget(t *testing.T) {
	b := NewBudget(1 << 20)
	var emitted int
	asms := []*Assembler{New(Config{Budget: b}, func(*Report) { emitted++ }), New(Config{Budget: b}, func(*Report) { emitted++ })}
	line := strings.Repeat("x", 300)
	for i := 0; i < 20000; i++ {
		a := asms[i%2]
		l := logline.Line{Host: fmt.Sprintf("h%d", i%500), Kernel: true, Time: t0}
		if i < 1000 {
			l.Text = []byte("BUG: soft lockup - CPU#1 stuck for 22s! [a:1]")
		} else {
			l.Text = []byte(" " + line + "+0x1/0x2")
		}
		a.Add(&l, t0, int64(i))
		if b.Used() > b.Limit()+2000 {
			t.Fatalf("%d bytes used, shared bound %d", b.Used(), b.Limit())
		}
	}
	if emitted == 0 {
		t.Fatal("nothing closed at the shared bound")
	}
	for _, a := range asms {
		a.Flush(EOF)
	}
	if b.Used() != 0 {
		t.Fatalf("%d bytes still charged", b.Used())
	}
}

// Reports closed together come out in the order they started.
func TestCloseOrder(t *testing.T) {
	f := newFeeder(Config{})
	for i := 0; i < 50; i++ {
		f.line(fmt.Sprintf("h%02d", i), "", "BUG: soft lockup - CPU#1 stuck for 22s! [a:1]")
	}
	f.a.Flush(EOF)
	for i, r := range f.reports {
		if want := fmt.Sprintf("h%02d", i); r.Host != want {
			t.Fatalf("report %d from %s, want %s", i, r.Host, want)
		}
	}
}

// The wall clock closes every open report when the input went silent, and
// only the untimed hosts' reports (kmsg) when they alone are quiet.
func TestAdvanceWall(t *testing.T) {
	f := newFeeder(Config{})
	w := t0
	f.a.SetWall(w)
	f.line("timed", "", "BUG: soft lockup - CPU#1 stuck for 22s! [a:1]")
	untimed := logline.Line{Host: "kmsg", Kernel: true, Text: []byte("BUG: soft lockup - CPU#2 stuck for 22s! [b:1]"), Uptime: time.Second, HasUptime: true}
	f.a.Add(&untimed, f.now, 99)
	f.a.AdvanceWall(w.Add(time.Minute), time.Minute, false)
	if len(f.reports) != 1 || f.reports[0].Host != "kmsg" || f.reports[0].EndReason != Idle {
		t.Fatalf("quiet untimed host: %+v", f.reports)
	}
	f.a.AdvanceWall(w.Add(time.Hour), time.Minute, false)
	if len(f.reports) != 1 {
		t.Fatal("a timed report closed by the wall clock while the input was not silent")
	}
	f.a.AdvanceWall(w.Add(time.Hour), time.Minute, true)
	if len(f.reports) != 2 || f.reports[1].Host != "timed" {
		t.Fatalf("silent input: %+v", f.reports)
	}
}

// Lines read before the wall clock was first set count as seen then: a
// host silent since stops pinning the watermark once idle has passed.
func TestContextBeforeFirstWall(t *testing.T) {
	f := newFeeder(Config{})
	f.line("h", "", "IPv6: ADDRCONF(NETDEV_CHANGE): veth1: link becomes ready")
	w := t0.Add(time.Hour)
	f.a.SetWall(w)
	if pos, ok := f.a.OldestContext(f.now, time.Minute); !ok || pos != 1 {
		t.Fatalf("fresh context line: %d %v", pos, ok)
	}
	f.a.SetWall(w.Add(time.Minute))
	if pos, ok := f.a.OldestContext(f.now, time.Minute); ok {
		t.Fatalf("context of a host silent for the idle bound still pins position %d", pos)
	}
}

// A boot banner ends the report the host was printing as truncated, with
// reason reboot: the machine restarted and the report will never end.
func TestRebootEndsReport(t *testing.T) {
	f := newFeeder(Config{})
	cut := strings.Split(oopsText, "\n")[:10]
	for _, l := range cut {
		f.line("h", "", l)
	}
	f.line("h", "", "Linux version 6.6.30 (builder@host) (gcc (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC")
	if len(f.reports) != 1 {
		t.Fatalf("%d reports after the boot banner, want 1", len(f.reports))
	}
	if r := f.reports[0]; r.EndReason != Reboot || !r.Truncated || len(r.Lines) != len(cut) {
		t.Fatalf("end %s truncated %v lines %d", r.EndReason, r.Truncated, len(r.Lines))
	}
	// The new boot's lines start afresh.
	f.text("h", oopsText)
	f.a.Flush(EOF)
	if len(f.reports) != 2 || f.reports[1].EndReason != EndMarker {
		t.Fatalf("after the reboot: %d reports", len(f.reports))
	}
}

// A header the kernel prints again after "** replaying previous printk
// message **" is not a new report.
func TestReplayedHeader(t *testing.T) {
	f := newFeeder(Config{})
	f.line("h", "", "WARNING: CPU: 1 PID: 4242 at net/core/dev.c:10896 netdev_run_todo+0x1a3/0x2b0")
	f.line("h", "", "** replaying previous printk message **")
	f.line("h", "", "IPv6: ADDRCONF(NETDEV_CHANGE): veth1: link becomes ready")
	f.a.Flush(EOF)
	if len(f.reports) != 0 {
		t.Fatalf("a replayed header made %d report(s)", len(f.reports))
	}
}

// SLUB debug reports print "INFO:" lines of their own: they are part of the
// report, not reports of the INFO kind.
func TestSLUBReportIsOne(t *testing.T) {
	f := newFeeder(Config{})
	report := []string{
		"BUG kmalloc-128 (Tainted: G        W       ): Object already free",
		"-----------------------------------------------------------------------------",
		"INFO: Allocated in nf_tables_newset+0x8a1/0xe30 age=3 cpu=1 pid=4242",
		"INFO: Freed in nf_tables_abort+0x1a/0x20 age=10 cpu=0 pid=4242",
		"INFO: Slab 0xffffea000068ac00 objects=32 used=20 fp=0xffff88810a6c4e00 flags=0x200000000000200",
		"INFO: Object 0xffff88810a6c4e00 @offset=3584 fp=0xffff88810a6c4f00",
		"CPU: 1 PID: 4242 Comm: nft Tainted: G    B   W          4.18.0 #1",
		"Call Trace:",
		" dump_stack+0x5c/0x80",
		" free_debug_processing+0x2a4/0x2f0",
		" kfree+0x1a5/0x1c0",
		" nf_tables_abort+0x8a1/0xe30 [nf_tables]",
	}
	for _, l := range report {
		f.line("h", "", l)
	}
	f.a.Flush(EOF)
	if len(f.reports) != 1 || len(f.reports[0].Lines) != len(report) {
		t.Fatalf("%d reports, first of %d lines; want one of %d", len(f.reports), len(f.reports[0].Lines), len(report))
	}
}

// A symbolised report repeats its header once per inlined function before
// the real one: one report, not three.
func TestInlineHeaderChain(t *testing.T) {
	f := newFeeder(Config{})
	report := []string{
		"BUG: KASAN: slab-out-of-bounds in instrument_atomic_read include/linux/instrumented.h:68 [inline]",
		"BUG: KASAN: slab-out-of-bounds in atomic_read include/linux/atomic/atomic-instrumented.h:32 [inline]",
		"BUG: KASAN: slab-out-of-bounds in sk_psock_get+0x3e/0x2a0 include/linux/skmsg.h:459",
		"Read of size 4 at addr ffff88802a0b4f08 by task syz-executor.0/5076",
		"Call Trace:",
		" sk_psock_get+0x3e/0x2a0 include/linux/skmsg.h:459",
		"==================================================================",
	}
	for _, l := range report {
		f.line("h", "", l)
	}
	// A second report that merely starts the same way is still two.
	f.text("h", oopsText)
	f.a.Flush(EOF)
	if len(f.reports) != 2 || len(f.reports[0].Lines) != len(report) {
		t.Fatalf("%d reports, first of %d lines; want 2, the first of %d", len(f.reports), len(f.reports[0].Lines), len(report))
	}
}

// Prefetch is a hint: adding the same lines with it, told about the lines
// that follow (with hosts and streams evicted and created in between, so
// that some guesses are wrong), gives the same reports as without it.
func TestPrefetchChangesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	frags := append(strings.Split(oopsText, "\n"), strings.Split(hungText, "\n")...)
	var lines []logline.Line
	for i := 0; i < 20000; i++ {
		text := "IPv6: ADDRCONF(NETDEV_CHANGE): veth0: link becomes ready"
		if rng.IntN(4) == 0 {
			text = frags[rng.IntN(len(frags))]
		}
		at := t0.Add(time.Duration(i) * time.Millisecond)
		lines = append(lines, logline.Line{HostRaw: fmt.Appendf(nil, "h%d", rng.IntN(60)), Caller: fmt.Sprintf("T%d", rng.IntN(3)),
			Kernel: true, Text: []byte(text), Time: at, Uptime: at.Sub(t0), HasUptime: true})
	}
	run := func(ahead bool) []*Report {
		var out []*Report
		a := New(Config{MaxHosts: 40, MaxStreamsPerHost: 2, MaxLines: 40}, func(r *Report) { out = append(out, r) })
		classes := make([]Class, len(lines))
		for i := range lines {
			classes[i] = a.Classify(&lines[i])
		}
		for i := range lines {
			if ahead {
				a.Prefetch(classes[i+1:])
			}
			a.AddClassified(&lines[i], lines[i].Time, int64(i), classes[i])
		}
		a.Flush(EOF)
		return out
	}
	want, got := run(false), run(true)
	if len(want) < 100 {
		t.Fatalf("only %d reports: the test input is too tame", len(want))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("with Prefetch: %d reports, without: %d, or they differ", len(got), len(want))
	}
}

// naiveOldestContext is OldestContext without its shortcuts: every line of
// every ring is looked at.
func naiveOldestContext(a *Assembler, clock time.Time, idle time.Duration) (pos int64, ok bool) {
	for h := a.head; h != nil; h = h.next {
		for _, st := range h.streams {
			if st.ringLen == 0 || st.phase != waiting || (a.wallN != 0 && time.Duration(a.wallN-a.seenWall(st)) >= idle) {
				continue
			}
			last := &st.ring[(st.ringHead+st.ringLen-1)%len(st.ring)]
			for i := 0; i < st.ringLen; i++ {
				if c := &st.ring[(st.ringHead+i)%len(st.ring)]; a.mayBeContext(c, last, clock) && (!ok || c.pos < pos) {
					pos, ok = c.pos, true
				}
			}
		}
	}
	return pos, ok
}

// OldestContext stops at the first live line of a ring and skips rings
// that start after the oldest line found: on random interleavings of hosts
// and callers, with gaps around the context window, untimed lines, reports
// and the wall clock moving, it answers as the full walk does.
func TestOldestContextAgreesWithFullWalk(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 20; round++ {
		cfg := Config{ContextLines: 1 + r.IntN(6), ContextWindow: time.Duration(1+r.IntN(50)) * time.Millisecond}
		a := New(cfg, func(*Report) {})
		now := t0
		wall := t0
		checked := 0
		for pos := int64(1); pos <= 3000; pos++ {
			now = now.Add(time.Duration(r.IntN(20)) * time.Millisecond)
			l := logline.Line{Host: fmt.Sprintf("h%d", r.IntN(12)), Kernel: true, Text: []byte(fmt.Sprintf("line %d", pos)), Time: now}
			if r.IntN(3) == 0 {
				l.Caller = fmt.Sprintf("T%d", r.IntN(3))
			}
			if r.IntN(4) != 0 {
				l.Uptime, l.HasUptime = now.Sub(t0)+time.Duration(r.IntN(5))*time.Millisecond, true
			}
			if r.IntN(5) == 0 {
				l.Time = time.Time{}
			}
			if r.IntN(200) == 0 {
				l.Text = []byte("BUG: soft lockup - CPU#1 stuck for 22s! [a:1]")
			}
			a.Add(&l, now, pos)
			if r.IntN(50) == 0 {
				wall = wall.Add(time.Duration(r.IntN(3000)) * time.Millisecond)
				a.SetWall(wall)
			}
			idle := time.Duration(1+r.IntN(2000)) * time.Millisecond
			got, gotOK := a.OldestContext(now, idle)
			want, wantOK := naiveOldestContext(a, now, idle)
			if got != want || gotOK != wantOK {
				t.Fatalf("round %d, line %d: OldestContext = %d, %v; the full walk: %d, %v", round, pos, got, gotOK, want, wantOK)
			}
			if gotOK {
				checked++
			}
		}
		if checked < 100 {
			t.Fatalf("round %d: only %d answers had a line: the test checks too little", round, checked)
		}
	}
}
