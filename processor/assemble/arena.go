package assemble

import "math/bits"

// arena holds the text of recent kernel lines, the candidates for a report's
// context, one after the other in a circular buffer: remembering a line is
// a copy to the next free bytes (where the processor is already writing),
// not to a buffer of its own somewhere in the heap. Lines are named by
// their absolute offset; once the buffer has gone round, the oldest ones are
// gone. Before it starts overwriting a part that holds a line recent enough
// to become context (printed within the context window of the log clock),
// the buffer doubles instead, while the memory budget allows. Lines without
// a wall-clock time (console, kmsg) do not make it grow.
type arena struct {
	buf     []byte
	head    int64 // absolute offset of the next byte to write
	floor   int64 // no line below this offset is held (raised when growing)
	segT    [arenaSegments]int64
	window  int64          // the context window, ns
	mayGrow func(int) bool // whether the buffer may take this many more bytes
	grown   func(int)      // called with the bytes added
	lost    uint64         // times a recent part was overwritten, no growth allowed
}

// arenaSegments is how many parts the buffer is judged in: the newest log
// time of the lines written in each part this lap.
const (
	arenaShift    = 4
	arenaSegments = 1 << arenaShift
)

// newArena returns an arena of size bytes, rounded up to a power of two:
// the buffer's size is one always (it only doubles), so that offsets are
// placed with masks and shifts (a division costs tens of cycles, and a line
// is put for every kernel line read).
func newArena(size int, window int64, mayGrow func(int) bool, grown func(int)) *arena {
	size = 1 << bits.Len(uint(max(size, arenaSegments*256)-1))
	a := &arena{buf: make([]byte, size), window: window, mayGrow: mayGrow, grown: grown}
	grown(size)
	return a
}

// segShift is log2 of a part's size.
func (a *arena) segShift() int {
	return bits.TrailingZeros(uint(len(a.buf))) - arenaShift
}

// put copies text in and returns its offset and length. now is the log
// clock and t the line's own time (Unix ns, 0 when unknown). A line longer
// than a part is cut to it.
func (a *arena) put(text []byte, now, t int64) (int64, int) {
	at := a.reserve(len(text), now)
	shift := a.segShift()
	if len(text) > 1<<shift {
		text = text[:1<<shift]
	}
	copy(a.buf[at:], text)
	off := a.head
	a.head += int64(len(text))
	if k := at >> shift; t > a.segT[k] {
		a.segT[k] = t
	}
	return off, len(text)
}

// reserve makes room for n bytes at the head and returns where they go in
// buf.
func (a *arena) reserve(n int, now int64) int64 {
	for {
		size := int64(len(a.buf))
		shift := a.segShift()
		m := min(int64(n), 1<<shift)
		at := a.head & (size - 1)
		if at+m > size { // no room before the end: go round
			a.head += size - at
			at = 0
		}
		grew := false
		for s := at >> shift; s <= (at+m-1)>>shift && m > 0; s++ {
			if s<<shift < at {
				continue // this part is being written this lap already
			}
			if now != 0 && a.segT[s] != 0 && now-a.segT[s] <= a.window {
				if a.mayGrow(len(a.buf)) {
					a.grow()
					grew = true
					break
				}
				a.lost++
			}
			a.segT[s] = 0
		}
		if !grew {
			return at
		}
	}
}

// grow doubles the buffer, keeping every line it holds at its offset.
func (a *arena) grow() {
	old := a.buf
	size := int64(len(old))
	nb := make([]byte, 2*size)
	from := max(a.floor, a.head-size)
	for o := from; o < a.head; {
		f, t := o%size, o%(2*size)
		n := min(size-f, 2*size-t, a.head-o)
		copy(nb[t:t+n], old[f:f+n])
		o += n
	}
	// Which old part each line went to is not tracked: the parts that hold
	// old lines are given the newest time among them, the fresh half none.
	newest := int64(0)
	for _, t := range a.segT {
		newest = max(newest, t)
	}
	seg := 2 * size / arenaSegments
	h := a.head % (2 * size)
	for k := range a.segT {
		rel := (int64(k)*seg - h + 2*size) % (2 * size) // from the head, in the new buffer
		a.segT[k] = newest
		if rel+seg <= size {
			a.segT[k] = 0
		}
	}
	a.buf, a.floor = nb, from
	a.grown(int(size))
}

// get returns the n bytes at off, false once they have been overwritten.
func (a *arena) get(off int64, n int) ([]byte, bool) {
	size := int64(len(a.buf))
	if off < a.floor || off < a.head-size || off+int64(n) > a.head {
		return nil, false
	}
	at := off & (size - 1)
	return a.buf[at : at+int64(n)], true
}
