// Package upstream links reports to the kernel bugs syzbot has seen: it
// downloads syzbot's public bug lists (open and fixed, per namespace: the
// mainline tree and stable trees such as linux-6.1), keeps them as a small
// local index keyed by title, and looks a report's title up in it.
//
// syzbot titles its bugs with the same policy oopsflow titles reports, so a
// title found in the index means the same symptom was reported upstream,
// and for a fixed bug, which commits fixed it. It does not mean the same
// bug: syzbot fuzzes its own configurations with debug options, and titles
// without a function, or with a generic one, match many unrelated crashes
// (such matches carry a low confidence). Every place the link is shown says
// so.
package upstream

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/oopsflow/oopsflow/processor/format"
)

// DefaultDashboard is syzbot's public dashboard.
const DefaultDashboard = "https://syzkaller.appspot.com"

// DefaultNamespaces are the trees synced by default: mainline and the long
// term stable kernels fleets run.
var DefaultNamespaces = []string{"upstream", "linux-6.1", "linux-5.15"}

// Statuses of a bug.
const (
	Open  = "open"
	Fixed = "fixed"
)

// Index is the local copy of the bug lists. Its zero value matches nothing.
type Index struct {
	Version    int              `json:"version"`
	Dashboard  string           `json:"dashboard"`
	Namespaces []string         `json:"namespaces"` // in the order given to sync: the first is preferred
	Lists      map[string]*List `json:"lists"`      // by "<namespace>/<open|fixed>"
	byTitle    map[string][]*Bug
}

// indexVersion is the index file's format.
const indexVersion = 1

