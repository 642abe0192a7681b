package prefetch

import (
	"testing"
	"unsafe"
)

// A prefetch never faults, whatever it is given: nil, an address
// past the end of a slice.
func TestNeverFaults(t *testing.T) {
	b := make([]byte, 100)
	Line(nil)
	Line(unsafe.Pointer(&b[0]))
	Lines(unsafe.Pointer(&b[0]), 3) // runs past the slice
	Lines(nil, 2)
	for i := range b {
		if b[i] != 0 {
			t.Fatal("prefetch changed memory")
		}
	}
}
