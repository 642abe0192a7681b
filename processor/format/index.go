package format

import (
	"bytes"
	"encoding/binary"
)

// index finds group keywords in a line. Every keyword is at least four bytes
// long; a 64 Ki-slot table keyed by a hash of four bytes says which keywords
// start with them, so a line is scanned once, one table look-up per byte,
// and the ~99.98% of kernel lines that start no report are rejected without
// a single comparison most of the time. A slot collision costs a comparison,
// never a miss: every keyword's first four bytes set their slot.
type headerIndex struct {
	slot  [1 << 16]uint8 // 1 + index into lists; 0: no keyword starts with these bytes
	lists [][]int        // group indexes, in table order
	kw    [][]byte
}

var index *headerIndex

func hash4(b []byte) uint16 {
	return uint16((binary.LittleEndian.Uint32(b) * 0x9E3779B1) >> 16)
}

func newIndex(gs []*Group) *headerIndex {
	if len(gs) >= 64 {
		panic("format: more than 63 groups")
	}
	x := &headerIndex{}
	byHash := map[uint16][]int{}
	var order []uint16
	for i, g := range gs {
		kw := []byte(g.Keyword)
		if len(kw) < 4 {
			panic("format: keyword shorter than 4 bytes: " + g.Keyword)
		}
		x.kw = append(x.kw, kw)
		h := hash4(kw)
		if _, ok := byHash[h]; !ok {
			order = append(order, h)
		}
		byHash[h] = append(byHash[h], i)
	}
	for _, h := range order {
		x.lists = append(x.lists, byHash[h])
		x.slot[h] = uint8(len(x.lists))
	}
	return x
}

// match returns the first group (in table order) whose keyword occurs in
// text and does not suppress it. A group's keyword found but suppressed lets
// later groups be tried, as in syzkaller.
func (x *headerIndex) match(text []byte) (*Group, bool) {
	if len(text) < 4 {
		return nil, false
	}
	found := uint64(0) // bit i: group i's keyword occurs (there are fewer than 64 groups)
	for i := 0; i+4 <= len(text); i++ {
		s := x.slot[hash4(text[i:])]
		if s == 0 {
			continue
		}
		for _, g := range x.lists[s-1] {
			if bytes.HasPrefix(text[i:], x.kw[g]) {
				found |= 1 << g
			}
		}
	}
	for found != 0 {
		g := trailingZeros(found)
		found &^= 1 << g
		if grp := groups[g]; grp.accepts(text) {
			return grp, true
		}
	}
	return nil, false
}

func trailingZeros(x uint64) int {
	n := 0
	for x&1 == 0 {
		x >>= 1
		n++
	}
	return n
}

// accepts checks the rest of a group's conditions on a line that contains
// its keyword.
func (g *Group) accepts(text []byte) bool {
	if len(g.Also) > 0 {
		ok := false
		for _, a := range g.Also {
			if bytes.Contains(text, []byte(a)) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, s := range g.Suppress {
		if s.Match(text) {
			return false
		}
	}
	return true
}
