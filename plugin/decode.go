package main

import (
	"time"
	"unsafe"

	"github.com/oopsflow/oopsflow/processor/fluentbit"
)

// decode yields the records of a chunk in both event formats ([ts, map] and
// [[ts, meta], map]), read in place (fluentbit.Records): nothing is copied
// and no map is built. A record that is not a [timestamp, map] pair is
// skipped, not the rest of the chunk; group markers are skipped.
func decode(data unsafe.Pointer, length int, yield func(fluentbit.Record)) {
	chunk := unsafe.Slice((*byte)(data), length)
	fluentbit.Records(chunk, func(ts time.Time, m *fluentbit.RecordMap) {
		yield(fluentbit.Record{Time: ts, Fields: m})
	})
}
