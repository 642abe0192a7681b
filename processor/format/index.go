package format

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"
)

// index finds group keywords in a line. A 64 Ki-slot table keyed by a hash
// of four bytes says which keywords hold those bytes at offsets 0 to
// stride-1; a keyword of stride+3 bytes or more that occurs in a line
// therefore shows at a position that is a multiple of stride, so the line is
// looked up at every stride-th byte only (every seventh with today's
// keywords). Shorter keywords ("BUG:", "UBSAN:", "WARNING:") all hold a
// colon: they are checked only where the line has one, which a vectorised
// search finds. The ~99.98% of kernel lines that start no
// report are rejected without a single comparison most of the time; a slot
// collision costs a comparison, never a miss.
type headerIndex struct {
	bits  [1 << 10]uint64 // bit h: slot h is used (8 KiB: stays in the L1 cache)
	slot  [1 << 16]uint8  // 1 + index into lists; 0: no keyword holds these bytes at offsets 0 to stride-1
	lists [][]entry       // keyword occurrences, in table order
	colon []entry         // short keywords, by the offset of their colon
	// before[b]: bit i set when colon[i]'s keyword has b just before its
	// colon, and before2[b] when it has b two bytes before it, so that most
	// colons of a line are passed over at once.
	before, before2 [256]uint8
	minColon        int   // the fewest bytes a colon keyword has before its colon
	other           []int // short keywords without a colon: searched for directly
	kw              [][]byte
	stride          int // how far apart the index looks up four bytes of a line
}

// maxStride bounds the stride: each keyword takes stride slots.
const maxStride = 8

// pickStride returns the longest stride at which every keyword too short
// to be found by it (fewer than stride+3 bytes) can be found by its colon
// instead, and at most 8 of them need to be.
func pickStride(gs []*Group) int {
	for s := maxStride; s > 1; s-- {
		short := 0
		ok := true
		for _, g := range gs {
			if len(g.Keyword) < s+3 {
				short++
				ok = ok && strings.IndexByte(g.Keyword, ':') > 0
			}
		}
		if ok && short <= 8 {
			return s
		}
	}
	return 1
}

// entry is a keyword whose four bytes (or colon) at off hash to a slot.
type entry struct {
	group int
	off   int
}

var index *headerIndex

func hash4(b []byte) uint16 {
	return uint16((binary.LittleEndian.Uint32(b) * 0x9E3779B1) >> 16)
}

func newIndex(gs []*Group) *headerIndex {
	if len(gs) >= 64 {
		panic("format: more than 63 groups")
	}
	x := &headerIndex{stride: pickStride(gs)}
	byHash := map[uint16][]entry{}
	var order []uint16
	for i, g := range gs {
		kw := []byte(g.Keyword)
		x.kw = append(x.kw, kw)
		if len(kw) < x.stride+3 {
			if c := bytes.IndexByte(kw, ':'); c > 1 && len(x.colon) < 8 {
				x.before[kw[c-1]] |= 1 << len(x.colon)
				x.before2[kw[c-2]] |= 1 << len(x.colon)
				if len(x.colon) == 0 || c < x.minColon {
					x.minColon = c
				}
				x.colon = append(x.colon, entry{i, c})
			} else {
				x.other = append(x.other, i)
			}
			continue
		}
		for off := 0; off < x.stride; off++ {
			h := hash4(kw[off:])
			if _, ok := byHash[h]; !ok {
				order = append(order, h)
			}
			byHash[h] = append(byHash[h], entry{i, off})
		}
	}
	x.minColon = max(x.minColon, 2) // c-2 is read at every colon, even with no colon keyword
	if len(order) > 255 {
		panic("format: too many keywords for the index")
	}
	for _, h := range order {
		x.lists = append(x.lists, byHash[h])
		x.slot[h] = uint8(len(x.lists))
		x.bits[h>>6] |= 1 << (h & 63)
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
	for _, g := range x.other {
		if bytes.Contains(text, x.kw[g]) {
			found |= 1 << g
		}
	}
	for from := x.minColon; from < len(text); {
		c := bytes.IndexByte(text[from:], ':')
		if c < 0 {
			break
		}
		c += from
		for m := x.before[text[c-1]] & x.before2[text[c-2]]; m != 0; m &= m - 1 {
			e := x.colon[bits.TrailingZeros8(m)]
			if at := c - e.off; at >= 0 && bytes.HasPrefix(text[at:], x.kw[e.group]) {
				found |= 1 << e.group
			}
		}
		from = c + 1
	}
	stride, used := x.stride, &x.bits
	for i := 0; i+4 <= len(text); i += stride {
		h := hash4(text[i : i+4])
		if used[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		for _, e := range x.lists[x.slot[h]-1] {
			if at := i - e.off; at >= 0 && bytes.HasPrefix(text[at:], x.kw[e.group]) {
				found |= 1 << e.group
			}
		}
	}
	for found != 0 {
		g := bits.TrailingZeros64(found)
		found &^= 1 << g
		if grp := groups[g]; grp.accepts(text) {
			return grp, true
		}
	}
	return nil, false
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
