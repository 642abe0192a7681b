// Package logline turns one input line (or one structured record) into a
// Line: host, time, boot id, kernel uptime, printk caller id, log level,
// whether the kernel printed it, and the message text with every prefix
// stripped. Formats are detected per line, so a file or a Kafka topic may mix
// them.
//
// Decoding is the hot path of the whole pipeline (it sees every line of the
// fleet, most of which are not kernel lines), so it works on bytes, caches
// the last timestamp it parsed and interns host names: decoding a line does
// not allocate.
package logline

import (
	"bytes"
	"errors"
	"time"

	"github.com/valyala/fastjson"
)

// Format names the syntax a line was decoded from.
type Format uint8

// The formats the decoder recognises.
const (
	FormatUnknown  Format = iota
	FormatRFC3164         // Jan  3 13:42:39 host kernel: msg
	FormatRFC3339         // 2025-01-03T13:42:39.123456+00:00 host kernel: msg (rsyslog high precision)
	FormatRFC5424         // <4>1 2025-01-03T13:42:39.123Z host kernel - - - msg
	FormatJournald        // journalctl -o json
	FormatJSON            // a JSON record with configurable keys (Fluent Bit, Vector)
	FormatConsole         // [   49.804600] msg, optionally [ T123] and <N>
	FormatDmesgT          // [Tue Jun  2 16:04:34 2020] msg
	FormatKmsg            // 6,1234,5678,-;msg (/dev/kmsg)
	FormatRecord          // a Fluent Bit record (map), see DecodeRecord
)

var formatNames = [...]string{"unknown", "rfc3164", "rfc3339", "rfc5424", "journald", "json", "console", "dmesg-t", "kmsg", "record"}

// String returns the format's name as used in oops.source.format.
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "unknown"
}

// Line is one decoded log line. Text and Raw alias the caller's input buffer
// and are valid only until the next call on the same Decoder; everything else
// is safe to keep.
type Line struct {
	Host string // host name, or the decoder's default host for sources that carry none
	// HostRaw is the host name as the line carries it, aliasing the input
	// like Text, when the Decoder was told RawHost: Host is then left
	// empty for such lines, and the caller interns the name only for the
	// lines it keeps (one table look-up per kernel line, none for others).
	HostRaw []byte
	Time    time.Time // wall-clock time, zero when the source carries none (console, kmsg)
	Boot    string    // boot id (journald _BOOT_ID), when known
	// Uptime is the kernel's printk timestamp ("[   49.804600]"), valid when HasUptime.
	Uptime time.Duration
	Caller string // printk caller id such as "T1083" or "C2", when present
	Seq    int64  // kmsg sequence number, -1 when unknown
	Text   []byte // the message with all prefixes stripped

	// The small fields last, packed together: a Line is copied and
	// cleared for every line read.
	Format    Format
	HasUptime bool
	Level     int8 // syslog severity 0..7, -1 when unknown
	Kernel    bool // printed by the kernel (ident "kernel", _TRANSPORT=kernel, kmsg, console)
}

// ErrNotLog is returned for input that is not a log line in any known format.
var ErrNotLog = errors.New("not a log line in any known format")

// Keys names the fields of JSON records and Fluent Bit records.
type Keys struct {
	Host    []string // first present wins; default host, hostname, _HOSTNAME
	Message []string // default log, message, MESSAGE, msg
	Time    []string // default @timestamp, time, timestamp
	Ident   []string // default ident, SYSLOG_IDENTIFIER, syslog_identifier, appname
}

// DefaultKeys are the record keys used when none are configured. They cover
// Fluent Bit's syslog, tail, systemd and kmsg inputs and its kafka output.
func DefaultKeys() Keys {
	return Keys{
		Host:    []string{"host", "hostname", "_HOSTNAME", "HOSTNAME"},
		Message: []string{"log", "message", "MESSAGE", "msg"},
		Time:    []string{"@timestamp", "time", "timestamp"},
		Ident:   []string{"ident", "SYSLOG_IDENTIFIER", "syslog_identifier", "appname", "app_name"},
	}
}

