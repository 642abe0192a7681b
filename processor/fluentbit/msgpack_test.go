package fluentbit

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"

	"github.com/oopsflow/oopsflow/processor/logline"
)

// enc is a small msgpack writer for test chunks, with every width of every
// type so that edge cases can be written on purpose.
type enc struct{ bytes.Buffer }

func (e *enc) nil()          { e.WriteByte(0xc0) }
func (e *enc) bool(v bool)   { e.WriteByte(map[bool]byte{false: 0xc2, true: 0xc3}[v]) }
func (e *enc) raw(b ...byte) { e.Write(b) }
func (e *enc) uint(v uint64, width int) {
	switch width {
	case 0:
		e.WriteByte(byte(v))
	case 1:
		e.raw(0xcc, byte(v))
	case 2:
		e.raw(0xcd)
		e.Write(binary.BigEndian.AppendUint16(nil, uint16(v)))
	case 4:
		e.raw(0xce)
		e.Write(binary.BigEndian.AppendUint32(nil, uint32(v)))
	default:
		e.raw(0xcf)
		e.Write(binary.BigEndian.AppendUint64(nil, v))
	}
}
func (e *enc) int(v int64, width int) {
	switch width {
	case 0:
		e.WriteByte(byte(int8(v)))
	case 1:
		e.raw(0xd0, byte(int8(v)))
	case 2:
		e.raw(0xd1)
		e.Write(binary.BigEndian.AppendUint16(nil, uint16(int16(v))))
	case 4:
		e.raw(0xd2)
		e.Write(binary.BigEndian.AppendUint32(nil, uint32(int32(v))))
	default:
		e.raw(0xd3)
		e.Write(binary.BigEndian.AppendUint64(nil, uint64(v)))
	}
}
func (e *enc) f64(v float64) {
	e.raw(0xcb)
	e.Write(binary.BigEndian.AppendUint64(nil, math.Float64bits(v)))
}
func (e *enc) f32(v float32) {
	e.raw(0xca)
	e.Write(binary.BigEndian.AppendUint32(nil, math.Float32bits(v)))
}
func (e *enc) str(s string, width int) {
	n := len(s)
	switch {
	case width == 0 && n < 32:
		e.WriteByte(0xa0 | byte(n))
	case width <= 1 && n < 256:
		e.raw(0xd9, byte(n))
	case width <= 2:
		e.raw(0xda)
		e.Write(binary.BigEndian.AppendUint16(nil, uint16(n)))
	default:
		e.raw(0xdb)
		e.Write(binary.BigEndian.AppendUint32(nil, uint32(n)))
	}
	e.WriteString(s)
}
func (e *enc) bin(b []byte) {
	e.raw(0xc4, byte(len(b)))
	e.Write(b)
}
func (e *enc) array(n int) {
	if n < 16 {
		e.WriteByte(0x90 | byte(n))
		return
	}
	e.raw(0xdc)
	e.Write(binary.BigEndian.AppendUint16(nil, uint16(n)))
}
func (e *enc) mapn(n int) {
	if n < 16 {
		e.WriteByte(0x80 | byte(n))
		return
	}
	e.raw(0xde)
	e.Write(binary.BigEndian.AppendUint16(nil, uint16(n)))
}
func (e *enc) eventTime(sec, nsec uint32, long bool) {
	if long {
		e.raw(0xc7, 8, 0)
	} else {
		e.raw(0xd7, 0)
	}
	e.Write(binary.BigEndian.AppendUint32(nil, sec))
	e.Write(binary.BigEndian.AppendUint32(nil, nsec))
}

// libRecord is what fluent-bit-go's decoder makes of a record.
type libRecord struct {
	t   time.Time
	rec map[string]any
}

