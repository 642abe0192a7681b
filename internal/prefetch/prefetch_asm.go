//go:build amd64 || arm64

package prefetch

// addr prefetches the cache line at a.
//
//go:noescape
func addr(a uintptr)