// Decoder decodes lines. It keeps small caches, so use one per goroutine.
type Decoder struct {
	// DefaultHost names the host of lines that carry none (console, dmesg, kmsg).
	DefaultHost string
	// Location is the time zone of timestamps written without one (RFC 3164,
	// dmesg -T). Default UTC.
	Location *time.Location
	// Now gives the reference time used to infer the year of RFC 3164
	// timestamps, which have none. Default time.Now.
	Now func() time.Time
	// Keys are the JSON/record keys. Zero value: DefaultKeys().
	Keys Keys
	// Console makes lines that match no format count as kernel console
	// output of DefaultHost (serial consoles and "dmesg -t" print no
	// prefix). Set it only for input known to come from one machine's
	// console; otherwise such lines are rejected with ErrNotLog.
	Console bool
	// RawHost leaves the host name of lines that carry one in Line.HostRaw
	// instead of interning it into Line.Host.
	RawHost bool

	intern  map[string]string
	parser  *fastjson.Parser
	inner   *fastjson.Parser // for a JSON line inside a JSON record (its "log" field)
	depth   int              // JSON nesting while decoding a record
	stamped bool             // console lines with printk times were seen
	// The last timestamp parsed in each format, kept apart because a log
	// interleaves hosts that write different formats, while consecutive
	// lines of one format mostly share the second.
	stamp3164   [15]byte // "Jan  3 13:42:39"
	stamp3164T  time.Time
	stamp3164OK bool
	stamp3339   [19]byte // the seconds of an RFC 3339 timestamp
	stamp3339S  int64    // as Unix seconds, read as UTC
	stamp3339OK bool
	zone        [6]byte // last numeric zone parsed ("+00:00"), and its offset
	zoneOff     int
	year        int
	yearMon     time.Month
	// keysDistinct: 1 when the record keys looked up are all different
	// names (see lookupsFor), -1 when not, 0 before the first record.
	keysDistinct int8
}

// maxInterned bounds the intern table; it is cleared when full.
const maxInterned = 1 << 16

// InternHost returns b as a string, shared with earlier equal host names.
func (d *Decoder) InternHost(b []byte) string { return d.internBytes(b) }

func (d *Decoder) internBytes(b []byte) string {
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	if d.intern == nil || len(d.intern) >= maxInterned {
		d.intern = make(map[string]string, 1024)
	}
	s := string(b)
	d.intern[s] = s
	return s
}

func (d *Decoder) loc() *time.Location {
	if d.Location != nil {
		return d.Location
	}
	return time.UTC
}

func (d *Decoder) keys() *Keys {
	if d.Keys.Host == nil && d.Keys.Message == nil {
		d.Keys = DefaultKeys()
	}
	return &d.Keys
}

// Decode decodes one line (without its trailing newline) into l.
func (d *Decoder) Decode(raw []byte, l *Line) error {
	*l = Line{Level: -1, Seq: -1}
	raw = trimRight(raw)
	if len(raw) == 0 {
		return ErrNotLog
	}
	switch c := raw[0]; {
	case c == '{':
		return d.decodeJSON(raw, l)
	case c == '<':
		if ok := d.decodePRI(raw, l); ok {
			return nil
		}
	case c == '[':
		if d.decodeConsole(raw, l) {
			return nil
		}
	case c >= '0' && c <= '9':
		if len(raw) > 19 && raw[4] == '-' && raw[10] == 'T' {
			if d.decodeRFC3339(raw, l) {
				return nil
			}
		}
		if d.decodeKmsg(raw, l) {
			return nil
		}
	case c >= 'A' && c <= 'Z':
		if d.decodeRFC3164(raw, l) {
			return nil
		}
	}
	if d.Console {
		// Console output glued behind other text ("host login: [ 59.8][
		// T6792] BUG: ..."): decode from the printk time on, so that the
		// caller id is not lost.
		if i := gluedConsole(raw); i > 0 && d.decodeConsole(raw[i:], l) {
			return nil
		}
		// A console that prints kernel timestamps prints them on every
		// kernel line: once they have been seen, an unstamped line is user
		// space writing to the console.
		// The console's own notices ("** replaying previous printk
		// message **", "** 12 printk messages dropped **") carry no time
		// either and are the kernel's.
		kernel := !d.stamped || len(raw) > 3 && raw[0] == '*' && raw[1] == '*' && bytes.Contains(raw, []byte("printk message"))
		*l = Line{Level: -1, Seq: -1, Format: FormatConsole, Host: d.DefaultHost, Kernel: kernel, Text: raw}
		return nil
	}
	return ErrNotLog
}