// library decodes a chunk as the plugin did before it read chunks in place.
func library(chunk []byte) []libRecord {
	var out []libRecord
	if len(chunk) == 0 {
		return nil
	}
	dec := output.NewDecoder(unsafe.Pointer(&chunk[0]), len(chunk))
	for {
		rc, ts, rec := output.GetRecord(dec)
		if rc == -1 {
			return out
		}
		if rc < 0 {
			continue
		}
		var t time.Time
		switch v := ts.(type) {
		case output.FLBTime:
			if v.Unix() >= 0xFFFFFFFE {
				continue
			}
			t = v.UTC()
		case uint64:
			if v >= 0xFFFFFFFE {
				continue
			}
			t = time.Unix(int64(v), 0).UTC()
		case int64:
			t = time.Unix(v, 0).UTC()
		case float64:
			sec, frac := math.Modf(v)
			t = time.Unix(int64(sec), int64(frac*1e9)).UTC()
		}
		body := map[string]any{}
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
			body[key] = v
		}
		out = append(out, libRecord{t, body})
	}
}

// ours reads a chunk in place; the fields are compared through the same
// interface the decoder uses.
func ours(chunk []byte, keys []string) []libRecord {
	var out []libRecord
	Records(chunk, func(ts time.Time, m *RecordMap) {
		body := map[string]any{}
		for _, k := range keys {
			if _, ok := m.find(k); ok {
				body[k] = snapshot(m, k)
			}
		}
		out = append(out, libRecord{ts, body})
	})
	return out
}

// snapshot is what logline.Fields says of a key.
type answer struct {
	has   bool
	str   string
	strOK bool
	num   float64
	numOK bool
}

func snapshot(f logline.Fields, k string) answer {
	var a answer
	a.has = f.Has(k)
	s, ok := f.Str(k)
	a.str, a.strOK = string(s), ok
	a.num, a.numOK = f.Num(k)
	return a
}

func compare(t *testing.T, name string, chunk []byte, keys []string) {
	t.Helper()
	lib, got := library(chunk), ours(chunk, keys)
	if len(lib) != len(got) {
		t.Fatalf("%s: the library reads %d records, ours %d", name, len(lib), len(got))
	}
	for i := range lib {
		if !lib[i].t.Equal(got[i].t) {
			t.Fatalf("%s: record %d: time %v, library %v", name, i, got[i].t, lib[i].t)
		}
		lf := logline.MapFields(lib[i].rec)
		for _, k := range keys {
			want := snapshot(lf, k)
			var have answer
			if a, ok := got[i].rec[k].(answer); ok {
				have = a
			}
			if math.IsNaN(want.num) && math.IsNaN(have.num) {
				want.num, have.num = 0, 0
			}
			if want != have {
				t.Fatalf("%s: record %d key %q: ours %+v, library %+v (library value %#v)", name, i, k, have, want, lib[i].rec[k])
			}
		}
	}
}

