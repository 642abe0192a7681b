// Package estest is a test double: an in-process HTTP server that implements,
// strictly, the parts of the Elasticsearch and Kibana REST APIs that oopsflow
// calls. It is not Elasticsearch. Tests use it because no cluster can run on
// the build machines; the code under test is the same that talks to a real
// cluster (deploy/ has one for users).
//
// Elasticsearch: GET / (info, with the X-Elastic-Product header the Go client
// checks), PUT _ilm/policy, _component_template, _index_template, and _bulk
// parsed line by line as Elasticsearch does, with create semantics per _id
// (a second create of an _id is a 409), data streams accepting only create,
// and faults on demand: 429 per item or per request, 5xx for a while, any
// per-item error (403 security, 404 missing data stream, ...), answers that
// never come, slow answers, answers that leave items out, connection resets
// ("down"), 401 for wrong credentials and mapping errors.
//
// Kibana: POST /api/saved_objects/_import, checking multipart, the .ndjson
// file name, the kbn-xsrf header, unique objects and resolvable references,
// and answering 200 with success/errors as Kibana does.
package estest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"time"
)

// Server is the double. Configure faults through its fields under Lock, or
// with the helper methods.
type Server struct {
	*httptest.Server

	mu         sync.Mutex
	version    string
	apiKey     string                                // required "Authorization: ApiKey <key>" when set
	user, pass string                                // required basic auth when set
	docs       map[string]map[string]json.RawMessage // index -> id -> source
	objects    map[string]json.RawMessage            // "_index_template/name" etc. -> body
	saved      map[string]json.RawMessage            // Kibana "type:id" -> object
	requests   int
	bulkBytes  int64
	privs      *Privileges // enforced when set (Grant)
	serverless bool        // answer as Elastic Cloud Serverless
	// noAutoCreate is action.auto_create_index: false (RestrictAutoCreate).
	noAutoCreate bool

	// Faults.
	failRequests []int                         // statuses for the next bulk requests, consumed in order
	failStatus   int                           // status of every bulk request until failUntil
	failUntil    time.Time                     //
	itemFaults   []ItemFault                   // errors for the next items, consumed in order
	down         bool                          // reset connections
	hang         chan struct{}                 // when not nil, bulk requests wait for it to close
	delay        time.Duration                 // before answering bulk requests
	dropItems    int                           // answer this many next bulk requests without their last item
	mappingError func(doc map[string]any) bool // reject matching documents with a 400 mapping error
}

// ItemFault is an error for bulk items: the next Count items (that are not
// already there) fail with Status, Type and Reason and are not stored.
type ItemFault struct {
	Status int
	Type   string
	Reason string
	Count  int
}

