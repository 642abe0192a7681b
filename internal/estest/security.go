package estest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// Privileges are what the authenticated principal may do, for servers
// that enforce them (Grant): cluster privileges, and index privileges by
// index name pattern. Without Grant every request is allowed, as on a
// cluster with security off.
type Privileges struct {
	Cluster []string
	Index   map[string][]string // pattern ("logs-kernel.oops-*", "logs-*", "*") -> privileges
}

// Grant makes the server enforce p: template and policy writes need
// manage_index_templates and manage_ilm, a document into a data stream
// that does not exist yet needs auto_configure, every document create_doc;
// and answers _security/user/_has_privileges from p.
func (s *Server) Grant(p Privileges) {
	s.mu.Lock()
	s.privs = &p
	s.mu.Unlock()
}

// implied lists what a privilege also grants (the subset of Elasticsearch's
// privilege hierarchy oopsflow meets).
var implied = map[string][]string{
	"all":                    {"manage_index_templates", "manage_ilm", "manage_pipeline", "monitor", "auto_configure", "create_doc", "create", "index", "write", "create_index", "manage", "read"},
	"manage":                 {"auto_configure", "create_index"},
	"create_index":           {"auto_configure"},
	"write":                  {"create_doc", "create", "index"},
	"index":                  {"create_doc", "create"},
	"create":                 {"create_doc"},
	"manage_index_templates": {},
}

func has(granted []string, want string) bool {
	for _, g := range granted {
		if g == want {
			return true
		}
		for _, i := range implied[g] {
			if i == want {
				return true
			}
		}
	}
	return false
}

// covers reports whether a granted name pattern covers a requested name
// or pattern (prefix patterns only, which is what roles for oopsflow use).
func covers(granted, requested string) bool {
	if granted == requested || granted == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(granted, "*"); ok {
		return strings.HasPrefix(requested, prefix)
	}
	return false
}

// clusterAllowed reports whether the privileges allow cluster privilege
// want (always, without Grant).
func (s *Server) clusterAllowed(want string) bool {
	s.mu.Lock()
	p := s.privs
	s.mu.Unlock()
	return p == nil || has(p.Cluster, want)
}

// indexAllowedLocked reports whether the privileges allow index privilege
// want on index (always, without Grant). s.mu is held.
func (s *Server) indexAllowedLocked(index, want string) bool {
	if s.privs == nil {
		return true
	}
	for pattern, granted := range s.privs.Index {
		if covers(pattern, index) && has(granted, want) {
			return true
		}
	}
	return false
}

// hasPrivileges implements GET/POST /_security/user/_has_privileges.
func (s *Server) hasPrivileges(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Cluster []string `json:"cluster"`
		Index   []struct {
			Names      []string `json:"names"`
			Privileges []string `json:"privileges"`
		} `json:"index"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, 400, esError("parse_exception", "failed to parse privileges request: "+err.Error()))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := true
	cluster := map[string]bool{}
	for _, c := range req.Cluster {
		ok := s.privs == nil || has(s.privs.Cluster, c)
		cluster[c] = ok
		all = all && ok
	}
	index := map[string]map[string]bool{}
	for _, ix := range req.Index {
		for _, n := range ix.Names {
			if index[n] == nil {
				index[n] = map[string]bool{}
			}
			for _, p := range ix.Privileges {
				ok := s.indexAllowedLocked(n, p)
				index[n][p] = ok
				all = all && ok
			}
		}
	}
	writeJSON(w, 200, map[string]any{"username": "estest-user", "has_all_requested": all, "cluster": cluster, "index": index, "application": map[string]any{}})
}
