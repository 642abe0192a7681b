package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Role is a set of privileges oopsflow needs for one job.
type Role struct {
	Name    string   // "writer" or "setup"
	For     string   // who uses it, for messages
	Cluster []string // cluster privileges
	Index   []string // index privileges on IndexPattern
}

// IndexPattern is the pattern every oopsflow data stream matches.
const IndexPattern = DataStreamPrefix + "*"

// Roles are the least privileges oopsflow needs: the writer creates the
// data stream on its first document (auto_configure) and writes documents
// without overwriting them (create_doc); setup installs the templates and
// the lifecycle policy and the ingest pipeline.
var Roles = []Role{
	{Name: "writer", For: "scan, consume and the Fluent Bit plugin", Index: []string{"auto_configure", "create_doc"}},
	{Name: "setup", For: "oopsflow setup", Cluster: []string{"manage_index_templates", "manage_ilm", "manage_pipeline"}},
}

// PrivilegeReport says, per role, what the credentials lack.
type PrivilegeReport struct {
	User    string
	Missing map[string][]string // role name -> missing privileges ("manage_ilm", "create_doc on logs-kernel.oops-*")
}

// OK reports whether the credentials hold every privilege of role.
func (p *PrivilegeReport) OK(role string) bool { return len(p.Missing[role]) == 0 }

// CheckPrivileges asks Elasticsearch (_security/user/_has_privileges) what
// the configured credentials may do, and returns what each role lacks.
func CheckPrivileges(ctx context.Context, cfg Config) (*PrivilegeReport, error) {
	var fatal error
	client, err := NewClient(cfg, func(err error) { fatal = err })
	if err != nil {
		return nil, err
	}
	req := map[string]any{"cluster": []string{}, "index": []map[string]any{}}
	var cluster, index []string
	for _, r := range Roles {
		cluster = append(cluster, r.Cluster...)
		index = append(index, r.Index...)
	}
	req["cluster"] = cluster
	req["index"] = []map[string]any{{"names": []string{IndexPattern}, "privileges": index}}
	body, _ := json.Marshal(req)
	res, err := client.Security.HasPrivileges(bytes.NewReader(body), client.Security.HasPrivileges.WithContext(ctx))
	if err != nil {
		if fatal != nil {
			err = fatal
		}
		return nil, fmt.Errorf("cannot reach Elasticsearch at %s: %w", where(cfg), err)
	}
	defer res.Body.Close()
	if err := responseError("check privileges", res); err != nil {
		return nil, err
	}
	var ans struct {
		Username string                     `json:"username"`
		Cluster  map[string]bool            `json:"cluster"`
		Index    map[string]map[string]bool `json:"index"`
	}
	if err := json.NewDecoder(res.Body).Decode(&ans); err != nil {
		return nil, fmt.Errorf("check privileges: unreadable answer: %w", err)
	}
	rep := &PrivilegeReport{User: ans.Username, Missing: map[string][]string{}}
	for _, r := range Roles {
		for _, c := range r.Cluster {
			if !ans.Cluster[c] {
				rep.Missing[r.Name] = append(rep.Missing[r.Name], c)
			}
		}
		for _, p := range r.Index {
			if !ans.Index[IndexPattern][p] {
				rep.Missing[r.Name] = append(rep.Missing[r.Name], p+" on "+IndexPattern)
			}
		}
		sort.Strings(rep.Missing[r.Name])
	}
	return rep, nil
}

// RoleDefinition is the body of PUT _security/role/oopsflow_<name> for role.
func RoleDefinition(r Role) string {
	var parts []string
	if len(r.Cluster) > 0 {
		c, _ := json.Marshal(r.Cluster)
		parts = append(parts, `"cluster": `+string(c))
	}
	if len(r.Index) > 0 {
		i, _ := json.Marshal(r.Index)
		parts = append(parts, `"indices": [{"names": ["`+IndexPattern+`"], "privileges": `+string(i)+`}]`)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
