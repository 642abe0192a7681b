package format

import (
	"regexp"
	"strconv"
	"strings"
)

// Result is what the table makes of a report: its title and the frame the
// title names.
type Result struct {
	Format *Format // the title format that matched; nil when none did
	Kind   Kind
	// Title is normalised (addresses, numbers, line numbers replaced) and
	// at most 120 bytes: the same bug has the same title on every host.
	Title string
	// Frame is the blamed function, "" when the title names none or no
	// frame survived (the title then ends "in corrupted").
	Frame           string
	Alt             []string
	Corrupted       bool
	CorruptedReason string
}

// maxTitle is the longest title kept, in bytes.
const maxTitle = 120

// Title computes the title of a report of group g. lines are the report's
// lines from the header line on, prefixes stripped.
func Title(g *Group, lines []string) Result {
	text, header := reportText(g, RealHeader(lines))
	res := Result{Kind: g.Kind}
	f, start, args, titleOnly := pickFormat(g, text)
	if f == nil {
		res.Title = header
		if titleOnly {
			res.Corrupted, res.CorruptedReason = true, "a title format matched but its report pattern did not"
		}
		res.Title = Normalize(res.Title)
		return res
	}
	res.Format, res.Kind = f, f.Kind
	if f.Stack != nil {
		frames, injected := f.Stack.run(f.Stack.Parts, text[start:])
		if len(frames) == 0 && len(f.Stack.Parts2) > 0 {
			frames, injected = f.Stack.run(f.Stack.Parts2, text[start:])
		}
		if injected {
			res.Corrupted, res.CorruptedReason = true, "fault injection frame in the stack"
		}
		extract := f.Stack.Extractor
		if extract == nil {
			extract = first
		}
		if res.Frame = extract(frames); res.Frame == "" {
			res.Corrupted, res.CorruptedReason = true, "no frame could be extracted"
		}
	}
	if f.Stack == nil {
		if n := f.FrameArg; n >= 1 && n <= len(args) {
			res.Frame = CleanName(args[n-1])
		}
	}
	frame := res.Frame
	if f.Stack != nil && frame == "" {
		frame = "corrupted"
	}
	res.Title = Normalize(expand(f.Fmt, args, frame))
	for _, a := range f.Alt {
		res.Alt = append(res.Alt, Normalize(expand(a, args, frame)))
	}
	switch {
	case f.Corrupted:
		res.Corrupted, res.CorruptedReason = true, "reports of this format lost their real start"
	case consoleStamp.MatchString(res.Title):
		res.Corrupted, res.CorruptedReason = true, "the title holds a console timestamp: lines were glued together"
	case !res.Corrupted && !f.NoStackTrace:
		if why := stackMissing(text[start:]); why != "" {
			res.Corrupted, res.CorruptedReason = true, why
		}
	}
	return res
}

// RealHeader drops the symbolised header lines a report may start with, one
// per function inlined where it was raised ("BUG: KASAN: ... in f
// include/linux/x.h:12 [inline]"): titles name the function that contains
// them, as on the raw console. lines is returned whole when every line is
// such a header.
func RealHeader(lines []string) []string {
	for i, l := range lines {
		if !strings.HasSuffix(strings.TrimRight(l, " "), " [inline]") {
			return lines[i:]
		}
	}
	return lines
}

// infoStack reports the informational messages that print a stack of their
// own: where they start, the report's text ends.
func infoStack(l string) bool {
	return strings.Contains(l, "vmalloc: allocation failure:") || strings.Contains(l, "FAULT_INJECTION: forcing a failure") ||
		strings.Contains(l, "FAULT_FLAG_ALLOW_RETRY missing")
}

func first(frames []string) string {
	if len(frames) == 0 {
		return ""
	}
	return frames[0]
}

var consoleStamp = regexp.MustCompile(`\[ *[0-9]+\.[0-9]+\]`)

