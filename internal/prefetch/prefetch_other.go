//go:build !amd64 && !arm64

package prefetch

// addr would prefetch the cache line at a; on this architecture it does
// nothing.
func addr(a uintptr) {}
