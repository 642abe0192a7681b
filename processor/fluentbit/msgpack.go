package fluentbit

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/oopsflow/oopsflow/processor/logline"
)

// The records of a Fluent Bit chunk are read in place: a chunk is a run of
// msgpack arrays, [timestamp, map] (the v1 event format) or [[timestamp,
// metadata], map] (v2, Fluent Bit 2.1 and later), where timestamp is
// msgpack's extension type 0 ("EventTime": seconds and nanoseconds, 32 bits
// each, big-endian), an integer, or a float. Group start and end markers
// (v2, timestamp seconds -1 and -2) carry no log record. Nothing is copied
// and nothing is converted into Go maps: a record is the list of its keys
// and the still-encoded bytes of each value, and the decoder asks for the
// few keys it knows.

// errBad stops reading a chunk at bytes that are not msgpack: nothing after
// them can be found again.
var errBad = errors.New("not msgpack")

// maxDepth bounds the nesting of values that are skipped (metadata, nested
// maps): a hostile chunk cannot exhaust the stack.
const maxDepth = 32

// RecordMap is one record's map: keys and their encoded values, aliasing
// the chunk. It implements logline.Fields.
type RecordMap struct {
	buf []byte // the map's entries
	kv  []kv
}

// kv places a key and its whole encoded value in buf. Offsets rather than
// slices: no pointers to write for each key of each record.
type kv struct {
	key, val, end int // key is buf[key:val], its value buf[val:end]
}

func (m *RecordMap) key(i int) []byte { return m.buf[m.kv[i].key:m.kv[i].val] }
func (m *RecordMap) val(i int) []byte { return m.buf[m.kv[i].val:m.kv[i].end] }

// Records calls fn for each log record of a chunk, in order, and returns
// the number of records skipped: entries that are not [timestamp, map]
// pairs, or the rest of the chunk from bytes that are not msgpack on. The
// RecordMap given to fn is valid only during the call.
func Records(chunk []byte, fn func(ts time.Time, m *RecordMap)) (skipped int) {
	return records(chunk, fn, readOnePass)
}

// entryReader reads the entry at the start of a chunk (see readEntry) and
// returns what follows it.
type entryReader func(chunk []byte, m *RecordMap) (ts time.Time, marker, ok, stop bool, rest []byte)

func records(chunk []byte, fn func(ts time.Time, m *RecordMap), read entryReader) (skipped int) {
	var m RecordMap
	for len(chunk) > 0 {
		ts, marker, ok, stop, rest := read(chunk, &m)
		switch {
		case stop:
			return skipped + 1
		case !ok:
			skipped++
		case marker:
		default:
			fn(ts, &m)
		}
		chunk = rest
	}
	return skipped
}

// readOnePass reads the common case, a well-formed entry, in one pass, and
// anything else again once its end is known.
func readOnePass(chunk []byte, m *RecordMap) (ts time.Time, marker, ok, stop bool, rest []byte) {
	if ts, marker, ok, stop, rest = readEntry(chunk, m); !ok || stop || rest == nil {
		return readCareful(chunk, m)
	}
	return ts, marker, ok, stop, rest
}

// readCareful finds where the entry at the start of chunk ends (stop when
// nothing after it can be found again), then reads the entry alone.
func readCareful(chunk []byte, m *RecordMap) (ts time.Time, marker, ok, stop bool, rest []byte) {
	rest, err := skipValue(chunk, 0)
	if err != nil {
		return ts, false, false, true, nil
	}
	ts, marker, ok, stop, _ = readEntry(chunk[:len(chunk)-len(rest)], m)
	return ts, marker, ok, stop, rest
}

// readEntry reads one [timestamp, map] or [[timestamp, meta], map] entry at
// the start of b, accepting the timestamps fluent-bit-go's decoder accepts:
// an EventTime or an unsigned integer in [ts, map]; in [[ts, meta], map],
// those and signed integers and floats, and any other value as no time.
// stop is set for an entry that makes the library give up on the chunk (a
// map key that is an array, a map or an extension). rest is what follows
// the entry's map once it was read whole, nil otherwise. Values are skipped
// at the depth they have in the chunk, as skipValue over the entry would.
func readEntry(b []byte, m *RecordMap) (ts time.Time, marker, ok, stop bool, rest []byte) {
	n, b, err := arrayHeader(b)
	if err != nil || n != 2 {
		return ts, false, false, false, nil
	}
	head := b
	if b, err = skipValue(b, 1); err != nil {
		return ts, false, false, false, nil
	}
	if n, inner, err := arrayHeader(head); err == nil { // v2
		if n < 2 {
			return ts, false, false, false, nil
		}
		ts, marker, _ = timestamp(inner, true)
	} else if ts, marker, ok = timestamp(head, false); !ok {
		return ts, false, false, false, nil
	}
	rest, ok, stop = m.read(b, 2)
	if stop {
		return ts, false, false, true, nil
	}
	if marker {
		return ts, true, true, false, rest
	}
	return ts, false, ok, false, rest
}