// Our in-place reader agrees with fluent-bit-go's decoder on the edge cases
// of both event formats.
func TestRecordsAgreeWithLibrary(t *testing.T) {
	keys := []string{"log", "message", "MESSAGE", "host", "_HOSTNAME", "priority", "sec", "usec", "n", "f", "nested", "arr", "bin", "nil", "dup", "neg"}
	cases := map[string]func(e *enc){
		"v1 event time": func(e *enc) {
			e.array(2)
			e.eventTime(1700000000, 123456789, false)
			e.mapn(2)
			e.str("log", 0)
			e.str("kernel: BUG: x", 0)
			e.str("host", 1)
			e.str("node-1", 0)
		},
		"v1 ext8 time, integer time": func(e *enc) {
			e.array(2)
			e.eventTime(1700000001, 5, true)
			e.mapn(1)
			e.str("message", 2)
			e.str("hello", 2)
			e.array(2)
			e.uint(1700000002, 4)
			e.mapn(1)
			e.str("log", 0)
			e.str("x", 0)
		},
		"v2 with metadata and group markers": func(e *enc) {
			e.array(2) // group start
			e.array(2)
			e.eventTime(0xFFFFFFFF, 0, false)
			e.mapn(0)
			e.mapn(0)
			e.array(2)
			e.array(2)
			e.eventTime(1700000003, 7, false)
			e.mapn(1)
			e.str("otel", 0)
			e.mapn(1)
			e.str("a", 0)
			e.uint(1, 0)
			e.mapn(1)
			e.str("log", 0)
			e.str("v2 line", 0)
			e.array(2) // group end
			e.array(2)
			e.eventTime(0xFFFFFFFE, 0, false)
			e.mapn(0)
			e.mapn(0)
		},
		"v2 signed and float times, odd time": func(e *enc) {
			for _, ts := range []func(){func() { e.int(-5, 1) }, func() { e.f64(1700000004.25) }, func() { e.f32(1.5) }, func() { e.str("no", 0) }, func() { e.int(1700000005, 8) }} {
				e.array(2)
				e.array(2)
				ts()
				e.nil()
				e.mapn(1)
				e.str("log", 0)
				e.str("t", 0)
			}
		},
		"v1 times the library skips": func(e *enc) {
			for _, ts := range []func(){func() { e.f64(1700000004.5) }, func() { e.int(-1, 0) }, func() { e.int(1700000006, 4) }, func() { e.str("x", 0) }, func() { e.raw(0xd7, 5, 0, 0, 0, 0, 0, 0, 0, 0) }} {
				e.array(2)
				ts()
				e.mapn(1)
				e.str("log", 0)
				e.str("skipped", 0)
			}
			e.array(2)
			e.uint(0xFFFFFFFF, 8) // a marker as an integer
			e.mapn(0)
		},
		"entries that are not pairs": func(e *enc) {
			e.array(3)
			e.uint(1, 0)
			e.uint(2, 0)
			e.uint(3, 0)
			e.str("a string", 0)
			e.mapn(0)
			e.array(2)
			e.uint(1700000007, 4)
			e.str("not a map", 0)
			e.array(2)
			e.array(1) // v2 time array too short
			e.uint(1, 0)
			e.mapn(0)
			e.array(2)
			e.uint(1700000008, 4)
			e.mapn(1)
			e.str("log", 0)
			e.str("after the bad ones", 0)
		},
		"values of every kind": func(e *enc) {
			e.array(2)
			e.uint(1700000009, 4)
			e.mapn(13)
			e.str("n", 0)
			e.int(-300, 2)
			e.str("neg", 0)
			e.int(-1, 0)
			e.str("f", 0)
			e.f32(2.5)
			e.str("priority", 0)
			e.str("6", 0) // a number in a string
			e.str("sec", 0)
			e.uint(1<<40, 8)
			e.str("nested", 0)
			e.mapn(1)
			e.str("log", 0)
			e.str("inner", 0)
			e.str("arr", 0)
			e.array(3) // journald's repeated field: the first is kept
			e.str("first", 0)
			e.str("second", 0)
			e.uint(3, 0)
			e.str("MESSAGE", 0)
			e.array(3) // journald's non-UTF-8 message: byte values
			e.uint(104, 0)
			e.uint(200, 1)
			e.uint(105, 0)
			e.str("bin", 0)
			e.bin([]byte{0xff, 0, 'x'})
			e.str("nil", 0)
			e.nil()
			// A repeated key: the last value wins. (The library decodes a
			// repeated key's value into the first one's memory: values of
			// another length or type come out corrupted or stop the
			// chunk, so only equal lengths can be compared.)
			e.str("dup", 0)
			e.str("first value", 0)
			e.str("dup", 0)
			e.str("later value", 0)
			e.uint(7, 0) // a key that is not a string
			e.str("its value", 0)
		},
		"big keys and values, ext values": func(e *enc) {
			e.array(2)
			e.eventTime(1700000010, 0, false)
			e.mapn(3)
			e.str("log", 4)
			e.str(string(bytes.Repeat([]byte("y"), 70000)), 4)
			e.str("usec", 0)
			e.raw(0xd6, 1, 0, 0, 0, 1) // fixext 4 of another type
			e.str("host", 0)
			e.bool(true)
		},
		"bad bytes stop the chunk": func(e *enc) {
			e.array(2)
			e.uint(1700000011, 4)
			e.mapn(1)
			e.str("log", 0)
			e.str("before", 0)
			e.raw(0xc1) // never used in msgpack
			e.array(2)
			e.uint(1700000012, 4)
			e.mapn(0)
		},
		"truncated": func(e *enc) {
			e.array(2)
			e.uint(1700000013, 4)
			e.mapn(1)
			e.str("log", 0)
			e.raw(0xdb, 0, 0, 0x10, 0, 'a') // a string longer than the chunk
		},
	}
	for name, build := range cases {
		var e enc
		build(&e)
		compare(t, name, e.Bytes(), keys)
	}
}

