package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dashboardServer serves the recorded syzbot lists of the upstream package's
// tests.
func dashboardServer(t *testing.T) *httptest.Server {
	t.Helper()
	files := map[string]string{
		"/upstream": "upstream-open.json", "/upstream/fixed": "upstream-fixed.json",
		"/linux-6.1": "linux-6.1-open.json", "/linux-6.1/fixed": "linux-6.1-fixed.json",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := files[r.URL.Path]
		if !ok || r.URL.Query().Get("json") != "1" {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, filepath.Join("..", "..", "processor", "upstream", "testdata", "dashboard", name))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// upstream sync builds the index; scan links the reports whose titles are in
// it, and only those, in the documents and in the table.
func TestUpstreamSyncAndScan(t *testing.T) {
	srv := dashboardServer(t)
	index := filepath.Join(t.TempDir(), "index.json")
	code, out, errs := runCmd(t, "", "upstream", "sync", "--dashboard-url", srv.URL, "--namespace", "upstream,linux-6.1", "-o", index)
	if code != 0 || !strings.Contains(out, "9 bugs") {
		t.Fatalf("sync: %d %s %s", code, out, errs)
	}
	logs := []string{examples + "netfs-rreq-unlock-xa-retry/aks-node-1075.log", examples + "ceph-aio-read-free-null-page/centos7-nginx.log"}
	for _, l := range logs {
		if _, err := os.Stat(l); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs = runCmd(t, "", append([]string{"scan", "--format", "ndjson", "--upstream-index", index}, logs...)...)
	if code != 0 {
		t.Fatalf("scan: %d %s", code, errs)
	}
	docs := parseNDJSON(t, out)
	linked := 0
	for _, d := range docs {
		switch {
		case strings.Contains(d.Oops.Title, "netfs_rreq_unlock"):
			u := d.Oops.Upstream
			if u == nil || u.Status != "fixed" || u.Namespace != "linux-6.1" || len(u.FixCommits) != 1 || !strings.HasPrefix(u.Link, srv.URL) || u.Note == "" {
				t.Fatalf("netfs report: upstream %+v", u)
			}
			linked++
		case d.Oops.Upstream != nil:
			t.Fatalf("%q linked to %+v: its title is not in the index", d.Oops.Title, d.Oops.Upstream)
		}
	}
	if linked == 0 || len(docs) < 2 {
		t.Fatalf("%d documents, %d linked", len(docs), linked)
	}
	code, out, _ = runCmd(t, "", append([]string{"scan", "--format", "table", "--upstream-index", index}, logs...)...)
	if code != 0 || !strings.Contains(out, "upstream  fixed upstream by \"netfs: fix the retry path (backport)\" (abcdefabcdef)") || !strings.Contains(out, "not necessarily") {
		t.Fatalf("table:\n%s", out)
	}
	code, out, _ = runCmd(t, "", "upstream", "lookup", "--index", index, "WARNING in corrupted")
	if code != 0 || !strings.Contains(out, "open upstream") || !strings.Contains(out, "weak title") {
		t.Fatalf("lookup: %s", out)
	}
}

// A dashboard that fails leaves the previous index alone and says so; a
// damaged index stops scan with the file's name.
func TestUpstreamFailures(t *testing.T) {
	srv := dashboardServer(t)
	dir := t.TempDir()
	index := filepath.Join(dir, "index.json")
	if code, _, errs := runCmd(t, "", "upstream", "sync", "--dashboard-url", srv.URL, "--namespace", "upstream", "-o", index); code != 0 {
		t.Fatal(errs)
	}
	before, _ := os.ReadFile(index)
	code, _, errs := runCmd(t, "", "upstream", "sync", "--dashboard-url", srv.URL, "--namespace", "linux-4.4", "-o", index)
	if code != 1 || !strings.Contains(errs, "404") || !strings.Contains(errs, "previous index") {
		t.Fatalf("unknown namespace: %d %s", code, errs)
	}
	if after, _ := os.ReadFile(index); string(after) != string(before) {
		t.Fatal("a failed sync changed the index")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o644)
	code, _, errs = runCmd(t, "", "scan", "--upstream-index", bad, examples+"ceph-aio-read-free-null-page/centos7-nginx.log")
	if code != 1 || !strings.Contains(errs, bad) {
		t.Fatalf("damaged index: %d %s", code, errs)
	}
	code, _, errs = runCmd(t, "", "scan", "--upstream-index", filepath.Join(dir, "missing.json"), examples+"ceph-aio-read-free-null-page/centos7-nginx.log")
	if code != 1 || !strings.Contains(errs, "missing.json") {
		t.Fatalf("missing index: %d %s", code, errs)
	}
}
