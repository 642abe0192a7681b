package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"github.com/oopsflow/oopsflow/internal/testenv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oopsflow/oopsflow/processor/document"
)

const examples = "../../signatures/examples/"

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// doc is a document as the tests read it back.
type doc = document.Document

func parseNDJSON(t *testing.T, s string) []doc {
	t.Helper()
	var docs []doc
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var d doc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("stdout is not NDJSON: %v: %q", err, sc.Text())
		}
		docs = append(docs, d)
	}
	return docs
}

// The five seed cases end to end through "oopsflow scan".
func TestScanSeeds(t *testing.T) {
	tests := []struct {
		file, host, rule, fix string
	}{
		{"netfs-rreq-unlock-xa-retry/aks-node-1075.log", "", "netfs-rreq-unlock-xa-retry", "affected"},
		{"ceph-aio-read-free-null-page/centos7-nginx.log", "", "ceph-aio-read-free-null-page", "affected"},
		{"tcp-listener-released-socket/arm64-v7-server.log", "", "tcp-listener-released-socket", "affected"},
		{"overlayfs-dentry-refcount-leak/alinux2-rmdir.log", "ecs-1", "overlayfs-dentry-refcount-leak", "affected"},
		{"netns-cleanup-inet-frags-spin/hung-ip-netns-add.json", "", "netns-cleanup-inet-frags-spin", "affected"},
		{"netns-cleanup-inet-frags-spin/softlockup-inet-evict-bucket.log", "compute-07", "netns-cleanup-inet-frags-spin", "affected"},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			args := []string{"scan", "--format", "ndjson"}
			if tc.host != "" {
				args = append(args, "--host", tc.host)
			}
			code, out, errs := runCmd(t, "", append(args, examples+tc.file)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			docs := parseNDJSON(t, out)
			if len(docs) != 1 || docs[0].Rule == nil || docs[0].Rule.ID != tc.rule || docs[0].Oops.Match.FixStatus != tc.fix {
				t.Fatalf("got %+v", docs)
			}
			if tc.host != "" && docs[0].Host.Name != tc.host {
				t.Errorf("host %q, want %q", docs[0].Host.Name, tc.host)
			}
		})
	}
}

func TestScanFailOnAndFormats(t *testing.T) {
	known := examples + "netfs-rreq-unlock-xa-retry/aks-node-1075.log"
	unknown := examples + "netfs-rreq-unlock-xa-retry/nvme-null-deref.log"
	if code, _, _ := runCmd(t, "", "scan", "--fail-on", "known", "--format", "ndjson", unknown); code != 0 {
		t.Errorf("--fail-on known with only an unknown crash: exit %d", code)
	}
	if code, _, _ := runCmd(t, "", "scan", "--fail-on", "any", "--format", "ndjson", unknown); code != 3 {
		t.Errorf("--fail-on any with a crash: exit %d, want 3", code)
	}
	if code, _, _ := runCmd(t, "", "scan", "--fail-on", "known", "--format", "ndjson", known); code != 3 {
		t.Errorf("--fail-on known with a known issue: exit %d, want 3", code)
	}
	code, out, _ := runCmd(t, "", "scan", "--format", "table", known, unknown)
	if code != 0 || !strings.Contains(out, "KNOWN netfs-rreq-unlock-xa-retry") || !strings.Contains(out, "NEW") || !strings.Contains(out, "(affected)") || strings.Contains(out, "\x1b[") {
		t.Errorf("table (no colour when not a terminal):\n%s", out)
	}
	code, out, _ = runCmd(t, "", "scan", "--format", "json", known)
	var arr []doc
	if code != 0 || json.Unmarshal([]byte(out), &arr) != nil || len(arr) != 1 {
		t.Errorf("json: exit %d, %q", code, out)
	}
	code, out, _ = runCmd(t, "", "scan", "--format", "json", examples+"../netfs-rreq-unlock-xa-retry.yaml")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("json with no reports: exit %d, %q", code, out)
	}
}

func TestScanStdinAndGzip(t *testing.T) {
	data, err := os.ReadFile(examples + "ceph-aio-read-free-null-page/centos7-nginx.log")
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCmd(t, string(data), "scan", "--format", "ndjson", "-")
	if code != 0 || len(parseNDJSON(t, out)) != 1 {
		t.Fatalf("stdin: exit %d, %q", code, out)
	}
	gz := filepath.Join(t.TempDir(), "messages.gz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, "", "scan", "--format", "ndjson", gz)
	if code != 0 || len(parseNDJSON(t, out)) != 1 {
		t.Fatalf("gzip: exit %d, %q", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"bogus"},
		{"scan", "--format", "xml", "x"},
		{"scan", "--fail-on", "sometimes", "x"},
		{"scan", "--no-such-flag"},
		{"rules"},
		{"rules", "frobnicate"},
		{"gen", "--formats", "rfc9999=1"},
	} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, errs := runCmd(t, "", "scan", "/no/such/file"); code != 1 || !strings.Contains(errs, "/no/such/file") {
		t.Errorf("missing file: exit %d, %q", code, errs)
	}
	if code, _, errs := runCmd(t, "", "scan", "--signatures", "../../processor/matcher/testdata/typo", examples+"netfs-rreq-unlock-xa-retry/aks-node-1075.log"); code != 1 || !strings.Contains(errs, "/match/0/require/1") {
		t.Errorf("bad knowledge base: exit %d, %q", code, errs)
	}
}

func TestRules(t *testing.T) {
	code, out, _ := runCmd(t, "", "rules", "test")
	if code != 0 || !strings.Contains(out, " passed, 0 failed") {
		t.Fatalf("rules test: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, "", "rules", "lint")
	if code != 0 || !strings.Contains(out, "5 signatures valid") {
		t.Fatalf("rules lint: exit %d %q", code, out)
	}
	code, out, _ = runCmd(t, "", "rules", "list")
	if code != 0 || strings.Count(out, "\n") != 6 {
		t.Fatalf("rules list: exit %d\n%s", code, out)
	}
	if code, _, _ := runCmd(t, "", "version"); code != 0 {
		t.Fatal("version")
	}
}

// gen is reproducible, and scan finds one report per generated crash.
func TestGenThenScan(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log.gz")
	code, _, errs := runCmd(t, "", "gen", "--lines", "50000", "--hosts", "50", "--crash-every", "1000", "--seed", "9", "-o", a)
	if code != 0 {
		t.Fatal(errs)
	}
	var crashes int
	if _, err := fmtSscan(errs, &crashes); err != nil {
		t.Fatalf("gen summary %q: %v", errs, err)
	}
	if code, _, _ := runCmd(t, "", "gen", "--lines", "50000", "--hosts", "50", "--crash-every", "1000", "--seed", "9", "-o", b); code != 0 {
		t.Fatal("gen gz")
	}
	code, out, _ := runCmd(t, "", "scan", "--format", "ndjson", a)
	if code != 0 || len(parseNDJSON(t, out)) != crashes {
		t.Fatalf("scan found %d reports for %d crashes", len(parseNDJSON(t, out)), crashes)
	}
	_, outGz, _ := runCmd(t, "", "scan", "--format", "ndjson", b)
	if len(parseNDJSON(t, outGz)) != crashes {
		t.Fatal("the same seed gave a different log")
	}
}

// TestMain keeps the tests away from the user's cache directory, where an
// upstream index may be (scan reads it by default).
func TestMain(m *testing.M) { testenv.Main(m) }
