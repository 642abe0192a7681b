package main

import (
	"math"
	"time"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"

	"github.com/oopsflow/oopsflow/processor/fluentbit"
)

// decode yields the records of a chunk in both event formats ([ts, map] and
// [[ts, meta], map]). A record that is not a [timestamp, map] pair is
// skipped, not the rest of the chunk; group markers are skipped.
func decode(data unsafe.Pointer, length int, yield func(fluentbit.Record)) {
	dec := output.NewDecoder(data, length)
	for {
		rc, ts, rec := output.GetRecord(dec)
		if rc == -1 { // end of data (or an undecodable byte sequence)
			return
		}
		if rc < 0 {
			continue
		}
		t, marker := timestamp(ts)
		if marker {
			continue
		}
		yield(fluentbit.Record{Time: t, Body: body(rec)})
	}
}

// groupStart is the seconds value of group start (and, minus one, end)
// markers.
const groupStart = 0xFFFFFFFF

// timestamp reads EventTime, integer and float timestamps.
func timestamp(ts any) (time.Time, bool) {
	switch v := ts.(type) {
	case output.FLBTime:
		if sec := v.Unix(); sec >= groupStart-1 {
			return time.Time{}, true
		}
		return v.UTC(), false
	case uint64:
		if v >= groupStart-1 {
			return time.Time{}, true
		}
		return time.Unix(int64(v), 0).UTC(), false
	case int64:
		return time.Unix(v, 0).UTC(), false
	case float64:
		sec, frac := math.Modf(v)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), false
	case time.Time:
		return v.UTC(), false
	}
	return time.Time{}, false
}

// body converts a record to string keys. Values stay as decoded ([]byte
// strings, numbers); a journald field repeated in the journal arrives as
// an array of strings, of which the first is kept.
func body(rec map[any]any) map[string]any {
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		var key string
		switch kk := k.(type) {
		case string:
			key = kk
		case []byte:
			key = string(kk)
		default:
			continue
		}
		if arr, ok := v.([]any); ok && len(arr) > 0 {
			switch arr[0].(type) {
			case []byte, string:
				v = arr[0]
			}
		}
		out[key] = v
	}
	return out
}
