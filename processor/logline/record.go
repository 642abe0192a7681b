package logline

import (
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fastjson"
)

// Fields is read access to a structured record's keys: maps, parsed JSON
// lines (journald exports, Kafka values), and the Fluent Bit plugin's
// msgpack records read in place. The decoding rules are written once
// against this interface.
type Fields interface {
	// Str returns a string value (or journald's array-of-bytes form) as
	// bytes, which may alias the record until the next Decode.
	Str(key string) ([]byte, bool)
	// Num returns a number, or a string holding a decimal integer.
	Num(key string) (float64, bool)
	// Has reports a key with a value that is not nil.
	Has(key string) bool
}

// KeyCounter is implemented by Fields that know how many keys they hold
// (repeated keys may count more than once). The decoder stops looking for
// keys once it has found that many: a Fluent Bit tail record {"log": line}
// costs one look-up instead of a dozen.
type KeyCounter interface {
	Len() int
}

// lookups counts the keys a record was found to hold, to tell when none
// can be left to find.
type lookups struct {
	keys  int // keys the record holds; -1: unknown
	found int
}

// lookupsFor starts counting the keys found in rec. Counting needs the key
// names looked up (Message, Host, Ident, Time) to be distinct, so that no key of
// the record is counted twice; with configured names that repeat one, it
// is off. Keys must not change once the decoder is in use.
func (d *Decoder) lookupsFor(rec Fields) lookups {
	if d.keysDistinct == 0 {
		d.keysDistinct = -1
		k := d.keys()
		seen := map[string]bool{}
		for _, names := range [][]string{k.Message, k.Host, k.Ident, k.Time} {
			for _, n := range names {
				if seen[n] {
					return lookups{keys: -1}
				}
				seen[n] = true
			}
		}
		d.keysDistinct = 1
	}
	if c, ok := rec.(KeyCounter); ok && d.keysDistinct > 0 {
		return lookups{keys: c.Len()}
	}
	return lookups{keys: -1}
}

// more says whether a look-up can still find a key.
func (k *lookups) more() bool { return k.keys < 0 || k.found < k.keys }

// mapFields reads a map whose values may be strings, []byte (Fluent Bit
// hands msgpack strings to Go as []byte), numbers or arrays of byte values.
type mapFields map[string]any

// MapFields reads a map as Fields (see DecodeRecord for its values).
func MapFields(m map[string]any) Fields { return mapFields(m) }

func (m mapFields) Has(k string) bool { v, ok := m[k]; return ok && v != nil }

// Len returns the number of keys.
func (m mapFields) Len() int { return len(m) }

func (m mapFields) Str(k string) ([]byte, bool) {
	switch x := m[k].(type) {
	case string:
		return []byte(x), true
	case []byte:
		return x, true
	case []any: // journald writes non-UTF-8 messages as an array of byte values
		b := make([]byte, 0, len(x))
		for _, e := range x {
			n, ok := number(e)
			if !ok || n < 0 || n > 255 {
				return nil, false
			}
			b = append(b, byte(n))
		}
		return b, true
	}
	return nil, false
}

func (m mapFields) Num(k string) (float64, bool) {
	v := m[k]
	if s, ok := v.(string); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		return float64(n), err == nil
	}
	if b, ok := v.([]byte); ok {
		n, ok := ParseInt(b)
		return float64(n), ok
	}
	return number(v)
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

// jsonFields reads a parsed JSON object without copying.
type jsonFields struct{ v *fastjson.Value }

// Len returns the number of keys (repeated keys count each time).
func (j jsonFields) Len() int {
	o, err := j.v.Object()
	if err != nil {
		return -1
	}
	return o.Len()
}

func (j jsonFields) Has(k string) bool {
	v := j.v.Get(k)
	return v != nil && v.Type() != fastjson.TypeNull
}