// New starts a server answering as Elasticsearch version (e.g. "8.15.0").
func New(version string) *Server {
	s := &Server{
		version: version,
		docs:    map[string]map[string]json.RawMessage{},
		objects: map[string]json.RawMessage{},
		saved:   map[string]json.RawMessage{},
	}
	for _, c := range builtinComponents(version) {
		s.objects["_component_template/"+c] = json.RawMessage(`{"template": {}, "_meta": {"managed": true, "description": "built in"}}`)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// RequireAPIKey makes every request need "Authorization: ApiKey key".
func (s *Server) RequireAPIKey(key string) { s.mu.Lock(); s.apiKey = key; s.mu.Unlock() }

// RequireBasic makes every request need basic auth.
func (s *Server) RequireBasic(user, pass string) {
	s.mu.Lock()
	s.user, s.pass = user, pass
	s.mu.Unlock()
}

// FailNextRequests answers the next bulk requests with these statuses.
func (s *Server) FailNextRequests(statuses ...int) {
	s.mu.Lock()
	s.failRequests = append(s.failRequests, statuses...)
	s.mu.Unlock()
}

// Reject429 rejects the next n bulk items with 429 es_rejected_execution_exception.
func (s *Server) Reject429(n int) {
	s.FailItems(ItemFault{Status: 429, Type: "es_rejected_execution_exception", Reason: "rejected execution of coordinating operation", Count: n})
}

// FailItems queues per-item errors (403 security_exception, 404
// index_not_found_exception, ...), consumed in order.
func (s *Server) FailItems(f ...ItemFault) {
	s.mu.Lock()
	s.itemFaults = append(s.itemFaults, f...)
	s.mu.Unlock()
}

// FailFor answers every bulk request with status for d (5xx for a while).
func (s *Server) FailFor(status int, d time.Duration) {
	s.mu.Lock()
	s.failStatus, s.failUntil = status, time.Now().Add(d)
	s.mu.Unlock()
}

// Hang makes bulk requests wait without answering (true) until Hang(false);
// a client that gives up closes its connection.
func (s *Server) Hang(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case on && s.hang == nil:
		s.hang = make(chan struct{})
	case !on && s.hang != nil:
		close(s.hang)
		s.hang = nil
	}
}

// DropItems answers the next n bulk requests without their last item (the
// item is stored all the same): a broken answer a client must not trust.
func (s *Server) DropItems(n int) { s.mu.Lock(); s.dropItems += n; s.mu.Unlock() }

// Close unblocks hung requests and shuts the server down.
func (s *Server) Close() {
	s.Hang(false)
	s.Server.Close()
}

// SetDown makes the server reset every connection (true) or serve again.
func (s *Server) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetDelay delays every bulk answer.
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// SetMappingError rejects documents for which f is true with a mapping error.
func (s *Server) SetMappingError(f func(doc map[string]any) bool) {
	s.mu.Lock()
	s.mappingError = f
	s.mu.Unlock()
}

// Count returns the number of documents stored in index.
func (s *Server) Count(index string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.docs[index])
}

// IDs returns the document ids stored in index.
func (s *Server) IDs(index string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id := range s.docs[index] {
		ids = append(ids, id)
	}
	return ids
}

// Doc returns a stored document's source.
func (s *Server) Doc(index, id string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.docs[index][id]
}

// Object returns a stored template or policy ("_index_template/name").
func (s *Server) Object(key string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.objects[key]
}

// SavedObjects returns the number of Kibana saved objects.
func (s *Server) SavedObjects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.saved)
}

// Requests returns the number of bulk requests served; BulkBytes their bodies' size.
func (s *Server) Requests() (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.bulkBytes
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		hj, ok := w.(http.Hijacker)
		if ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if !s.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, esError("security_exception", "unable to authenticate user [x] for REST request ["+r.URL.Path+"]"))
		return
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && p == "/":
		flavor := "default"
		s.mu.Lock()
		if s.serverless {
			flavor = "serverless"
		}
		s.mu.Unlock()
		writeJSON(w, 200, map[string]any{"name": "estest", "cluster_name": "estest", "version": map[string]any{"number": s.version, "build_flavor": flavor}, "tagline": "You Know, for Search"})
	case strings.HasPrefix(p, "/_ilm/") && s.isServerless():
		writeJSON(w, 410, esError("api_not_available_exception", "Request for uri ["+p+"] with method ["+r.Method+"] exists but is not available when running in serverless mode"))
	case r.Method == http.MethodHead && strings.HasPrefix(p, "/_component_template/"):
		s.componentExists(w, r)
	case r.Method == http.MethodPut && strings.HasPrefix(p, "/_ingest/pipeline/") && !s.clusterAllowed("manage_pipeline"):
		writeJSON(w, 403, esError("security_exception", "action [cluster:admin/ingest/pipeline/put] is unauthorized for user [estest-user], this action is granted by the cluster privileges [manage_pipeline,manage_ingest_pipelines,manage,all]"))
	case (r.Method == http.MethodGet || r.Method == http.MethodPost) && p == "/_security/user/_has_privileges":
		s.hasPrivileges(w, r)
	case r.Method == http.MethodPut && strings.HasPrefix(p, "/_ilm/policy/") && !s.clusterAllowed("manage_ilm"):
		writeJSON(w, 403, esError("security_exception", "action [cluster:admin/ilm/put] is unauthorized for user [estest-user], this action is granted by the cluster privileges [manage_ilm,manage,all]"))
	case r.Method == http.MethodPut && (strings.HasPrefix(p, "/_component_template/") || strings.HasPrefix(p, "/_index_template/")) && !s.clusterAllowed("manage_index_templates"):
		writeJSON(w, 403, esError("security_exception", "action [indices:admin/index_template/put] is unauthorized for user [estest-user], this action is granted by the cluster privileges [manage_index_templates,manage,all]"))
	case r.Method == http.MethodPut && (strings.HasPrefix(p, "/_ilm/policy/") || strings.HasPrefix(p, "/_component_template/") || strings.HasPrefix(p, "/_index_template/") || strings.HasPrefix(p, "/_ingest/pipeline/")):
		s.putObject(w, r)
	case r.Method == http.MethodPost && (p == "/_bulk" || strings.HasSuffix(p, "/_bulk")):
		s.bulk(w, r)
	case r.Method == http.MethodPost && strings.HasSuffix(p, "/api/saved_objects/_import"):
		s.kibanaImport(w, r)
	case r.Method == http.MethodGet && p == "/api/status":
		writeJSON(w, 200, map[string]any{"version": map[string]any{"number": s.version}})
	default:
		writeJSON(w, 400, esError("illegal_argument_exception", fmt.Sprintf("no handler found for uri [%s] and method [%s]", p, r.Method)))
	}
}