// Random chunks, including random bytes, agree too.
func TestRecordsAgreeOnRandomChunks(t *testing.T) {
	keys := []string{"a", "b", "log", "c"}
	r := rand.New(rand.NewPCG(11, 12))
	var value func(e *enc, depth int)
	value = func(e *enc, depth int) {
		switch k := r.IntN(12); {
		case k == 0:
			e.nil()
		case k == 1:
			e.uint(r.Uint64()>>r.IntN(64), []int{0, 1, 2, 4, 8}[r.IntN(5)])
		case k == 2:
			e.int(-r.Int64N(1<<40), []int{0, 1, 2, 4, 8}[r.IntN(5)])
		case k == 3:
			e.f64(r.NormFloat64())
		case k == 4 && depth < 3:
			n := r.IntN(4)
			e.array(n)
			for i := 0; i < n; i++ {
				value(e, depth+1)
			}
		case k == 5 && depth < 3:
			n := r.IntN(3)
			e.mapn(n)
			for _, i := range r.Perm(len(keys))[:n] { // distinct keys (see the repeated key case)
				e.str(keys[i], 0)
				value(e, depth+1)
			}
		case k == 6:
			e.bin([]byte{byte(r.IntN(256))})
		default:
			e.str(string(rune('a'+r.IntN(26))), r.IntN(3))
		}
	}
	for round := 0; round < 3000; round++ {
		var e enc
		for i := r.IntN(6); i >= 0; i-- {
			e.array(2)
			switch r.IntN(4) {
			case 0:
				e.eventTime(uint32(r.IntN(2e9)), uint32(r.IntN(1e9)), r.IntN(2) == 0)
			case 1:
				e.uint(uint64(r.IntN(2e9)), 4)
			case 2:
				e.array(2)
				e.eventTime(uint32(r.IntN(2e9)), 0, false)
				value(&e, 1)
			default:
				value(&e, 1)
			}
			n := r.IntN(5)
			e.mapn(n)
			for _, j := range r.Perm(len(keys))[:n] {
				e.str(keys[j], 0)
				value(&e, 1)
			}
		}
		chunk := e.Bytes()
		if r.IntN(4) == 0 && len(chunk) > 0 { // damage it
			chunk[r.IntN(len(chunk))] = byte(r.IntN(256))
		}
		if duplicateKeys(chunk) {
			continue // the library's answer is corrupt there (see the repeated key case)
		}
		if t.Failed() {
			return
		}
		lib, got := library(chunk), ours(chunk, keys)
		if len(lib) != len(got) {
			t.Fatalf("round %d: library %d records, ours %d, chunk %x", round, len(lib), len(got), chunk)
		}
		compare(t, "random", chunk, keys)
	}
}

// Reading records in place allocates nothing per record.
func TestRecordsAllocations(t *testing.T) {
	chunk := func(records int) []byte {
		var e enc
		for i := 0; i < records; i++ {
			e.array(2)
			e.eventTime(1700000000, uint32(i), false)
			e.mapn(3)
			e.str("log", 0)
			e.str("kernel: [ 1.0] IPv6: ADDRCONF(NETDEV_CHANGE): veth0: link becomes ready", 1)
			e.str("host", 0)
			e.str("node-1", 0)
			e.str("priority", 0)
			e.uint(6, 0)
		}
		return e.Bytes()
	}
	n := 0
	count := func(ts time.Time, m *RecordMap) {
		if _, ok := m.Str("log"); ok {
			n++
		}
	}
	small, large := chunk(10), chunk(1000)
	a := testing.AllocsPerRun(20, func() { Records(small, count) })
	b := testing.AllocsPerRun(20, func() { Records(large, count) })
	if b > a {
		t.Fatalf("%.0f allocations for 10 records, %.0f for 1000: records allocate", a, b)
	}
}

