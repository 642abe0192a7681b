package main

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/schemas"
	"github.com/oopsflow/oopsflow/signatures"
)

// For each seed, a signature drafted from its own example matches it, and
// matches none of the look-alikes (every no_match example of the built-in
// knowledge base), as rules test checks them.
func TestRulesNewOnSeeds(t *testing.T) {
	sigs, err := matcher.Load(signatures.FS)
	if err != nil {
		t.Fatal(err)
	}
	var lookAlikes []matcher.Example
	for _, s := range sigs {
		for _, ex := range s.Examples {
			if ex.Expect == "no_match" {
				lookAlikes = append(lookAlikes, ex)
			}
		}
	}
	if len(lookAlikes) < 5 {
		t.Fatalf("only %d look-alikes in the built-in examples", len(lookAlikes))
	}
	for _, s := range sigs {
		t.Run(s.ID, func(t *testing.T) {
			var own matcher.Example
			for _, ex := range s.Examples {
				if ex.Expect == "match" {
					own = ex
					break
				}
			}
			dir := t.TempDir()
			src := filepath.Join(dir, path.Base(own.File))
			copyExample(t, own.File, src)
			id := "draft-" + s.ID
			out := filepath.Join(dir, "sigs")
			args := []string{"rules", "new", "--from", src, "--id", id, "-o", out}
			if own.Host != "" {
				args = append(args, "--host", own.Host)
			}
			code, stdout, stderr := runCmd(t, "", args...)
			if code != 0 {
				t.Fatalf("rules new: exit %d\n%s%s", code, stdout, stderr)
			}
			yaml, err := os.ReadFile(filepath.Join(out, id+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"# yaml-language-server: $schema=", "TODO", "{field: type,", "{field: function, equals:", "{field: frames, equals:", "kernels:", "expect: no_match"} {
				if !bytes.Contains(yaml, []byte(want)) {
					t.Errorf("the draft has no %q:\n%s", want, yaml)
				}
			}
			// rules test passes on the draft as written.
			if code, stdout, _ := runCmd(t, "", "rules", "test", "--signatures", out); code != 0 || !strings.Contains(stdout, "0 failed") {
				t.Fatalf("rules test on the draft: exit %d\n%s\n%s", code, stdout, yaml)
			}
			// Every look-alike of the knowledge base is a no_match.
			var more strings.Builder
			for i, ex := range lookAlikes {
				name := "examples/" + id + "/seed-look-alike-" + string(rune('a'+i)) + path.Ext(ex.File)
				copyExample(t, ex.File, filepath.Join(out, filepath.FromSlash(name)))
				more.WriteString("  - file: " + name + "\n    expect: no_match\n")
				if ex.Host != "" {
					more.WriteString("    host: " + ex.Host + "\n")
				}
			}
			f, err := os.OpenFile(filepath.Join(out, id+".yaml"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(more.String())
			f.Close()
			code, stdout, _ = runCmd(t, "", "rules", "test", "--signatures", out, "-v")
			if code != 0 || !strings.Contains(stdout, "0 failed") {
				t.Fatalf("the draft against the look-alikes: exit %d\n%s", code, stdout)
			}
			if n := strings.Count(stdout, "(expect no_match)"); n != len(lookAlikes)+1 {
				t.Fatalf("%d look-alikes run, want %d:\n%s", n, len(lookAlikes)+1, stdout)
			}
		})
	}
}

func copyExample(t *testing.T, name, to string) {
	t.Helper()
	b, err := fs.ReadFile(signatures.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A file with several reports asks which one; documents (scan's NDJSON)
// work as input; existing files are not overwritten; ids are checked.
func TestRulesNewChoosesAndRefuses(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	for _, f := range []string{"examples/netfs-rreq-unlock-xa-retry/nvme-null-deref.log", "examples/ceph-aio-read-free-null-page/centos7-nginx.log"} {
		b, _ := fs.ReadFile(signatures.FS, f)
		log.Write(b)
	}
	src := filepath.Join(dir, "fleet.log")
	os.WriteFile(src, log.Bytes(), 0o644)
	out := filepath.Join(dir, "sigs")

	code, _, stderr := runCmd(t, "", "rules", "new", "--from", src, "--id", "nvme-timeout", "-o", out)
	if code != exitUsage || !strings.Contains(stderr, "holds 2 reports") || !strings.Contains(stderr, "nvme_timeout") || !strings.Contains(stderr, "known: ceph-aio-read-free-null-page") {
		t.Fatalf("two reports, no --report: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := runCmd(t, "", "rules", "new", "--from", src, "--id", "Bad_ID", "-o", out); code != exitUsage || !strings.Contains(stderr, "lower-case") {
		t.Fatalf("bad id: exit %d %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, "", "rules", "new", "--from", src, "--report", "3", "--id", "x", "-o", out); code != exitUsage || !strings.Contains(stderr, "holds 2 report") {
		t.Fatalf("--report 3: exit %d %s", code, stderr)
	}
	code, stdout, stderr := runCmd(t, "", "rules", "new", "--from", src, "--report", "1", "--id", "nvme-timeout", "-o", out)
	if code != 0 {
		t.Fatalf("--report 1: exit %d\n%s%s", code, stdout, stderr)
	}
	y, _ := os.ReadFile(filepath.Join(out, "nvme-timeout.yaml"))
	if !bytes.Contains(y, []byte(`{field: function, equals: "nvme_timeout"}`)) || !bytes.Contains(y, []byte("scheme: dpkg")) {
		t.Fatalf("draft of report 1:\n%s", y)
	}
	// The other report of the same input is the closest look-alike there is
	// not: it is the ceph crash, so a built-in NULL dereference may win;
	// either way the draft passes its examples.
	if code, stdout, _ := runCmd(t, "", "rules", "test", "--signatures", out); code != 0 {
		t.Fatalf("rules test: %s", stdout)
	}
	if code, _, stderr := runCmd(t, "", "rules", "new", "--from", src, "--report", "1", "--id", "nvme-timeout", "-o", out); code != exitError_ || !strings.Contains(stderr, "exists") {
		t.Fatalf("second run: exit %d %s", code, stderr)
	}

	// A gzip log, as rotated logs are.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(log.Bytes())
	zw.Close()
	gzPath := filepath.Join(dir, "fleet.log.1.gz")
	os.WriteFile(gzPath, gz.Bytes(), 0o644)
	if code, stdout, stderr := runCmd(t, "", "rules", "new", "--from", gzPath, "--report", "1", "--id", "nvme-timeout-gz", "-o", filepath.Join(dir, "gz")); code != 0 || !strings.Contains(stdout, "nvme_timeout") {
		t.Fatalf("gzip input: exit %d\n%s%s", code, stdout, stderr)
	}

	// scan's NDJSON documents, from standard input.
	_, docs, _ := runCmd(t, log.String(), "scan", "--format", "ndjson", "-")
	code, stdout, stderr = runCmd(t, docs, "rules", "new", "--from", "-", "--report", "2", "--id", "ceph-again", "-o", out)
	if code != 0 || !strings.Contains(stdout, "__free_pages") || !strings.Contains(stderr, "already matches ceph-aio-read-free-null-page") {
		t.Fatalf("from documents: exit %d\n%s%s", code, stdout, stderr)
	}
	y, _ = os.ReadFile(filepath.Join(out, "ceph-again.yaml"))
	if !bytes.Contains(y, []byte(`{field: frames, equals: "ceph_aio_read"`)) || !bytes.Contains(y, []byte("scheme: rpm")) {
		t.Fatalf("draft from documents:\n%s", y)
	}
	if code, stdout, _ := runCmd(t, "", "rules", "test", "--signatures", out); code != 0 || !strings.Contains(stdout, "0 failed") {
		t.Fatalf("rules test: %s", stdout)
	}
}

// rules init lays out a repository whose CI script runs lint and test, and
// whose drafts point editors at the local schema.
func TestRulesInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fleet-signatures")
	code, stdout, stderr := runCmd(t, "", "rules", "init", dir)
	if code != 0 {
		t.Fatalf("rules init: exit %d %s", code, stderr)
	}
	for _, f := range []string{"README.md", "signature.schema.json", ".github/workflows/signatures.yaml", "ci.sh", "examples/.gitkeep"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v\n%s", f, err, stdout)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "signature.schema.json")); !bytes.Equal(b, schemas.Signature) {
		t.Error("the schema copy differs from the signature schema")
	}
	ci, _ := os.ReadFile(filepath.Join(dir, "ci.sh"))
	wf, _ := os.ReadFile(filepath.Join(dir, ".github/workflows/signatures.yaml"))
	if !bytes.Contains(ci, []byte("oopsflow rules lint --signatures .")) || !bytes.Contains(ci, []byte("oopsflow rules test --signatures .")) || !bytes.Contains(wf, []byte("./ci.sh")) {
		t.Fatalf("CI:\n%s\n%s", ci, wf)
	}
	if code, _, stderr := runCmd(t, "", "rules", "init", dir); code != exitError_ || !strings.Contains(stderr, "exists") {
		t.Fatalf("init twice: exit %d %s", code, stderr)
	}
	src := filepath.Join(t.TempDir(), "crash.log")
	copyExample(t, "examples/tcp-listener-released-socket/x86-4.19-stable.log", src)
	if code, stdout, stderr := runCmd(t, "", "rules", "new", "--from", src, "--id", "tcp-listener", "-o", dir); code != 0 {
		t.Fatalf("rules new: %s%s", stdout, stderr)
	}
	y, _ := os.ReadFile(filepath.Join(dir, "tcp-listener.yaml"))
	if !bytes.HasPrefix(y, []byte("# yaml-language-server: $schema=./signature.schema.json\n")) || !bytes.Contains(y, []byte("scheme: upstream")) {
		t.Fatalf("draft in an initialised repository:\n%s", y)
	}
	if code, stdout, _ := runCmd(t, "", "rules", "lint", "--signatures", dir); code != 0 {
		t.Fatalf("rules lint: %s", stdout)
	}
}

// Flags may follow the files, as users type them; a bound of zero or less
// is refused with the flag's name, never replaced by the default.
func TestFlagsAnywhereAndBounds(t *testing.T) {
	file := examples + "netfs-rreq-unlock-xa-retry/aks-node-1075.log"
	code, out, errs := runCmd(t, "", "scan", file, "--format", "ndjson")
	if code != 0 || len(parseNDJSON(t, out)) != 1 {
		t.Fatalf("scan FILE --format ndjson: exit %d %s", code, errs)
	}
	if code, out, _ := runCmd(t, "", "scan", "--format", "ndjson", "--", file); code != 0 || len(parseNDJSON(t, out)) != 1 {
		t.Fatalf("scan -- FILE: exit %d", code)
	}
	for _, bad := range [][]string{
		{"--context-lines", "0"}, {"--max-report-lines", "-7"}, {"--idle", "0s"}, {"--max-hosts", "0"},
		{"--max-open-bytes", "-1"}, {"--max-line-bytes", "0"}, {"--workers", "-2"},
	} {
		code, _, errs := runCmd(t, "", append([]string{"scan", file}, bad...)...)
		if code != exitUsage || !strings.Contains(errs, bad[0]) {
			t.Errorf("scan %s %s: exit %d %q", bad[0], bad[1], code, errs)
		}
	}
	dir := t.TempDir()
	for _, bad := range []string{"max_hosts: 0", "idle: -5s", "max_report_lines: 0"} {
		f := filepath.Join(dir, "c.yaml")
		os.WriteFile(f, []byte("assembly:\n  "+bad+"\n"), 0o644)
		key := strings.SplitN(bad, ":", 2)[0]
		if _, err := loadConsumeConfig(f); err == nil || !strings.Contains(err.Error(), "assembly."+key) {
			t.Errorf("config %q: %v", bad, err)
		}
	}
	f := filepath.Join(dir, "ok.yaml")
	os.WriteFile(f, []byte("assembly:\n  max_hosts: 100\n  idle: 10s\n"), 0o644)
	if cfg, err := loadConsumeConfig(f); err != nil || cfg.Assembly.MaxHosts != 100 {
		t.Errorf("a good config: %v", err)
	}
}

// rules lint on a user directory says which built-in signatures its files
// replace.
func TestRulesLintNamesOverrides(t *testing.T) {
	dir := t.TempDir()
	b, _ := fs.ReadFile(signatures.FS, "netfs-rreq-unlock-xa-retry.yaml")
	os.WriteFile(filepath.Join(dir, "netfs-rreq-unlock-xa-retry.yaml"), b, 0o644)
	for _, f := range []string{"aks-node-1075.log", "aks-node-1083.log", "netfs-warning.log", "nvme-null-deref.log"} {
		copyExample(t, "examples/netfs-rreq-unlock-xa-retry/"+f, filepath.Join(dir, "examples/netfs-rreq-unlock-xa-retry", f))
	}
	code, out, errs := runCmd(t, "", "rules", "lint", "--signatures", dir)
	if code != 0 || !strings.Contains(out, "note: netfs-rreq-unlock-xa-retry replaces the built-in signature") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}
