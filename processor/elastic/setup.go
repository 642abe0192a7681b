package elastic

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/oopsflow/oopsflow/schemas"
)

// Names of the objects setup installs.
const (
	PolicyName        = "oopsflow-kernel-oops"
	MappingsName      = "oopsflow-kernel-oops-mappings"
	SettingsName      = "oopsflow-kernel-oops-settings"
	IndexTemplateName = "oopsflow-kernel-oops"
	PipelineName      = "oopsflow-kernel-oops"
	// MinMajor is the oldest Elasticsearch major version supported.
	MinMajor = 8
)

// KibanaConfig says where to import the dashboards.
type KibanaConfig struct {
	URL      string
	Space    string // "" for the default space
	APIKey   string
	Username string
	Password string
	CACert   []byte
	Insecure bool
}

// authorize sets the request's credentials: the API key, else basic auth.
func (kb KibanaConfig) authorize(req *http.Request) {
	switch {
	case kb.APIKey != "":
		req.Header.Set("Authorization", "ApiKey "+kb.APIKey)
	case kb.Username != "":
		req.SetBasicAuth(kb.Username, kb.Password)
	}
}

// SetupResult says what setup did.
type SetupResult struct {
	Version    string // Elasticsearch version
	Serverless bool   // Elastic Cloud Serverless: data stream lifecycle instead of ILM
	Installed  []string
	// ComposedWith lists the built-in component templates the index
	// template is composed with (those the cluster has).
	ComposedWith   []string
	SavedObjects   int // imported into Kibana
	KibanaImported bool
}

// Setup installs the lifecycle policy, component templates and index
// template, and (when kb.URL is set) imports the dashboards. Every step is a
// PUT or an overwrite import, so running it twice changes nothing.
func Setup(ctx context.Context, es Config, kb KibanaConfig, dashboards []byte) (*SetupResult, error) {
	var fatal error
	client, err := NewClient(es, func(err error) { fatal = err })
	if err != nil {
		return nil, err
	}
	res := &SetupResult{}
	info, err := client.Info(client.Info.WithContext(ctx))
	if err != nil {
		if fatal != nil {
			err = fatal
		}
		return nil, fmt.Errorf("cannot reach Elasticsearch at %s: %w", where(es), err)
	}
	defer info.Body.Close()
	if err := responseError("read cluster info", info); err != nil {
		return nil, err
	}
	var body struct {
		Version struct {
			Number      string `json:"number"`
			BuildFlavor string `json:"build_flavor"`
		} `json:"version"`
	}
	if err := json.NewDecoder(info.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("read cluster info: %w", err)
	}
	res.Version = body.Version.Number
	res.Serverless = body.Version.BuildFlavor == "serverless"
	major, _ := strconv.Atoi(strings.SplitN(body.Version.Number, ".", 2)[0])
	if major < MinMajor {
		return nil, fmt.Errorf("elasticsearch %s is too old: oopsflow needs %d.0 or later (composable templates, data streams, match_only_text)", body.Version.Number, MinMajor)
	}

	var builtin []string
	for _, name := range BuiltinComponents {
		r, err := client.Cluster.ExistsComponentTemplate(name, client.Cluster.ExistsComponentTemplate.WithContext(ctx))
		if err != nil {
			return res, fmt.Errorf("look for component template %s: %w", name, err)
		}
		r.Body.Close()
		switch {
		case r.StatusCode == http.StatusOK:
			builtin = append(builtin, name)
		case r.StatusCode != http.StatusNotFound:
			return res, fmt.Errorf("look for component template %s: %s", name, r.Status())
		}
	}
	res.ComposedWith = builtin
	objs, err := Objects(res.Version, res.Serverless, builtin)
	if err != nil {
		return res, err
	}
	type step struct {
		what string
		do   func() (*esapi.Response, error)
	}
	var steps []step
	if !res.Serverless {
		steps = append(steps, step{"lifecycle policy " + PolicyName, func() (*esapi.Response, error) {
			return client.ILM.PutLifecycle(PolicyName, client.ILM.PutLifecycle.WithBody(bytes.NewReader(objs.Policy)), client.ILM.PutLifecycle.WithContext(ctx))
		}})
	}
	steps = append(steps,
		step{"ingest pipeline " + PipelineName, func() (*esapi.Response, error) {
			return client.Ingest.PutPipeline(PipelineName, bytes.NewReader(objs.Pipeline), client.Ingest.PutPipeline.WithContext(ctx))
		}},
		step{"component template " + MappingsName, func() (*esapi.Response, error) {
			return client.Cluster.PutComponentTemplate(MappingsName, bytes.NewReader(objs.Mappings), client.Cluster.PutComponentTemplate.WithContext(ctx))
		}},
		step{"component template " + SettingsName, func() (*esapi.Response, error) {
			return client.Cluster.PutComponentTemplate(SettingsName, bytes.NewReader(objs.Settings), client.Cluster.PutComponentTemplate.WithContext(ctx))
		}},
		step{"index template " + IndexTemplateName, func() (*esapi.Response, error) {
			return client.Indices.PutIndexTemplate(IndexTemplateName, bytes.NewReader(objs.IndexTemplate), client.Indices.PutIndexTemplate.WithContext(ctx))
		}},
	)
	for _, st := range steps {
		r, err := st.do()
		if err != nil {
			return res, fmt.Errorf("install %s: %w", st.what, err)
		}
		err = responseError("install "+st.what, r)
		r.Body.Close()
		if err != nil {
			return res, err
		}
		res.Installed = append(res.Installed, st.what)
	}
	if kb.URL != "" {
		n, err := ImportDashboards(ctx, kb, dashboards)
		if err != nil {
			return res, err
		}
		res.SavedObjects, res.KibanaImported = n, true
	}
	return res, nil
}