func (j jsonFields) Str(k string) ([]byte, bool) {
	v := j.v.Get(k)
	if v == nil {
		return nil, false
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return b, true
	case fastjson.TypeArray:
		arr, _ := v.Array()
		b := make([]byte, 0, len(arr))
		for _, e := range arr {
			n, err := e.Int()
			if err != nil || n < 0 || n > 255 {
				return nil, false
			}
			b = append(b, byte(n))
		}
		return b, true
	}
	return nil, false
}

func (j jsonFields) Num(k string) (float64, bool) {
	v := j.v.Get(k)
	if v == nil {
		return 0, false
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		f, err := v.Float64()
		return f, err == nil
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		n, ok := ParseInt(b)
		return float64(n), ok
	}
	return 0, false
}

// decodeJSON decodes a JSON object line: journald's export format
// (journalctl -o json) or a record with configurable keys.
func (d *Decoder) decodeJSON(raw []byte, l *Line) error {
	// A parser's values live until its next parse: a JSON line nested in a
	// JSON record gets a parser of its own, and deeper nesting is refused.
	var p **fastjson.Parser
	switch d.depth {
	case 0:
		p = &d.parser
	case 1:
		p = &d.inner
	default:
		return fmt.Errorf("%w: JSON nested too deep", ErrNotLog)
	}
	if *p == nil {
		*p = new(fastjson.Parser)
	}
	d.depth++
	defer func() { d.depth-- }()
	v, err := (*p).ParseBytes(raw)
	if err != nil {
		return fmt.Errorf("%w: invalid JSON: %v", ErrNotLog, err)
	}
	if v.Type() != fastjson.TypeObject {
		return fmt.Errorf("%w: JSON value is not an object", ErrNotLog)
	}
	if err := d.decodeFields(jsonFields{v}, time.Time{}, l); err != nil {
		return err
	}
	if l.Format == FormatRecord {
		l.Format = FormatJSON
	}
	return nil
}

// DecodeRecord decodes a structured record: a journald entry, a Fluent Bit
// record from its kmsg, syslog, systemd or tail input, or any map whose keys
// are named by d.Keys. Values may be strings, byte slices, numbers or, for
// journald's MESSAGE, arrays of bytes. ts is the record's own timestamp,
// used when the record carries none; it may be zero.
func (d *Decoder) DecodeRecord(rec map[string]any, ts time.Time, l *Line) error {
	return d.decodeFields(mapFields(rec), ts, l)
}

// DecodeFields is DecodeRecord for any Fields.
func (d *Decoder) DecodeFields(rec Fields, ts time.Time, l *Line) error {
	return d.decodeFields(rec, ts, l)
}

