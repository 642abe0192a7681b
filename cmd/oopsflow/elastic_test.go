package main

import (
	"os"
	"strings"
	"testing"

	"github.com/oopsflow/oopsflow/internal/estest"
	"github.com/oopsflow/oopsflow/processor/elastic"
)

// Backfilling a file into Elasticsearch twice leaves one document per report.
func TestScanToElasticsearch(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	files := []string{
		examples + "netfs-rreq-unlock-xa-retry/aks-node-1075.log",
		examples + "ceph-aio-read-free-null-page/centos7-nginx.log",
		examples + "netfs-rreq-unlock-xa-retry/nvme-null-deref.log",
	}
	for i := 0; i < 2; i++ {
		code, out, errs := runCmd(t, "", append([]string{"scan", "--output", "elasticsearch", "--es-url", srv.URL, "--es-namespace", "prod"}, files...)...)
		if code != 0 {
			t.Fatalf("run %d: exit %d: %s", i+1, code, errs)
		}
		if out != "" {
			t.Fatalf("stdout not empty with --output elasticsearch: %q", out)
		}
		want := "3 indexed, 0 already there"
		if i == 1 {
			want = "0 indexed, 3 already there"
		}
		if !strings.Contains(errs, want) {
			t.Fatalf("run %d: %q lacks %q", i+1, errs, want)
		}
	}
	if n := srv.Count(elastic.DataStreamPrefix + "prod"); n != 3 {
		t.Fatalf("%d documents stored, want 3", n)
	}
}

func TestSetupCommand(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	for i := 0; i < 2; i++ {
		code, out, errs := runCmd(t, "", "setup", "--es-url", srv.URL, "--kibana-url", srv.URL)
		if code != 0 || !strings.Contains(out, "imported 9 Kibana saved objects") || !strings.Contains(out, "installed index template oopsflow-kernel-oops") {
			t.Fatalf("run %d: exit %d\n%s%s", i+1, code, out, errs)
		}
	}
	old := estest.New("7.10.2")
	defer old.Close()
	if code, _, errs := runCmd(t, "", "setup", "--es-url", old.URL); code != 1 || !strings.Contains(errs, "too old") {
		t.Fatalf("old cluster: exit %d %q", code, errs)
	}
	for _, args := range [][]string{
		{"setup"},
		{"setup", "--es-url", srv.URL, "--es-namespace", "Bad-Name"},
		{"scan", "--output", "elasticsearch", "x"},
		{"scan", "--output", "kafka", "x"},
	} {
		if code, _, _ := runCmd(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// Against a cluster that enforces privileges: setup --check-privileges says
// what each role lacks and how to grant it; a writer with create_doc only
// cannot create the data stream, is told to add auto_configure, and its
// documents are never dead-lettered; with the documented role it works.
func TestLeastPrivilegeWriter(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.Grant(estest.Privileges{Index: map[string][]string{"logs-kernel.oops-*": {"create_doc"}}})
	code, out, _ := runCmd(t, "", "setup", "--check-privileges", "--es-url", srv.URL)
	if code != 1 || !strings.Contains(out, "writer  MISSING auto_configure on logs-kernel.oops-*") ||
		!strings.Contains(out, "setup   MISSING manage_ilm, manage_index_templates, manage_pipeline") || !strings.Contains(out, `PUT _security/role/oopsflow_writer {"indices": [{"names": ["logs-kernel.oops-*"], "privileges": ["auto_configure","create_doc"]}]}`) {
		t.Fatalf("check with create_doc only: exit %d\n%s", code, out)
	}
	dead := t.TempDir() + "/dead.ndjson"
	file := examples + "netfs-rreq-unlock-xa-retry/aks-node-1075.log"
	code, _, errs := runCmd(t, "", "scan", "--output", "elasticsearch", "--es-url", srv.URL, "--es-timeout", "2s", "--dead-letter", dead, file)
	if code != 1 || !strings.Contains(errs, "auto_configure") {
		t.Fatalf("writer without auto_configure: exit %d %q", code, errs)
	}
	if _, err := os.Stat(dead); err == nil {
		t.Fatal("a document was dead-lettered for a missing privilege")
	}
	srv.Grant(estest.Privileges{Index: map[string][]string{"logs-kernel.oops-*": {"auto_configure", "create_doc"}}})
	if code, out, _ := runCmd(t, "", "setup", "--check-privileges", "--es-url", srv.URL); code != 1 || !strings.Contains(out, "writer  ok") {
		t.Fatalf("the documented writer role: exit %d\n%s", code, out)
	}
	if code, _, errs := runCmd(t, "", "scan", "--output", "elasticsearch", "--es-url", srv.URL, file); code != 0 || srv.Count(elastic.DataStreamPrefix+"default") != 1 {
		t.Fatalf("the documented writer role: exit %d %q", code, errs)
	}
	if code, _, errs := runCmd(t, "", "setup", "--es-url", srv.URL); code != 1 || !strings.Contains(errs, "403") {
		t.Fatalf("setup as the writer: exit %d %q", code, errs)
	}
	srv.Grant(estest.Privileges{Cluster: []string{"manage_index_templates", "manage_ilm", "manage_pipeline"}, Index: map[string][]string{"logs-*": {"write", "create_index"}}})
	if code, out, _ := runCmd(t, "", "setup", "--check-privileges", "--es-url", srv.URL); code != 0 || strings.Contains(out, "MISSING") {
		t.Fatalf("broader grants that imply the roles: exit %d\n%s", code, out)
	}
}

// A cluster that restricts auto-creation (action.auto_create_index: false):
// before setup the first document cannot create the data stream, scan says
// what to change and dead-letters nothing; setup's template allows
// auto-creation for logs-kernel.oops-* only, and the same scan then works.
func TestRestrictedAutoCreate(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.RestrictAutoCreate()
	dead := t.TempDir() + "/dead.ndjson"
	file := examples + "netfs-rreq-unlock-xa-retry/aks-node-1075.log"
	code, _, errs := runCmd(t, "", "scan", "--output", "elasticsearch", "--es-url", srv.URL, "--es-timeout", "2s", "--dead-letter", dead, file)
	if code != 1 || !strings.Contains(errs, "action.auto_create_index") || !strings.Contains(errs, "oopsflow setup") {
		t.Fatalf("before setup: exit %d %q", code, errs)
	}
	if _, err := os.Stat(dead); err == nil {
		t.Fatal("a document was dead-lettered because the data stream could not be created")
	}
	if code, out, errs := runCmd(t, "", "setup", "--es-url", srv.URL); code != 0 {
		t.Fatalf("setup: exit %d %s%s", code, out, errs)
	}
	if code, _, errs := runCmd(t, "", "scan", "--output", "elasticsearch", "--es-url", srv.URL, file); code != 0 || srv.Count(elastic.DataStreamPrefix+"default") != 1 {
		t.Fatalf("after setup: exit %d %q", code, errs)
	}
}
