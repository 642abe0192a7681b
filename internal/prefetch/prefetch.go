// Package prefetch asks the processor to start loading memory that will be
// read soon, without waiting for it. A loop that will chase pointers for
// several independent items (the state of the hosts of the next few log
// lines) can prefetch them some items ahead, so that their cache misses
// overlap instead of following one another.
//
// Prefetching is a hint: it never faults, changes no memory and may be
// ignored. On architectures without an implementation here, Line does
// nothing.
package prefetch

import "unsafe"

// CacheLine is the size of the unit Line loads, in bytes, on the processors
// this package targets.
const CacheLine = 64

// Line prefetches the cache line that holds p into all cache levels. p may
// be nil or point anywhere: a prefetch never faults.
func Line(p unsafe.Pointer) { addr(uintptr(p)) }

// Lines prefetches the n cache lines starting at the one that holds p; they
// may run past the end of p's object.
func Lines(p unsafe.Pointer, n int) {
	for i := 0; i < n; i++ {
		addr(uintptr(p) + uintptr(i*CacheLine)) // an address, never a pointer: it may lie past p's object
	}
}
