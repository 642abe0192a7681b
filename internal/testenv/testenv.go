// Package testenv holds what the test binaries of several packages share.
package testenv

import (
	"os"
	"testing"
)

// Main runs m's tests with XDG_CACHE_HOME in a fresh directory, so that no
// test reads or writes the user's cache (the upstream index lives there),
// and exits with their status.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "oopsflow-test-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
