package logline

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func ref() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) }

func TestDecode(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   Line
		reject bool
	}{
		{
			name: "rfc3164 kernel with uptime",
			in:   "Jan  3 13:42:39 node-17 kernel: [   49.804600] BUG: kernel NULL pointer dereference, address: 0000000000000402",
			want: Line{Format: FormatRFC3164, Host: "node-17", Time: time.Date(2025, 1, 3, 13, 42, 39, 0, time.UTC), Uptime: 49804600 * time.Microsecond, HasUptime: true, Level: -1, Seq: -1, Kernel: true, Text: []byte("BUG: kernel NULL pointer dereference, address: 0000000000000402")},
		},
		{
			name: "rfc3164 kernel with caller id",
			in:   "Jan 13 03:04:05 node-1 kernel: [  584.319520][   T31] INFO: task udevd:5612 blocked for more than 143 seconds.",
			want: Line{Format: FormatRFC3164, Host: "node-1", Time: time.Date(2025, 1, 13, 3, 4, 5, 0, time.UTC), Uptime: 584319520 * time.Microsecond, HasUptime: true, Caller: "T31", Level: -1, Seq: -1, Kernel: true, Text: []byte("INFO: task udevd:5612 blocked for more than 143 seconds.")},
		},
		{
			name: "rfc3164 user space printing BUG is not kernel",
			in:   "Jan  3 13:42:39 node-17 myapp[77]: BUG: invariant violated",
			want: Line{Format: FormatRFC3164, Host: "node-17", Time: time.Date(2025, 1, 3, 13, 42, 39, 0, time.UTC), Level: -1, Seq: -1, Text: []byte("myapp[77]: BUG: invariant violated")},
		},
		{
			name: "rfc3164 with PRI, December read in June is this year",
			in:   "<4>Dec 31 23:59:59 web-1 kernel: WARNING: CPU: 1 PID: 2 at x.c:1 f+0x1/0x2",
			want: Line{Format: FormatRFC3164, Host: "web-1", Time: time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC), Level: 4, Seq: -1, Kernel: true, Text: []byte("WARNING: CPU: 1 PID: 2 at x.c:1 f+0x1/0x2")},
		},
		{
			name: "rsyslog high precision with offset",
			in:   "2025-01-03T13:42:39.123456+02:00 node-17 kernel: [ 1.000000] Oops: 0000 [#1] SMP",
			want: Line{Format: FormatRFC3339, Host: "node-17", Time: time.Date(2025, 1, 3, 11, 42, 39, 123456000, time.UTC), Uptime: time.Second, HasUptime: true, Level: -1, Seq: -1, Kernel: true, Text: []byte("Oops: 0000 [#1] SMP")},
		},
		{
			name: "rfc5424 with structured data",
			in:   `<4>1 2025-01-03T13:42:39.123Z node-17 kernel - - [meta seq="1" note="a \] b"] general protection fault: 0000 [#1] SMP`,
			want: Line{Format: FormatRFC5424, Host: "node-17", Time: time.Date(2025, 1, 3, 13, 42, 39, 123000000, time.UTC), Level: 4, Seq: -1, Kernel: true, Text: []byte("general protection fault: 0000 [#1] SMP")},
		},
		{
			name: "rfc5424 user space",
			in:   "<30>1 2025-01-03T13:42:39Z node-17 sshd 812 - - Accepted publickey",
			want: Line{Format: FormatRFC5424, Host: "node-17", Time: time.Date(2025, 1, 3, 13, 42, 39, 0, time.UTC), Level: 6, Seq: -1, Text: []byte("Accepted publickey")},
		},
		{
			name: "journald kernel record",
			in:   `{"__REALTIME_TIMESTAMP":"1735911759123456","_HOSTNAME":"node-17","_BOOT_ID":"b00t","_TRANSPORT":"kernel","PRIORITY":"3","SYSLOG_IDENTIFIER":"kernel","_SOURCE_MONOTONIC_TIMESTAMP":"49804600","MESSAGE":"INFO: task ip:1 blocked for more than 120 seconds."}`,
			want: Line{Format: FormatJournald, Host: "node-17", Boot: "b00t", Time: time.UnixMicro(1735911759123456).UTC(), Uptime: 49804600 * time.Microsecond, HasUptime: true, Level: 3, Seq: -1, Kernel: true, Text: []byte("INFO: task ip:1 blocked for more than 120 seconds.")},
		},
		{
			name: "journald spoofed kernel message from user space",
			in:   `{"__REALTIME_TIMESTAMP":"1735911759123456","_HOSTNAME":"node-17","_TRANSPORT":"syslog","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"BUG: fake"}`,
			want: Line{Format: FormatJournald, Host: "node-17", Time: time.UnixMicro(1735911759123456).UTC(), Level: -1, Seq: -1, Text: []byte("BUG: fake")},
		},
		{
			name: "journald non-UTF-8 message as byte array",
			in:   `{"_HOSTNAME":"h","_TRANSPORT":"kernel","MESSAGE":[66,85,71,58,32,255]}`,
			want: Line{Format: FormatJournald, Host: "h", Level: -1, Seq: -1, Kernel: true, Text: []byte("BUG: \xff")},
		},
		{
			name: "json record relaying a syslog line",
			in:   `{"log":"Jan  3 13:42:39 node-9 kernel: [ 2.5] BUG: soft lockup - CPU#1 stuck for 22s! [a:1]","@timestamp":"2025-01-03T13:42:39Z"}`,
			want: Line{Format: FormatRFC3164, Host: "node-9", Time: time.Date(2025, 1, 3, 13, 42, 39, 0, time.UTC), Uptime: 2500 * time.Millisecond, HasUptime: true, Level: -1, Seq: -1, Kernel: true, Text: []byte("BUG: soft lockup - CPU#1 stuck for 22s! [a:1]")},
		},
		{
			name: "json record with ident",
			in:   `{"host":"node-2","ident":"kernel","message":"[ 3.0] Oops: 0000","time":"2025-01-03T13:42:39Z"}`,
			want: Line{Format: FormatJSON, Host: "node-2", Time: time.Date(2025, 1, 3, 13, 42, 39, 0, time.UTC), Uptime: 3 * time.Second, HasUptime: true, Level: -1, Seq: -1, Kernel: true, Text: []byte("Oops: 0000")},
		},
		{
			name: "json record wrapping a journald line",
			in:   `{"host":"outer","log":"{\"_HOSTNAME\":\"inner\",\"_TRANSPORT\":\"kernel\",\"MESSAGE\":\"BUG: x\"}","@timestamp":"2025-01-03T13:42:39Z"}`,
			want: Line{Format: FormatJournald, Host: "inner", Time: time.Date(2025, 1, 3, 13, 42, 39, 0, time.UTC), Level: -1, Seq: -1, Kernel: true, Text: []byte("BUG: x")},
		},
		{
			name: "console",
			in:   "[   49.804600] BUG: unable to handle kernel paging request at ffff88002bde1e40",
			want: Line{Format: FormatConsole, Host: "default", Uptime: 49804600 * time.Microsecond, HasUptime: true, Level: -1, Seq: -1, Kernel: true, Text: []byte("BUG: unable to handle kernel paging request at ffff88002bde1e40")},
		},
		{
			name: "console with level and caller",
			in:   "<4>[   49.804600][ C2] watchdog: BUG: soft lockup",
			want: Line{Format: FormatConsole, Host: "default", Uptime: 49804600 * time.Microsecond, HasUptime: true, Caller: "C2", Level: 4, Seq: -1, Kernel: true, Text: []byte("watchdog: BUG: soft lockup")},
		},
		{
			name: "dmesg -T",
			in:   "[Tue Jun  2 16:04:34 2020] Workqueue: netns cleanup_net",
			want: Line{Format: FormatDmesgT, Host: "default", Time: time.Date(2020, 6, 2, 16, 4, 34, 0, time.UTC), Level: -1, Seq: -1, Kernel: true, Text: []byte("Workqueue: netns cleanup_net")},
		},
		{
			name: "kmsg",
			in:   "4,1234,49804600,-;BUG: kernel NULL pointer dereference",
			want: Line{Format: FormatKmsg, Host: "default", Uptime: 49804600 * time.Microsecond, HasUptime: true, Level: 4, Seq: 1234, Kernel: true, Text: []byte("BUG: kernel NULL pointer dereference")},
		},
		{
			name: "kmsg from user space (facility 1)",
			in:   "14,99,1000,-;hello",
			want: Line{Format: FormatKmsg, Host: "default", Uptime: time.Millisecond, HasUptime: true, Level: 6, Seq: 99, Text: []byte("hello")},
		},
		{name: "garbage", in: "this is not a log line", reject: true},
		{name: "binary", in: "\x00\x01\x02\xff\xfe BUG: nope", reject: true},
		{name: "truncated rfc3164", in: "Jan  3 13:4", reject: true},
		{name: "bad month", in: "Foo  3 13:42:39 node kernel: x", reject: true},
		{name: "invalid json", in: `{"MESSAGE": "x"`, reject: true},
		{name: "json array", in: `["MESSAGE"]`, reject: true},
		{name: "json without message", in: `{"foo":"bar"}`, reject: true},
		{name: "empty", in: "", reject: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Decoder{DefaultHost: "default", Now: ref}
			var l Line
			err := d.Decode([]byte(tc.in), &l)
			if tc.reject {
				if !errors.Is(err, ErrNotLog) {
					t.Fatalf("want ErrNotLog, got %v (%+v)", err, l)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !l.Time.Equal(tc.want.Time) {
				t.Errorf("time %v, want %v", l.Time, tc.want.Time)
			}
			l.Time, tc.want.Time = time.Time{}, time.Time{}
			if string(l.Text) != string(tc.want.Text) {
				t.Errorf("text %q, want %q", l.Text, tc.want.Text)
			}
			l.Text, tc.want.Text = nil, nil
			if !reflect.DeepEqual(l, tc.want) {
				t.Errorf("got  %+v\nwant %+v", l, tc.want)
			}
		})
	}
}

