package estest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// builtinComponents are the logs-stack component templates a cluster of a
// version ships with (their contents do not matter to oopsflow).
func builtinComponents(version string) []string {
	major, minor := versionParts(version)
	var out []string
	if major > 8 || major == 8 && minor >= 12 {
		out = append(out, "logs@mappings", "logs@settings")
	}
	if major > 8 || major == 8 && minor >= 13 {
		out = append(out, "ecs@mappings")
	}
	return out
}

func versionParts(v string) (int, int) {
	parts := strings.SplitN(v, ".", 3)
	major, _ := strconv.Atoi(parts[0])
	minor := 0
	if len(parts) > 1 {
		minor, _ = strconv.Atoi(parts[1])
	}
	return major, minor
}

// Serverless makes the server answer as Elastic Cloud Serverless: build
// flavor "serverless", and the ILM API gone (410).
func (s *Server) Serverless() {
	s.mu.Lock()
	s.serverless = true
	s.mu.Unlock()
}

// componentExists implements HEAD /_component_template/<name>.
func (s *Server) componentExists(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, ok := s.objects[strings.TrimPrefix(r.URL.Path, "/")]
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// checkPipeline validates PUT _ingest/pipeline/<name> the way the version
// would: processors are required, and the pipeline processor's
// ignore_missing_pipeline exists from 8.12.
func (s *Server) checkPipeline(obj map[string]any) (string, bool) {
	procs, ok := obj["processors"].([]any)
	if !ok {
		return "[processors] required property is missing", false
	}
	major, minor := versionParts(s.version)
	for _, p := range procs {
		pm, _ := p.(map[string]any)
		if pp, ok := pm["pipeline"].(map[string]any); ok {
			if _, set := pp["ignore_missing_pipeline"]; set && major == 8 && minor < 12 {
				return "processor [pipeline] doesn't support one or more provided configuration parameters [ignore_missing_pipeline]", false
			}
		}
	}
	return "", true
}

// ingestLocked runs the default pipeline of the index template that
// matches index, when it has one, on a document: only the "set" processor
// with a {{{_ingest.timestamp}}} value is implemented (what oopsflow's
// pipeline does); calls of missing pipelines are skipped as
// ignore_missing_pipeline says.
func (s *Server) ingestLocked(index string, doc map[string]any) bool {
	name := s.defaultPipelineLocked(index)
	if name == "" {
		return false
	}
	var p struct {
		Processors []map[string]map[string]any `json:"processors"`
	}
	if json.Unmarshal(s.objects["_ingest/pipeline/"+name], &p) != nil {
		return false
	}
	changed := false
	for _, proc := range p.Processors {
		set, ok := proc["set"]
		if !ok {
			continue
		}
		field, _ := set["field"].(string)
		if v, _ := set["value"].(string); v == "{{{_ingest.timestamp}}}" && field != "" {
			setPath(doc, field, time.Now().UTC().Format(time.RFC3339Nano))
			changed = true
		}
	}
	return changed
}

// defaultPipelineLocked is index.default_pipeline of the highest-priority
// index template matching index (its components, then its own settings).
func (s *Server) defaultPipelineLocked(index string) string {
	best := s.templateForLocked(index)
	if best == nil {
		return ""
	}
	pipeline := ""
	settingsOf := func(t map[string]any) {
		tt, _ := t["template"].(map[string]any)
		st, _ := tt["settings"].(map[string]any)
		if v, ok := st["index.default_pipeline"].(string); ok {
			pipeline = v
		}
	}
	for _, c := range asStrings(best["composed_of"]) {
		var ct map[string]any
		if json.Unmarshal(s.objects["_component_template/"+c], &ct) == nil {
			settingsOf(ct)
		}
	}
	settingsOf(best)
	return pipeline
}

// templateForLocked is the highest-priority index template whose patterns
// match index, nil if none.
func (s *Server) templateForLocked(index string) map[string]any {
	best, bestPrio := map[string]any(nil), -1
	for key, body := range s.objects {
		if !strings.HasPrefix(key, "_index_template/") {
			continue
		}
		var t map[string]any
		if json.Unmarshal(body, &t) != nil {
			continue
		}
		for _, pat := range asStrings(t["index_patterns"]) {
			if prefix, ok := strings.CutSuffix(pat, "*"); (ok && strings.HasPrefix(index, prefix)) || pat == index {
				prio, _ := t["priority"].(float64)
				if int(prio) > bestPrio {
					best, bestPrio = t, int(prio)
				}
			}
		}
	}
	return best
}

func setPath(doc map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	m := doc
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// RestrictAutoCreate sets action.auto_create_index to false: the first
// document of an index that does not exist fails with 404
// index_not_found_exception, unless the matching index template says
// allow_auto_create: true (which overrides the setting, as in
// Elasticsearch).
func (s *Server) RestrictAutoCreate() {
	s.mu.Lock()
	s.noAutoCreate = true
	s.mu.Unlock()
}

// autoCreateAllowedLocked reports whether a document may create index.
func (s *Server) autoCreateAllowedLocked(index string) bool {
	if !s.noAutoCreate {
		return true
	}
	t := s.templateForLocked(index)
	allow, _ := t["allow_auto_create"].(bool)
	return allow
}
