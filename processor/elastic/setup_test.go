package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
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
		if res.Version != "8.15.0" || len(res.Installed) != 5 || res.SavedObjects != shippedObjects() {
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

// The index template is composed like the logs stack's own: with the
// built-in logs@ and ecs@ component templates the cluster has, the users'
// @custom hooks (allowed to be missing), auto-creation allowed, managed
// metadata and a version; documents get event.ingested from the default
// pipeline.
func TestSetupComposesWithTheLogsStack(t *testing.T) {
	for _, tc := range []struct {
		version  string
		builtins []string
		hooks    bool
	}{
		{"8.11.4", nil, false},
		{"8.12.2", []string{"logs@mappings", "logs@settings"}, true},
		{"8.15.0", []string{"logs@mappings", "logs@settings", "ecs@mappings"}, true},
		{"9.1.0", []string{"logs@mappings", "logs@settings", "ecs@mappings"}, true},
	} {
		srv := estest.New(tc.version)
		res, err := Setup(ctxT(t, 10*time.Second), Config{Addresses: []string{srv.URL}}, KibanaConfig{}, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.version, err)
		}
		var tmpl struct {
			Composed      []string       `json:"composed_of"`
			Ignore        []string       `json:"ignore_missing_component_templates"`
			AutoCreate    bool           `json:"allow_auto_create"`
			Version       int            `json:"version"`
			Meta          map[string]any `json:"_meta"`
			IndexPatterns []string       `json:"index_patterns"`
		}
		if err := json.Unmarshal(srv.Object("_index_template/"+IndexTemplateName), &tmpl); err != nil {
			t.Fatal(err)
		}
		want := append(append([]string{}, tc.builtins...), MappingsName, SettingsName, "logs@custom", "logs-kernel.oops@custom")
		if strings.Join(tmpl.Composed, ",") != strings.Join(want, ",") || strings.Join(res.ComposedWith, ",") != strings.Join(tc.builtins, ",") {
			t.Errorf("%s: composed of %v (reported %v), want %v", tc.version, tmpl.Composed, res.ComposedWith, want)
		}
		if !tmpl.AutoCreate || tmpl.Version < 2 || tmpl.Meta["managed"] != true || tmpl.Meta["managed_by"] != "oopsflow" || len(tmpl.Ignore) != 2 {
			t.Errorf("%s: template %+v", tc.version, tmpl)
		}
		pipeline := string(srv.Object("_ingest/pipeline/" + PipelineName))
		if !strings.Contains(pipeline, "event.ingested") || strings.Contains(pipeline, "ignore_missing_pipeline") != tc.hooks {
			t.Errorf("%s: pipeline %s", tc.version, pipeline)
		}
		// The first document creates the data stream and goes through the
		// default pipeline.
		s, err := NewSink(Config{Addresses: []string{srv.URL}, FlushInterval: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		dn := newDones(t)
		writeAll(t, s, docs(1, "ing"), dn)
		if err := s.Close(ctxT(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		ids := srv.IDs(s.Index())
		if len(ids) != 1 || !strings.Contains(string(srv.Doc(s.Index(), ids[0])), `"ingested"`) {
			t.Errorf("%s: stored %v without event.ingested", tc.version, ids)
		}
		srv.Close()
	}
}

// Serverless has no ILM: retention is the data stream lifecycle's.
func TestSetupServerless(t *testing.T) {
	srv := estest.New("8.11.0")
	srv.Serverless()
	defer srv.Close()
	res, err := Setup(ctxT(t, 10*time.Second), Config{Addresses: []string{srv.URL}}, KibanaConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Serverless || srv.Object("_ilm/policy/"+PolicyName) != nil {
		t.Fatalf("serverless: %+v", res)
	}
	tmpl := string(srv.Object("_index_template/" + IndexTemplateName))
	settings := string(srv.Object("_component_template/" + SettingsName))
	if !strings.Contains(tmpl, `"data_retention":"400d"`) || strings.Contains(settings, "index.lifecycle.name") {
		t.Fatalf("template %s\nsettings %s", tmpl, settings)
	}
}

// Setup over the objects of the previous release replaces them all.
func TestSetupUpgrades(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	c := &http.Client{}
	for _, o := range []struct{ path, file string }{ // components before the template that uses them
		{"_ilm/policy/" + PolicyName, "ilm-policy.json"},
		{"_component_template/" + MappingsName, "component-template-mappings.json"},
		{"_component_template/" + SettingsName, "component-template-settings.json"},
		{"_index_template/" + IndexTemplateName, "index-template.json"},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "v1", o.file))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/"+o.path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("install the old %s: %v %v", o.path, err, resp)
		}
		resp.Body.Close()
	}
	if strings.Contains(string(srv.Object("_index_template/"+IndexTemplateName)), "allow_auto_create") {
		t.Fatal("the old template already has the new fields: the test proves nothing")
	}
	if _, err := Setup(ctxT(t, 10*time.Second), Config{Addresses: []string{srv.URL}}, KibanaConfig{}, nil); err != nil {
		t.Fatal(err)
	}
	tmpl := string(srv.Object("_index_template/" + IndexTemplateName))
	if !strings.Contains(tmpl, `"allow_auto_create":true`) || !strings.Contains(tmpl, `"version":2`) || !strings.Contains(string(srv.Object("_component_template/"+SettingsName)), "default_pipeline") {
		t.Fatalf("not upgraded: %s", tmpl)
	}
}
