package upstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// dashboard serves the recorded lists of testdata/dashboard as syzbot's
// dashboard does, counting requests and honouring If-None-Match.
type dashboard struct {
	mu       sync.Mutex
	requests map[string]int
	agents   []string
	fail     map[string]int    // path -> answer 503 this many times first
	override map[string]string // path -> testdata file
	down     bool
}

func newDashboard(t *testing.T) (*dashboard, *httptest.Server) {
	d := &dashboard{requests: map[string]int{}, fail: map[string]int{}, override: map[string]string{}}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return d, srv
}

func (d *dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests[r.URL.Path]++
	d.agents = append(d.agents, r.UserAgent())
	if d.down {
		http.Error(w, "down", http.StatusBadGateway)
		return
	}
	if r.URL.Query().Get("json") != "1" {
		http.Error(w, "HTML only", http.StatusNotFound)
		return
	}
	if d.fail[r.URL.Path] > 0 {
		d.fail[r.URL.Path]--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	name := map[string]string{
		"/upstream": "upstream-open.json", "/upstream/fixed": "upstream-fixed.json",
		"/linux-6.1": "linux-6.1-open.json", "/linux-6.1/fixed": "linux-6.1-fixed.json",
	}[r.URL.Path]
	if o, ok := d.override[r.URL.Path]; ok {
		name = o
	}
	if name == "" {
		http.NotFound(w, r)
		return
	}
	etag := `"` + name + `"`
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	data, err := os.ReadFile(filepath.Join("testdata", "dashboard", name))
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/json")
	w.Write(data)
}

func syncCfg(url string) SyncConfig {
	return SyncConfig{Dashboard: url, Namespaces: []string{"upstream", "linux-6.1"}, UserAgent: "oopsflow-test", Timeout: 5 * time.Second,
		sleep: func(time.Duration) {}}
}

func TestSyncAndLookup(t *testing.T) {
	d, srv := newDashboard(t)
	x, err := Sync(context.Background(), syncCfg(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/upstream", "/upstream/fixed", "/linux-6.1", "/linux-6.1/fixed"} {
		if d.requests[p] != 1 {
			t.Errorf("%s fetched %d times, want once", p, d.requests[p])
		}
	}
	for _, a := range d.agents {
		if a != "oopsflow-test" {
			t.Errorf("User-Agent %q", a)
		}
	}
	if x.Len() != 9 {
		t.Fatalf("%d bugs indexed, want 9", x.Len())
	}
	for _, tc := range []struct {
		title      string
		found      bool
		status     string
		link       string
		fixes      int
		recurred   bool
		confidence float64
		namespace  string
	}{
		{"general protection fault in ceph_get_caps", true, Fixed, srv.URL + "/bug?extid=5555eeee", 1, false, 0.8, "upstream"},
		// A bug that came back after its fix: the newest (open, " (4)")
		// is current, and the earlier fix is shown as such.
		{"memory leak in iovec_from_user", true, Open, srv.URL + "/bug?extid=2222bbbb", 1, true, 0.8, "upstream"},
		// Open and fixed under the same title (the open one is newer
		// only by its list): open wins at the same recurrence.
		{"INFO: task hung in io_wq_put_and_exit", true, Open, srv.URL + "/bug?extid=4444dddd", 2, true, 0.8, "upstream"},
		{"WARNING in corrupted", true, Open, srv.URL + "/bug?extid=3333cccc", 0, false, 0.3, "upstream"},
		{"BUG: unable to handle kernel NULL pointer dereference in process_one_work", true, Fixed, srv.URL + "/bug?extid=8888bbbb", 1, false, 0.3, "upstream"},
		{"BUG: unable to handle kernel NULL pointer dereference in netfs_rreq_unlock", true, Fixed, srv.URL + "/bug?extid=9999cccc", 1, false, 0.8, "linux-6.1"},
		{"KASAN: slab-use-after-free Read in some_other_function", false, "", "", 0, false, 0, ""},
		{"memory leak in iovec_from_user (4)", false, "", "", 0, false, 0, ""}, // report titles carry no (N)
	} {
		m, ok := x.Lookup(tc.title)
		if ok != tc.found {
			t.Errorf("%q: found %v", tc.title, ok)
			continue
		}
		if !ok {
			continue
		}
		if m.Status != tc.status || m.Link != tc.link || len(m.FixCommits) != tc.fixes || m.Recurred != tc.recurred || m.Confidence != tc.confidence || m.Namespace != tc.namespace {
			t.Errorf("%q: %+v", tc.title, m)
		}
	}
	// A commit known only by its title keeps its title.
	if m, _ := x.Lookup("memory leak in iovec_from_user"); m.FixCommits[0].Hash != "" || m.FixCommits[0].Title != "iov_iter: free the iovec on error" {
		t.Errorf("commit without a hash: %+v", m.FixCommits[0])
	}
}

// The index survives a round trip through its file; a sync with the
// previous index asks conditionally and reuses what did not change.
func TestSaveLoadAndConditionalSync(t *testing.T) {
	d, srv := newDashboard(t)
	x, err := Sync(context.Background(), syncCfg(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sub", "index.json")
	if err := x.Save(path); err != nil {
		t.Fatal(err)
	}
	y, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := y.Lookup("general protection fault in ceph_get_caps"); !ok || m.FixCommits[0].Hash == "" {
		t.Fatalf("after loading: %+v %v", m, ok)
	}
	cfg := syncCfg(srv.URL)
	cfg.Previous = y
	z, err := Sync(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if z.Len() != x.Len() || d.requests["/upstream/fixed"] != 2 {
		t.Fatalf("conditional sync: %d bugs, %d requests", z.Len(), d.requests["/upstream/fixed"])
	}
	if _, ok := z.Lookup("general protection fault in ceph_get_caps"); !ok {
		t.Fatal("a list not modified was not reused")
	}
}

// Failures are clear errors, and the previous index stays as it was.
func TestSyncFailures(t *testing.T) {
	d, srv := newDashboard(t)
	path := filepath.Join(t.TempDir(), "index.json")
	x, err := Sync(context.Background(), syncCfg(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Save(path); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)

	// A busy server is retried.
	d.fail["/upstream/fixed"] = 2
	if _, err := Sync(context.Background(), syncCfg(srv.URL)); err != nil {
		t.Fatalf("two 503s then success: %v", err)
	}
	// A malformed list is an error naming the list.
	d.override["/linux-6.1/fixed"] = "malformed.json"
	if _, err := Sync(context.Background(), syncCfg(srv.URL)); err == nil || !strings.Contains(err.Error(), "/linux-6.1/fixed") || !strings.Contains(err.Error(), "not a syzbot bug list") {
		t.Fatalf("malformed list: %v", err)
	}
	delete(d.override, "/linux-6.1/fixed")
	// An unknown namespace (404) is not retried.
	cfg := syncCfg(srv.URL)
	cfg.Namespaces = []string{"linux-4.4"}
	d.requests = map[string]int{}
	if _, err := Sync(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "404") || d.requests["/linux-4.4"] != 1 {
		t.Fatalf("unknown namespace: %v, %d requests", err, d.requests["/linux-4.4"])
	}
	// The dashboard down.
	d.down = true
	if _, err := Sync(context.Background(), syncCfg(srv.URL)); err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("dashboard down: %v", err)
	}
	srv.Close()
	if _, err := Sync(context.Background(), syncCfg(srv.URL)); err == nil {
		t.Fatal("no server: no error")
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("a failed sync changed the index file")
	}
}

// A damaged index file is an error naming it, never a crash.
func TestLoadDamaged(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage.json":   "\x00\x01 not json",
		"truncated.json": `{"version": 1, "lists": {"upstream/open": {"namespace": "upstream", "status": "open", "bugs": [{"title": "x"`,
		"version.json":   `{"version": 7, "lists": {}}`,
		"damaged.json":   `{"version": 1, "lists": {"upstream/open": {"namespace": "", "status": "sideways"}}}`,
		"null.json":      `{"version": 1, "lists": {"upstream/open": null}}`,
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
	var x *Index
	if _, ok := x.Lookup("anything"); ok {
		t.Error("a nil index matched")
	}
}

func TestBaseTitle(t *testing.T) {
	for in, want := range map[string]string{
		"memory leak in iovec_from_user (4)": "memory leak in iovec_from_user",
		"WARNING in foo (12)":                "WARNING in foo",
		"kernel panic: x (y)":                "kernel panic: x (y)",
		"possible deadlock in foo":           "possible deadlock in foo",
	} {
		if got, _ := BaseTitle(in); got != want {
			t.Errorf("BaseTitle(%q) = %q", in, got)
		}
	}
}