// timestamp reads an EventTime (extension type 0: seconds and nanoseconds,
// in its first 8 bytes) or a uint 8..64 of seconds; with signed, also a fixint or
// int and a float. (fluent-bit-go's decoder reads fixints as signed and
// takes only unsigned integers in the v1 format.) Group markers have seconds 0xFFFFFFFF (start)
// or 0xFFFFFFFE (end).
func timestamp(b []byte, signed bool) (ts time.Time, marker, ok bool) {
	if len(b) == 0 {
		return ts, false, false
	}
	var body []byte
	typ, data, _, isExt := extension(b)
	switch c := b[0]; {
	case isExt && typ == 0 && len(data) >= 8: // the library reads the first 8 bytes
		body = data[:8]
	case isExt:
		return ts, false, false
	case c == 0xcb && signed && len(b) >= 9:
		return seconds(math.Float64frombits(binary.BigEndian.Uint64(b[1:9]))), false, true
	case c == 0xca && signed && len(b) >= 5:
		return seconds(float64(math.Float32frombits(binary.BigEndian.Uint32(b[1:5])))), false, true
	case c >= 0xcc && c <= 0xcf: // uint 8 to 64
		v, _, _ := integer(b)
		if v >= 0xFFFFFFFE {
			return ts, true, true
		}
		return time.Unix(int64(v), 0).UTC(), false, true
	case signed && (c <= 0x7f || c >= 0xe0 || c >= 0xd0 && c <= 0xd3): // read as signed, as the library does

		v, _, _ := integer(b)
		return time.Unix(int64(v), 0).UTC(), false, true
	default:
		return ts, false, false
	}
	sec := binary.BigEndian.Uint32(body[0:4])
	if sec >= 0xFFFFFFFE {
		return ts, true, true
	}
	return time.Unix(int64(sec), int64(binary.BigEndian.Uint32(body[4:8]))).UTC(), false, true
}

func seconds(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// read indexes a map's keys and returns what follows the map. Keys that
// are not strings are left out; a key that is an array, a map or an
// extension stops the chunk (stop). depth is the nesting of the map's keys
// and values, for skipValue's bound.
func (m *RecordMap) read(b []byte, depth int) (rest []byte, ok, stop bool) {
	n, b, err := mapHeader(b)
	if err != nil {
		return nil, false, false
	}
	m.buf, m.kv = b, m.kv[:0]
	for i := 0; i < n; i++ {
		if unhashable(b) {
			return nil, false, true
		}
		key, rest, isStr, err := stringOrBinary(b)
		if err != nil {
			if rest, err = skipValue(b, depth); err != nil {
				return nil, false, false
			}
		}
		after, err := skipValue(rest, depth)
		if err != nil {
			return nil, false, false
		}
		if isStr {
			val := len(m.buf) - len(rest) // where the key ends
			m.kv = append(m.kv, kv{key: val - len(key), val: val, end: len(m.buf) - len(after)})
		}
		b = after
	}
	return b, true, false
}

// unhashable reports a value the library cannot use as a map key: an
// array, a map, or an extension other than the EventTime.
func unhashable(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch c := b[0]; {
	case c >= 0x80 && c <= 0x9f, c == 0xdc, c == 0xdd, c == 0xde, c == 0xdf:
		return true
	}
	typ, _, _, ok := extension(b)
	return ok && typ != 0
}

// extension reads an extension value: its type, its data and what follows.
// ok is false for a value that is not one (or is cut short).
func extension(b []byte) (typ int8, data, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, b, false
	}
	var n, h int
	switch c := b[0]; {
	case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16
		n, h = 1<<(c-0xd4), 1
	case c == 0xc7:
		n, h = int(b[1]), 2
	case c == 0xc8 && len(b) >= 3:
		n, h = int(binary.BigEndian.Uint16(b[1:3])), 3
	case c == 0xc9 && len(b) >= 5:
		n, h = int(binary.BigEndian.Uint32(b[1:5])), 5
	default:
		return 0, nil, b, false
	}
	if len(b) < h+1 || n < 0 || len(b)-h-1 < n {
		return 0, nil, b, false
	}
	return int8(b[h]), b[h+1 : h+1+n], b[h+1+n:], true
}

