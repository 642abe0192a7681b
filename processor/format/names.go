package format

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// nameSet tells whether a function name matches any of a list of patterns
// searched anywhere in the name (skip lists). Go's regexp runs a joined
// alternation of some 250 patterns in time proportional to their number,
// and titling checks every candidate frame, so the patterns that denote a
// finite set of strings (literals, alternations, optional parts, small
// classes, each possibly anchored) are expanded into literals found through
// an index on their first two bytes; only the few others ("read_once_.*
// nocheck") stay a regular expression. It answers exactly as the joined
// regular expression would.
type nameSet struct {
	byPair map[[2]byte][]anchored // literals of two bytes or more, by their first two
	short  []anchored             // literals shorter than two bytes
	rest   *regexp.Regexp         // patterns that are not finite sets; nil if none
}

// anchored is a literal that must start the name (start), end it (end), or
// both.
type anchored struct {
	s          string
	start, end bool
}

// maxExpansion bounds the literals one pattern may expand to.
const maxExpansion = 64

func newNameSet(patterns []string) *nameSet {
	ns := &nameSet{byPair: map[[2]byte][]anchored{}}
	var rest []string
	for _, p := range patterns {
		lits, ok := literals(p)
		if !ok {
			rest = append(rest, p)
			continue
		}
		for _, l := range lits {
			if len(l.s) < 2 {
				ns.short = append(ns.short, l)
				continue
			}
			k := [2]byte{l.s[0], l.s[1]}
			ns.byPair[k] = append(ns.byPair[k], l)
		}
	}
	if len(rest) > 0 {
		ns.rest = regexp.MustCompile(`(?:` + strings.Join(rest, `|`) + `)`)
	}
	return ns
}

// match reports whether name matches a pattern of the set.
func (ns *nameSet) match(name string) bool {
	for i := 0; i+1 < len(name); i++ {
		for _, l := range ns.byPair[[2]byte{name[i], name[i+1]}] {
			if l.at(name, i) {
				return true
			}
		}
	}
	for _, l := range ns.short {
		for i := 0; i+len(l.s) <= len(name); i++ {
			if l.at(name, i) {
				return true
			}
		}
	}
	return ns.rest != nil && ns.rest.MatchString(name)
}

func (l anchored) at(name string, i int) bool {
	return (!l.start || i == 0) && strings.HasPrefix(name[i:], l.s) && (!l.end || i+len(l.s) == len(name))
}

// literals returns the strings a pattern denotes, false when it denotes no
// small finite set.
func literals(pattern string) ([]anchored, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false
	}
	re = re.Simplify()
	var start, end bool
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	if len(subs) > 0 && subs[0].Op == syntax.OpBeginText {
		start, subs = true, subs[1:]
	}
	if len(subs) > 0 && subs[len(subs)-1].Op == syntax.OpEndText {
		end, subs = true, subs[:len(subs)-1]
	}
	strs, ok := finite(&syntax.Regexp{Op: syntax.OpConcat, Sub: subs})
	if !ok {
		return nil, false
	}
	out := make([]anchored, 0, len(strs))
	for _, s := range strs {
		if s == "" {
			return nil, false // matches every name: leave it to the regexp
		}
		out = append(out, anchored{s: s, start: start, end: end})
	}
	return out, true
}

// finite returns the strings a pattern piece matches, false when they are
// not a small finite set.
func finite(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) >= maxExpansion {
					return nil, false
				}
				out = append(out, string(r))
			}
		}
		return out, true
	case syntax.OpCapture:
		return finite(re.Sub[0])
	case syntax.OpQuest:
		s, ok := finite(re.Sub[0])
		return append([]string{""}, s...), ok
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s, ok := finite(sub)
			if !ok {
				return nil, false
			}
			out = append(out, s...)
		}
		return out, len(out) <= maxExpansion
	case syntax.OpConcat:
		strs := []string{""}
		for _, sub := range re.Sub {
			alts, ok := finite(sub)
			if !ok || len(strs)*len(alts) > maxExpansion {
				return nil, false
			}
			var next []string
			for _, a := range strs {
				for _, b := range alts {
					next = append(next, a+b)
				}
			}
			strs = next
		}
		return strs, true
	}
	return nil, false
}