func trimRight(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// decodePRI handles "<N>" prefixed lines: RFC 5424 ("<4>1 ..."), RFC 3164
// with a PRI ("<4>Jan  3 ..."), and console lines with a level ("<4>[ 1.2] ...").
func (d *Decoder) decodePRI(raw []byte, l *Line) bool {
	end := 1
	pri := 0
	for end < len(raw) && end < 5 && raw[end] >= '0' && raw[end] <= '9' {
		pri = pri*10 + int(raw[end]-'0')
		end++
	}
	if end == 1 || end >= len(raw) || raw[end] != '>' {
		return false
	}
	rest := raw[end+1:]
	level := int8(pri & 7)
	var ok bool
	switch {
	case len(rest) > 2 && rest[0] == '1' && rest[1] == ' ':
		ok = d.decodeRFC5424(rest[2:], l)
	case len(rest) > 0 && rest[0] == '[':
		ok = d.decodeConsole(rest, l)
	case len(rest) > 19 && rest[4] == '-' && rest[10] == 'T':
		ok = d.decodeRFC3339(rest, l)
	case len(rest) > 0 && rest[0] >= 'A' && rest[0] <= 'Z':
		ok = d.decodeRFC3164(rest, l)
	}
	if ok {
		l.Level = level
	}
	return ok
}

// nextField returns the space-delimited field at the start of b and the rest
// after the single space that follows it.
func nextField(b []byte) (field, rest []byte, ok bool) {
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return nil, nil, false
	}
	return b[:i], b[i+1:], i > 0
}

// decodeRFC3164 handles "Jan  3 13:42:39 host ident[pid]: msg".
func (d *Decoder) decodeRFC3164(raw []byte, l *Line) bool {
	if len(raw) < 16 || raw[3] != ' ' || raw[6] != ' ' || raw[9] != ':' || raw[12] != ':' || raw[15] != ' ' {
		return false
	}
	if !d.hostAndMessage(raw[16:], FormatRFC3164, time.Time{}, l) {
		return false
	}
	return d.stampLine(l, raw[:15])
}

// stampLine parses an RFC 3164 line's timestamp into l, after the rest of
// the line was found to be in the format. A bad timestamp makes the line
// undecodable in this format.
func (d *Decoder) stampLine(l *Line, stamp []byte) bool {
	t, ok := d.parse3164Time(stamp)
	if !ok {
		*l = Line{Level: -1, Seq: -1}
		return false
	}
	l.Time = t
	return true
}

// hostAndMessage decodes "host ident[pid]: msg", the part RFC 3164 and
// rsyslog's high-precision format share.
func (d *Decoder) hostAndMessage(b []byte, f Format, t time.Time, l *Line) bool {
	host, rest, ok := nextField(b)
	if !ok {
		return false
	}
	l.Format = f
	l.Time = t
	d.setHost(l, host)
	d.syslogMessage(rest, l)
	return true
}

// setHost records the host name a line carries: raw (RawHost) or interned.
func (d *Decoder) setHost(l *Line, host []byte) {
	if d.RawHost {
		l.HostRaw = host
		return
	}
	l.Host = d.internBytes(host)
}

// HostName returns the line's host name, interning a raw one.
func (d *Decoder) HostName(l *Line) string {
	if l.Host == "" && len(l.HostRaw) > 0 {
		return d.internBytes(l.HostRaw)
	}
	return l.Host
}

// decodeRFC3339 handles rsyslog's high-precision format
// "2025-01-03T13:42:39.123456+00:00 host ident: msg".
func (d *Decoder) decodeRFC3339(raw []byte, l *Line) bool {
	// The timestamp is read where it stands: no space can be part of it,
	// so it is the first field exactly when a space follows it.
	t, n, ok := d.parse3339Prefix(raw)
	if !ok || n >= len(raw) || raw[n] != ' ' {
		return false
	}
	return d.hostAndMessage(raw[n+1:], FormatRFC3339, t, l)
}