// List is one downloaded bug list.
type List struct {
	Namespace    string    `json:"namespace"`
	Status       string    `json:"status"` // open or fixed
	Fetched      time.Time `json:"fetched"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Bugs         []*Bug    `json:"bugs"`
}

// Bug is one syzbot bug.
type Bug struct {
	Title      string   `json:"title"`         // as syzbot shows it, " (N)" included
	Link       string   `json:"link"`          // absolute
	Recurrence int      `json:"n,omitempty"`   // N of a trailing " (N)": the bug came back after a fix
	FixCommits []Commit `json:"fix,omitempty"` // for fixed bugs
	Namespace  string   `json:"-"`             // set on load
	Status     string   `json:"-"`             // set on load
}

// Commit is a fix commit. Hash and Link may be empty: syzbot sometimes
// knows a fix only by its title.
type Commit struct {
	Title string `json:"title"`
	Hash  string `json:"hash,omitempty"`
	Link  string `json:"link,omitempty"`
}

// Match is what the index says of a report's title.
type Match struct {
	Status     string   // of the newest bug with this title: open or fixed
	Title      string   // the bug's title as syzbot shows it
	Link       string   // the bug's page
	Namespace  string   // the tree it was reported on
	FixCommits []Commit // of the newest fixed bug with this title
	// Recurred: the newest bug is open, but an earlier one with the same
	// title was fixed (FixCommits are that fix's).
	Recurred bool
	// Confidence is low (0.3) for weak titles (no function, "corrupted",
	// a generic function) that match many unrelated crashes, else 0.8.
	Confidence float64
}

var recurrence = regexp.MustCompile(`^(.*) \(([0-9]+)\)$`)

// BaseTitle strips a trailing " (N)" (a bug that recurred after its fix).
func BaseTitle(t string) (string, int) {
	if m := recurrence.FindStringSubmatch(t); m != nil {
		var n int
		fmt.Sscan(m[2], &n)
		return m[1], n
	}
	return t, 0
}

// Lookup returns what the index knows of a report titled title.
func (x *Index) Lookup(title string) (Match, bool) {
	if x == nil || title == "" {
		return Match{}, false
	}
	bugs := x.byTitle[title]
	if len(bugs) == 0 {
		return Match{}, false
	}
	// bugs are ordered newest first (highest recurrence, then namespace
	// order, open before fixed of the same recurrence).
	cur := bugs[0]
	m := Match{Status: cur.Status, Title: cur.Title, Link: cur.Link, Namespace: cur.Namespace, Confidence: confidence(title)}
	for _, b := range bugs {
		if b.Status == Fixed {
			m.FixCommits = b.FixCommits
			m.Recurred = cur.Status == Open
			break
		}
	}
	return m, true
}

// Len returns the number of bugs in the index.
func (x *Index) Len() int {
	if x == nil {
		return 0
	}
	n := 0
	for _, l := range x.Lists {
		n += len(l.Bugs)
	}
	return n
}

// confidence is low for a title that names no function or a generic one.
func confidence(title string) float64 {
	i := strings.LastIndex(title, " in ")
	if i < 0 {
		return 0.3
	}
	fn := title[i+4:]
	if j := strings.IndexByte(fn, '/'); j >= 0 {
		fn = fn[:j]
	}
	if fn == "corrupted" || format.Dispatcher(fn) || strings.Contains(fn, " ") {
		return 0.3
	}
	return 0.8
}

// build indexes the lists by base title, newest bug first.
func (x *Index) build(order []string) {
	rank := map[string]int{}
	for i, ns := range order {
		rank[ns] = i
	}
	x.byTitle = map[string][]*Bug{}
	for _, l := range x.Lists {
		for _, b := range l.Bugs {
			b.Namespace, b.Status = l.Namespace, l.Status
			base, n := BaseTitle(b.Title)
			b.Recurrence = n
			x.byTitle[base] = append(x.byTitle[base], b)
		}
	}
	for _, bugs := range x.byTitle {
		sort.SliceStable(bugs, func(i, j int) bool {
			a, b := bugs[i], bugs[j]
			if a.Recurrence != b.Recurrence {
				return a.Recurrence > b.Recurrence
			}
			if ra, rb := rank[a.Namespace], rank[b.Namespace]; ra != rb {
				return ra < rb
			}
			if a.Status != b.Status {
				return a.Status == Open
			}
			return a.Link < b.Link
		})
	}
}

// DefaultPath is the index file the front ends read when given none: in
// the user's cache directory.
func DefaultPath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "oopsflow", "upstream-index.json")
}

// Load reads an index file. A file that is not an index is an error naming
// it.
func Load(path string) (*Index, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("upstream index: %w", err)
	}
	var x Index
	if err := json.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("upstream index %s: not an index file (%v): run oopsflow upstream sync again", path, err)
	}
	if x.Version != indexVersion || x.Lists == nil {
		return nil, fmt.Errorf("upstream index %s: format version %d, want %d: run oopsflow upstream sync again", path, x.Version, indexVersion)
	}
	for k, l := range x.Lists {
		if l == nil || (l.Status != Open && l.Status != Fixed) || l.Namespace == "" {
			return nil, fmt.Errorf("upstream index %s: list %q is damaged: run oopsflow upstream sync again", path, k)
		}
	}
	x.build(x.Namespaces)
	return &x, nil
}

// LoadDefault reads the index at DefaultPath when there is one: (nil, nil)
// when there is none.
func LoadDefault() (*Index, error) {
	p := DefaultPath()
	if _, err := os.Stat(p); err != nil {
		return nil, nil
	}
	return Load(p)
}

// OpenIndex opens the index a front end is configured with: "auto" is the file
// at DefaultPath when there is one (none otherwise), "off" or "" none; any
// other value names a file that must exist and be an index.
func OpenIndex(spec string) (*Index, error) {
	switch spec {
	case "", "off":
		return nil, nil
	case "auto":
		return LoadDefault()
	}
	return Load(spec)
}

// Save writes the index atomically: a failed write leaves the previous
// file as it was.
func (x *Index) Save(path string) error {
	data, err := json.Marshal(x)
	if err != nil {
		return fmt.Errorf("upstream index: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("upstream index: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".upstream-index-*")
	if err != nil {
		return fmt.Errorf("upstream index: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("upstream index %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("upstream index %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("upstream index %s: %w", path, err)
	}
	return nil
}
