package matcher

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	debversion "github.com/knqyf263/go-deb-version"
	rpmversion "github.com/knqyf263/go-rpm-version"

	"github.com/oopsflow/oopsflow/processor/oops"
)

// Fix statuses (oops.match.fix_status).
const (
	Affected = "affected"
	Fixed    = "fixed"
	Unknown  = "unknown"
)

// Result is the matcher's verdict for one report.
type Result struct {
	Signature  *Signature // nil when no known issue matched
	Pattern    string     // name of the pattern that matched
	Confidence float64    // 0..1
	Reasons    []string   // the conditions that held
	FixStatus  string     // affected, fixed or unknown
	FixedIn    []string   // releases that fix the issue
}

// Known reports whether a known issue matched.
func (r Result) Known() bool { return r.Signature != nil }

// Matcher classifies reports. It is safe for concurrent use; its signatures
// can be replaced while it runs (Swap): each Match uses one set from start
// to end, never a mix.
type Matcher struct {
	sigs atomic.Pointer[[]*Signature]
}

// New returns a matcher over the given signatures.
func New(sigs []*Signature) *Matcher {
	m := &Matcher{}
	m.sigs.Store(&sigs)
	return m
}

// Signatures returns the signatures in use.
func (m *Matcher) Signatures() []*Signature { return *m.sigs.Load() }

// Swap replaces the signatures: reports matched from then on use the new
// set.
func (m *Matcher) Swap(sigs []*Signature) { m.sigs.Store(&sigs) }

// Match classifies one parsed report. lines is the report text (context
// and body) for the "text" field. The best match wins: highest confidence,
// then the signature with more conditions (the more specific one).
func (m *Matcher) Match(o *oops.Oops, lines []string) Result {
	var best Result
	bestConds := 0
	for _, s := range m.Signatures() {
		for _, p := range s.Match {
			conf, reasons, ok := p.eval(o, lines)
			if !ok {
				continue
			}
			n := len(p.Require) + len(p.Support)
			if conf > best.Confidence || (conf == best.Confidence && n > bestConds) {
				best = Result{Signature: s, Pattern: p.Name, Confidence: conf, Reasons: reasons}
				bestConds = n
			}
		}
	}
	if best.Signature == nil {
		return Result{FixStatus: Unknown}
	}
	best.FixStatus, best.FixedIn = best.Signature.FixStatus(o.Kernel)
	return best
}

// eval tests a pattern: ok when all required conditions hold; confidence is
// the weight of the conditions that held over the weight of all of them.
func (p *Pattern) eval(o *oops.Oops, lines []string) (float64, []string, bool) {
	var total, got float64
	var reasons []string
	for i := range p.Require {
		c := &p.Require[i]
		ok, why := c.eval(o, lines)
		if !ok {
			return 0, nil, false
		}
		total += c.Weight
		got += c.Weight
		reasons = append(reasons, why)
	}
	for i := range p.Support {
		c := &p.Support[i]
		total += c.Weight
		if ok, why := c.eval(o, lines); ok {
			got += c.Weight
			reasons = append(reasons, why)
		}
	}
	return math.Round(got/total*100) / 100, reasons, true
}

// values returns the field's values for a report. Functions are compared
// without compiler suffixes (.isra.8, .constprop.0).
func (c *Condition) values(o *oops.Oops, lines []string) []string {
	one := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	switch c.Field {
	case "type":
		return one(o.Type)
	case "title":
		return one(o.Title)
	case "header":
		return one(o.Header)
	case "function":
		return one(oops.StripSuffix(o.Function))
	case "ip.function":
		if o.IP != nil {
			return one(oops.StripSuffix(o.IP.Function))
		}
	case "ip.module":
		if o.IP != nil {
			return one(o.IP.Module)
		}
	case "fault_address":
		return one(o.FaultAddress)
	case "frames", "frame_modules":
		var out []string
		n := 0
		for _, f := range o.CallTrace {
			if !f.Reliable {
				continue
			}
			if c.Within > 0 && n >= c.Within {
				break
			}
			n++
			if c.Field == "frames" {
				out = append(out, oops.StripSuffix(f.Function))
			} else if f.Module != "" {
				out = append(out, f.Module)
			}
		}
		return out
	case "modules":
		return o.Modules
	case "context":
		return o.Context
	case "workqueue":
		return one(o.Workqueue)
	case "process.name":
		return one(o.Comm)
	case "hardware":
		return one(o.Hardware)
	case "kernel":
		return one(o.Kernel)
	case "architecture":
		return one(o.Arch)
	case "text":
		return lines
	}
	return nil
}

// eval holds when any value satisfies the operator (none, with not).
func (c *Condition) eval(o *oops.Oops, lines []string) (bool, string) {
	vals := c.values(o, lines)
	hit := ""
	for _, v := range vals {
		if c.test(v) {
			hit = v
			break
		}
	}
	matched := hit != ""
	if c.Not {
		if matched {
			return false, ""
		}
		return true, fmt.Sprintf("%s not %s", c.Field, c.describe())
	}
	if !matched {
		return false, ""
	}
	if len(hit) > 80 {
		hit = hit[:80] + "..."
	}
	if c.Field == "frames" && c.Within > 0 {
		return true, fmt.Sprintf("frames (top %d) include %q", c.Within, hit)
	}
	return true, fmt.Sprintf("%s %s: %q", c.Field, c.describe(), hit)
}