// decodeRFC5424 handles the part after "<PRI>1 ":
// "TIMESTAMP HOST APP PROCID MSGID SD MSG".
func (d *Decoder) decodeRFC5424(b []byte, l *Line) bool {
	stamp, rest, ok := nextField(b)
	if !ok {
		return false
	}
	var t time.Time
	if len(stamp) != 1 || stamp[0] != '-' {
		if t, ok = d.parse3339(stamp); !ok {
			return false
		}
	}
	host, rest, ok := nextField(rest)
	if !ok {
		return false
	}
	app, rest, ok := nextField(rest)
	if !ok {
		return false
	}
	if _, rest, ok = nextField(rest); !ok { // procid
		return false
	}
	if _, rest, ok = nextField(rest); !ok { // msgid
		return false
	}
	// Structured data: "-" or one or more [id k="v" ...] elements.
	if len(rest) > 0 && rest[0] == '-' {
		rest = rest[1:]
	} else {
		for len(rest) > 0 && rest[0] == '[' {
			i := sdEnd(rest)
			if i < 0 {
				return false
			}
			rest = rest[i+1:]
		}
	}
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	// A UTF-8 BOM may start MSG.
	if len(rest) >= 3 && rest[0] == 0xEF && rest[1] == 0xBB && rest[2] == 0xBF {
		rest = rest[3:]
	}
	l.Format = FormatRFC5424
	l.Time = t
	if !(len(host) == 1 && host[0] == '-') {
		d.setHost(l, host)
	} else {
		l.Host = d.DefaultHost
	}
	l.Kernel = string(app) == "kernel"
	l.Text = rest
	if l.Kernel {
		d.kernelPrefix(l)
	}
	return true
}

// sdEnd returns the index of the ']' closing the SD element at b[0], honouring
// the escapes \" \] \\ inside PARAM-VALUE.
func sdEnd(b []byte) int {
	inQuote := false
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case ']':
			if !inQuote {
				return i
			}
		}
	}
	return -1
}

// syslogMessage splits "ident[pid]: msg" and recognises kernel lines.
func (d *Decoder) syslogMessage(b []byte, l *Line) {
	l.Text = b
	// The kernel's ident is exactly "kernel:" (rsyslog's imklog and journald's
	// forwarding both write it so); anything else is user space, even if it
	// prints "BUG:".
	if len(b) >= 7 && string(b[:7]) == "kernel:" {
		l.Kernel = true
		l.Text = b[7:]
		if len(l.Text) > 0 && l.Text[0] == ' ' {
			l.Text = l.Text[1:]
		}
		d.kernelPrefix(l)
	}
}

// kernelPrefix strips an optional "[  49.804600]" printk time and
// "[ T1083]"/"[C2]" caller id from a kernel message.
func (d *Decoder) kernelPrefix(l *Line) {
	t := l.Text
	if len(t) < 3 || t[0] != '[' {
		return
	}
	up, n, ok := parseUptime(t)
	if !ok {
		return
	}
	l.Uptime, l.HasUptime = up, true
	t = t[n:]
	if c, n, ok := parseCaller(t); ok {
		l.Caller = d.internBytes(c)
		t = t[n:]
	}
	if len(t) > 0 && t[0] == ' ' {
		t = t[1:]
	}
	l.Text = t
}

// parseUptime parses "[   49.804600]" at the start of b and returns the
// uptime and the number of bytes consumed (up to and including ']').
func parseUptime(b []byte) (time.Duration, int, bool) {
	i := 1
	for i < len(b) && b[i] == ' ' {
		i++
	}
	sec, n := leadingDigits(b[i:])
	if n == 8 { // more than 8 digits: up to 12 are accepted
		more, m := leadingDigits(b[i+8:])
		if m > 4 {
			return 0, 0, false
		}
		sec = sec*pow10[m] + more
		n += m
	}
	i += n
	if n == 0 || i >= len(b) || b[i] != '.' {
		return 0, 0, false
	}
	i++
	frac, digits, n := fraction(b[i:])
	i += n
	if digits == 0 || i >= len(b) || b[i] != ']' {
		return 0, 0, false
	}
	return time.Duration(sec)*time.Second + time.Duration(frac), i + 1, true
}

// pow10[i] is 10 to the power i.
var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// fraction reads the digits of a decimal fraction at the start of b as
// nanoseconds (digits past the ninth are skipped): it returns them, how
// many digits were used, and how many bytes the digits take.
func fraction(b []byte) (nanos int64, digits, n int) {
	v, n := leadingDigits(b)
	digits = n
	if n == 8 && len(b) > 8 && b[8] >= '0' && b[8] <= '9' {
		v = v*10 + uint64(b[8]-'0')
		digits, n = 9, 9
		for n < len(b) && b[n] >= '0' && b[n] <= '9' {
			n++
		}
	}
	return int64(v * pow10[9-digits]), digits, n
}