func (s *Server) authorized(r *http.Request) bool {
	s.mu.Lock()
	key, user, pass := s.apiKey, s.user, s.pass
	s.mu.Unlock()
	if key != "" {
		// Authentication schemes are case-insensitive (RFC 7235): the Go
		// client sends "APIKey", curl users write "ApiKey".
		scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "ApiKey") || cred != key {
			return false
		}
	}
	if user != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			return false
		}
	}
	return true
}

func (s *Server) putObject(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || !json.Valid(body) {
		writeJSON(w, 400, esError("parse_exception", "request body is required and must be JSON"))
		return
	}
	var obj map[string]any
	json.Unmarshal(body, &obj)
	kind := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]
	required := map[string]string{"_ilm": "policy", "_component_template": "template", "_index_template": "index_patterns", "_ingest": "processors"}[kind]
	if _, ok := obj[required]; !ok {
		writeJSON(w, 400, esError("x_content_parse_exception", "["+required+"] is required"))
		return
	}
	if kind == "_ingest" {
		if why, ok := s.checkPipeline(obj); !ok {
			writeJSON(w, 400, esError("parse_exception", why))
			return
		}
	}
	if kind == "_index_template" {
		s.mu.Lock()
		ignore := map[string]bool{}
		for _, c := range asStrings(obj["ignore_missing_component_templates"]) {
			ignore[c] = true
		}
		for _, c := range asStrings(obj["composed_of"]) {
			if _, ok := s.objects["_component_template/"+c]; !ok && !ignore[c] {
				s.mu.Unlock()
				writeJSON(w, 400, esError("invalid_index_template_exception", "index template composed of component template ["+c+"] that does not exist"))
				return
			}
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.objects[strings.TrimPrefix(r.URL.Path, "/")] = body
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"acknowledged": true})
}

func (s *Server) isServerless() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serverless
}