func TestConsoleFallback(t *testing.T) {
	d := Decoder{DefaultHost: "box", Console: true}
	var l Line
	if err := d.Decode([]byte("WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2"), &l); err != nil {
		t.Fatal(err)
	}
	if !l.Kernel || l.Host != "box" || l.Format != FormatConsole {
		t.Fatalf("console fallback: %+v", l)
	}
}

func TestDecodeRecordFluentBit(t *testing.T) {
	ts := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		rec    map[string]any
		host   string
		kernel bool
		text   string
		up     time.Duration
	}{
		{"kmsg input ([]byte values, no host)", map[string]any{"priority": uint64(4), "sequence": uint64(77), "sec": uint64(49), "usec": uint64(804600), "msg": []byte("BUG: x")}, "node-default", true, "BUG: x", 49804600 * time.Microsecond},
		{"syslog input", map[string]any{"pri": []byte("4"), "time": []byte("Jan  3 13:42:39"), "host": []byte("n1"), "ident": []byte("kernel"), "message": []byte("[ 1.5] Oops: 0000")}, "n1", true, "Oops: 0000", 1500 * time.Millisecond},
		{"syslog input from user space", map[string]any{"host": "n1", "ident": "sshd", "message": "BUG: not kernel"}, "n1", false, "BUG: not kernel", 0},
		{"systemd input", map[string]any{"_HOSTNAME": []byte("n2"), "_TRANSPORT": []byte("kernel"), "MESSAGE": []byte("INFO: task a:1 blocked for more than 1 seconds.")}, "n2", true, "INFO: task a:1 blocked for more than 1 seconds.", 0},
		{"tail input", map[string]any{"log": []byte("Jan  3 13:42:39 n3 kernel: general protection fault: 0000")}, "n3", true, "general protection fault: 0000", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Decoder{DefaultHost: "node-default", Now: ref}
			var l Line
			if err := d.DecodeRecord(tc.rec, ts, &l); err != nil {
				t.Fatal(err)
			}
			if l.Host != tc.host || l.Kernel != tc.kernel || string(l.Text) != tc.text || l.Uptime != tc.up {
				t.Fatalf("got host %q kernel %v text %q uptime %v", l.Host, l.Kernel, l.Text, l.Uptime)
			}
		})
	}
	d := Decoder{}
	var l Line
	if err := d.DecodeRecord(map[string]any{"foo": 1}, ts, &l); !errors.Is(err, ErrNotLog) {
		t.Fatalf("record without message: %v", err)
	}
}

