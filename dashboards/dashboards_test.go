package dashboards

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/oopsflow/oopsflow/schemas"
)

type object struct {
	Type                 string          `json:"type"`
	ID                   string          `json:"id"`
	Attributes           json.RawMessage `json:"attributes"`
	References           []ref           `json:"references"`
	TypeMigrationVersion string          `json:"typeMigrationVersion"`
}

type ref struct {
	Name string `json:"name"`
	Type string `json:"type"`
	ID   string `json:"id"`
}

func load(t *testing.T) []object {
	t.Helper()
	var objs []object
	for i, line := range bytes.Split(bytes.TrimSpace(KernelOops), []byte("\n")) {
		var o object
		if err := json.Unmarshal(line, &o); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if o.Type == "" || o.ID == "" || o.Attributes == nil {
			t.Fatalf("line %d: type, id and attributes are required", i+1)
		}
		objs = append(objs, o)
	}
	return objs
}

// not newer than 8.11: the oldest Kibana we support must understand every object.
func migrationOK(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return false
	}
	major, _ := strconv.Atoi(parts[0])
	minor, _ := strconv.Atoi(parts[1])
	return major < 8 || major == 8 && minor <= 11
}

func TestSavedObjects(t *testing.T) {
	objs := load(t)
	byKey := map[string]object{}
	for _, o := range objs {
		key := o.Type + ":" + o.ID
		if _, dup := byKey[key]; dup {
			t.Fatalf("duplicate object %s (Kibana rejects the whole import)", key)
		}
		byKey[key] = o
		if !migrationOK(o.TypeMigrationVersion) {
			t.Errorf("%s: typeMigrationVersion %q is newer than 8.11", key, o.TypeMigrationVersion)
		}
	}
	for _, o := range objs {
		for _, r := range o.References {
			if _, ok := byKey[r.Type+":"+r.ID]; !ok {
				t.Errorf("%s:%s references missing %s:%s", o.Type, o.ID, r.Type, r.ID)
			}
		}
	}
	dash, ok := byKey["dashboard:oopsflow-kernel-oops-fleet-overview"]
	if !ok {
		t.Fatal("no dashboard")
	}
	var attrs struct {
		Title      string `json:"title"`
		PanelsJSON string `json:"panelsJSON"`
		Options    string `json:"optionsJSON"`
		Meta       struct {
			Search string `json:"searchSourceJSON"`
		} `json:"kibanaSavedObjectMeta"`
	}
	if err := json.Unmarshal(dash.Attributes, &attrs); err != nil {
		t.Fatalf("dashboard attributes (panelsJSON must be a string): %v", err)
	}
	if attrs.Title != "Kernel oops — fleet overview" {
		t.Errorf("title %q", attrs.Title)
	}
	for name, s := range map[string]string{"optionsJSON": attrs.Options, "searchSourceJSON": attrs.Meta.Search} {
		if !json.Valid([]byte(s)) {
			t.Errorf("%s is not JSON text", name)
		}
	}
	var panels []struct {
		Type         string `json:"type"`
		PanelIndex   string `json:"panelIndex"`
		PanelRefName string `json:"panelRefName"`
	}
	if err := json.Unmarshal([]byte(attrs.PanelsJSON), &panels); err != nil {
		t.Fatalf("panelsJSON: %v", err)
	}
	refs := map[string]ref{}
	for _, r := range dash.References {
		refs[r.Name] = r
	}
	for _, p := range panels {
		r, ok := refs[p.PanelIndex+":"+p.PanelRefName]
		if !ok || r.Type != p.Type {
			t.Errorf("panel %s: no %s reference %q", p.PanelIndex, p.Type, p.PanelIndex+":"+p.PanelRefName)
		}
	}
	// The panels the issue asks for.
	for _, id := range []string{"lens:oopsflow-reports-over-time", "lens:oopsflow-known-issues", "lens:oopsflow-new-crashes", "lens:oopsflow-affected-hosts", "lens:oopsflow-kernels", "search:oopsflow-recent-reports"} {
		found := false
		for _, r := range dash.References {
			if r.Type+":"+r.ID == id {
				found = true
			}
		}
		if !found {
			t.Errorf("dashboard lacks %s", id)
		}
	}
}

var kqlField = regexp.MustCompile(`([A-Za-z_@][A-Za-z0-9_.@]*)\s*:`)

// Every field a panel uses exists in our mapping, with a type that fits.
func TestPanelFieldsAreMapped(t *testing.T) {
	mapped, err := schemas.MappedFields()
	if err != nil {
		t.Fatal(err)
	}
	check := func(where, field string, ok func(string) bool) {
		typ, found := mapped[field]
		if !found {
			t.Errorf("%s: field %s is not mapped", where, field)
			return
		}
		if ok != nil && !ok(typ) {
			t.Errorf("%s: field %s is %s, not usable here", where, field, typ)
		}
	}
	aggregatable := func(typ string) bool {
		return typ != "match_only_text" && typ != "text" && typ != "object"
	}
	for _, o := range load(t) {
		switch o.Type {
		case "lens":
			var a struct {
				State struct {
					Datasource struct {
						FormBased struct {
							Layers map[string]struct {
								Columns map[string]struct {
									Op    string `json:"operationType"`
									Field string `json:"sourceField"`
								} `json:"columns"`
							} `json:"layers"`
						} `json:"formBased"`
					} `json:"datasourceStates"`
					Query struct {
						Query string `json:"query"`
					} `json:"query"`
				} `json:"state"`
			}
			if err := json.Unmarshal(o.Attributes, &a); err != nil {
				t.Fatal(err)
			}
			for layerID, l := range a.State.Datasource.FormBased.Layers {
				found := false
				for _, r := range o.References {
					found = found || r.Name == "indexpattern-datasource-layer-"+layerID
				}
				if !found {
					t.Errorf("lens %s: layer %s has no data view reference", o.ID, layerID)
				}
				for _, c := range l.Columns {
					if c.Field == "___records___" {
						continue
					}
					switch c.Op {
					case "date_histogram", "min", "max":
						check(o.ID, c.Field, func(typ string) bool { return typ == "date" || typ == "long" || typ == "double" || typ == "float" })
					default:
						check(o.ID, c.Field, aggregatable)
					}
				}
			}
			for _, m := range kqlField.FindAllStringSubmatch(a.State.Query.Query, -1) {
				check(o.ID+" query", m[1], nil)
			}
		case "search":
			var a struct {
				Columns []string   `json:"columns"`
				Sort    [][]string `json:"sort"`
			}
			if err := json.Unmarshal(o.Attributes, &a); err != nil {
				t.Fatal(err)
			}
			for _, c := range a.Columns {
				check(o.ID, c, nil)
			}
			for _, s := range a.Sort {
				check(o.ID+" sort", s[0], aggregatable)
			}
		}
	}
}
