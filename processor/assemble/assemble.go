// Package assemble turns a stream of kernel lines from many hosts into
// complete kernel reports (oopses, warnings, lockups, hung tasks, ...).
//
// Lines are demultiplexed into streams keyed by host, boot id and printk
// caller id, so reports from thousands of hosts may interleave line by line.
// Each stream is a small state machine:
//
//	waiting --header--> open --"---[ end trace"--> trailer --other line--> waiting
//	                     |  \--end of call trace, "====", "Killed process"--> waiting
//	                     \--next header, line cap, idle, eof, shutdown, eviction--> waiting
//
// While waiting, a stream remembers its last few lines, so that lines printed
// just before a header ("------------[ cut here ]------------", "IPv4: Attempt
// to release TCP socket in state 10") become the report's context.
//
// Memory is bounded by Config: lines and bytes per report, context lines per
// stream, streams per host, hosts (least recently seen evicted first), idle
// time after which an open report is closed, and a byte budget over all of
// it (Config.MaxOpenBytes, or a Budget shared by several assemblers): over
// budget, the oldest open report is closed as truncated (memory_limit).
//
// Time. Every decision that changes what a report contains is taken on log
// time (the clock given to Add and Advance) and on content, never on the
// wall clock, so that the same lines give the same reports whatever path
// they took and however fast they came. Streaming front ends also close,
// with AdvanceWall, the reports of streams that received nothing for a long
// wall-clock time (a host that died mid-report on a quiet stream).
//
// Order. Reports closed together (by Advance, AdvanceWall or Flush) are
// emitted in the order they started, so the same input gives the same output
// in the same order.
package assemble

import (
	"bytes"
	"cmp"
	"hash/maphash"
	"slices"
	"sync/atomic"
	"time"

	"github.com/oopsflow/oopsflow/processor/format"
	"github.com/oopsflow/oopsflow/processor/logline"
)

// EndReason says why a report was closed. The values are the document's
// oops.end_reason.
type EndReason string

// End reasons. trace_end and evicted extend DESIGN.md's list: trace_end is
// the normal end of reports that print no end marker (hung tasks, lockups),
// evicted the end of a report whose host was dropped to honour MaxHosts.
const (
	EndMarker  EndReason = "end_marker"  // ---[ end trace, ---[ end Kernel panic, ====, Killed process, or a one-line report
	NextReport EndReason = "next_report" // another report started on the same stream
	TraceEnd   EndReason = "trace_end"   // the call trace was over and an unrelated line followed
	Idle       EndReason = "idle"        // the stream went quiet for Config.Idle
	MaxLines   EndReason = "max_lines"   // the line or byte cap was reached
	EOF        EndReason = "eof"         // the input ended
	Shutdown   EndReason = "shutdown"    // the process is stopping
	Evicted    EndReason = "evicted"     // host or stream evicted to bound memory
	// MemoryLimit: the oldest open report, closed because the open reports
	// and context lines together reached the byte budget.
	MemoryLimit EndReason = "memory_limit"
	// Reboot: the host printed a boot banner; the report will never end.
	Reboot EndReason = "reboot"
)

// Config bounds the assembler. Zero fields take the defaults of DefaultConfig.
type Config struct {
	MaxLines          int           // lines per report (default 1000)
	MaxBytes          int           // bytes per report (default 128 KiB)
	MaxLineBytes      int           // longer lines are cut (default 2048)
	MaxHosts          int           // hosts with state; least recently seen is evicted, nearly (see hostFor; default 50,000)
	MaxStreamsPerHost int           // boot/caller streams per host (default 64)
	ContextLines      int           // lines remembered before a header (default 6; negative: none)
	ContextWindow     time.Duration // how far before the header a context line may be (default 1s)
	Idle              time.Duration // quiet time after which an open report closes (default 30s)
	TrailerLines      int           // lines accepted after "---[ end trace" (default 60)
	// TrailerIdle closes a report that printed its end marker and is only
	// waiting for a "Kernel panic" line, sooner than Idle (default 2s).
	TrailerIdle time.Duration
	// MaxOpenBytes bounds the bytes held in open reports and context lines
	// (default 64 MiB). Ignored when Budget is set.
	MaxOpenBytes int64
	// Budget, when not nil, is shared with other assemblers (one per Kafka
	// partition): the bound is then per process.
	Budget *Budget
}

// Budget is a byte bound shared by several assemblers. Each assembler charges
// what it holds and, when the total is over the limit, closes its own oldest
// open report. Safe for concurrent use.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// Used returns the bytes charged now.
func (b *Budget) Used() int64 { return b.used.Load() }

// Limit returns the bound.
func (b *Budget) Limit() int64 { return b.limit }

func (b *Budget) over() bool { return b.used.Load() > b.limit }