func TestHugeLine(t *testing.T) {
	d := Decoder{DefaultHost: "h"}
	big := "Jan  3 13:42:39 node kernel: " + strings.Repeat("A", 10<<20)
	var l Line
	if err := d.Decode([]byte(big), &l); err != nil || !l.Kernel || len(l.Text) != 10<<20 {
		t.Fatalf("10 MB line: err %v kernel %v len %d", err, l.Kernel, len(l.Text))
	}
}

func TestInternBounded(t *testing.T) {
	d := Decoder{}
	var l Line
	for i := 0; i < maxInterned+10; i++ {
		line := []byte("Jan  3 13:42:39 host-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strconv.Itoa(i) + " kernel: x")
		if err := d.Decode(line, &l); err != nil {
			t.Fatal(err)
		}
	}
	if len(d.intern) > maxInterned {
		t.Fatalf("intern table grew to %d entries, bound %d", len(d.intern), maxInterned)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"Jan  3 13:42:39 node-17 kernel: [   49.804600] BUG: x",
		"<4>1 2025-01-03T13:42:39.123Z node-17 kernel - - [a b=\"c\"] msg",
		`{"MESSAGE":"x","_TRANSPORT":"kernel"}`,
		"[   49.804600][ T1083] x",
		"6,1234,5678,-;msg",
		"[Tue Jun  2 16:04:34 2020] x",
		"2025-01-03T13:42:39.123456+00:00 h kernel: x",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, console := range []bool{false, true} {
			d := Decoder{DefaultHost: "h", Console: console}
			var l Line
			if err := d.Decode(b, &l); err != nil {
				if !errors.Is(err, ErrNotLog) {
					t.Fatalf("error not wrapping ErrNotLog: %v", err)
				}
				continue
			}
			if len(l.Text) > len(b) {
				t.Fatalf("text longer than input")
			}
		}
	})
}

