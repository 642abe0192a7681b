package assemble

// hostTable finds a host's state by the hash of its name: an open-addressing
// table whose slots hold the hash and the name beside the pointer, so a
// look-up reads one slot and the name's bytes, and then the host itself,
// which the line needs next anyway; the slot alone tells where all of them
// are (see Assembler.Prefetch). Names with the same hash each have a slot of
// their own.
type hostTable struct {
	slots []hostSlot // a power of two long, at most half full
	n     int
}

type hostSlot struct {
	hash uint64
	h    *host  // nil: empty
	name string // h.name
}

func (t *hostTable) mask() uint64 { return uint64(len(t.slots) - 1) }

// find returns the host named name, nil if there is none.
func (t *hostTable) find(hash uint64, name []byte) *host {
	if len(t.slots) == 0 {
		return nil
	}
	m := t.mask()
	for i := hash & m; ; i = (i + 1) & m {
		s := &t.slots[i]
		if s.h == nil {
			return nil
		}
		if s.hash == hash && s.name == string(name) {
			return s.h
		}
	}
}

// insert adds h, which is not in the table.
func (t *hostTable) insert(h *host) {
	if 2*(t.n+1) > len(t.slots) {
		t.resize(max(64, 2*len(t.slots)))
	}
	t.put(hostSlot{h.hash, h, h.name})
	t.n++
}

func (t *hostTable) put(s hostSlot) {
	m := t.mask()
	i := s.hash & m
	for t.slots[i].h != nil {
		i = (i + 1) & m
	}
	t.slots[i] = s
}

func (t *hostTable) resize(size int) {
	old := t.slots
	t.slots = make([]hostSlot, size)
	for _, s := range old {
		if s.h != nil {
			t.put(s)
		}
	}
}

// slot returns the first slot that holds a host of this hash, or the empty
// slot where a search for it ends; nil while the table is empty. It is a
// hint for Assembler.Prefetch: another host may have the same hash.
func (t *hostTable) slot(hash uint64) *hostSlot {
	if len(t.slots) == 0 {
		return nil
	}
	m := t.mask()
	for i := hash & m; ; i = (i + 1) & m {
		s := &t.slots[i]
		if s.h == nil || s.hash == hash {
			return s
		}
	}
}

// remove takes h out, moving back the entries that followed it so that no
// look-up stops early at the hole.
func (t *hostTable) remove(h *host) {
	if len(t.slots) == 0 {
		return
	}
	m := t.mask()
	i := h.hash & m
	for t.slots[i].h != h {
		if t.slots[i].h == nil {
			return // not here
		}
		i = (i + 1) & m
	}
	for j := (i + 1) & m; t.slots[j].h != nil; j = (j + 1) & m {
		home := t.slots[j].hash & m
		// Move j into the hole at i unless its home lies cyclically in (i, j].
		if (i <= j && (home <= i || home > j)) || (i > j && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = hostSlot{}
	t.n--
}