// duplicateKeys reports a map, anywhere in the chunk, with a key twice.
func duplicateKeys(b []byte) bool {
	var walk func(b []byte, depth int) ([]byte, bool)
	walk = func(b []byte, depth int) ([]byte, bool) {
		if depth > maxDepth {
			return nil, false
		}
		if n, rest, err := mapHeader(b); err == nil {
			seen := map[string]bool{}
			for i := 0; i < n; i++ {
				key := ""
				if k, _, isStr, err := stringOrBinary(rest); err == nil && isStr {
					key = "s" + string(k)
				} else if x, ok := number(rest); ok {
					key = fmt.Sprint("n", x)
				} else if after, err := skipValue(rest, depth+1); err == nil {
					key = "r" + string(rest[:len(rest)-len(after)])
				}
				if key != "" && seen[key] {
					return nil, true
				}
				seen[key] = true
				for j := 0; j < 2; j++ {
					var dup bool
					if rest, dup = walk(rest, depth+1); dup || rest == nil {
						return nil, dup
					}
				}
			}
			return rest, false
		}
		if n, rest, err := arrayHeader(b); err == nil {
			for i := 0; i < n; i++ {
				var dup bool
				if rest, dup = walk(rest, depth+1); dup || rest == nil {
					return nil, dup
				}
			}
			return rest, false
		}
		rest, err := skipValue(b, depth)
		if err != nil {
			return nil, false
		}
		return rest, false
	}
	for len(b) > 0 {
		rest, dup := walk(b, 0)
		if dup {
			return true
		}
		if rest == nil {
			return false
		}
		b = rest
	}
	return false
}

// carefulRecords is Records without its one-pass reading: each entry's end
// is found first, then the entry is read.
func carefulRecords(chunk []byte, fn func(ts time.Time, m *RecordMap)) int {
	return records(chunk, fn, readCareful)
}

// Records reads a well-formed entry in one pass and anything else the
// careful way; the two agree on values nested around the depth bound (in
// v1 and v2 entries, as keys' values and in the metadata), on cut and
// damaged chunks, and on random ones.
func TestRecordsOnePassAgreesWithCareful(t *testing.T) {
	dump := func(read func([]byte, func(time.Time, *RecordMap)) int, chunk []byte) string {
		var out strings.Builder
		skipped := read(chunk, func(ts time.Time, m *RecordMap) {
			fmt.Fprintf(&out, "%v:", ts.UnixNano())
			for i := range m.kv {
				fmt.Fprintf(&out, " %q=%x", m.key(i), m.val(i))
			}
			out.WriteString("\n")
		})
		fmt.Fprintf(&out, "skipped %d", skipped)
		return out.String()
	}
	nested := func(e *enc, depth int) {
		for i := 0; i < depth; i++ {
			e.array(1)
		}
		e.str("x", 0)
	}
	var chunks [][]byte
	for depth := 25; depth <= 40; depth++ {
		for _, v2 := range []bool{false, true} {
			for _, inMeta := range []bool{false, true} {
				var e enc
				e.array(2)
				if v2 {
					e.array(2)
					e.eventTime(1, 2, false)
					if inMeta {
						nested(&e, depth)
					} else {
						e.mapn(0)
					}
				} else {
					e.eventTime(1, 2, false)
				}
				e.mapn(2)
				e.str("log", 0)
				e.str("line", 0)
				e.str("deep", 0)
				nested(&e, depth)
				e.array(2) // a good entry after it
				e.eventTime(3, 4, false)
				e.mapn(1)
				e.str("log", 0)
				e.str("next", 0)
				chunks = append(chunks, bytes.Clone(e.Bytes()))
			}
		}
	}
	r := rand.New(rand.NewPCG(13, 14))
	base := chunks[0]
	for i := 0; i < 5000; i++ {
		c := bytes.Clone(chunks[r.IntN(len(chunks))])
		if len(c) == 0 {
			continue
		}
		switch r.IntN(3) {
		case 0:
			c = c[:r.IntN(len(c))]
		case 1:
			c[r.IntN(len(c))] = byte(r.IntN(256))
		default:
			c = append(c, base[:r.IntN(len(base))]...)
		}
		chunks = append(chunks, c)
	}
	onePass := 0
	for _, c := range chunks {
		got, want := dump(Records, c), dump(carefulRecords, c)
		if got != want {
			t.Fatalf("chunk %x:\none pass:\n%s\ncareful:\n%s", c, got, want)
		}
		var m RecordMap
		if _, _, ok, stop, rest := readEntry(c, &m); ok && !stop && rest != nil {
			onePass++
		}
	}
	if onePass < 100 {
		t.Fatalf("only %d chunks began with an entry read in one pass: the test compares too little", onePass)
	}
}
