//go:build !oopsflow_noop

package main

import (
	"unsafe"

	"github.com/oopsflow/oopsflow/processor/fluentbit"
)

// handleChunk runs a chunk through the instance.
func handleChunk(in *fluentbit.Instance, data unsafe.Pointer, length int) int {
	chunk := unsafe.Slice((*byte)(data), length) // valid until Flush returns
	return in.Flush(chunk, func(yield func(fluentbit.Record)) { decode(data, length, yield) })
}