// DefaultConfig returns the default bounds.
func DefaultConfig() Config {
	return Config{
		MaxLines:          1000,
		MaxBytes:          128 << 10,
		MaxLineBytes:      2048,
		MaxHosts:          50000,
		MaxStreamsPerHost: 64,
		ContextLines:      6,
		ContextWindow:     time.Second,
		Idle:              30 * time.Second,
		TrailerLines:      60,
		TrailerIdle:       2 * time.Second,
		MaxOpenBytes:      64 << 20,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	orDefault(&c.MaxLines, d.MaxLines)
	orDefault(&c.MaxBytes, d.MaxBytes)
	orDefault(&c.MaxLineBytes, d.MaxLineBytes)
	orDefault(&c.MaxHosts, d.MaxHosts)
	orDefault(&c.MaxStreamsPerHost, d.MaxStreamsPerHost)
	orDefault(&c.ContextWindow, d.ContextWindow)
	orDefault(&c.Idle, d.Idle)
	orDefault(&c.TrailerLines, d.TrailerLines)
	orDefault(&c.TrailerIdle, d.TrailerIdle)
	orDefault(&c.MaxOpenBytes, d.MaxOpenBytes)
	switch {
	case c.ContextLines < 0: // explicitly none
		c.ContextLines = 0
	case c.ContextLines == 0:
		c.ContextLines = d.ContextLines
	}
	return c
}

// orDefault replaces a zero or negative setting with its default.
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Report is one assembled kernel report.
type Report struct {
	Host   string
	Boot   string
	Caller string
	Format logline.Format // format of the header line
	// Group is the report table's group the header announced, and Kind
	// the kind of report (type, severity, how it ends).
	Group *format.Group
	Kind  format.Kind

	Context []string // lines printed just before the header that belong to it
	Lines   []string // the header line and everything after it, prefixes stripped

	Time      time.Time     // wall-clock time of the header line (zero if unknown)
	Uptime    time.Duration // kernel uptime of the header line, valid when HasUptime
	HasUptime bool
	EndTime   time.Time // wall-clock time of the last line

	EndReason EndReason
	Truncated bool // the report did not end the way reports of its kind end
	CutLines  int  // lines dropped or shortened by the caps

	// FirstPos and LastPos are the positions (as given to Add) of the first
	// line (context included) and the last line of the report; HeaderPos
	// that of the header line.
	FirstPos, LastPos, HeaderPos int64
}

// Stats counts what the assembler did.
type Stats struct {
	Lines        uint64 // kernel lines added
	Reports      uint64 // reports emitted
	Truncated    uint64 // reports emitted with Truncated set
	EvictedHosts uint64 // hosts evicted to honour MaxHosts or the byte budget
	CutLines     uint64 // lines dropped or shortened by the caps
	Interleaved  uint64 // unrelated lines found inside a report (kept out of it)
	MemoryLimit  uint64 // reports closed early to stay within the byte budget
	// ContextLost counts times the buffer of recent lines (the context
	// candidates) could not grow within the memory budget and overwrote
	// lines that were still recent.
	ContextLost uint64
	Bytes       int64 // bytes held now (open reports and context lines)
}

// An Assembler is not safe for concurrent use; the pipeline owns one.
type Assembler struct {
	cfg   Config
	emit  func(*Report)
	hosts hostTable // by the hash of their name (HostHash)
	seed  maphash.Seed
	// LRU of hosts: head is most recently seen, nearly (see hostFor).
	head, tail *host
	moves      uint64 // hosts moved to the front so far
	recent     *arena // the text of remembered lines; nil until the first
	nowN       int64  // the clock of the line being added, Unix ns (0: none)
	open       map[*stream]struct{}
	stats      Stats
	budget     *Budget
	held       int64     // bytes this assembler has charged to budget
	wall       time.Time // wall clock as last given to SetWall
	wallN      int64     // wall in Unix ns
	firstWall  int64     // the first SetWall, Unix ns: lines read before it count as seen then
}

type host struct {
	name       string
	hash       uint64
	streams    map[streamKey]*stream
	last       *stream // the stream of the host's previous line
	prev, next *host
	moved      uint64 // Assembler.moves when the host last moved to the front
}

type streamKey struct{ boot, caller string }

// ctxLine is a remembered line: its text is in the assembler's arena of
// recent lines, so remembering one costs a copy but no allocation.
type ctxLine struct {
	off       int64 // in the arena
	n         int32
	hasUptime bool
	t         int64 // wall-clock time, Unix ns; 0 when the line has none
	up        time.Duration
	pos       int64
}

// mayGrowContext says whether the buffer of recent lines may take n more
// bytes: only while everything held stays under a quarter of the budget.
func (a *Assembler) mayGrowContext(n int) bool {
	return a.budget.used.Load()+int64(n) <= a.budget.limit/4
}

// unixNano is t in Unix nanoseconds, 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

type phase uint8

const (
	waiting phase = iota
	inReport
	inTrailer
)

type stream struct {
	// What every line touches comes first (one or two cache lines).
	host     *host
	key      streamKey
	phase    phase
	untimed  bool // the stream's last line carried no wall-clock time
	inlined  bool // every line so far is a symbolised "... [inline]" header
	ended    bool // an end marker was seen
	trace    bool // a "Call Trace:" line was seen
	rep      *Report
	lastSeen int64     // log clock at the stream's last line, Unix ns
	lastWall int64     // wall clock (SetWall) at the stream's last line, Unix ns
	ring     []ctxLine // recent lines while waiting (bounded by ContextLines)
	ringHead int       // index of the oldest line once the ring is full
	ringLen  int       // lines in the ring

	bytes   int
	frames  int   // body lines after the trace start
	trailer int   // lines in the trailer
	strays  int   // consecutive non-report lines after the trace started
	cost    int64 // bytes charged for the open report
}

// New returns an Assembler that calls emit for every finished report.
func New(cfg Config, emit func(*Report)) *Assembler {
	cfg = cfg.withDefaults()
	b := cfg.Budget
	if b == nil {
		b = NewBudget(cfg.MaxOpenBytes)
	}
	return &Assembler{
		cfg:    cfg,
		emit:   emit,
		seed:   maphash.MakeSeed(),
		open:   make(map[*stream]struct{}),
		budget: b,
	}
}

// Stats returns the counters so far.
func (a *Assembler) Stats() Stats {
	s := a.stats
	if a.recent != nil {
		s.ContextLost += a.recent.lost
	}
	s.Bytes = a.held
	return s
}

// SetWall sets the wall clock that AdvanceWall compares the streams' last
// lines with. Streaming front ends call it as time passes (a coarse clock is
// enough); batch input never needs it.
func (a *Assembler) SetWall(t time.Time) {
	a.wall, a.wallN = t, unixNano(t)
	if a.firstWall == 0 {
		a.firstWall = a.wallN
	}
}

// seenWall is the wall-clock time of a stream's last line, Unix ns.
func (a *Assembler) seenWall(st *stream) int64 {
	if st.lastWall == 0 {
		return a.firstWall
	}
	return st.lastWall
}

// OpenReports returns the number of reports currently being assembled.
func (a *Assembler) OpenReports() int { return len(a.open) }

// OldestOpen returns the smallest FirstPos of the reports being assembled,
// false when none is open. A consumer must not commit past it: those lines
// are not in any document yet.
func (a *Assembler) OldestOpen() (int64, bool) {
	var oldest int64
	found := false
	for st := range a.open {
		if !found || st.rep.FirstPos < oldest {
			oldest, found = st.rep.FirstPos, true
		}
	}
	return oldest, found
}

// OldestContext returns the smallest position of a remembered line that may
// still become context of a report: a line printed within ContextWindow
// before its stream's last line, on a stream that had a line within idle of
// wall-clock time (see SetWall), and (when it carries a wall-clock time)
// within ContextWindow of clock, the log clock. ok is false when there is
// none. Such a line is not yet in any document, so a consumer must not
// commit past it either; each stream holds only a few, all recent.
func (a *Assembler) OldestContext(clock time.Time, idle time.Duration) (pos int64, ok bool) {
	for h := a.head; h != nil; h = h.next {
		for _, st := range h.streams {
			if st.ringLen == 0 || st.phase != waiting || (a.wallN != 0 && time.Duration(a.wallN-a.seenWall(st)) >= idle) {
				continue
			}
			// A ring holds its stream's lines in input order: the first
			// that is still context is the stream's oldest, and a ring
			// whose first line comes after the oldest found has none older.
			if ok && st.ring[st.ringHead].pos >= pos {
				continue
			}
			last := &st.ring[(st.ringHead+st.ringLen-1)%len(st.ring)]
			for i := 0; i < st.ringLen; i++ {
				if c := &st.ring[(st.ringHead+i)%len(st.ring)]; a.mayBeContext(c, last, clock) {
					if !ok || c.pos < pos {
						pos, ok = c.pos, true
					}
					break
				}
			}
		}
	}
	return pos, ok
}

// mayBeContext says whether a remembered line can still become context: it
// is held, and within ContextWindow of its stream's last line (and, when it
// carries a wall-clock time, of the log clock).
func (a *Assembler) mayBeContext(c, last *ctxLine, clock time.Time) bool {
	w := a.cfg.ContextWindow
	var live bool
	switch {
	case c.hasUptime && last.hasUptime:
		live = last.up-c.up <= w
	case c.t != 0:
		live = time.Duration(last.t-c.t) <= w && time.Duration(unixNano(clock)-c.t) <= w
	}
	_, held := a.recent.get(c.off, int(c.n))
	return live && held
}

// Discard drops every open report without emitting it and forgets all
// state: the lines will be read again by whoever continues the stream (a
// Kafka partition's next owner).
func (a *Assembler) Discard() {
	for st := range a.open {
		st.rep = nil
		st.phase = waiting
		delete(a.open, st)
	}
	a.forget()
}

// forget drops every host and gives the bytes back to the budget.
func (a *Assembler) forget() {
	a.hosts = hostTable{}
	a.head, a.tail = nil, nil
	if a.recent != nil {
		a.stats.ContextLost += a.recent.lost
		a.recent = nil
	}
	a.charge(-a.held)
}

// Per-item costs charged to the budget beyond the bytes of the text: string
// and slice headers, allocation rounding, map entries.
const (
	lineOverhead = 32
	hostOverhead = 256
)

// charge adds n bytes (negative to give back) to the budget.
func (a *Assembler) charge(n int64) {
	a.held += n
	a.budget.used.Add(n)
}

// enforce closes the oldest open reports, then drops the least recently seen
// hosts' context lines, until the budget holds (or nothing is left here).
func (a *Assembler) enforce() {
	for a.budget.over() && a.held > 0 {
		var oldest *stream
		for st := range a.open {
			if oldest == nil || st.rep.FirstPos < oldest.rep.FirstPos {
				oldest = st
			}
		}
		if oldest != nil {
			a.stats.MemoryLimit++
			a.close(oldest, MemoryLimit)
			continue
		}
		if a.tail == nil {
			return
		}
		a.evictHost(a.tail)
	}
}

// Hosts returns the number of hosts with state.
func (a *Assembler) Hosts() int { return a.hosts.n }

// Class is what the assembler learns from a kernel line's text alone,
// before it looks at the line's host: Classify computes it, and a front end
// may do so on other goroutines (it reads nothing that changes).
type Class struct {
	Group    *format.Group // the report kind the line starts; nil if none
	Boot     bool          // a boot banner: the host restarted
	Replay   bool          // "** replaying previous printk message **"
	HostHash uint64        // HostHash of the line
}

// Classify returns the Class of a kernel line. Safe for concurrent use with
// everything else.
func (a *Assembler) Classify(l *logline.Line) Class {
	c := Class{HostHash: a.HostHash(l)}
	text := l.Text
	if len(text) > a.cfg.MaxLineBytes {
		text = text[:a.cfg.MaxLineBytes]
	}
	switch {
	case len(text) >= 2 && text[0] == '*' && text[1] == '*' && bytes.Contains(text, replaying):
		c.Replay = true
	case format.IsBoot(text):
		c.Boot = true
	default:
		c.Group, _ = format.Match(text)
	}
	return c
}

// Add feeds one kernel line. now is the assembler's clock for idle timeouts:
// the time of the newest line for batch input, the wall clock for streams.
// pos is an opaque, increasing position of the line in its source (a line
// number, a Kafka offset); reports carry the positions of their first and
// last lines. Lines that are not kernel lines must not be added.
func (a *Assembler) Add(l *logline.Line, now time.Time, pos int64) {
	a.AddClassified(l, now, pos, a.Classify(l))
}

// AddClassified is Add for a line whose Class was computed beforehand.
func (a *Assembler) AddClassified(l *logline.Line, now time.Time, pos int64, c Class) {
	a.stats.Lines++
	a.nowN = unixNano(now)
	h := a.hostFor(l, c.HostHash)
	if c.Replay {
		// The console re-prints an older message (it carries no caller
		// id): a report its previous line started was a fragment of it.
		if p := h.last; p != nil && p.rep != nil && len(p.rep.Lines) == 1 {
			a.drop(p)
		}
		return
	}
	st := a.streamFor(h, streamKey{l.Boot, l.Caller})
	h.last = st
	if st.rep != nil {
		// What Advance would have closed by now is closed before the line
		// is looked at, so that a report's end never depends on how often
		// Advance ran (how the input was split or paced).
		if why, ok := a.stale(st, a.nowN); ok {
			a.close(st, why)
		}
	}
	st.lastSeen = a.nowN
	st.lastWall = a.wallN
	st.untimed = l.Time.IsZero()
	text := l.Text
	cut := false
	if len(text) > a.cfg.MaxLineBytes {
		text = text[:a.cfg.MaxLineBytes]
		cut = true
		a.stats.CutLines++
	}
	a.step(st, l, text, cut, pos, c)
	if a.budget.over() {
		a.enforce()
	}
}

func (a *Assembler) step(st *stream, l *logline.Line, text []byte, cut bool, pos int64, c Class) {
	if c.Boot {
		// The machine restarted: whatever it was printing will not end.
		a.rebooted(st.host)
		return
	}
	g, isHeader := c.Group, c.Group != nil
	if isHeader && g.Extra && st.phase != waiting && st.strays == 0 {
		// Printed by another CPU into the open report (an NMI backtrace,
		// an OOM kill). Once lines foreign to the report came between,
		// the report has ended and this one starts.
		isHeader = false
	}
	var kind format.Kind
	if isHeader {
		kind = format.KindOf(g, string(text))
	}
	switch st.phase {
	case waiting:
		if isHeader {
			a.start(st, g, kind, l, text, pos)
			return
		}
		a.remember(st, l, text, pos)

	case inReport:
		r := st.rep
		if isHeader && r.Group.Absorbs != nil && r.Group.Absorbs.Match(text) {
			isHeader = false // part of the open report
		}
		if r.Kind.End == format.EndBlock {
			if bytes.Contains(text, []byte(r.Group.Keyword)) {
				a.appendLine(st, text, l, cut, pos)
				return
			}
			st.ended = true
			a.close(st, EndMarker)
			a.step(st, l, text, cut, pos, c)
			return
		}
		if isHeader && st.inlined && g == r.Group {
			// A symbolised report repeats its header for each function
			// inlined where it was raised ("BUG: KASAN: ... in f
			// include/x.h:12 [inline]"), then prints the real one.
			st.inlined = inlineHeader(text)
			a.appendLine(st, text, l, cut, pos)
			return
		}
		st.inlined = false
		if isHeader && kind.End == format.EndLine {
			// A one-line report (unregister_netdevice) printed by another
			// CPU inside this one: emit it on its own and leave the open
			// report undisturbed.
			a.oneLine(st, g, kind, l, text, pos)
			return
		}
		if isHeader {
			if g.Continues {
				// A line that belongs to the report it follows ("Kernel
				// panic" after an oops, "Internal error:" after "Unable
				// to handle kernel").
				a.appendLine(st, text, l, cut, pos)
				if g.Trailer && st.rep != nil && st.trace && st.frames > 0 {
					// "Kernel panic" after the report's trace: only its
					// trailer is left. (Before it, as panic_on_warn
					// prints it, the report is still to come.)
					st.phase = inTrailer
				}
				return
			}
			a.close(st, NextReport)
			a.start(st, g, kind, l, text, pos)
			return
		}
		switch r.Kind.End {
		case format.EndRule:
			a.appendLine(st, text, l, cut, pos)
			if format.IsRule(text) {
				a.close(st, EndMarker)
			}
			return
		case format.EndKilled:
			if format.IsKilled(text) {
				a.appendLine(st, text, l, cut, pos)
				a.close(st, EndMarker)
				return
			}
			if isTaskTableRow(text) { // the OOM task dump can run to thousands of rows
				r.CutLines++
				a.stats.CutLines++
				r.LastPos = pos
				return
			}
		}
		if format.IsEndTrace(text) || format.IsEndPanic(text) {
			a.appendLine(st, text, l, cut, pos)
			if st.rep == nil {
				return
			}
			st.ended = true
			if format.IsEndPanic(text) {
				a.close(st, EndMarker)
			} else if st.phase == inReport {
				st.phase = inTrailer
			}
			return
		}
		if st.trace && st.frames > 0 && !format.IsBody(text) {
			// Either the trace is over, or another kernel message of the
			// same host landed inside it. Hold the report open for a few
			// such lines: if the report goes on, they were interleaved.
			st.strays++
			a.remember(st, l, text, pos)
			if st.strays > a.strayLimit(r.Kind) {
				a.close(st, TraceEnd)
			}
			return
		}
		if st.strays > 0 {
			a.stats.Interleaved += uint64(st.strays)
			st.strays = 0
		}
		if format.IsTraceStart(text) {
			st.trace = true
		} else if st.trace {
			st.frames++
		}
		a.appendLine(st, text, l, cut, pos)

	case inTrailer:
		switch {
		case isHeader && g.Trailer:
			st.strays = 0
			a.appendLine(st, text, l, cut, pos)
		case isHeader:
			a.close(st, EndMarker)
			a.start(st, g, kind, l, text, pos)
		case format.IsEndPanic(text):
			a.appendLine(st, text, l, cut, pos)
			st.ended = true
			a.close(st, EndMarker)
		case format.IsBody(text) && st.trailer < a.cfg.TrailerLines:
			st.trailer++
			st.strays = 0
			a.appendLine(st, text, l, cut, pos)
		default:
			// As in the trace: an unrelated line may separate "---[ end
			// trace" from the "Kernel panic" that belongs to the report.
			st.strays++
			a.remember(st, l, text, pos)
			if st.strays > trailerStrays || st.trailer >= a.cfg.TrailerLines {
				a.close(st, a.trailerEnd(st))
			}
		}
	}
}

// strayLimit is how many consecutive non-report lines a report tolerates
// after its call trace started: reports that always print an end marker wait
// longer for it than reports that end when their trace does.
func (a *Assembler) strayLimit(k format.Kind) int {
	if k.EndTrace {
		return 32
	}
	return 2
}

// trailerStrays is how many unrelated lines may separate a report's end
// marker from its trailer.
const trailerStrays = 2

// trailerEnd is the reason a report in its trailer ends: the end marker when
// one was printed; otherwise ("Kernel panic" after a report with no end
// marker) the report's trace ended.
func (a *Assembler) trailerEnd(st *stream) EndReason {
	if st.ended {
		return EndMarker
	}
	return TraceEnd
}

// isTaskTableRow recognises the rows of the OOM killer's task dump:
// "[  1234]     0  1234    12345 ...".
func isTaskTableRow(t []byte) bool {
	if len(t) < 3 || t[0] != '[' {
		return false
	}
	for i := 1; i < len(t); i++ {
		switch c := t[i]; {
		case c == ' ' || c >= '0' && c <= '9':
		case c == ']':
			return i > 1
		default:
			return false
		}
	}
	return false
}

func (a *Assembler) start(st *stream, g *format.Group, kind format.Kind, l *logline.Line, text []byte, pos int64) {
	r := &Report{
		Host:      st.host.name,
		Boot:      st.key.boot,
		Caller:    st.key.caller,
		Format:    l.Format,
		Group:     g,
		Kind:      kind,
		Time:      l.Time,
		Uptime:    l.Uptime,
		HasUptime: l.HasUptime,
		FirstPos:  pos,
		HeaderPos: pos,
	}
	// Context: the remembered lines printed close enough before the header.
	for i := 0; i < st.ringLen; i++ {
		c := &st.ring[(st.ringHead+i)%len(st.ring)]
		if !a.inWindow(c, l) {
			continue
		}
		text, held := a.recent.get(c.off, int(c.n))
		if !held {
			continue
		}
		if len(r.Context) == 0 {
			r.FirstPos = c.pos
		}
		r.Context = append(r.Context, string(text))
		st.cost += int64(len(text)) + lineOverhead
	}
	a.charge(st.cost)
	st.ringHead, st.ringLen = 0, 0
	st.rep = r
	st.phase = inReport
	st.bytes, st.frames, st.trailer, st.strays = 0, 0, 0, 0
	st.trace, st.ended = false, false
	st.inlined = inlineHeader(text)
	a.open[st] = struct{}{}
	a.appendLine(st, text, l, false, pos)
	if kind.End == format.EndLine && st.rep != nil {
		st.ended = true
		a.close(st, EndMarker)
	}
}

var replaying = []byte("** replaying previous printk message **")

// inlineHeader recognises a symbolised header line naming an inlined
// function ("... in f include/linux/x.h:12 [inline]").
func inlineHeader(text []byte) bool {
	return bytes.HasSuffix(bytes.TrimRight(text, " "), []byte(" [inline]"))
}

// drop forgets a stream's open report without emitting it.
func (a *Assembler) drop(st *stream) {
	st.rep = nil
	st.phase = waiting
	a.charge(-st.cost)
	st.cost = 0
	delete(a.open, st)
}

// rebooted closes the open reports of a host that printed a boot banner.
func (a *Assembler) rebooted(h *host) {
	var open []*stream
	for _, st := range h.streams {
		if st.rep != nil {
			open = append(open, st)
		}
	}
	slices.SortFunc(open, func(x, y *stream) int { return compareStart(x.rep, y.rep) })
	for _, st := range open {
		a.close(st, Reboot)
	}
}

// oneLine emits a one-line report without touching the stream's state.
func (a *Assembler) oneLine(st *stream, g *format.Group, kind format.Kind, l *logline.Line, text []byte, pos int64) {
	a.stats.Reports++
	a.emit(&Report{
		Host: st.host.name, Boot: st.key.boot, Caller: st.key.caller, Format: l.Format, Group: g, Kind: kind,
		Lines: []string{string(text)}, Time: l.Time, EndTime: l.Time, Uptime: l.Uptime, HasUptime: l.HasUptime,
		EndReason: EndMarker, FirstPos: pos, LastPos: pos, HeaderPos: pos,
	})
}

// inWindow decides whether a remembered line is close enough in time to the
// header to be its context: by kernel uptime when both have it, else by
// wall-clock time, else (no time at all) only the line right before.
func (a *Assembler) inWindow(c *ctxLine, l *logline.Line) bool {
	w := a.cfg.ContextWindow
	switch {
	case c.hasUptime && l.HasUptime:
		d := l.Uptime - c.up
		return d >= 0 && d <= w
	case c.t != 0 && !l.Time.IsZero():
		d := time.Duration(l.Time.UnixNano() - c.t)
		return d >= 0 && d <= w
	}
	return false
}

// remember keeps a line in the stream's ring of recent lines. The ring's
// slots and their buffers are reused: no allocation once they have grown.
func (a *Assembler) remember(st *stream, l *logline.Line, text []byte, pos int64) {
	n := a.cfg.ContextLines
	if n == 0 {
		return
	}
	var c *ctxLine
	if st.ringLen < n {
		if len(st.ring) <= st.ringLen {
			st.ring = append(st.ring, ctxLine{})
			a.charge(lineOverhead)
		}
		i := st.ringHead + st.ringLen
		if i >= len(st.ring) {
			i -= len(st.ring)
		}
		c = &st.ring[i]
		st.ringLen++
	} else {
		c = &st.ring[st.ringHead]
		if st.ringHead++; st.ringHead == len(st.ring) {
			st.ringHead = 0
		}
	}
	if a.recent == nil {
		a.recent = newArena(64<<10, int64(a.cfg.ContextWindow), a.mayGrowContext, func(n int) { a.charge(int64(n)) })
	}
	t := unixNano(l.Time)
	off, n2 := a.recent.put(text, a.nowN, t)
	c.off, c.n, c.t, c.up, c.hasUptime, c.pos = off, int32(n2), t, l.Uptime, l.HasUptime, pos
}

func (a *Assembler) appendLine(st *stream, text []byte, l *logline.Line, cut bool, pos int64) {
	r := st.rep
	r.LastPos = pos
	if !l.Time.IsZero() {
		r.EndTime = l.Time
	}
	if cut {
		r.CutLines++
	}
	r.Lines = append(r.Lines, string(text))
	st.bytes += len(text)
	cost := int64(len(text)) + lineOverhead
	st.cost += cost
	a.charge(cost)
	if len(r.Lines) >= a.cfg.MaxLines || st.bytes >= a.cfg.MaxBytes {
		a.close(st, MaxLines)
	}
}

// close emits the stream's open report.
func (a *Assembler) close(st *stream, why EndReason) {
	r := st.rep
	if r == nil {
		return
	}
	switch {
	case st.ended && (why == EOF || why == Idle || why == Shutdown):
		// The report printed its end marker and was only waiting for a
		// trailer ("Kernel panic", register repeat) that did not come.
		why = EndMarker
	case st.strays > 0 && (why == EOF || why == Idle || why == Shutdown || why == NextReport):
		// Its trace had ended; the report was only held open in case
		// more of it followed the unrelated lines.
		why = TraceEnd
	}
	r.EndReason = why
	r.Truncated = a.truncated(st, why)
	st.rep = nil
	st.phase = waiting
	a.charge(-st.cost)
	st.cost = 0
	delete(a.open, st)
	if r.EndTime.IsZero() {
		r.EndTime = r.Time
	}
	a.stats.Reports++
	a.stats.CutLines += uint64(r.CutLines)
	if r.Truncated {
		a.stats.Truncated++
	}
	a.emit(r)
}

// truncated: a report is complete when it printed its end marker, or when
// its kind prints none and its call trace was seen through to its end.
func (a *Assembler) truncated(st *stream, why EndReason) bool {
	if st.ended || why == EndMarker {
		return false
	}
	switch why {
	case MaxLines, Evicted, MemoryLimit, Reboot:
		return true
	}
	kind := st.rep.Kind
	if kind.End != format.EndTrace || kind.EndTrace {
		return true
	}
	return !(st.trace && st.frames > 0)
}

// Advance closes reports whose streams have been quiet for Config.Idle of
// log time as of now, and reports that printed their end marker and waited
// TrailerIdle for a trailer. Call it as the log clock moves (the pipeline
// does so once per second of log time).
func (a *Assembler) Advance(now time.Time) {
	n := unixNano(now)
	a.closeWhere(func(st *stream) (EndReason, bool) { return a.stale(st, n) })
}

// stale says whether a stream's open report is over as of now (log time):
// quiet for Idle, or waiting TrailerIdle for a trailer after its end marker.
func (a *Assembler) stale(st *stream, now int64) (EndReason, bool) {
	quiet := time.Duration(now - st.lastSeen)
	switch {
	case quiet >= a.cfg.Idle:
		return Idle, true
	case st.phase == inTrailer && st.ended && quiet >= a.cfg.TrailerIdle:
		return EndMarker, true
	}
	return "", false
}

// AdvanceWall closes, as idle, the reports that log time cannot close:
// every open report when silent is set (the whole input has been quiet for
// idle: no later line will move the log clock), and otherwise the reports
// of streams whose lines carry no wall-clock time (kmsg, console) and that
// received no line for idle of wall-clock time (see SetWall) as of now.
func (a *Assembler) AdvanceWall(now time.Time, idle time.Duration, silent bool) {
	a.closeWhere(func(st *stream) (EndReason, bool) {
		if silent || st.untimed && a.firstWall != 0 && time.Duration(unixNano(now)-a.seenWall(st)) >= idle {
			return Idle, true
		}
		return "", false
	})
}

// Flush closes every open report with the given reason (EOF or Shutdown)
// and forgets all per-host state.
func (a *Assembler) Flush(why EndReason) {
	a.closeWhere(func(*stream) (EndReason, bool) { return why, true })
	a.forget()
}

// closeWhere closes the open reports for which pick says so, in the order
// the reports started.
func (a *Assembler) closeWhere(pick func(*stream) (EndReason, bool)) {
	type victim struct {
		st  *stream
		why EndReason
	}
	var vs []victim
	for st := range a.open {
		if why, ok := pick(st); ok {
			vs = append(vs, victim{st, why})
		}
	}
	slices.SortFunc(vs, func(x, y victim) int { return compareStart(x.st.rep, y.st.rep) })
	for _, v := range vs {
		a.close(v.st, v.why)
	}
}

// compareStart orders reports by their first position, then by host and
// stream (positions may repeat when a front end gives none).
func compareStart(x, y *Report) int {
	return cmp.Or(cmp.Compare(x.FirstPos, y.FirstPos), cmp.Compare(x.Host, y.Host),
		cmp.Compare(x.Boot, y.Boot), cmp.Compare(x.Caller, y.Caller))
}

// HostHash returns the hash the assembler files a line's host under. Safe
// for concurrent use with everything else.
func (a *Assembler) HostHash(l *logline.Line) uint64 {
	if len(l.HostRaw) > 0 {
		return maphash.Bytes(a.seed, l.HostRaw)
	}
	return maphash.String(a.seed, l.Host)
}

// hostFor returns the state of the line's host (Host, or HostRaw when the
// decoder left the name raw: then the name is copied only for a new host),
// hash being HostHash(l).
//
// The host moves to the front of the list of hosts, unless it is near the
// front already: fewer than MaxHosts/8 moves behind it. Moving writes to
// the two hosts beside it in the list, cache misses on every kernel line of
// a large fleet; skipping it keeps the order nearly that of last sight. A
// host's place in the list grows by one only when a host that was behind it
// (or a new one) moves in front, so it reaches the end, to be evicted, only
// after at least 7/8 of MaxHosts other hosts have printed since its last
// line (TestBoundMaxHostsNearlyLRU).
func (a *Assembler) hostFor(l *logline.Line, hash uint64) *host {
	name := l.HostRaw
	if len(name) == 0 {
		name = []byte(l.Host) // does not allocate: only compared below
	}
	h := a.hosts.find(hash, name)
	if h == nil {
		if a.hosts.n >= a.cfg.MaxHosts {
			a.evictHost(a.tail)
		}
		h = &host{name: string(name), hash: hash, streams: make(map[streamKey]*stream, 1)}
		if len(l.HostRaw) == 0 {
			h.name = l.Host
		}
		a.hosts.insert(h)
		a.charge(hostOverhead)
	} else if h == a.head || a.moves-h.moved < uint64(a.cfg.MaxHosts/8) {
		return h // at or near the front already
	} else {
		a.unlink(h)
	}
	h.moved = a.moves
	a.moves++
	h.next = a.head
	if a.head != nil {
		a.head.prev = h
	}
	a.head = h
	if a.tail == nil {
		a.tail = h
	}
	return h
}

// removeHost takes h out of the host table.
func (a *Assembler) removeHost(h *host) { a.hosts.remove(h) }

func (a *Assembler) unlink(h *host) {
	if h.prev != nil {
		h.prev.next = h.next
	} else {
		a.head = h.next
	}
	if h.next != nil {
		h.next.prev = h.prev
	} else {
		a.tail = h.prev
	}
	h.prev, h.next = nil, nil
}

func (a *Assembler) evictHost(h *host) {
	if h == nil {
		return
	}
	var open []*stream
	for _, st := range h.streams {
		if st.rep != nil {
			open = append(open, st)
		}
	}
	slices.SortFunc(open, func(x, y *stream) int { return compareStart(x.rep, y.rep) })
	for _, st := range open {
		a.close(st, Evicted)
	}
	for _, st := range h.streams {
		a.charge(-st.ringCost())
	}
	a.unlink(h)
	a.removeHost(h)
	a.charge(-hostOverhead)
	a.stats.EvictedHosts++
}

// ringCost is what the stream's ring has charged to the budget.
func (st *stream) ringCost() int64 {
	var n int64
	n += int64(len(st.ring)) * lineOverhead
	return n
}

func (a *Assembler) streamFor(h *host, k streamKey) *stream {
	if st := h.last; st != nil && st.key == k {
		return st // most hosts have one stream
	}
	st, ok := h.streams[k]
	if ok {
		return st
	}
	if len(h.streams) >= a.cfg.MaxStreamsPerHost {
		// Evict the stream seen longest ago (streams per host are few).
		var victim *stream
		for _, s := range h.streams {
			if victim == nil || s.lastSeen < victim.lastSeen {
				victim = s
			}
		}
		a.close(victim, Evicted)
		a.charge(-victim.ringCost())
		delete(h.streams, victim.key)
		if h.last == victim {
			h.last = nil
		}
	}
	st = &stream{host: h, key: k}
	h.streams[k] = st
	return st
}
