package assemble

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The host table agrees with a map under random inserts and removals, with
// hashes drawn from a small set so that probes run long and collide.
func TestHostTable(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var tab hostTable
	ref := map[string]*host{}
	for i := 0; i < 20000; i++ {
		name := fmt.Sprintf("h%d", r.IntN(300))
		hash := uint64(r.IntN(5)) // few hashes: every name collides
		if h := ref[name]; h != nil {
			hash = h.hash
		}
		got := tab.find(hash, []byte(name))
		if got != ref[name] {
			t.Fatalf("step %d: find %s: %p, want %p", i, name, got, ref[name])
		}
		switch {
		case got == nil:
			h := &host{name: name, hash: hash}
			tab.insert(h)
			ref[name] = h
		case r.IntN(2) == 0:
			tab.remove(got)
			delete(ref, name)
		}
		if tab.n != len(ref) {
			t.Fatalf("step %d: %d hosts, want %d", i, tab.n, len(ref))
		}
	}
	for name, h := range ref {
		if tab.find(h.hash, []byte(name)) != h {
			t.Fatalf("%s lost", name)
		}
	}
}
