package draft

import (
	"strings"
	"testing"

	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/oops"
)

func TestKernel(t *testing.T) {
	for _, tc := range []struct {
		release, scheme, releases, from string
	}{
		{"3.10.0-514.26.2.el7.x86_64", "rpm", `^3\.10\.0-514\.`, "3.10.0-514.26.2.el7"},
		{"4.19.91-21.al7.x86_64", "rpm", `^4\.19\.91-21\.`, "4.19.91-21.al7"},
		{"4.14.0-115.el7a.0.1.aarch64", "rpm", `^4\.14\.0-115\.`, "4.14.0-115.el7a.0.1"},
		{"5.15.0-1075-azure", "dpkg", `^5\.15\.0-\d+-azure$`, "5.15.0-1075-azure"},
		{"6.1.0-18-amd64", "dpkg", `^6\.1\.0-\d+-amd64$`, "6.1.0-18-amd64"},
		{"4.19.221", "upstream", `^4\.19\.`, "4.19.221"},
		{"6.8.0-rc3-next-20240208", "upstream", `^6\.8\.`, "6.8.0"},
		{"", "", "", ""},
		{"weird", "", "", ""},
	} {
		k, ok := Kernel(tc.release)
		if ok != (tc.scheme != "") || k.Scheme != tc.scheme || k.Releases != tc.releases || k.AffectedFrom != tc.from {
			t.Errorf("Kernel(%q) = %+v, %v; want %s %s %s", tc.release, k, ok, tc.scheme, tc.releases, tc.from)
		}
	}
}

// The distinctive frames are the blamed function's callers, past entry
// points, dispatchers and helpers.
func TestDistinctive(t *testing.T) {
	fr := func(names ...string) []oops.Frame {
		var out []oops.Frame
		for _, n := range names {
			out = append(out, oops.Frame{Function: strings.TrimPrefix(n, "?"), Reliable: !strings.HasPrefix(n, "?")})
		}
		return out
	}
	for _, tc := range []struct {
		fn    string
		trace []oops.Frame
		want  string
	}{
		{"copy_net_ns", fr("__schedule", "schedule", "schedule_preempt_disabled", "__mutex_lock", "copy_net_ns", "create_new_namespaces", "unshare_nsproxy_namespaces"), "create_new_namespaces unshare_nsproxy_namespaces"},
		{"__free_pages", fr("ceph_aio_read", "do_sync_read", "vfs_read", "SyS_read", "system_call_fastpath"), "ceph_aio_read"},
		{"", fr("?bogus", "kthread", "my_driver_work.isra.3", "process_one_work", "other_fn"), "my_driver_work other_fn"},
		{"f", fr("entry_SYSCALL_64", "do_syscall_64"), ""},
	} {
		got, _ := distinctive(tc.trace, tc.fn)
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: %v, want %s", tc.fn, got, tc.want)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	d := &document.Document{Error: document.Error{StackTrace: "x"}, Oops: document.Oops{Type: "warning", Title: "WARNING: corrupted", Corrupted: true}}
	if _, err := New(d, "some-bug", ""); err == nil || !strings.Contains(err.Error(), "nothing to recognise") {
		t.Fatalf("a report with no function and no frame: %v", err)
	}
	if _, err := New(d, "Some Bug", ""); err == nil || !strings.Contains(err.Error(), "lower-case") {
		t.Fatalf("bad id: %v", err)
	}
	d.Error.StackTrace = ""
	d.Oops.Function = "foo"
	if _, err := New(d, "some-bug", ""); err == nil {
		t.Fatal("a report without text drafted")
	}
}
