package elastic

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/dashboards"
	"github.com/oopsflow/oopsflow/internal/estest"
	"github.com/oopsflow/oopsflow/schemas"
)

func TestSetupTwice(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	ctx := ctxT(t, 10*time.Second)
	cfg := Config{Addresses: []string{srv.URL}}
	kb := KibanaConfig{URL: srv.URL}
	var first []byte
	for i := 0; i < 2; i++ {
		res, err := Setup(ctx, cfg, kb, dashboards.KernelOops)
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if res.Version != "8.15.0" || len(res.Installed) != 4 || res.SavedObjects != shippedObjects() {
			t.Fatalf("run %d: %+v", i+1, res)
		}
		tmpl := srv.Object("_index_template/" + IndexTemplateName)
		if i == 0 {
			first = tmpl
		} else if !bytes.Equal(first, tmpl) {
			t.Fatal("second run changed the index template")
		}
	}
	if !bytes.Equal(srv.Object("_component_template/"+MappingsName), schemas.MappingsTemplate) || srv.Object("_ilm/policy/"+PolicyName) == nil {
		t.Fatal("templates or policy not installed as shipped")
	}
	if srv.SavedObjects() != shippedObjects() {
		t.Fatalf("%d saved objects in Kibana", srv.SavedObjects())
	}
}

func TestSetupErrors(t *testing.T) {
	ctx := ctxT(t, 10*time.Second)
	old := estest.New("7.17.9")
	defer old.Close()
	if _, err := Setup(ctx, Config{Addresses: []string{old.URL}}, KibanaConfig{}, nil); err == nil || !strings.Contains(err.Error(), "too old") {
		t.Errorf("7.17: %v", err)
	}

	dead := estest.New("8.15.0")
	url := dead.URL
	dead.Close()
	if _, err := Setup(ctx, Config{Addresses: []string{url}, MaxRetries: 1, RetryBase: time.Millisecond}, KibanaConfig{}, nil); err == nil || !strings.Contains(err.Error(), "cannot reach Elasticsearch") {
		t.Errorf("unreachable: %v", err)
	}

	locked := estest.New("8.15.0")
	defer locked.Close()
	locked.RequireBasic("elastic", "right")
	if _, err := Setup(ctx, Config{Addresses: []string{locked.URL}, Username: "elastic", Password: "wrong"}, KibanaConfig{}, nil); err == nil || !strings.Contains(err.Error(), "authentication failed (401)") {
		t.Errorf("bad password: %v", err)
	}
	if _, err := Setup(ctx, Config{Addresses: []string{locked.URL}, Username: "elastic", Password: "right"}, KibanaConfig{}, nil); err != nil {
		t.Errorf("right password: %v", err)
	}
}

func TestKibanaImportErrors(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	ctx := context.Background()
	broken := []byte(`{"type":"dashboard","id":"d","attributes":{"title":"x"},"references":[{"type":"lens","id":"nope","name":"1:panel_1"}]}` + "\n")
	if _, err := ImportDashboards(ctx, KibanaConfig{URL: srv.URL}, broken); err == nil || !strings.Contains(err.Error(), "missing_references") {
		t.Errorf("missing reference: %v", err)
	}
	if _, err := ImportDashboards(ctx, KibanaConfig{URL: "not a url"}, dashboards.KernelOops); err == nil {
		t.Error("bad url accepted")
	}
	srv.RequireAPIKey("k")
	if _, err := ImportDashboards(ctx, KibanaConfig{URL: srv.URL, APIKey: "wrong"}, dashboards.KernelOops); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("bad key: %v", err)
	}
	if n, err := ImportDashboards(ctx, KibanaConfig{URL: srv.URL, APIKey: "k"}, dashboards.KernelOops); err != nil || n != shippedObjects() {
		t.Errorf("right key: %d, %v", n, err)
	}
}

// shippedObjects counts the saved objects in the shipped export (one
// non-empty NDJSON line each, the export summary line excluded).
func shippedObjects() int {
	n := 0
	for _, line := range bytes.Split(dashboards.KernelOops, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 && !bytes.Contains(line, []byte(`"exportedCount"`)) {
			n++
		}
	}
	return n
}

// Kibana's version is checked before the import: an older Kibana than the
// export's objects need is refused with what is needed.
func TestKibanaTooOld(t *testing.T) {
	if got := MinKibana(dashboards.KernelOops); got != "8.9.0" {
		t.Fatalf("the export needs Kibana %q, want 8.9.0", got)
	}
	old := estest.New("8.8.2")
	defer old.Close()
	_, err := ImportDashboards(ctxT(t, 10*time.Second), KibanaConfig{URL: old.URL}, dashboards.KernelOops)
	if err == nil || !strings.Contains(err.Error(), "8.8.2 is too old") || !strings.Contains(err.Error(), "8.9.0 or later") {
		t.Fatalf("kibana 8.8.2: %v", err)
	}
	if old.SavedObjects() != 0 {
		t.Fatal("objects imported into a Kibana too old for them")
	}
	for _, v := range []string{"8.9.0", "8.19.3", "9.1.0"} {
		srv := estest.New(v)
		if _, err := ImportDashboards(ctxT(t, 10*time.Second), KibanaConfig{URL: srv.URL}, dashboards.KernelOops); err != nil {
			t.Errorf("kibana %s: %v", v, err)
		}
		srv.Close()
	}
}