func asStrings(v any) []string {
	var out []string
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func esError(typ, reason string) map[string]any {
	return map[string]any{"error": map[string]any{"type": typ, "reason": reason, "root_cause": []any{map[string]any{"type": typ, "reason": reason}}}, "status": 400}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// bulk implements POST _bulk: action and source lines, create semantics.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, 400, esError("parse_exception", err.Error()))
		return
	}
	s.mu.Lock()
	s.requests++
	s.bulkBytes += int64(len(body))
	delay, hang := s.delay, s.hang
	var fail int
	if len(s.failRequests) > 0 {
		fail, s.failRequests = s.failRequests[0], s.failRequests[1:]
	}
	if fail == 0 && time.Now().Before(s.failUntil) {
		fail = s.failStatus
	}
	s.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-r.Context().Done():
			return
		}
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	if fail != 0 {
		typ := map[int]string{429: "es_rejected_execution_exception", 500: "internal_server_error", 502: "bad_gateway", 503: "unavailable_shards_exception", 504: "timeout"}[fail]
		writeJSON(w, fail, esError(typ, "injected failure"))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-ndjson") && !strings.HasPrefix(ct, "application/vnd.elasticsearch+x-ndjson") && !strings.HasPrefix(ct, "application/json") {
		writeJSON(w, 406, esError("illegal_argument_exception", "Content-Type header ["+ct+"] is not supported"))
		return
	}
	defaultIndex := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/_bulk")
	if defaultIndex == "_bulk" {
		defaultIndex = ""
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 100<<20)
	var items []any
	hasErrors := false
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var action map[string]map[string]any
		if err := json.Unmarshal(line, &action); err != nil || len(action) != 1 {
			writeJSON(w, 400, esError("illegal_argument_exception", "Malformed action/metadata line ["+string(line)+"]"))
			return
		}
		var op string
		var meta map[string]any
		for k, v := range action {
			op, meta = k, v
		}
		if op == "delete" {
			continue
		}
		if !sc.Scan() {
			writeJSON(w, 400, esError("illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]"))
			return
		}
		source := append([]byte(nil), sc.Bytes()...)
		index, _ := meta["_index"].(string)
		if index == "" {
			index = defaultIndex
		}
		id, _ := meta["_id"].(string)
		item, failed := s.bulkItem(op, index, id, source)
		hasErrors = hasErrors || failed
		items = append(items, map[string]any{op: item})
	}
	if !bytes.HasSuffix(body, []byte("\n")) {
		writeJSON(w, 400, esError("illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]"))
		return
	}
	s.mu.Lock()
	if s.dropItems > 0 && len(items) > 0 {
		s.dropItems--
		items = items[:len(items)-1]
	}
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"took": 1, "errors": hasErrors, "items": items})
}

