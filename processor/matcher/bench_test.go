package matcher

import (
	"testing"

	"github.com/oopsflow/oopsflow/processor/oops"
	"github.com/oopsflow/oopsflow/signatures"
)

func BenchmarkMatch(b *testing.B) {
	sigs, err := Load(signatures.FS)
	if err != nil {
		b.Fatal(err)
	}
	m := New(sigs)
	o := &oops.Oops{Type: "null_pointer_dereference", Function: "d_delete", IP: &oops.Frame{Function: "_raw_spin_lock"},
		FaultAddress: "0x88", Kernel: "4.19.91-21.al7.x86_64",
		CallTrace: []oops.Frame{{Function: "d_delete", Reliable: true}, {Function: "vfs_rmdir", Reliable: true}}}
	b.ReportAllocs()
	for b.Loop() {
		if !m.Match(o, nil).Known() {
			b.Fatal("no match")
		}
	}
}