// gluedConsole finds a printk time "[ 123.456]" within the first 128 bytes
// of a line, -1 if none.
func gluedConsole(raw []byte) int {
	for i := 1; i < len(raw) && i < 128; i++ {
		if raw[i] == '[' {
			if _, _, ok := parseUptime(raw[i:]); ok {
				return i
			}
		}
	}
	return -1
}

// parseCaller parses "[ T1083]" or "[C2]" at the start of b.
func parseCaller(b []byte) ([]byte, int, bool) {
	if len(b) < 3 || b[0] != '[' {
		return nil, 0, false
	}
	i := 1
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i >= len(b) || (b[i] != 'T' && b[i] != 'C') {
		return nil, 0, false
	}
	s := i
	i++
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == s+1 || i >= len(b) || b[i] != ']' {
		return nil, 0, false
	}
	return b[s:i], i + 1, true
}

// decodeConsole handles raw console and dmesg output: "[   49.804600] msg",
// "[   49.804600][ T1083] msg" and dmesg -T's "[Tue Jun  2 16:04:34 2020] msg".
func (d *Decoder) decodeConsole(raw []byte, l *Line) bool {
	l.Host = d.DefaultHost
	l.Kernel = true
	if up, n, ok := parseUptime(raw); ok {
		d.stamped = true
		l.Format = FormatConsole
		l.Uptime, l.HasUptime = up, true
		t := raw[n:]
		if c, n, ok := parseCaller(t); ok {
			l.Caller = d.internBytes(c)
			t = t[n:]
		}
		if len(t) > 0 && t[0] == ' ' {
			t = t[1:]
		}
		l.Text = t
		return true
	}
	// dmesg -T: "[Tue Jun  2 16:04:34 2020] "
	if len(raw) >= 27 && raw[25] == ']' {
		t, err := time.ParseInLocation("Mon Jan _2 15:04:05 2006", string(raw[1:25]), d.loc())
		if err == nil {
			l.Format = FormatDmesgT
			l.Time = t
			l.Text = raw[26:]
			if len(l.Text) > 0 && l.Text[0] == ' ' {
				l.Text = l.Text[1:]
			}
			return true
		}
	}
	return false
}

// decodeKmsg handles /dev/kmsg records: "PRI,SEQ,USEC,FLAGS[,...];msg".
func (d *Decoder) decodeKmsg(raw []byte, l *Line) bool {
	semi := -1
	for i, c := range raw {
		if c == ';' {
			semi = i
			break
		}
		if !(c >= '0' && c <= '9' || c == ',' || c == '-' || c == 'c' || c == '+') {
			return false
		}
	}
	if semi < 0 {
		return false
	}
	var fields [4]int64
	n := 0
	cur, digits := int64(0), 0
	for _, c := range raw[:semi] {
		switch {
		case c >= '0' && c <= '9':
			cur = cur*10 + int64(c-'0')
			digits++
		case c == ',':
			if n < 4 {
				fields[n] = cur
			}
			n++
			cur, digits = 0, 0
		}
	}
	if n < 3 {
		return false
	}
	_ = digits
	l.Format = FormatKmsg
	l.Host = d.DefaultHost
	l.Kernel = fields[0]>>3 == 0 // facility 0 is the kernel
	l.Level = int8(fields[0] & 7)
	l.Seq = fields[1]
	l.Uptime, l.HasUptime = time.Duration(fields[2])*time.Microsecond, true
	l.Text = raw[semi+1:]
	return true
}

// month parses a three-letter month name.
func month(b []byte) (time.Month, bool) {
	switch string(b) {
	case "Jan":
		return time.January, true
	case "Feb":
		return time.February, true
	case "Mar":
		return time.March, true
	case "Apr":
		return time.April, true
	case "May":
		return time.May, true
	case "Jun":
		return time.June, true
	case "Jul":
		return time.July, true
	case "Aug":
		return time.August, true
	case "Sep":
		return time.September, true
	case "Oct":
		return time.October, true
	case "Nov":
		return time.November, true
	case "Dec":
		return time.December, true
	}
	return 0, false
}

// num2 reads two digits, the first of which may be a space (RFC 3164 pads
// the day so: "Jan  3").
func num2(b []byte) (int, bool) {
	if len(b) == 2 && b[0] == ' ' && b[1] >= '0' && b[1] <= '9' {
		return int(b[1] - '0'), true
	}
	return digits2(b)
}

