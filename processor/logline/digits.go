package logline

import (
	"encoding/binary"
	"math/bits"
	"strconv"
)

// leadingDigits returns the value of the decimal digits at the start of b,
// at most 8 of them, and how many there are. With 8 bytes or more to look
// at, it reads them as one word and converts them without a loop (the
// timestamps of every log line go through it); otherwise it loops.
func leadingDigits(b []byte) (v uint64, n int) {
	if len(b) < 8 {
		for n < len(b) && b[n] >= '0' && b[n] <= '9' {
			v = v*10 + uint64(b[n]-'0')
			n++
		}
		return v, n
	}
	const (
		lo = 0x0101010101010101
		hi = 0x8080808080808080
	)
	x := binary.LittleEndian.Uint64(b) // b[0] in the low byte
	// Bit 7 of each byte says whether that byte is a digit: below 0x80,
	// at least '0' and at most '9' (no borrow crosses a byte: bit 7 is set
	// in the minuend, and clear in the subtrahend, of each subtraction).
	ge0 := (x&^hi | hi) - '0'*lo
	le9 := ('9'*lo | hi) - x&^hi
	digit := ge0 & le9 &^ x & hi
	n = bits.TrailingZeros64(^digit&hi) / 8
	if n == 0 {
		return 0, 0
	}
	// The n digits, as values 0-9, moved to the top bytes: the bytes below
	// read as leading zeros. Then the usual pairwise combination: bytes to
	// 2-digit, to 4-digit, to 8-digit numbers.
	y := (x - '0'*lo) << (64 - 8*n)
	y = (y * 10) + (y >> 8)
	y = ((y & 0x000000FF000000FF) * (100 + 1000000<<32)) + (((y >> 16) & 0x000000FF000000FF) * (1 + 10000<<32))
	return y >> 32, n
}

// ParseInt is strconv.ParseInt(string(b), 10, 64) with ok for a nil error,
// without converting b to a string. Decimal text of up to 18 digits (every
// journald timestamp, priority and pid) is read in a loop; anything longer
// or stranger is left to strconv, so the two agree on every input.
func ParseInt(b []byte) (int64, bool) {
	s := b
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		n, err := strconv.ParseInt(string(b), 10, 64)
		return n, err == nil
	}
	var v int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}