// noLen hides a record's KeyCounter: the decoder must then try every key.
type noLen struct{ Fields }

// Counting the keys found (KeyCounter) only skips look-ups that cannot
// succeed: random records of known, unknown, empty, nil and non-string
// keys decode to the same Line with and without it (into a Line reused
// from the record before, against a new one), under the default keys and
// under configured names that repeat one (counting is then off).
func TestKeyCountChangesNothing(t *testing.T) {
	names := []string{"log", "message", "msg", "host", "hostname", "HOSTNAME", "ident", "appname", "@timestamp", "time", "pid", "other", "stream"}
	values := []any{
		"Jan  3 13:42:39 n3 kernel: general protection fault: 0000", "2025-01-03T13:42:39.5Z n4 kernel: BUG: x",
		"plain text", "", "kernel", "sshd", "n9", "2025-01-03T13:42:40Z", "Jan  3 13:42:41", []byte("web-1"), 1735911761.5, uint64(7), nil,
	}
	r := rand.New(rand.NewPCG(7, 8))
	ts := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	overlapping := DefaultKeys()
	overlapping.Host = append(overlapping.Host, "log")
	for _, keys := range []Keys{DefaultKeys(), overlapping} {
		distinct := int8(1)
		if len(keys.Host) != len(DefaultKeys().Host) {
			distinct = -1
		}
		var got Line // reused: every way through a record must start it afresh
		for i := 0; i < 20000; i++ {
			rec := map[string]any{}
			for j := r.IntN(4); j >= 0; j-- {
				rec[names[r.IntN(len(names))]] = values[r.IntN(len(values))]
			}
			withLen := Decoder{DefaultHost: "dflt", Now: ref, Keys: keys}
			without := Decoder{DefaultHost: "dflt", Now: ref, Keys: keys}
			var want Line
			gotErr := withLen.DecodeFields(MapFields(rec), ts, &got)
			wantErr := without.DecodeFields(noLen{MapFields(rec)}, ts, &want)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
				t.Fatalf("record %v:\ncounted: %+v %v\nall keys: %+v %v", rec, got, gotErr, want, wantErr)
			}
			if withLen.keysDistinct != 0 && withLen.keysDistinct != distinct {
				t.Fatalf("keys %v: counting on = %d, want %d", keys, withLen.keysDistinct, distinct)
			}
		}
	}
}