// find returns the value of the last key equal to k (a repeated key's last
// value wins, as when the record is read into a map). An array whose first
// element is a string stands for that string: journald repeats a field as
// an array of its values.
func (m *RecordMap) find(k string) ([]byte, bool) {
	for i := len(m.kv) - 1; i >= 0; i-- {
		if string(m.key(i)) != k {
			continue
		}
		v := m.val(i)
		if n, elems, err := arrayHeader(v); err == nil && n > 0 {
			if _, _, isStr, err := stringOrBinary(elems); err == nil && isStr {
				if rest, err := skipValue(elems, 0); err == nil {
					return elems[:len(elems)-len(rest)], true
				}
			}
		}
		return v, true
	}
	return nil, false
}

// Has reports a key whose value is not nil.
func (m *RecordMap) Has(k string) bool {
	v, ok := m.find(k)
	return ok && len(v) > 0 && v[0] != 0xc0
}

// Str returns a string or binary value, or the bytes of an array of small
// numbers (journald's form of a message that is not UTF-8).
func (m *RecordMap) Str(k string) ([]byte, bool) {
	v, ok := m.find(k)
	if !ok {
		return nil, false
	}
	if s, _, isStr, err := stringOrBinary(v); err == nil && isStr {
		return s, true
	}
	n, elems, err := arrayHeader(v)
	if err != nil {
		return nil, false
	}
	if n == 0 {
		return []byte{}, true // no byte values: an empty message
	}
	out := make([]byte, 0, n)
	for i := 0; i < n; i++ {
		x, ok := number(elems)
		if !ok || x < 0 || x > 255 {
			return nil, false
		}
		out = append(out, byte(x))
		if elems, err = skipValue(elems, 0); err != nil {
			return nil, false
		}
	}
	return out, true
}

// Num returns a number, or a string holding a decimal integer.
func (m *RecordMap) Num(k string) (float64, bool) {
	v, ok := m.find(k)
	if !ok {
		return 0, false
	}
	if x, ok := number(v); ok {
		return x, true
	}
	if s, _, isStr, err := stringOrBinary(v); err == nil && isStr {
		n, ok := logline.ParseInt(s)
		return float64(n), ok
	}
	return 0, false
}

// number reads an integer or a float value.
func number(v []byte) (float64, bool) {
	if x, isInt, neg := integer(v); isInt {
		if neg {
			return float64(int64(x)), true
		}
		return float64(x), true
	}
	switch {
	case len(v) >= 9 && v[0] == 0xcb:
		return math.Float64frombits(binary.BigEndian.Uint64(v[1:9])), true
	case len(v) >= 5 && v[0] == 0xca:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(v[1:5]))), true
	}
	return 0, false
}

// integer reads an integer value: x is its bits (two's complement when neg).
func integer(b []byte) (x uint64, isInt, neg bool) {
	if len(b) == 0 {
		return 0, false, false
	}
	c := b[0]
	switch {
	case c <= 0x7f:
		return uint64(c), true, false
	case c >= 0xe0:
		return uint64(int64(int8(c))), true, true
	}
	var size int
	switch c {
	case 0xcc, 0xd0:
		size = 1
	case 0xcd, 0xd1:
		size = 2
	case 0xce, 0xd2:
		size = 4
	case 0xcf, 0xd3:
		size = 8
	}
	if size == 0 || len(b) < 1+size {
		return 0, false, false
	}
	p := b[1 : 1+size]
	signed := c >= 0xd0
	switch size {
	case 1:
		if signed {
			v := int64(int8(p[0]))
			return uint64(v), true, v < 0
		}
		return uint64(p[0]), true, false
	case 2:
		u := binary.BigEndian.Uint16(p)
		if signed {
			v := int64(int16(u))
			return uint64(v), true, v < 0
		}
		return uint64(u), true, false
	case 4:
		u := binary.BigEndian.Uint32(p)
		if signed {
			v := int64(int32(u))
			return uint64(v), true, v < 0
		}
		return uint64(u), true, false
	default:
		u := binary.BigEndian.Uint64(p)
		if signed {
			return u, true, int64(u) < 0
		}
		return u, true, false
	}
}

