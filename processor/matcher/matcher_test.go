package matcher

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/oopsflow/oopsflow/processor/oops"
	"github.com/oopsflow/oopsflow/signatures"
)

func TestLoadBuiltin(t *testing.T) {
	sigs, err := Load(signatures.FS)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ceph-aio-read-free-null-page", "netfs-rreq-unlock-xa-retry", "netns-cleanup-inet-frags-spin", "overlayfs-dentry-refcount-leak", "tcp-listener-released-socket"}
	got := New(sigs).SortedIDs()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("ids %v, want %v", got, want)
	}
}

// A bad rule is a clear error naming the file and the field, never a skip.
func TestLoadErrors(t *testing.T) {
	tests := []struct{ dir, file, field, reason string }{
		{"typo", "overlayfs-dentry-refcount-leak.yaml", "/match/0/require/1", "equal"},
		{"badregex", "overlayfs-dentry-refcount-leak.yaml", "/match/0/support/3/matches", "missing closing )"},
		{"dupid", "overlayfs-dentry-refcount-leak.yaml", "/id", "already used"},
		{"badversion", "overlayfs-dentry-refcount-leak.yaml", "/kernels/0/last_affected", "rpm version"},
		{"missingexample", "overlayfs-dentry-refcount-leak.yaml", "/examples/2/file", "raw-spin-lock-from-iput.log"},
		{"nameid", "other-name.yaml", "/id", "must equal the file name"},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			sigs, err := Load(os.DirFS("testdata/" + tc.dir))
			if err == nil {
				t.Fatalf("loaded %d signatures, want an error", len(sigs))
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("not a ValidationError: %v", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.file) || !strings.Contains(msg, tc.field) || !strings.Contains(msg, tc.reason) {
				t.Fatalf("error %q should name %s, %s and %q", msg, tc.file, tc.field, tc.reason)
			}
		})
	}
}

func TestFixStatus(t *testing.T) {
	sigs, err := Load(signatures.FS)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*Signature{}
	for _, s := range sigs {
		byID[s.ID] = s
	}
	tests := []struct{ id, release, want string }{
		// dpkg: the ABI number orders Ubuntu kernels, not string order.
		{"netfs-rreq-unlock-xa-retry", "5.15.0-1075-azure", Affected},
		{"netfs-rreq-unlock-xa-retry", "5.15.0-1082-azure", Affected},
		{"netfs-rreq-unlock-xa-retry", "5.15.0-1083-azure", Fixed},
		{"netfs-rreq-unlock-xa-retry", "5.15.0-1100-azure", Fixed},    // "1100" < "1083" as strings
		{"netfs-rreq-unlock-xa-retry", "5.15.0-1070-azure", Unknown},  // before the first known affected
		{"netfs-rreq-unlock-xa-retry", "5.15.0-105-generic", Unknown}, // not an azure kernel
		{"netfs-rreq-unlock-xa-retry", "", Unknown},
		// rpm: 4.19.91-22.2.al7 is the last affected Alibaba Cloud Linux 2 kernel.
		{"overlayfs-dentry-refcount-leak", "4.19.91-21.al7.x86_64", Affected},
		{"overlayfs-dentry-refcount-leak", "4.19.91-22.2.al7.x86_64", Affected},
		{"overlayfs-dentry-refcount-leak", "4.19.91-22.10.al7.x86_64", Fixed}, // 22.10 > 22.2 in rpm, not in strings
		{"overlayfs-dentry-refcount-leak", "4.19.91-24.al7.x86_64", Fixed},
		{"overlayfs-dentry-refcount-leak", "4.19.91-9.al7.x86_64", Affected}, // 9 < 22 numerically
		// upstream numbering.
		{"netns-cleanup-inet-frags-spin", "4.16.13-1.el7.elrepo.x86_64", Affected},
		{"netns-cleanup-inet-frags-spin", "4.19.9", Affected},
		{"netns-cleanup-inet-frags-spin", "4.19.10", Fixed},
		{"netns-cleanup-inet-frags-spin", "4.19.100", Fixed},
		{"netns-cleanup-inet-frags-spin", "5.4.0-100-generic", Unknown},
		{"tcp-listener-released-socket", "4.19.218", Affected},
		{"tcp-listener-released-socket", "4.19.221", Fixed},
		{"tcp-listener-released-socket", "4.14.0-115.el7a.0.1.aarch64", Affected},
		{"tcp-listener-released-socket", "4.14.0-200.el7a.aarch64", Unknown},
	}
	for _, tc := range tests {
		got, _ := byID[tc.id].FixStatus(tc.release)
		if got != tc.want {
			t.Errorf("%s on %q: %s, want %s", tc.id, tc.release, got, tc.want)
		}
	}
}

func TestMatchConfidenceAndReasons(t *testing.T) {
	sigs, err := Load(signatures.FS)
	if err != nil {
		t.Fatal(err)
	}
	m := New(sigs)
	full := &oops.Oops{
		Type: "null_pointer_dereference", Function: "d_delete", IP: &oops.Frame{Function: "_raw_spin_lock"},
		FaultAddress: "0x88", Kernel: "4.19.91-21.al7.x86_64",
		CallTrace: []oops.Frame{{Function: "d_delete", Reliable: true}, {Function: "vfs_rmdir", Reliable: true}},
	}
	r := m.Match(full, nil)
	if !r.Known() || r.Signature.ID != "overlayfs-dentry-refcount-leak" || r.Confidence != 1 || len(r.Reasons) != 6 || r.FixStatus != Affected {
		t.Fatalf("full match: %+v", r)
	}
	// Only the required conditions: a match, with lower confidence.
	bare := &oops.Oops{Type: "null_pointer_dereference", Function: "d_delete"}
	r = m.Match(bare, nil)
	if !r.Known() || r.Confidence >= 0.5 || r.FixStatus != Unknown {
		t.Fatalf("bare match: %+v", r)
	}
	// A look-alike: same helper, another caller.
	other := &oops.Oops{Type: "null_pointer_dereference", Function: "inode_lru_isolate", IP: &oops.Frame{Function: "_raw_spin_lock"}, FaultAddress: "0x88"}
	if r := m.Match(other, nil); r.Known() {
		t.Fatalf("look-alike matched %s", r.Signature.ID)
	}
	// Compiler suffixes do not hide a function.
	suffixed := &oops.Oops{Type: "soft_lockup", CallTrace: []oops.Frame{{Function: "inet_evict_bucket.isra.8", Reliable: true}}}
	if r := m.Match(suffixed, nil); !r.Known() || r.Signature.ID != "netns-cleanup-inet-frags-spin" {
		t.Fatalf("suffixed frame: %+v", r)
	}
}

func TestNotAndWithin(t *testing.T) {
	eq := func(s string) *string { return &s }
	c := Condition{Field: "frames", Equals: eq("b"), Within: 1, Weight: 1}
	o := &oops.Oops{CallTrace: []oops.Frame{{Function: "a", Reliable: true}, {Function: "b", Reliable: true}}}
	if ok, _ := c.eval(o, nil); ok {
		t.Fatal("within 1 saw the second frame")
	}
	c.Within = 2
	if ok, _ := c.eval(o, nil); !ok {
		t.Fatal("within 2 missed the second frame")
	}
	c.Not = true
	if ok, _ := c.eval(o, nil); ok {
		t.Fatal("not did not negate")
	}
}
