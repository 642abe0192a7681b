//go:build oopsflow_noop

package main

import (
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"

	"github.com/oopsflow/oopsflow/processor/fluentbit"
)

// handleChunk of the benchmark's baseline build only decodes the records:
// the cost of being a Go plugin at all.
func handleChunk(_ *fluentbit.Instance, data unsafe.Pointer, length int) int {
	n := 0
	decode(data, length, func(fluentbit.Record) { n++ })
	return output.FLB_OK
}
