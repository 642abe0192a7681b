package schemas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/oopsflow/oopsflow/internal/fleetgen"
	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/pipeline"
	"github.com/oopsflow/oopsflow/schemas"
	"github.com/oopsflow/oopsflow/signatures"
)

// documents returns every document the pipeline makes of the signature
// examples and of a generated fleet log, as JSON.
func documents(t *testing.T) [][]byte {
	t.Helper()
	sigs, err := matcher.Load(signatures.FS)
	if err != nil {
		t.Fatal(err)
	}
	m := matcher.New(sigs)
	var out [][]byte
	sink := pipeline.OutputFunc(func(d *document.Document) error {
		b, err := json.Marshal(d)
		out = append(out, b)
		return err
	})
	run := func(host string, data []byte) {
		p := pipeline.New(pipeline.Config{DefaultHost: host, Console: host != "", Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}, m, sink)
		if _, err := pipeline.Feed(context.Background(), p, bytes.NewReader(data), pipeline.DefaultMaxLine); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(context.Background(), assemble.EOF); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range sigs {
		for _, ex := range s.Examples {
			data, err := fs.ReadFile(signatures.FS, ex.File)
			if err != nil {
				t.Fatal(err)
			}
			run(ex.Host, data)
		}
	}
	var buf bytes.Buffer
	if _, err := fleetgen.Generate(&buf, fleetgen.Config{Lines: 200_000, Hosts: 300, CrashEvery: 1000, Seed: 11, Examples: signatures.FS}); err != nil {
		t.Fatal(err)
	}
	run("", buf.Bytes())
	if len(out) < 100 {
		t.Fatalf("only %d documents", len(out))
	}
	return out
}

func TestDocumentsValidateAgainstJSONSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemas.Document))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("document.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("document.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range documents(t) {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(v); err != nil {
			t.Fatalf("document does not validate: %v\n%s", err, b)
		}
	}
	// And the schema rejects what it must.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"@timestamp":"x","oops":{"surprise":1}}`))
	if sch.Validate(bad) == nil {
		t.Fatal("schema accepted a bad document")
	}
}

func mapping(t *testing.T) map[string]string {
	t.Helper()
	m, err := schemas.MappedFields()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func compatible(mapped string, v any) bool {
	switch v.(type) {
	case string:
		switch mapped {
		case "keyword", "constant_keyword", "match_only_text", "text", "wildcard", "date":
			return true
		}
	case float64:
		switch mapped {
		case "long", "integer", "short", "float", "double", "scaled_float":
			return true
		}
	case bool:
		return mapped == "boolean"
	case map[string]any:
		return mapped == "object"
	case nil:
		return true
	}
	return false
}

// Every field of every document is mapped, with a compatible type: root
// mappings are dynamic:false, so an unmapped field would be silently not
// indexed; this test is what catches it.
func TestDocumentsUseOnlyMappedFields(t *testing.T) {
	m := mapping(t)
	seen := map[string]bool{}
	var check func(path string, v any)
	check = func(path string, v any) {
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				check(path, e)
			}
			return
		}
		typ, ok := m[path]
		if !ok {
			t.Fatalf("field %s is not mapped", path)
		}
		if !compatible(typ, v) {
			t.Fatalf("field %s: value %v (%T) does not fit mapping type %s", path, v, v, typ)
		}
		seen[path] = true
		if obj, ok := v.(map[string]any); ok {
			for k, sub := range obj {
				check(path+"."+k, sub)
			}
		}
	}
	for _, b := range documents(t) {
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		for k, v := range doc {
			check(k, v)
		}
	}
	var unused []string
	for p, typ := range m {
		if !seen[p] && typ != "object" && !strings.HasPrefix(p, "oops.source.") && p != "oops.ip.stack" && p != "oops.tainted" {
			unused = append(unused, p)
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Logf("mapped fields no generated document used: %v", unused)
	}
}

func TestTemplatesParse(t *testing.T) {
	for name, b := range map[string][]byte{"ilm": schemas.ILMPolicy, "mappings": schemas.MappingsTemplate, "settings": schemas.SettingsTemplate, "index": schemas.IndexTemplate, "pipeline": schemas.IngestPipeline, "document": schemas.Document, "signature": schemas.Signature} {
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	var it struct {
		IndexPatterns []string `json:"index_patterns"`
		Priority      int      `json:"priority"`
		ComposedOf    []string `json:"composed_of"`
		Ignore        []string `json:"ignore_missing_component_templates"`
	}
	json.Unmarshal(schemas.IndexTemplate, &it)
	if it.Priority < 500 || len(it.IndexPatterns) != 1 || it.IndexPatterns[0] != "logs-kernel.oops-*" {
		t.Fatalf("index template: %+v", it)
	}
	// oopsflow's own component templates come after the built-in ones
	// (later wins) and before the users' hooks, which may be missing.
	pos := map[string]int{}
	for i, c := range it.ComposedOf {
		pos[c] = i
	}
	ours := []string{"oopsflow-kernel-oops-mappings", "oopsflow-kernel-oops-settings"}
	for _, c := range ours {
		if _, ok := pos[c]; !ok {
			t.Fatalf("index template not composed of %s: %v", c, it.ComposedOf)
		}
	}
	for _, b := range []string{"logs@mappings", "logs@settings", "ecs@mappings"} {
		if p, ok := pos[b]; ok && p > pos[ours[0]] {
			t.Errorf("%s after oopsflow's templates would override them", b)
		}
	}
	for _, h := range it.Ignore {
		if pos[h] < pos[ours[1]] {
			t.Errorf("the users' hook %s must come last", h)
		}
	}
	if len(it.Ignore) != 2 {
		t.Errorf("hooks %v", it.Ignore)
	}
}
