package logline

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

func naiveDigits(b []byte) (v uint64, n int) {
	for n < len(b) && n < 8 && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + uint64(b[n]-'0')
		n++
	}
	return v, n
}

// leadingDigits agrees with a plain loop on every mix of digits, their
// neighbours in ASCII, bytes with the high bit set, and lengths 0 to 12.
func TestLeadingDigits(t *testing.T) {
	alphabet := []byte("0123456789/:.+-Z ]\x00\xb0\xb9\xff")
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		b := make([]byte, r.IntN(13))
		digits := r.IntN(len(b) + 1) // a run of digits first, often
		for j := range b {
			if j < digits && r.IntN(8) != 0 {
				b[j] = byte('0' + r.IntN(10))
			} else {
				b[j] = alphabet[r.IntN(len(alphabet))]
			}
		}
		v, n := leadingDigits(b)
		wv, wn := naiveDigits(b)
		if v != wv || n != wn {
			t.Fatalf("leadingDigits(%q) = %d, %d; want %d, %d", b, v, n, wv, wn)
		}
	}
	for _, s := range []string{"12345678", "99999999+", "00000001", "0", "", "1234567.", "98765432109"} {
		v, n := leadingDigits([]byte(s))
		wv, wn := naiveDigits([]byte(s))
		if v != wv || n != wn {
			t.Errorf("leadingDigits(%q) = %d, %d; want %d, %d", s, v, n, wv, wn)
		}
	}
}

// ParseInt agrees with strconv.ParseInt on signs, digits, their neighbours,
// lengths around 18 and 19 digits, and the int64 limits.
func TestParseInt(t *testing.T) {
	alphabet := []byte("0123456789+-_ .e\xff")
	r := rand.New(rand.NewPCG(3, 4))
	inputs := []string{"", "-", "+", "0", "-0", "+7", "1772323201123456", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808", "-9223372036854775809", "999999999999999999",
		"-999999999999999999", "1_000", "0x10", " 1", "1 ", "12a"}
	for i := 0; i < 200000; i++ {
		b := make([]byte, r.IntN(22))
		for j := range b {
			if r.IntN(6) != 0 {
				b[j] = byte('0' + r.IntN(10))
			} else {
				b[j] = alphabet[r.IntN(len(alphabet))]
			}
		}
		inputs = append(inputs, string(b))
	}
	for _, s := range inputs {
		v, ok := ParseInt([]byte(s))
		wv, err := strconv.ParseInt(s, 10, 64)
		if ok != (err == nil) || ok && v != wv {
			t.Fatalf("ParseInt(%q) = %d, %v; strconv: %d, %v", s, v, ok, wv, err)
		}
	}
}