func where(es Config) string {
	if es.CloudID != "" {
		return "cloud id " + strings.SplitN(es.CloudID, ":", 2)[0]
	}
	var out []string
	for _, a := range es.Addresses {
		out = append(out, Redact(a))
	}
	return strings.Join(out, ",")
}

// responseError turns an error answer into a clear error.
func responseError(what string, r *esapi.Response) error {
	if !r.IsError() {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
	switch r.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Errorf("%s: authentication failed (401): check the API key or user and password: %s", what, reason(b))
	case http.StatusForbidden:
		return fmt.Errorf("%s: permission denied (403): the user needs the cluster privileges manage_index_templates, manage_ilm and manage_pipeline (oopsflow setup --check-privileges says which are missing): %s", what, reason(b))
	}
	return fmt.Errorf("%s: %s: %s", what, r.Status(), reason(b))
}

func reason(b []byte) string {
	var e struct {
		Error struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil {
		if e.Error.Reason != "" {
			return e.Error.Type + ": " + e.Error.Reason
		}
		if e.Message != "" {
			return e.Message
		}
	}
	return strings.TrimSpace(string(b))
}

// ImportDashboards imports saved objects (NDJSON) through Kibana's
// _import API with overwrite=true, and reads success/errors from the 200
// answer (Kibana answers 200 on partial failure). It returns the number of
// objects imported.
func ImportDashboards(ctx context.Context, kb KibanaConfig, ndjson []byte) (int, error) {
	u, err := url.Parse(strings.TrimRight(kb.URL, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return 0, fmt.Errorf("kibana url %q: want http(s)://host:port", Redact(kb.URL))
	}
	if kb.Space != "" {
		u.Path += "/s/" + url.PathEscape(kb.Space)
	}
	u.Path += "/api/saved_objects/_import"
	u.RawQuery = "overwrite=true"

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "oopsflow-dashboards.ndjson")
	if err != nil {
		return 0, fmt.Errorf("kibana import: %w", err)
	}
	fw.Write(ndjson) //nolint:errcheck // bytes.Buffer
	if err := mw.Close(); err != nil {
		return 0, fmt.Errorf("kibana import: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), &body)
	if err != nil {
		return 0, fmt.Errorf("kibana import: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("kbn-xsrf", "oopsflow")
	kb.authorize(req)
	hc, err := kibanaClient(kb)
	if err != nil {
		return 0, err
	}
	if err := checkKibanaVersion(ctx, hc, kb, ndjson); err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("cannot reach Kibana at %s: %w", Redact(kb.URL), err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return 0, fmt.Errorf("kibana import: authentication failed (401): %s", reason(b))
	case resp.StatusCode == http.StatusForbidden:
		return 0, fmt.Errorf("kibana import: permission denied (403): %s", reason(b))
	case resp.StatusCode != http.StatusOK:
		return 0, fmt.Errorf("kibana import: %s: %s", resp.Status, reason(b))
	}
	var out struct {
		Success      bool `json:"success"`
		SuccessCount int  `json:"successCount"`
		Errors       []struct {
			ID    string          `json:"id"`
			Type  string          `json:"type"`
			Error json.RawMessage `json:"error"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, fmt.Errorf("kibana import: unreadable answer: %w", err)
	}
	if !out.Success || len(out.Errors) > 0 {
		var msgs []string
		for _, e := range out.Errors {
			msgs = append(msgs, fmt.Sprintf("%s %s: %s", e.Type, e.ID, e.Error))
		}
		return out.SuccessCount, fmt.Errorf("kibana import failed for %d object(s): %s", len(out.Errors), strings.Join(msgs, "; "))
	}
	return out.SuccessCount, nil
}

func kibanaClient(kb KibanaConfig) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if kb.Insecure || len(kb.CACert) > 0 {
		cfg := &tls.Config{InsecureSkipVerify: kb.Insecure} //nolint:gosec // explicit user choice
		if len(kb.CACert) > 0 {
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(kb.CACert) {
				return nil, errors.New("kibana CA certificate: no PEM certificate found")
			}
			cfg.RootCAs = pool
		}
		tr.TLSClientConfig = cfg
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}, nil
}

// MinKibana is the oldest Kibana that can import a saved objects export:
// the highest migration version of its objects (Kibana refuses objects
// from a newer version than its own).
func MinKibana(ndjson []byte) string {
	best := ""
	for _, line := range bytes.Split(ndjson, []byte("\n")) {
		var o struct {
			Core string `json:"coreMigrationVersion"`
			Type string `json:"typeMigrationVersion"`
		}
		if json.Unmarshal(line, &o) != nil {
			continue
		}
		for _, v := range []string{o.Core, o.Type} {
			if v != "" && (best == "" || compareVersion(v, best) > 0) {
				best = v
			}
		}
	}
	return best
}

// compareVersion compares dotted release numbers (8.9.0, 8.15.1).
func compareVersion(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(strings.TrimFunc(as[i], func(r rune) bool { return r < '0' || r > '9' }))
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(strings.TrimFunc(bs[i], func(r rune) bool { return r < '0' || r > '9' }))
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// checkKibanaVersion asks Kibana its version (GET /api/status) and refuses
// to import into one older than the export needs, saying what is needed.
// A Kibana that does not say (status hidden from this user) is tried.
func checkKibanaVersion(ctx context.Context, hc *http.Client, kb KibanaConfig, ndjson []byte) error {
	need := MinKibana(ndjson)
	if need == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(kb.URL, "/")+"/api/status", nil)
	if err != nil {
		return fmt.Errorf("kibana status: %w", err)
	}
	kb.authorize(req)
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach Kibana at %s: %w", Redact(kb.URL), err)
	}
	defer resp.Body.Close()
	var st struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st) != nil || st.Version.Number == "" {
		return nil
	}
	if compareVersion(st.Version.Number, need) < 0 {
		return fmt.Errorf("kibana %s is too old for oopsflow's dashboards: they need Kibana %s or later (upgrade Kibana, or run setup without --kibana-url to install only the Elasticsearch side)", st.Version.Number, need)
	}
	return nil
}

// BuiltinComponents are the component templates of Elasticsearch's logs
// stack the index template is composed with, when the cluster has them
// (logs@mappings and logs@settings since 8.12, ecs@mappings since 8.13).
var BuiltinComponents = []string{"logs@mappings", "logs@settings", "ecs@mappings"}

// SetupObjects are the bodies setup installs, adapted to one cluster.
type SetupObjects struct {
	Policy, Pipeline, Mappings, Settings, IndexTemplate []byte
}

// Objects adapts the shipped objects to a cluster: the index template is
// composed only with the built-in component templates it has; on
// Serverless, which has no ILM, retention is the data stream lifecycle's
// (the ILM policy's delete age); before 8.12 the pipeline calls no custom
// pipelines (ignore_missing_pipeline does not exist there).
func Objects(version string, serverless bool, builtin []string) (*SetupObjects, error) {
	o := &SetupObjects{Policy: schemas.ILMPolicy, Pipeline: schemas.IngestPipeline, Mappings: schemas.MappingsTemplate}
	var tmpl map[string]any
	if err := json.Unmarshal(schemas.IndexTemplate, &tmpl); err != nil {
		return nil, fmt.Errorf("shipped index template: %w", err)
	}
	have := map[string]bool{}
	for _, b := range builtin {
		have[b] = true
	}
	var composed []any
	for _, c := range tmpl["composed_of"].([]any) {
		name := c.(string)
		isBuiltin := false
		for _, b := range BuiltinComponents {
			isBuiltin = isBuiltin || b == name
		}
		if !isBuiltin || have[name] {
			composed = append(composed, name)
		}
	}
	tmpl["composed_of"] = composed
	var settings map[string]any
	if err := json.Unmarshal(schemas.SettingsTemplate, &settings); err != nil {
		return nil, fmt.Errorf("shipped settings template: %w", err)
	}
	if serverless {
		st := settings["template"].(map[string]any)["settings"].(map[string]any)
		delete(st, "index.lifecycle.name")
		delete(st, "index.codec") // not settable on Serverless
		delete(st, "index.mapping.total_fields.limit")
		retention, err := policyRetention()
		if err != nil {
			return nil, err
		}
		tmpl["template"] = map[string]any{"lifecycle": map[string]any{"data_retention": retention}}
	}
	if compareVersion(version, "8.12.0") < 0 {
		var p map[string]any
		if err := json.Unmarshal(schemas.IngestPipeline, &p); err != nil {
			return nil, fmt.Errorf("shipped ingest pipeline: %w", err)
		}
		var keep []any
		for _, proc := range p["processors"].([]any) {
			if _, hook := proc.(map[string]any)["pipeline"]; !hook {
				keep = append(keep, proc)
			}
		}
		p["processors"] = keep
		var err error
		if o.Pipeline, err = json.Marshal(p); err != nil {
			return nil, err
		}
	}
	var err error
	if o.IndexTemplate, err = json.Marshal(tmpl); err != nil {
		return nil, err
	}
	if o.Settings, err = json.Marshal(settings); err != nil {
		return nil, err
	}
	return o, nil
}

// policyRetention is the delete phase's min_age of the shipped ILM policy.
func policyRetention() (string, error) {
	var p struct {
		Policy struct {
			Phases struct {
				Delete struct {
					MinAge string `json:"min_age"`
				} `json:"delete"`
			} `json:"phases"`
		} `json:"policy"`
	}
	if err := json.Unmarshal(schemas.ILMPolicy, &p); err != nil || p.Policy.Phases.Delete.MinAge == "" {
		return "", fmt.Errorf("shipped lifecycle policy: no delete age (%v)", err)
	}
	return p.Policy.Phases.Delete.MinAge, nil
}