func (s *Server) bulkItem(op, index, id string, source []byte) (map[string]any, bool) {
	item := map[string]any{"_index": index, "_id": id}
	fail := func(status int, typ, reason string) (map[string]any, bool) {
		item["status"] = status
		item["error"] = map[string]any{"type": typ, "reason": reason}
		return item, true
	}
	if index == "" {
		return fail(400, "action_request_validation_exception", "index is missing")
	}
	if strings.HasPrefix(index, "logs-") && op != "create" {
		return fail(400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams")
	}
	var doc map[string]any
	if err := json.Unmarshal(source, &doc); err != nil {
		return fail(400, "document_parsing_exception", "failed to parse: "+err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.itemFaults) > 0 {
		f := &s.itemFaults[0]
		if f.Count--; f.Count <= 0 {
			s.itemFaults = s.itemFaults[1:]
		}
		return fail(f.Status, f.Type, f.Reason)
	}
	if _, exists := s.docs[index]; !exists && !s.autoCreateAllowedLocked(index) {
		return fail(404, "index_not_found_exception", "no such index ["+index+"] and [action.auto_create_index] is [false]")
	}
	if _, exists := s.docs[index]; !exists && !s.indexAllowedLocked(index, "auto_configure") {
		return fail(403, "security_exception", "action [indices:admin/auto_create] is unauthorized for user [estest-user] on indices ["+index+"], this action is granted by the index privileges [auto_configure,create_index,manage,all]")
	}
	if !s.indexAllowedLocked(index, "create_doc") {
		return fail(403, "security_exception", "action [indices:data/write/bulk[s]] is unauthorized for user [estest-user] on indices ["+index+"], this action is granted by the index privileges [create_doc,create,index,write,all]")
	}
	if s.ingestLocked(index, doc) {
		source, _ = json.Marshal(doc)
	}
	if s.mappingError != nil && s.mappingError(doc) {
		return fail(400, "document_parsing_exception", "[1:2] failed to parse field [oops.cpu] of type [long] in document with id '"+id+"'")
	}
	if id == "" {
		id = fmt.Sprintf("auto-%d", len(s.docs[index])+1)
		item["_id"] = id
	}
	if s.docs[index] == nil {
		s.docs[index] = map[string]json.RawMessage{}
	}
	if _, exists := s.docs[index][id]; exists && op == "create" {
		return fail(409, "version_conflict_engine_exception", "["+id+"]: version conflict, document already exists (current version [1])")
	}
	s.docs[index][id] = source
	item["status"] = 201
	item["result"] = "created"
	item["_version"] = 1
	return item, false
}

// kibanaImport implements POST /api/saved_objects/_import?overwrite=true.
func (s *Server) kibanaImport(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("kbn-xsrf") == "" {
		writeJSON(w, 400, map[string]any{"statusCode": 400, "error": "Bad Request", "message": "Request must contain a kbn-xsrf header."})
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		writeJSON(w, 415, map[string]any{"statusCode": 415, "error": "Unsupported Media Type", "message": "Unsupported Media Type"})
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var data []byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeJSON(w, 400, map[string]any{"statusCode": 400, "message": err.Error()})
			return
		}
		if part.FormName() == "file" {
			if path.Ext(part.FileName()) != ".ndjson" {
				writeJSON(w, 400, map[string]any{"statusCode": 400, "error": "Bad Request", "message": "Invalid file extension " + path.Ext(part.FileName())})
				return
			}
			data, _ = io.ReadAll(part)
		}
	}
	if data == nil {
		writeJSON(w, 400, map[string]any{"statusCode": 400, "message": "[request body.file]: expected value of type [Stream]"})
		return
	}
	overwrite := r.URL.Query().Get("overwrite") == "true"
	type obj struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		References []struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"references"`
		raw json.RawMessage
	}
	var objs []obj
	seen := map[string]bool{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var o obj
		if err := json.Unmarshal(line, &o); err != nil {
			writeJSON(w, 400, map[string]any{"statusCode": 400, "message": "Unexpected token in JSON"})
			return
		}
		if o.Type == "" && o.ID == "" { // the export summary line
			continue
		}
		key := o.Type + ":" + o.ID
		if seen[key] {
			writeJSON(w, 400, map[string]any{"statusCode": 400, "message": "Non-unique import objects detected: [" + key + "]"})
			return
		}
		seen[key] = true
		o.raw = append([]byte(nil), line...)
		objs = append(objs, o)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []any
	var results []any
	for _, o := range objs {
		key := o.Type + ":" + o.ID
		var missing []any
		for _, ref := range o.References {
			k := ref.Type + ":" + ref.ID
			if !seen[k] && s.saved[k] == nil {
				missing = append(missing, map[string]any{"type": ref.Type, "id": ref.ID})
			}
		}
		switch {
		case len(missing) > 0:
			errs = append(errs, map[string]any{"id": o.ID, "type": o.Type, "error": map[string]any{"type": "missing_references", "references": missing}})
		case s.saved[key] != nil && !overwrite:
			errs = append(errs, map[string]any{"id": o.ID, "type": o.Type, "error": map[string]any{"type": "conflict"}})
		default:
			results = append(results, map[string]any{"id": o.ID, "type": o.Type})
		}
	}
	if len(errs) == 0 {
		for _, o := range objs {
			s.saved[o.Type+":"+o.ID] = o.raw
		}
	}
	writeJSON(w, 200, map[string]any{"success": len(errs) == 0, "successCount": len(results), "successResults": results, "errors": errs})
}