func (d *Decoder) decodeFields(rec Fields, ts time.Time, l *Line) error {
	// Each way below starts l afresh: the raw line's (the most common
	// record, {"log": line}) through Decode, which does so itself.
	fresh := Line{Level: -1, Seq: -1, Format: FormatRecord, Time: ts}
	k := d.keys()

	// journald (also Fluent Bit's systemd input, which keeps journald's names).
	if rec.Has("MESSAGE") {
		*l = fresh
		l.Format = FormatJournald
		msg, ok := rec.Str("MESSAGE")
		if !ok {
			return fmt.Errorf("%w: journald record without a usable MESSAGE", ErrNotLog)
		}
		l.Text = msg
		if h, ok := rec.Str("_HOSTNAME"); ok && len(h) > 0 {
			d.setHost(l, h)
		} else {
			l.Host = d.hostFrom(rec, nil)
		}
		if b, ok := rec.Str("_BOOT_ID"); ok && len(b) > 0 {
			l.Boot = d.internBytes(b)
		}
		if t, ok := rec.Str("_TRANSPORT"); ok {
			l.Kernel = string(t) == "kernel"
		}
		if us, ok := rec.Num("__REALTIME_TIMESTAMP"); ok {
			l.Time = time.UnixMicro(int64(us)).UTC()
		}
		if l.Kernel {
			if us, ok := rec.Num("_SOURCE_MONOTONIC_TIMESTAMP"); ok {
				l.Uptime, l.HasUptime = time.Duration(us)*time.Microsecond, true
			}
		}
		if p, ok := rec.Num("PRIORITY"); ok {
			l.Level = int8(int(p) & 7)
		}
		if l.Kernel {
			d.kernelPrefix(l)
		}
		return nil
	}

	// Fluent Bit kmsg input: priority, sequence, sec, usec, msg; no host.
	if pri, ok := rec.Num("priority"); ok && rec.Has("msg") {
		*l = fresh
		l.Text, _ = rec.Str("msg")
		l.Kernel = true
		l.Level = int8(int(pri) & 7)
		if seq, ok := rec.Num("sequence"); ok {
			l.Seq = int64(seq)
		}
		if sec, ok := rec.Num("sec"); ok {
			usec, _ := rec.Num("usec")
			l.Uptime, l.HasUptime = time.Duration(sec)*time.Second+time.Duration(usec)*time.Microsecond, true
		}
		l.Host = d.hostFrom(rec, nil)
		return nil
	}

	var text []byte
	msgKey := ""
	for _, key := range k.Message {
		if b, ok := rec.Str(key); ok {
			text, msgKey = b, key
			break
		}
	}
	if msgKey == "" {
		*l = fresh
		return fmt.Errorf("%w: record has none of the message keys %v", ErrNotLog, k.Message)
	}
	keys := d.lookupsFor(rec)
	keys.found++
	host := d.hostFrom(rec, &keys)
	var ident []byte
	identFound := false
	for _, key := range k.Ident {
		if !keys.more() {
			break
		}
		if b, ok := rec.Str(key); ok {
			ident, identFound = b, true
			keys.found++
			break
		}
	}
	if !identFound {
		// A raw line (tail input's "log", or a syslog line relayed as is):
		// decode it as a line and let the record fill what the line lacks.
		saved := d.DefaultHost
		if host != "" {
			d.DefaultHost = host
		}
		err := d.Decode(text, l)
		d.DefaultHost = saved
		if err != nil {
			return fmt.Errorf("record key %q: %w", msgKey, err)
		}
		if l.Host == "" && len(l.HostRaw) == 0 {
			l.Host = host
		}
		if l.Time.IsZero() {
			l.Time = ts
			if keys.more() { // a time key may be left
				l.Time = d.recordTime(rec, ts)
			}
		}
		return nil
	}
	// Fluent Bit syslog input (pri, time, host, ident, pid, message) and
	// parsed records of the same shape.
	*l = fresh
	l.Text = text
	l.Host = host
	l.Kernel = string(ident) == "kernel"
	l.Time = d.recordTime(rec, ts)
	if p, ok := rec.Num("pri"); ok {
		l.Level = int8(int(p) & 7)
	}
	if l.Kernel {
		d.kernelPrefix(l)
	}
	return nil
}

// hostFrom returns the host a record names, or the default host. keys,
// when not nil, counts the key found and cuts the search short.
func (d *Decoder) hostFrom(rec Fields, keys *lookups) string {
	for _, key := range d.keys().Host {
		if keys != nil && !keys.more() {
			break
		}
		if b, ok := rec.Str(key); ok {
			if keys != nil {
				keys.found++
			}
			if len(b) > 0 {
				return d.internBytes(b)
			}
		}
	}
	return d.DefaultHost
}

// recordTime reads the record's time key: RFC 3339 text, RFC 3164 text, or
// seconds since the epoch; else ts.
func (d *Decoder) recordTime(rec Fields, ts time.Time) time.Time {
	for _, key := range d.keys().Time {
		if b, ok := rec.Str(key); ok {
			if t, ok := d.parse3339(b); ok {
				return t
			}
			if t, err := time.Parse(time.RFC3339Nano, string(b)); err == nil {
				return t.UTC()
			}
			if len(b) >= 15 {
				if t, ok := d.parse3164Time(b[:15]); ok {
					return t
				}
			}
			continue
		}
		if f, ok := rec.Num(key); ok {
			return time.Unix(0, int64(f*1e9)).UTC()
		}
	}
	return ts
}