// digits2 reads exactly two digits (RFC 3339 pads with zeros, never
// spaces).
func digits2(b []byte) (int, bool) {
	if len(b) != 2 || b[0] < '0' || b[0] > '9' || b[1] < '0' || b[1] > '9' {
		return 0, false
	}
	return int(b[0]-'0')*10 + int(b[1]-'0'), true
}

// parse3164Time parses "Jan  3 13:42:39". RFC 3164 has no year: it is the
// reference year, or the year before when the month lies in the future.
func (d *Decoder) parse3164Time(b []byte) (time.Time, bool) {
	if d.stamp3164OK && string(d.stamp3164[:]) == string(b) {
		return d.stamp3164T, true
	}
	mon, ok := month(b[0:3])
	if !ok {
		return time.Time{}, false
	}
	day, ok1 := num2(b[4:6])
	hh, ok2 := num2(b[7:9])
	mm, ok3 := num2(b[10:12])
	ss, ok4 := num2(b[13:15])
	if !(ok1 && ok2 && ok3 && ok4) || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	year := d.referenceYear(mon)
	t := time.Date(year, mon, day, hh, mm, ss, 0, d.loc()).UTC()
	if len(b) == len(d.stamp3164) {
		copy(d.stamp3164[:], b)
		d.stamp3164T, d.stamp3164OK = t, true
	}
	return t, true
}

func (d *Decoder) referenceYear(mon time.Month) int {
	if d.year == 0 {
		now := time.Now
		if d.Now != nil {
			now = d.Now
		}
		n := now().In(d.loc())
		d.year, d.yearMon = n.Year(), n.Month()
	}
	if mon > d.yearMon+1 { // a December line read in January belongs to last year
		return d.year - 1
	}
	return d.year
}

// parse3339 parses RFC 3339 timestamps with optional fraction and a zone
// ("Z" or "+hh:mm"). The seconds part is cached: consecutive lines of a log
// share it.
func (d *Decoder) parse3339(b []byte) (time.Time, bool) {
	t, n, ok := d.parse3339Prefix(b)
	return t, ok && n == len(b)
}

// parse3339Prefix parses an RFC 3339 timestamp at the start of b and
// returns how many bytes it takes. The zone's offset is cached too.
func (d *Decoder) parse3339Prefix(b []byte) (time.Time, int, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, 0, false
	}
	var base int64 // Unix seconds of the first 19 bytes, read as UTC
	if d.stamp3339OK && string(d.stamp3339[:]) == string(b[:19]) {
		base = d.stamp3339S
	} else {
		y := 0
		for _, c := range b[0:4] {
			if c < '0' || c > '9' {
				return time.Time{}, 0, false
			}
			y = y*10 + int(c-'0')
		}
		mo, ok1 := digits2(b[5:7])
		dd, ok2 := digits2(b[8:10])
		hh, ok3 := digits2(b[11:13])
		mi, ok4 := digits2(b[14:16])
		ss, ok5 := digits2(b[17:19])
		if !(ok1 && ok2 && ok3 && ok4 && ok5) || mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 60 {
			return time.Time{}, 0, false
		}
		base = time.Date(y, time.Month(mo), dd, hh, mi, ss, 0, time.UTC).Unix()
		copy(d.stamp3339[:], b[:19])
		d.stamp3339S, d.stamp3339OK = base, true
	}
	i := 19
	var nanos int64
	if i < len(b) && b[i] == '.' {
		var n int
		nanos, _, n = fraction(b[i+1:])
		i += 1 + n
	}

	if i >= len(b) {
		return time.Time{}, 0, false
	}
	var offset int
	switch b[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(b) < i+6 {
			return time.Time{}, 0, false
		}
		if string(b[i:i+6]) == string(d.zone[:]) {
			offset = d.zoneOff
			i += 6
			break
		}
		if b[i+3] != ':' {
			return time.Time{}, 0, false
		}
		oh, ok1 := digits2(b[i+1 : i+3])
		om, ok2 := digits2(b[i+4 : i+6])
		if !ok1 || !ok2 {
			return time.Time{}, 0, false
		}
		offset = oh*3600 + om*60
		if b[i] == '-' {
			offset = -offset
		}
		copy(d.zone[:], b[i:i+6])
		d.zoneOff = offset
		i += 6
	default:
		return time.Time{}, 0, false
	}
	return time.Unix(base-int64(offset), nanos).UTC(), i, true
}