// rfc3339ByFields is decodeRFC3339 as it was: the first field split off,
// then parsed as a whole.
func (d *Decoder) rfc3339ByFields(raw []byte, l *Line) bool {
	stamp, rest, ok := nextField(raw)
	if !ok || len(stamp) < 20 {
		return false
	}
	if !d.hostAndMessage(rest, FormatRFC3339, time.Time{}, l) {
		return false
	}
	t, ok := d.parse3339(stamp)
	if !ok {
		*l = Line{Level: -1, Seq: -1}
		return false
	}
	l.Time = t
	return true
}

// Reading the RFC 3339 timestamp in place (and its zone from a cache)
// decodes what splitting off the first field did, on lines damaged at
// random around the timestamp and host, with zones changing between lines.
func TestRFC3339InPlaceAgreesWithFields(t *testing.T) {
	lines := []string{
		"2026-03-01T00:00:00.000050+00:00 batch-1004 kernel: [142781.000000] python3[24956]: segfault at 0",
		"2025-01-03T13:42:39Z web-1 kernel: BUG: x",
		"2025-01-03T13:42:39.123456789-05:30 h sshd[1]: Accepted",
		"2025-01-03T13:42:39+01:00 h kernel:",
	}
	alphabet := []byte("0123456789-+:.TZz ab\t")
	r := rand.New(rand.NewPCG(9, 10))
	var fast, fields Decoder
	decoded := 0
	for i := 0; i < 200000; i++ {
		b := []byte(lines[r.IntN(len(lines))])
		for j := r.IntN(3); j > 0; j-- {
			k := r.IntN(min(len(b), 45))
			switch r.IntN(3) {
			case 0:
				b[k] = alphabet[r.IntN(len(alphabet))]
			case 1:
				b = append(b[:k], b[k+1:]...)
			default:
				b = append(b[:k], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[k:]...)...)
			}
		}
		var got, want Line
		got, want = Line{Level: -1, Seq: -1}, Line{Level: -1, Seq: -1}
		gotOK := fast.decodeRFC3339(b, &got)
		wantOK := fields.rfc3339ByFields(b, &want)
		if gotOK != wantOK || gotOK && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nin place: %v %+v\nby fields: %v %+v", b, gotOK, got, wantOK, want)
		}
		if gotOK {
			decoded++
		}
	}
	if decoded < 50000 {
		t.Fatalf("only %d lines decoded: the damage leaves too little to compare", decoded)
	}
}

// The timestamp caches keep one entry per format: a decoder that reads
// interleaved RFC 3164, RFC 3339 and RFC 5424 lines (whose seconds repeat
// and change) gives every line the time a fresh decoder gives it.
func TestStampCachePerFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	shared := Decoder{Now: ref}
	for i := 0; i < 20000; i++ {
		sec := 30 + r.IntN(3)
		var line string
		switch r.IntN(4) {
		case 0:
			line = fmt.Sprintf("Mar  %d 13:42:%02d h%d kernel: x", 1+r.IntN(2), sec, i)
		case 1:
			line = fmt.Sprintf("2026-03-0%dT13:42:%02d.%06d+0%d:00 h kernel: x", 1+r.IntN(2), sec, r.IntN(1e6), r.IntN(3))
		case 2:
			line = fmt.Sprintf("<4>1 2026-03-01T13:42:%02dZ h kernel - - - x", sec)
		default:
			line = fmt.Sprintf("<4>Mar  1 13:42:%02d h kernel: x", sec)
		}
		fresh := Decoder{Now: ref}
		var got, want Line
		if err := shared.Decode([]byte(line), &got); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if err := fresh.Decode([]byte(line), &want); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if !got.Time.Equal(want.Time) || got.Time.IsZero() {
			t.Fatalf("line %d %q: time %v after other lines, %v alone", i, line, got.Time, want.Time)
		}
	}
}