// questionable reports an unreliable frame: a '?' between white space (or
// at the start of the line) and white space.
func questionable(l string) bool {
	for i := 0; i < len(l); i++ {
		if l[i] == '?' && (i == 0 || isSpace(l[i-1])) && i+1 < len(l) && isSpace(l[i+1]) {
			return true
		}
	}
	return false
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// reportText is the text titles are computed from: the report's lines
// without unreliable ("?") frames and lockdep's taint notice, cut before a
// panic or lockdep report the first report caused (once it is long), as one
// string; and the header line from the group's keyword on.
func reportText(g *Group, lines []string) (text, header string) {
	var b strings.Builder
	tail := 22
	if len(lines) > 0 && strings.Contains(lines[0], "KMSAN") {
		tail = 16
	}
	n := 0
	for i, l := range lines {
		if i == 0 {
			if k := strings.Index(l, g.Keyword); k >= 0 {
				header = strings.TrimSpace(l[k:])
			} else {
				header = strings.TrimSpace(l)
			}
		}
		if i > 0 && (questionable(l) && !strings.Contains(l, "<EOI>") || strings.HasSuffix(l, " (unreliable)") ||
			strings.Contains(l, "Disabling lock debugging due to kernel taint")) {
			continue
		}
		if n > tail && (strings.Contains(l, "Kernel panic - not syncing") || strings.Contains(l, "WARNING: possible circular locking dependency detected")) {
			break
		}
		if i > 0 && infoStack(l) {
			break // another task's informational stack dump starts here
		}
		b.WriteString(l)
		b.WriteByte('\n')
		n++
	}
	return b.String(), header
}

// pickFormat returns the format whose title matches earliest in text (ties:
// the one listed first) and whose report pattern, if any, matches too; its
// start; and the capture groups feeding its title. titleOnly is set when
// some title matched but no report pattern did.
func pickFormat(g *Group, text string) (f *Format, start int, args []string, titleOnly bool) {
	type cand struct {
		f     *Format
		loc   []int
		order int
	}
	var cands []cand
	for i, f := range g.Formats {
		if loc := f.Title.FindStringSubmatchIndex(text); loc != nil {
			cands = append(cands, cand{f, loc, i})
		}
	}
	for len(cands) > 0 {
		best := 0
		for i, c := range cands {
			if c.loc[0] < cands[best].loc[0] || c.loc[0] == cands[best].loc[0] && c.order < cands[best].order {
				best = i
			}
		}
		c := cands[best]
		cands = append(cands[:best], cands[best+1:]...)
		if c.f.Report == nil {
			return c.f, c.loc[0], groupsOf(text, c.loc), false
		}
		if loc := c.f.Report.FindStringSubmatchIndex(text[c.loc[0]:]); loc != nil {
			return c.f, c.loc[0], groupsOf(text[c.loc[0]:], loc), false
		}
		titleOnly = true
	}
	return nil, 0, nil, titleOnly
}

func groupsOf(s string, loc []int) []string {
	var out []string
	for i := 2; i+1 < len(loc); i += 2 {
		if loc[i] < 0 {
			out = append(out, "")
			continue
		}
		out = append(out, s[loc[i]:loc[i+1]])
	}
	return out
}

var placeholder = regexp.MustCompile(`\{(frame|[0-9]+)\}`)

// expand fills a title template: {N} with capture group N, {frame} with the
// frame.
func expand(tmpl string, args []string, frame string) string {
	return placeholder.ReplaceAllStringFunc(tmpl, func(p string) string {
		name := p[1 : len(p)-1]
		if name == "frame" {
			return frame
		}
		n, _ := strconv.Atoi(name)
		if n >= 1 && n <= len(args) {
			return args[n-1]
		}
		return ""
	})
}

// run executes a recipe over text and returns the candidate frames, in
// print order, skipped ones left out and system call prefixes removed, and
// whether a fault-injection frame was met.
func (s *Stack) run(parts []Part, text string) (frames []string, injected bool) {
	lines := strings.Split(text, "\n")
	i := 0
	add := func(names ...string) {
		for _, name := range names {
			if name == "" || s.Skipped(name) {
				continue
			}
			frames = append(frames, CleanName(name))
		}
	}
parts:
	for pi := 0; pi < len(parts); pi++ {
		if re := parts[pi].Line; re != nil {
			for ; i < len(lines); i++ {
				if m := re.FindStringSubmatch(lines[i]); m != nil {
					add(m[1:]...)
					i++
					continue parts
				}
			}
			return frames, injected
		}
		for ; i < len(lines); i++ {
			ln := lines[i]
			if faultInjected(ln) {
				injected = true
				i++
				continue parts
			}
			if startsStack(ln) {
				i++
				continue parts
			}
			if pi+1 < len(parts) && parts[pi+1].Line != nil {
				if m := parts[pi+1].Line.FindStringSubmatch(ln); m != nil {
					add(m[1:]...)
					i++
					pi++
					continue parts
				}
			}
			if f, g, ok := armFrames(ln); ok {
				add(f, g)
				continue
			}
			if name, ok := frameName(ln); ok {
				add(name)
			}
		}
	}
	return frames, injected
}

func startsStack(ln string) bool {
	hinted := false
	for _, h := range stackHints {
		if strings.Contains(ln, h) {
			hinted = true
			break
		}
	}
	if !hinted {
		return false
	}
	for _, re := range stackStart {
		if re.MatchString(ln) {
			return true
		}
	}
	return false
}

// stackMissing says why a report that should hold a call trace does not
// ("" when it does): no stack start at all, a stack start followed by fewer
// than 2 lines (syzkaller counts 3 pieces after splitting the newline-ended
// text, the last one empty), or no frame within the 15 lines after it.
func stackMissing(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	seen := false
	for i, ln := range lines {
		if !startsStack(ln) {
			continue
		}
		seen = true
		rest := lines[i+1:]
		if len(rest) < 2 {
			return "the call trace is cut short"
		}
		for j, l := range rest {
			if j >= 15 || startsStack(l) {
				break
			}
			if _, ok := frameName(l); ok || strings.Contains(l, "(stack is not available)") {
				return ""
			}
			if _, _, ok := armFrames(l); ok {
				return ""
			}
		}
		return "no frame follows the call trace header"
	}
	if !seen {
		return "no call trace"
	}
	return ""
}

// normalizers make titles stable across hosts and runs (syzkaller's dynamic
// title replacement), each applied until nothing changes.
var normalizers = []struct {
	re  *regexp.Regexp
	rep string
}{
	{regexp.MustCompile(`syz-executor\.?[0-9]+(?:(?:/|:)[0-9]+)?`), "syz-executor"},
	{regexp.MustCompile(`syzkaller[0-9]+(?:(?:/|:)[0-9]+)?`), "syzkaller"},
	{regexp.MustCompile(`([^a-zA-Z0-9])(?:0x)?[0-9a-f]{6,}`), "${1}ADDR"},
	{regexp.MustCompile(`([^a-zA-Z0-9])[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}([^a-zA-Z0-9]|$)`), "${1}IP${2}"},
	{regexp.MustCompile(`(\.[a-z]+):[0-9]+(?::[0-9]+)?`), "${1}:LINE"},
	{regexp.MustCompile(`([a-zA-Z0-9_.]+)\+0x[0-9a-f]+/0x[0-9a-f]+`), "${1}"},
	{regexp.MustCompile(`CPU#[0-9]+`), "CPU"},
	{regexp.MustCompile(`([^a-zA-Z0-9_]|^)[0-9]+([^a-zA-Z0-9_]|$)`), "${1}NUM${2}"},
	{regexp.MustCompile(`[0-9]{7,}`), "NUM"},
}

// addrRule is the index of the rule that may apply to a title without
// digits ("deadbeef").
const addrRule = 2

// Normalize replaces what differs between occurrences of the same bug in a
// title (addresses, IPs, source lines, offsets, CPU and other numbers),
// removes non-printable bytes, collapses spaces and cuts it to 120 bytes.
func Normalize(t string) string {
	// Every rule but the hex address one needs a digit: skip them for
	// titles without one (most titles).
	digits := strings.ContainsAny(t, "0123456789")
	for i, n := range normalizers {
		if !digits && i != addrRule {
			continue
		}
		for {
			s := n.re.ReplaceAllString(t, n.rep)
			if s == t {
				break
			}
			t = s
		}
	}
	t = strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f || r == 0xfffd:
			return -1
		}
		return r
	}, t)
	t = strings.Join(strings.Fields(t), " ")
	if len(t) > maxTitle {
		t = t[:maxTitle]
		for len(t) > 0 && t[len(t)-1]&0xc0 == 0x80 { // do not cut a UTF-8 sequence
			t = t[:len(t)-1]
		}
		if len(t) > 0 && t[len(t)-1] >= 0xc0 {
			t = t[:len(t)-1]
		}
		t = strings.TrimSpace(t)
	}
	return t
}
