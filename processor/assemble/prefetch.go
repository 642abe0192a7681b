package assemble

import (
	"unsafe"

	"github.com/oopsflow/oopsflow/internal/prefetch"
)

// Prefetch starts loading the state that the next lines will read, given
// the classes of the kernel lines that come next, in order (next[0] is
// added next). A front end that has a batch of classified lines calls it
// before each line it adds; it changes nothing.
//
// The state of one host is a chain of pointers: its slot in the host table,
// the host and its name, the stream of its last line, the stream's ring of
// recent lines. With thousands of hosts each link is usually a cache miss,
// and misses that follow one another add up to most of the time a line
// takes. So Prefetch fetches the first link for a line some way ahead, the
// next link for a nearer line, whose first link it fetched some lines ago,
// and so on: the misses of the coming lines overlap with the work on this
// one. A wrong guess (a host added or evicted in between) costs only a
// wasted fetch.
func (a *Assembler) Prefetch(next []Class) {
	if len(next) > slotAhead {
		if m := uint64(len(a.hosts.slots)); m > 0 {
			prefetch.Line(unsafe.Pointer(&a.hosts.slots[next[slotAhead].HostHash&(m-1)]))
		}
	}
	if len(next) > hostAhead {
		if s := a.hosts.slot(next[hostAhead].HostHash); s != nil && s.h != nil {
			prefetch.Line(unsafe.Pointer(s.h))
			prefetch.Line(unsafe.Pointer(unsafe.StringData(s.name)))
		}
	}
	if len(next) > streamAhead {
		if s := a.hosts.slot(next[streamAhead].HostHash); s != nil && s.h != nil && s.h.last != nil {
			prefetch.Lines(unsafe.Pointer(s.h.last), streamHotLines)
		}
	}
	if len(next) > 0 {
		if s := a.hosts.slot(next[0].HostHash); s != nil && s.h != nil {
			if st := s.h.last; st != nil && st.phase == waiting && len(st.ring) > 0 {
				i := st.ringHead
				if st.ringLen < len(st.ring) {
					i = (st.ringHead + st.ringLen) % len(st.ring)
				}
				c := unsafe.Pointer(&st.ring[i])
				prefetch.Line(c)
				prefetch.Line(unsafe.Add(c, unsafe.Sizeof(st.ring[i])-1))
			}
		}
	}
}

// How many lines ahead Prefetch fetches each link: far enough for the
// previous link to have arrived.
const (
	slotAhead   = 6
	hostAhead   = 3
	streamAhead = 1
)

// streamHotLines is how many cache lines, from its start, cover the fields
// of a stream that an ordinary line reads.
const streamHotLines = int(unsafe.Offsetof(stream{}.bytes)+prefetch.CacheLine-1)/prefetch.CacheLine + 1
