package logline

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// decodeJSON decodes a JSON object line: journald's export format
// (journalctl -o json) or a record with configurable keys.
func (d *Decoder) decodeJSON(raw []byte, l *Line) error {
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		return fmt.Errorf("%w: invalid JSON: %v", ErrNotLog, err)
	}
	if err := d.DecodeRecord(rec, time.Time{}, l); err != nil {
		return err
	}
	if l.Format == FormatRecord {
		l.Format = FormatJSON
	}
	return nil
}

// DecodeRecord decodes a structured record: a journald entry, a Fluent Bit
// record from its kmsg, syslog, systemd or tail input, or any map whose keys
// are named by d.Keys. Values may be strings, byte slices (Fluent Bit hands
// msgpack strings to Go as []byte), numbers or, for journald's MESSAGE,
// arrays of bytes. ts is the record's own timestamp, used when the record
// carries none of its own; it may be zero.
func (d *Decoder) DecodeRecord(rec map[string]any, ts time.Time, l *Line) error {
	*l = Line{Level: -1, Seq: -1, Format: FormatRecord, Time: ts}
	k := d.keys()

	// journald (also Fluent Bit's systemd input, which keeps journald's names).
	if msg, ok := rec["MESSAGE"]; ok {
		l.Format = FormatJournald
		l.Text = asBytes(msg)
		l.Host = d.internString(asString(rec["_HOSTNAME"]))
		l.Boot = d.internString(asString(rec["_BOOT_ID"]))
		l.Kernel = asString(rec["_TRANSPORT"]) == "kernel"
		if us, ok := asInt(rec["__REALTIME_TIMESTAMP"]); ok {
			l.Time = time.UnixMicro(us).UTC()
		}
		if us, ok := asInt(rec["_SOURCE_MONOTONIC_TIMESTAMP"]); ok && l.Kernel {
			l.Uptime, l.HasUptime = time.Duration(us)*time.Microsecond, true
		}
		if p, ok := asInt(rec["PRIORITY"]); ok {
			l.Level = int8(p & 7)
		}
		if l.Host == "" {
			l.Host = d.hostFrom(rec)
		}
		if l.Text == nil {
			return fmt.Errorf("%w: journald record without a usable MESSAGE", ErrNotLog)
		}
		if l.Kernel {
			d.kernelPrefix(l)
		}
		return nil
	}

	// Fluent Bit kmsg input: priority, sequence, sec, usec, msg; no host.
	if msg, ok := rec["msg"]; ok {
		if pri, ok := asInt(rec["priority"]); ok {
			l.Text = asBytes(msg)
			l.Kernel = true
			l.Level = int8(pri & 7)
			if seq, ok := asInt(rec["sequence"]); ok {
				l.Seq = seq
			}
			sec, ok1 := asInt(rec["sec"])
			usec, _ := asInt(rec["usec"])
			if ok1 {
				l.Uptime, l.HasUptime = time.Duration(sec)*time.Second+time.Duration(usec)*time.Microsecond, true
			}
			l.Host = d.hostFrom(rec)
			return nil
		}
	}

	msgKey, msg := first(rec, k.Message)
	if msg == nil {
		return fmt.Errorf("%w: record has none of the message keys %v", ErrNotLog, k.Message)
	}
	text := asBytes(msg)
	host := d.hostFrom(rec)
	_, identV := first(rec, k.Ident)
	if identV == nil {
		// A raw line (tail input's "log", or a syslog line relayed as is):
		// decode it as a line and let the record fill what the line lacks.
		inner := Line{}
		saved := d.DefaultHost
		if host != "" {
			d.DefaultHost = host
		}
		err := d.Decode(text, &inner)
		d.DefaultHost = saved
		if err == nil {
			if host != "" && inner.Host == "" {
				inner.Host = host
			}
			if inner.Time.IsZero() {
				inner.Time = d.recordTime(rec, ts)
			}
			*l = inner
			return nil
		}
		return fmt.Errorf("record key %q: %w", msgKey, err)
	}
	// Fluent Bit syslog input (pri, time, host, ident, pid, message) and
	// parsed records of the same shape.
	l.Text = text
	l.Host = host
	l.Kernel = asString(identV) == "kernel"
	l.Time = d.recordTime(rec, ts)
	if p, ok := asInt(rec["pri"]); ok {
		l.Level = int8(p & 7)
	}
	if l.Kernel {
		d.kernelPrefix(l)
	}
	return nil
}

func (d *Decoder) hostFrom(rec map[string]any) string {
	if _, v := first(rec, d.keys().Host); v != nil {
		if s := asString(v); s != "" {
			return d.internString(s)
		}
	}
	return d.DefaultHost
}

func (d *Decoder) recordTime(rec map[string]any, ts time.Time) time.Time {
	_, v := first(rec, d.keys().Time)
	switch x := v.(type) {
	case string:
		if t, ok := d.parse3339([]byte(x)); ok {
			return t
		}
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t.UTC()
		}
		if b := []byte(x); len(b) >= 15 {
			if t, ok := d.parse3164Time(b[:15]); ok {
				return t
			}
		}
	case []byte:
		if t, ok := d.parse3339(x); ok {
			return t
		}
	case float64:
		return time.Unix(0, int64(x*1e9)).UTC()
	}
	return ts
}

func (d *Decoder) internString(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := d.intern[s]; ok {
		return v
	}
	return d.internBytes([]byte(s))
}

func first(rec map[string]any, keys []string) (string, any) {
	for _, k := range keys {
		if v, ok := rec[k]; ok && v != nil {
			return k, v
		}
	}
	return "", nil
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}

func asBytes(v any) []byte {
	switch x := v.(type) {
	case string:
		return []byte(x)
	case []byte:
		return x
	case []any: // journald writes non-UTF-8 messages as an array of byte values
		b := make([]byte, 0, len(x))
		for _, e := range x {
			n, ok := asInt(e)
			if !ok || n < 0 || n > 255 {
				return nil
			}
			b = append(b, byte(n))
		}
		return b
	}
	return nil
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	case []byte:
		n, err := strconv.ParseInt(string(x), 10, 64)
		return n, err == nil
	case float64:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		return int64(x), true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint16:
		return int64(x), true
	}
	return 0, false
}