// stringOrBinary reads a str or bin value: its bytes, what follows, and
// whether it was one (err only for a truncated one).
func stringOrBinary(b []byte) (s, rest []byte, ok bool, err error) {
	if len(b) == 0 {
		return nil, b, false, errBad
	}
	c := b[0]
	var n, h int
	switch {
	case c >= 0xa0 && c <= 0xbf:
		n, h = int(c&0x1f), 1
	case c == 0xd9 || c == 0xc4:
		if len(b) < 2 {
			return nil, b, false, errBad
		}
		n, h = int(b[1]), 2
	case c == 0xda || c == 0xc5:
		if len(b) < 3 {
			return nil, b, false, errBad
		}
		n, h = int(binary.BigEndian.Uint16(b[1:3])), 3
	case c == 0xdb || c == 0xc6:
		if len(b) < 5 {
			return nil, b, false, errBad
		}
		n, h = int(binary.BigEndian.Uint32(b[1:5])), 5
	default:
		return nil, b, false, errBad
	}
	if n < 0 || len(b)-h < n {
		return nil, b, false, errBad
	}
	return b[h : h+n], b[h+n:], true, nil
}

// arrayHeader reads an array's length; b is then at its first element.
func arrayHeader(b []byte) (int, []byte, error) {
	if len(b) == 0 {
		return 0, b, errBad
	}
	switch c := b[0]; {
	case c >= 0x90 && c <= 0x9f:
		return int(c & 0x0f), b[1:], nil
	case c == 0xdc && len(b) >= 3:
		return int(binary.BigEndian.Uint16(b[1:3])), b[3:], nil
	case c == 0xdd && len(b) >= 5:
		return int(binary.BigEndian.Uint32(b[1:5])), b[5:], nil
	}
	return 0, b, errBad
}

// mapHeader reads a map's length; b is then at its first key.
func mapHeader(b []byte) (int, []byte, error) {
	if len(b) == 0 {
		return 0, b, errBad
	}
	switch c := b[0]; {
	case c >= 0x80 && c <= 0x8f:
		return int(c & 0x0f), b[1:], nil
	case c == 0xde && len(b) >= 3:
		return int(binary.BigEndian.Uint16(b[1:3])), b[3:], nil
	case c == 0xdf && len(b) >= 5:
		return int(binary.BigEndian.Uint32(b[1:5])), b[5:], nil
	}
	return 0, b, errBad
}

// skipValue returns what follows the value at the start of b.
func skipValue(b []byte, depth int) ([]byte, error) {
	if len(b) == 0 || depth > maxDepth {
		return b, errBad
	}
	c := b[0]
	fixed := func(n int) ([]byte, error) {
		if len(b) < n {
			return b, errBad
		}
		return b[n:], nil
	}
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
		return b[1:], nil
	case c >= 0xa0 && c <= 0xbf, c == 0xd9, c == 0xda, c == 0xdb, c == 0xc4, c == 0xc5, c == 0xc6:
		_, rest, _, err := stringOrBinary(b)
		return rest, err
	case c == 0xcc, c == 0xd0:
		return fixed(2)
	case c == 0xcd, c == 0xd1:
		return fixed(3)
	case c == 0xce, c == 0xd2, c == 0xca:
		return fixed(5)
	case c == 0xcf, c == 0xd3, c == 0xcb:
		return fixed(9)
	case c >= 0xd4 && c <= 0xd8, c == 0xc7, c == 0xc8, c == 0xc9:
		typ, data, rest, ok := extension(b)
		if !ok || typ == 0 && len(data) < 8 {
			return b, errBad // an EventTime shorter than 8 bytes: the library fails
		}
		return rest, nil
	case c >= 0x90 && c <= 0x9f, c == 0xdc, c == 0xdd:
		n, rest, err := arrayHeader(b)
		if err != nil {
			return b, err
		}
		for i := 0; i < n; i++ {
			if rest, err = skipValue(rest, depth+1); err != nil {
				return b, err
			}
		}
		return rest, nil
	case c >= 0x80 && c <= 0x8f, c == 0xde, c == 0xdf:
		n, rest, err := mapHeader(b)
		if err != nil {
			return b, err
		}
		for i := 0; i < 2*n; i++ {
			if i%2 == 0 && unhashable(rest) {
				return b, errBad // the library gives up on such a key
			}
			if rest, err = skipValue(rest, depth+1); err != nil {
				return b, err
			}
		}
		return rest, nil
	}
	return b, errBad // 0xc1 is never used
}

// Len returns the number of string keys, a repeated key once for each time.
func (m *RecordMap) Len() int { return len(m.kv) }
