package oops

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the parser's output")

// readCase reads testdata/NAME.txt: lines starting with "#ctx " are context
// printed before the report, the rest is the report.
func readCase(t *testing.T, path string) (ctx, lines []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if c, ok := strings.CutPrefix(l, "#ctx "); ok {
			ctx = append(ctx, c)
		} else {
			lines = append(lines, l)
		}
	}
	return ctx, lines
}

// TestGolden parses every testdata/*.txt report and compares the result with
// its .golden.json. Run "go test ./processor/oops -update" after an
// intended change and review the diff.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) < 20 {
		t.Fatalf("only %d golden cases found", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			ctx, lines := readCase(t, f)
			got, err := json.MarshalIndent(Parse(ctx, lines), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(f, ".txt") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if strings.TrimSpace(string(want)) != string(got) {
				t.Errorf("parse differs from %s:\n%s", golden, got)
			}
		})
	}
}

// The title policy (syzkaller's): the first candidate frame that survives
// the skip list, with system call prefixes removed.
func TestBlame(t *testing.T) {
	for _, tc := range []struct{ file, fn, title string }{
		// The IP function is blamed: __free_pages is not a skipped helper.
		{"x86_old_3_10_free_pages", "__free_pages", "BUG: unable to handle kernel NULL pointer dereference in __free_pages"},
		{"x86_raw_spin_lock_d_delete", "d_delete", "BUG: unable to handle kernel NULL pointer dereference in d_delete"},
		{"hung_task_copy_net_ns", "copy_net_ns", "INFO: task hung in copy_net_ns"},
		{"x86_null_deref_netfs", "netfs_rreq_unlock", "BUG: unable to handle kernel NULL pointer dereference in netfs_rreq_unlock"},
		{"arm64_4_14_paging_request", "__inet_lookup_listener", "BUG: unable to handle kernel paging request in __inet_lookup_listener"},
		// "<EOI> [ts] [<addr>] ? fn" lines of old kernels carry frames.
		{"rcu_stall_old_eoi_marker", "smp_call_function", "INFO: rcu detected stall in smp_call_function"},
		// A call to a bad address: the caller is blamed even if a helper.
		{"null_deref_bad_rip", "process_one_work", "BUG: unable to handle kernel NULL pointer dereference in process_one_work"},
		// 32-bit compat ioctl wrappers are passed over for the handler.
		{"rcu_stall_compat_ioctl", "kvm_vm_ioctl", "INFO: rcu detected stall in kvm_vm_ioctl"},
		// "...Call Trace:" glued to a stack dump line.
		{"preemptible_glued_trace", "ipcomp_init_state", "BUG: using __this_cpu_read() in preemptible code in ipcomp_init_state"},
		// One system call prefix is removed: compat_SyS_mount is "mount".
		{"soft_lockup_compat_syscall", "mount", "BUG: soft lockup in mount"},
		{"workqueue_leaked_lock", "addrconf_dad_work", "BUG: workqueue leaked lock or atomic in addrconf_dad_work"},
	} {
		ctx, lines := readCase(t, "testdata/"+tc.file+".txt")
		o := Parse(ctx, lines)
		if o.Function != tc.fn || o.Title != tc.title {
			t.Errorf("%s: function %q title %q, want %q %q", tc.file, o.Function, o.Title, tc.fn, tc.title)
		}
	}
}

// The fingerprint ignores hosts, addresses, PIDs, CPUs, offsets and times.
func TestFingerprintStable(t *testing.T) {
	ctx, lines := readCase(t, "testdata/x86_null_deref_netfs.txt")
	a := Parse(ctx, lines)
	mutate := strings.NewReplacer(
		"address: 0000000000000402", "address: 0000000000000ff8",
		"CPU: 4 PID: 2688731 Comm: kworker/4:2", "CPU: 17 PID: 991 Comm: kworker/17:0",
		"netfs_rreq_unlock+0xf7/0x3c0", "netfs_rreq_unlock+0x101/0x3d0",
		"netfs_rreq_assess+0x1b4/0x4f0", "netfs_rreq_assess+0x1c4/0x510",
		"ffffb9f7c7b4bc58", "ffffa1a1a1a1a1a1",
		"5.15.0-1075-azure", "5.15.0-1079-azure",
	)
	var other []string
	for _, l := range lines {
		other = append(other, mutate.Replace(l))
	}
	b := Parse(ctx, other)
	if a.Fingerprint != b.Fingerprint || a.Title != b.Title {
		t.Fatalf("fingerprint changed with addresses/PIDs/CPUs/offsets: %s %q vs %s %q", a.Fingerprint, a.Title, b.Fingerprint, b.Title)
	}
	ctx2, lines2 := readCase(t, "testdata/x86_raw_spin_lock_d_delete.txt")
	if c := Parse(ctx2, lines2); c.Fingerprint == a.Fingerprint {
		t.Fatal("different bugs share a fingerprint")
	}
}

func TestNoHeaderNeverPanics(t *testing.T) {
	for _, lines := range [][]string{nil, {""}, {"random text"}, {"Call Trace:", " ? x+0x1/0x2"}, {strings.Repeat("\xff", 1000)}} {
		o := Parse(nil, lines)
		if o.Fingerprint == "" {
			t.Errorf("%q: no fingerprint", lines)
		}
	}
}
