package fluentbit

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/internal/fleetgen"
	"github.com/oopsflow/oopsflow/signatures"
)

// fleetChunks returns ~2 MB chunks of generated fleet syslog, one record
// ({"log": line}) per line, as Fluent Bit's tail input makes them.
func fleetChunks(b *testing.B, lines int64) (chunks [][]byte, records int) {
	var buf bytes.Buffer
	if _, err := fleetgen.Generate(&buf, fleetgen.Config{Lines: lines, Hosts: 2000, Seed: 5, Examples: signatures.FS}); err != nil {
		b.Fatal(err)
	}
	var e enc
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		ts := t0.Add(time.Duration(i) * time.Microsecond)
		e.array(2)
		e.eventTime(uint32(ts.Unix()), uint32(ts.Nanosecond()), false)
		e.mapn(1)
		e.str("log", 0)
		e.str(line, 1)
		records++
		if e.Len() >= 2<<20 {
			chunks = append(chunks, bytes.Clone(e.Bytes()))
			e.Reset()
		}
	}
	if e.Len() > 0 {
		chunks = append(chunks, bytes.Clone(e.Bytes()))
	}
	return chunks, records
}

// BenchmarkInstanceFlush: records through Instance.Flush (the plugin's logic
// without the C ABI), reading the records in place; op is one record.
func BenchmarkInstanceFlush(b *testing.B) {
	chunks, records := fleetChunks(b, 200_000)
	in, err := New(Config{ID: "bench", Output: "ndjson", Path: filepath.Join(b.TempDir(), "out.ndjson"), RetryWait: time.Millisecond, MaxPendingChunks: 1 << 20}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Exit()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		c := chunks[n%len(chunks)]
		// Each delivery is a new chunk to the instance (a redelivery
		// would be acknowledged unread): vary the first record's
		// nanoseconds (after the array, fixext header and seconds).
		binary.BigEndian.PutUint32(c[7:11], uint32(n))
		in.Flush(c, func(yield func(Record)) {
			Records(c, func(ts time.Time, m *RecordMap) { yield(Record{Time: ts, Fields: m}) })
		})
		n++
	}
	b.ReportMetric(float64(records)/float64(len(chunks))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