func (c *Condition) test(v string) bool {
	switch {
	case c.Equals != nil:
		return v == *c.Equals
	case c.In != nil:
		for _, x := range c.In {
			if v == x {
				return true
			}
		}
		return false
	case c.re != nil:
		return c.re.MatchString(v)
	}
	return false
}

func (c *Condition) describe() string {
	switch {
	case c.Equals != nil:
		return "equals " + strconv.Quote(*c.Equals)
	case c.In != nil:
		return "in [" + strings.Join(c.In, ", ") + "]"
	default:
		return "matches /" + c.Matches + "/"
	}
}

// FixStatus compares a kernel release with the signature's ranges: the first
// range whose releases pattern matches decides. It returns the status and
// the releases that fix the issue.
func (s *Signature) FixStatus(release string) (string, []string) {
	var all []string
	for _, k := range s.Kernels {
		if k.FixedIn != "" {
			all = append(all, k.FixedIn)
		}
	}
	if release == "" {
		return Unknown, all
	}
	for _, k := range s.Kernels {
		if !k.re.MatchString(release) {
			continue
		}
		var fixedIn []string
		if k.FixedIn != "" {
			fixedIn = []string{k.FixedIn}
		}
		st, err := k.status(release)
		if err != nil {
			return Unknown, fixedIn
		}
		return st, fixedIn
	}
	return Unknown, all
}

func (k *Range) status(release string) (string, error) {
	v, err := parseVersion(k.Scheme, release)
	if err != nil {
		return Unknown, err
	}
	cmp := func(other string) int {
		w, _ := parseVersion(k.Scheme, other) // validated at load
		return v.compare(w)
	}
	switch {
	case k.FixedIn != "" && cmp(k.FixedIn) >= 0:
		return Fixed, nil
	case k.LastAffected != "" && cmp(k.LastAffected) > 0:
		return Fixed, nil
	case k.AffectedFrom != "" && cmp(k.AffectedFrom) < 0:
		return Unknown, nil // older than the first known affected release
	}
	return Affected, nil
}

// version is a kernel release in one comparison scheme.
type version struct {
	scheme string
	deb    debversion.Version
	rpm    rpmversion.Version
	up     []int
}

func (v version) compare(w version) int {
	switch v.scheme {
	case "dpkg":
		return v.deb.Compare(w.deb)
	case "rpm":
		return v.rpm.Compare(w.rpm)
	}
	for i := 0; i < len(v.up) || i < len(w.up); i++ {
		a, b := 0, 0
		if i < len(v.up) {
			a = v.up[i]
		}
		if i < len(w.up) {
			b = w.up[i]
		}
		if a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	return 0
}

var (
	// Ubuntu and Debian releases: 5.15.0-1075-azure, 6.1.0-18-amd64. The ABI
	// number orders them; the flavour (azure, generic, amd64) does not.
	reDebRelease = regexp.MustCompile(`^(\d+(?:\.\d+)+-\d+)(?:[.-][A-Za-z0-9.+~-]*)?$`)
	// RPM releases end with the architecture: 3.10.0-514.26.2.el7.x86_64.
	reRPMArch = regexp.MustCompile(`\.(?:x86_64|aarch64|ppc64le|ppc64|s390x|i686|noarch|armv7hl)$`)
	reUp      = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?`)
)

// parseVersion reads a kernel release in a scheme.
func parseVersion(scheme, s string) (version, error) {
	v := version{scheme: scheme}
	switch scheme {
	case "dpkg":
		if m := reDebRelease.FindStringSubmatch(s); m != nil {
			s = m[1]
		}
		d, err := debversion.NewVersion(s)
		if err != nil {
			return v, fmt.Errorf("dpkg version %q: %w", s, err)
		}
		v.deb = d
	case "rpm":
		s = reRPMArch.ReplaceAllString(s, "")
		if !strings.Contains(s, "-") || !reUp.MatchString(s) {
			return v, fmt.Errorf("rpm version %q: want version-release such as 3.10.0-514.26.2.el7", s)
		}
		v.rpm = rpmversion.NewVersion(s)
	case "upstream":
		m := reUp.FindStringSubmatch(s)
		if m == nil {
			return v, fmt.Errorf("upstream version %q: want major.minor[.patch]", s)
		}
		for _, p := range m[1:] {
			n, _ := strconv.Atoi(p)
			v.up = append(v.up, n)
		}
	default:
		return v, fmt.Errorf("unknown version scheme %q", scheme)
	}
	return v, nil
}

// SortedIDs returns the signature ids, sorted.
func (m *Matcher) SortedIDs() []string {
	sigs := m.Signatures()
	ids := make([]string, 0, len(sigs))
	for _, s := range sigs {
		ids = append(ids, s.ID)
	}
	sort.Strings(ids)
	return ids
}
