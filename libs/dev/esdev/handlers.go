package esdev

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ---- info, health, dev ----

func (s *Server) infoBody() map[string]any {
	return map[string]any{
		"name":         nodeName,
		"cluster_name": s.opts.ClusterName,
		"cluster_uuid": clusterUUID,
		"version": map[string]any{
			"number":                              s.opts.Version,
			"build_flavor":                        "default",
			"build_type":                          "docker",
			"build_hash":                          "esdev0000000000000000000000000000000000",
			"build_date":                          "2026-01-01T00:00:00.000000000Z",
			"build_snapshot":                      false,
			"lucene_version":                      luceneVersion,
			"minimum_wire_compatibility_version":  "7.17.0",
			"minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "You Know, for Search",
	}
}

func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	s.writeJSON(w, r, http.StatusOK, s.infoBody())
}

func (s *Server) handleDevStats(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	if r.Method == http.MethodDelete {
		s.ResetStats()
	}
	s.writeJSON(w, r, http.StatusOK, s.Stats())
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var targets []*index
	status := "green"
	if len(rc.segs) == 3 {
		ts, err := s.resolveTargets(rc.segs[2], resolveOpts{allowNoIndices: true})
		if err != nil {
			status = "red"
		}
		for _, t := range ts {
			targets = append(targets, t.ix)
		}
	} else {
		targets = s.allIndices()
	}
	primaries, unassigned := 0, 0
	for _, ix := range targets {
		primaries += ix.shards
		unassigned += ix.shards * ix.replicas
	}
	if status == "green" && unassigned > 0 {
		// One node cannot hold replicas, exactly like a single-node cluster.
		status = "yellow"
	}
	percent := 100.0
	if primaries+unassigned > 0 {
		percent = float64(primaries) / float64(primaries+unassigned) * 100
	}
	timedOut := false
	code := http.StatusOK
	if want := rc.params.Get("wait_for_status"); want != "" && healthRank(status) < healthRank(want) {
		// The state can never change while we wait, so answer as a timed-out wait does.
		timedOut, code = true, http.StatusRequestTimeout
	}
	if status == "red" {
		timedOut, code = true, http.StatusRequestTimeout
	}
	s.writeJSON(w, r, code, map[string]any{
		"cluster_name":                     s.opts.ClusterName,
		"status":                           status,
		"timed_out":                        timedOut,
		"number_of_nodes":                  1,
		"number_of_data_nodes":             1,
		"active_primary_shards":            primaries,
		"active_shards":                    primaries,
		"relocating_shards":                0,
		"initializing_shards":              0,
		"unassigned_shards":                unassigned,
		"unassigned_primary_shards":        0,
		"delayed_unassigned_shards":        0,
		"number_of_pending_tasks":          0,
		"number_of_in_flight_fetch":        0,
		"task_max_waiting_in_queue_millis": 0,
		"active_shards_percent_as_number":  percent,
	})
}

func healthRank(s string) int {
	switch s {
	case "green":
		return 2
	case "yellow":
		return 1
	}
	return 0
}

// ---- index resolution ----

type resolveOpts struct {
	ignoreUnavailable bool
	allowNoIndices    bool
}

func searchResolveOpts(params map[string][]string) resolveOpts {
	o := resolveOpts{allowNoIndices: true}
	if v, ok := params["ignore_unavailable"]; ok {
		o.ignoreUnavailable = v[len(v)-1] == "true" || v[len(v)-1] == ""
	}
	if v, ok := params["allow_no_indices"]; ok {
		o.allowNoIndices = v[len(v)-1] != "false"
	}
	return o
}

func (s *Server) allIndices() []*index {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*index, 0, len(s.idx))
	for _, ix := range s.idx {
		out = append(out, ix)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// resolveTargets expands an index expression (names, aliases, comma lists,
// wildcards, "_all", "-exclusions") with Elasticsearch's semantics: a
// missing concrete name is index_not_found unless ignore_unavailable, and a
// wildcard matching nothing is fine unless allow_no_indices=false.
func (s *Server) resolveTargets(expr string, o resolveOpts) ([]searchTarget, *esError) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	aliases := map[string][]*index{}
	for _, ix := range s.idx {
		for a := range ix.aliases {
			aliases[a] = append(aliases[a], ix)
		}
	}
	chosen := map[string]searchTarget{}
	parts := splitList(expr)
	if len(parts) == 0 {
		parts = []string{"_all"}
	}
	for i, part := range parts {
		if strings.HasPrefix(part, "-") && i > 0 {
			pat := part[1:]
			for name := range chosen {
				if wildcardMatch(pat, name) {
					delete(chosen, name)
				}
			}
			continue
		}
		if part == "_all" || part == "*" {
			for name, ix := range s.idx {
				if !strings.HasPrefix(name, ".") {
					chosen[name] = searchTarget{ix: ix}
				}
			}
			if len(s.idx) == 0 && !o.allowNoIndices {
				return nil, errIndexNotFound(part)
			}
			continue
		}
		if strings.Contains(part, "*") {
			found := false
			for name, ix := range s.idx {
				if wildcardMatch(part, name) && (!strings.HasPrefix(name, ".") || strings.HasPrefix(part, ".")) {
					chosen[name] = searchTarget{ix: ix}
					found = true
				}
			}
			for a, ixs := range aliases {
				if wildcardMatch(part, a) {
					for _, ix := range ixs {
						chosen[ix.name] = searchTarget{ix: ix, filter: ix.aliases[a].filter}
						found = true
					}
				}
			}
			if !found && !o.allowNoIndices {
				return nil, errIndexNotFound(part)
			}
			continue
		}
		if ix, ok := s.idx[part]; ok {
			chosen[part] = searchTarget{ix: ix}
			continue
		}
		if ixs, ok := aliases[part]; ok {
			for _, ix := range ixs {
				chosen[ix.name] = searchTarget{ix: ix, filter: ix.aliases[part].filter}
			}
			continue
		}
		if !o.ignoreUnavailable {
			return nil, errIndexNotFound(part)
		}
	}
	if len(chosen) == 0 && !o.allowNoIndices {
		return nil, errIndexNotFound(expr)
	}
	out := make([]searchTarget, 0, len(chosen))
	for _, t := range chosen {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ix.name < out[j].ix.name })
	return out, nil
}

// lookupIndex returns a concrete index (or the single index behind an alias).
func (s *Server) lookupIndex(name string) *index {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if ix := s.idx[name]; ix != nil {
		return ix
	}
	var found *index
	for _, ix := range s.idx {
		if _, ok := ix.aliases[name]; ok {
			if found != nil {
				return nil
			}
			found = ix
		}
	}
	return found
}

// writeIndex returns the index a write goes to, creating it (with matching
// templates) when it does not exist, as action.auto_create_index does.
func (s *Server) writeIndex(name string, now time.Time) (*index, *esError) {
	if ix := s.lookupIndex(name); ix != nil {
		return ix, nil
	}
	ix, err := s.createIndex(name, nil, now)
	if err != nil && err.typ == "resource_already_exists_exception" {
		return s.lookupIndex(name), nil
	}
	return ix, err
}

// ---- index management ----

func (s *Server) handleCreateIndex(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var body map[string]any
	if len(bytes.TrimSpace(rc.body)) > 0 {
		var err *esError
		if body, err = decodeJSONObject(rc.body); err != nil {
			s.writeError(w, r, err)
			return
		}
		for k := range body {
			if k != "settings" && k != "mappings" && k != "aliases" {
				s.writeError(w, r, errParsing(fmt.Sprintf("unknown key [%s] for create index", k), posOf(rc.body, k)))
				return
			}
		}
	}
	ix, err := s.createIndex(rc.segs[0], body, rc.now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": ix.name})
}

// CreateIndex creates an index from a create-index body (settings,
// mappings, aliases), as PUT /{index} does.
func (s *Server) CreateIndex(name string, body []byte) error {
	var raw map[string]any
	if len(bytes.TrimSpace(body)) > 0 {
		var err *esError
		if raw, err = decodeJSONObject(body); err != nil {
			return fmt.Errorf("create index %s: %w", name, err)
		}
	}
	if _, err := s.createIndex(name, raw, s.opts.Now()); err != nil {
		return fmt.Errorf("create index %s: %w", name, err)
	}
	return nil
}

func (s *Server) createIndex(name string, body map[string]any, now time.Time) (*index, *esError) {
	if err := validateIndexName(name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ix, ok := s.idx[name]; ok {
		return nil, errResourceExists(name, ix.uuid)
	}
	for _, ix := range s.idx {
		if _, ok := ix.aliases[name]; ok {
			return nil, errInvalidIndexName(name, "an alias with the same name already exists")
		}
	}
	composed := s.templateFor(name)
	if body != nil {
		composed = mergeJSON(composed, body)
	}
	ix := newIndex(name, now)
	if settings, ok := composed["settings"].(map[string]any); ok {
		if err := ix.applySettings(settings); err != nil {
			return nil, err
		}
	}
	if mappings, ok := composed["mappings"].(map[string]any); ok {
		m, err := parseMapping(mappings)
		if err != nil {
			return nil, asESError(err)
		}
		ix.mapping = m
	} else if composed["mappings"] != nil {
		return nil, errMapperParsing("Failed to parse mapping: [mappings] must be an object")
	}
	if aliases, ok := composed["aliases"].(map[string]any); ok {
		for a, def := range aliases {
			al := &alias{raw: map[string]any{}}
			if d, ok := def.(map[string]any); ok {
				al.raw = d
				if f, ok := d["filter"]; ok {
					q, err := parseQuery(f, &parseCtx{now: now})
					if err != nil {
						return nil, err
					}
					al.filter = q
				}
			}
			ix.aliases[strings.ReplaceAll(a, "{index}", name)] = al
		}
	}
	s.idx[name] = ix
	return ix, nil
}

func asESError(err error) *esError {
	if e, ok := err.(*esError); ok {
		return e
	}
	return errMapperParsing(err.Error())
}

func (s *Server) handleIndexExists(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if _, err := s.resolveTargets(rc.segs[0], resolveOpts{allowNoIndices: false}); err != nil {
		s.writeStatus(w, r, http.StatusNotFound)
		return
	}
	s.writeStatus(w, r, http.StatusOK)
}

func (s *Server) handleDeleteIndex(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	o := resolveOpts{allowNoIndices: true, ignoreUnavailable: rc.params.Get("ignore_unavailable") == "true"}
	if rc.params.Get("allow_no_indices") == "false" {
		o.allowNoIndices = false
	}
	targets, err := s.resolveTargets(rc.segs[0], o)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.mu.Lock()
	for _, t := range targets {
		delete(s.idx, t.ix.name)
	}
	s.mu.Unlock()
	s.writeJSON(w, r, http.StatusOK, map[string]any{"acknowledged": true})
}

func (s *Server) handleGetIndex(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	targets, err := s.resolveTargets(rc.segs[0], resolveOpts{allowNoIndices: true, ignoreUnavailable: rc.params.Get("ignore_unavailable") == "true"})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := map[string]any{}
	for _, t := range targets {
		ix := t.ix
		ix.mu.RLock()
		aliases := map[string]any{}
		for a, al := range ix.aliases {
			aliases[a] = al.raw
		}
		settings := map[string]any{
			"number_of_shards":   strconv.Itoa(ix.shards),
			"number_of_replicas": strconv.Itoa(ix.replicas),
			"uuid":               ix.uuid,
			"creation_date":      strconv.FormatInt(ix.creationDate.UnixMilli(), 10),
			"provided_name":      ix.name,
			"version":            map[string]any{"created": "8530000"},
		}
		for k, v := range ix.settings {
			key := strings.TrimPrefix(k, "index.")
			if key != "number_of_shards" && key != "number_of_replicas" {
				settings[key] = fmt.Sprint(v)
			}
		}
		out[ix.name] = map[string]any{
			"aliases":  aliases,
			"mappings": ix.mapping.render(),
			"settings": map[string]any{"index": settings},
		}
		ix.mu.RUnlock()
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handleGetMapping(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	expr := ""
	if len(rc.segs) == 2 {
		expr = rc.segs[0]
	}
	targets, err := s.resolveTargets(expr, resolveOpts{allowNoIndices: true, ignoreUnavailable: rc.params.Get("ignore_unavailable") == "true"})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := map[string]any{}
	for _, t := range targets {
		t.ix.mu.RLock()
		out[t.ix.name] = map[string]any{"mappings": t.ix.mapping.render()}
		t.ix.mu.RUnlock()
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handlePutMapping(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	body, err := decodeJSONObject(rc.body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	targets, err := s.resolveTargets(rc.segs[0], resolveOpts{allowNoIndices: true})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	update, perr := parseMapping(body)
	if perr != nil {
		s.writeError(w, r, asESError(perr))
		return
	}
	for i, t := range targets {
		if i > 0 {
			// Each index gets field nodes of its own: shared ones would let
			// a dynamic field added in one index show up, unindexed, in
			// another.
			update, _ = parseMapping(body)
		}
		t.ix.mu.Lock()
		err := t.ix.mapping.merge(update, body)
		t.ix.mu.Unlock()
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"acknowledged": true})
}

// merge adds the fields of an update mapping; changing a field's type is
// refused as Elasticsearch refuses it.
func (m *mapping) merge(update *mapping, raw map[string]any) *esError {
	var walk func(dst, src *fieldMapping) *esError
	walk = func(dst, src *fieldMapping) *esError {
		for name, sf := range src.properties {
			df := dst.properties[name]
			if df == nil {
				if err := m.insert(sf); err != nil {
					return err
				}
				continue
			}
			if df.typ != sf.typ {
				return errIllegalArgument(fmt.Sprintf("mapper [%s] cannot be changed from type [%s] to [%s]", sf.path, df.typ, sf.typ))
			}
			if df.isObject() {
				if sf.dynamic != "" {
					df.dynamic = sf.dynamic
				}
				if err := walk(df, sf); err != nil {
					return err
				}
				continue
			}
			for subName, sub := range sf.fields {
				if df.fields == nil {
					df.fields = map[string]*fieldMapping{}
				}
				if _, ok := df.fields[subName]; !ok {
					df.fields[subName] = sub
					m.flat[sub.path] = sub
				}
			}
		}
		return nil
	}
	if err := walk(m.root, update.root); err != nil {
		return err
	}
	if _, ok := raw["dynamic"]; ok {
		m.root.dynamic = update.root.dynamic
	}
	if _, ok := raw["date_detection"]; ok {
		m.dateDetection = update.dateDetection
	}
	if _, ok := raw["dynamic_templates"]; ok {
		m.dynamicTemplates = update.dynamicTemplates
	}
	if update.meta != nil {
		m.meta = update.meta
	}
	return nil
}

func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	expr := ""
	if len(rc.segs) == 2 {
		expr = rc.segs[0]
	}
	targets, err := s.resolveTargets(expr, searchResolveOpts(rc.params))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	total, primaries := 0, 0
	for _, t := range targets {
		total += t.ix.shards * (1 + t.ix.replicas)
		primaries += t.ix.shards
	}
	// Writes are searchable at once here, so refresh has nothing to do.
	s.writeJSON(w, r, http.StatusOK, map[string]any{"_shards": map[string]any{"total": total, "successful": primaries, "failed": 0}})
}

// ---- documents ----

type writeShards struct {
	Total      int `json:"total"`
	Successful int `json:"successful"`
	Failed     int `json:"failed"`
}

// writeResponse is the body of index, create, delete and update answers and
// of bulk items.
type writeResponse struct {
	Index       string          `json:"_index"`
	ID          string          `json:"_id"`
	Version     int64           `json:"_version,omitempty"`
	Result      string          `json:"result,omitempty"`
	Shards      *writeShards    `json:"_shards,omitempty"`
	SeqNo       *int64          `json:"_seq_no,omitempty"`
	PrimaryTerm *int64          `json:"_primary_term,omitempty"`
	Status      int             `json:"status,omitempty"`
	Error       json.RawMessage `json:"error,omitempty"`
}

func okWrite(ix *index, res writeResult, withStatus bool) writeResponse {
	seq, term := res.seqNo, int64(1)
	wr := writeResponse{
		Index: ix.name, ID: res.id, Version: res.version, Result: res.result,
		Shards: &writeShards{Total: 1 + ix.replicas, Successful: 1}, SeqNo: &seq, PrimaryTerm: &term,
	}
	if res.result == "noop" {
		wr.Shards = &writeShards{}
	}
	if withStatus {
		wr.Status = res.status
	}
	return wr
}

func (s *Server) handleIndexDoc(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	name := rc.segs[0]
	id := ""
	if len(rc.segs) == 3 {
		id = rc.segs[2]
	}
	create := rc.segs[1] == "_create" || rc.params.Get("op_type") == "create"
	if id == "" {
		if r.Method == http.MethodPut {
			s.writeError(w, r, errNoHandler(r.Method, r.URL.Path))
			return
		}
		id = newID()
		create = true
	}
	if rc.params.Get("pipeline") != "" {
		s.writeError(w, r, errIllegalArgument("ingest pipelines are not supported by esdev"))
		return
	}
	doc, err := decodeSource(rc.body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ix, err := s.writeIndex(name, rc.now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ix.mu.Lock()
	if err := checkSeqNo(ix, id, rc.params); err != nil {
		ix.mu.Unlock()
		s.writeError(w, r, err)
		return
	}
	res, err := ix.put(id, bytes.TrimSpace(rc.body), doc, create)
	ix.mu.Unlock()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, res.status, okWrite(ix, res, false))
}

// checkSeqNo enforces if_seq_no/if_primary_term optimistic concurrency.
func checkSeqNo(ix *index, id string, params map[string][]string) *esError {
	v, ok := params["if_seq_no"]
	if !ok {
		return nil
	}
	want, err := strconv.ParseInt(v[len(v)-1], 10, 64)
	if err != nil {
		return errIllegalArgument(fmt.Sprintf("Failed to parse long parameter [if_seq_no] with value [%s]", v[len(v)-1]))
	}
	slot, exists := ix.ids[id]
	if !exists {
		return &esError{status: http.StatusConflict, typ: "version_conflict_engine_exception",
			reason: fmt.Sprintf("[%s]: version conflict, required seqNo [%d], primary term [1] but no document was found", id, want),
			extra:  []kv{{"index_uuid", ix.uuid}, {"shard", "0"}, {"index", ix.name}}}
	}
	if d := ix.docs[slot]; d.seqNo != want {
		return &esError{status: http.StatusConflict, typ: "version_conflict_engine_exception",
			reason: fmt.Sprintf("[%s]: version conflict, required seqNo [%d], primary term [1]. current document has seqNo [%d] and primary term [1]", id, want, d.seqNo),
			extra:  []kv{{"index_uuid", ix.uuid}, {"shard", "0"}, {"index", ix.name}}}
	}
	return nil
}

func (s *Server) handleGetDoc(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ix := s.lookupIndex(rc.segs[0])
	if ix == nil {
		s.writeError(w, r, errIndexNotFound(rc.segs[0]))
		return
	}
	id := rc.segs[2]
	ix.mu.RLock()
	slot, ok := ix.ids[id]
	var d *storedDoc
	if ok {
		d = ix.docs[slot]
	}
	ix.mu.RUnlock()
	if d == nil {
		if r.Method == http.MethodHead {
			s.writeStatus(w, r, http.StatusNotFound)
			return
		}
		s.writeJSON(w, r, http.StatusNotFound, map[string]any{"_index": ix.name, "_id": id, "found": false})
		return
	}
	if r.Method == http.MethodHead {
		s.writeStatus(w, r, http.StatusOK)
		return
	}
	sf := getSourceFilter(rc.params)
	out := map[string]any{
		"_index": ix.name, "_id": id, "_version": d.version, "_seq_no": d.seqNo,
		"_primary_term": 1, "found": true,
	}
	if !sf.disabled {
		out["_source"] = sf.apply(d.source)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) handleGetSource(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ix := s.lookupIndex(rc.segs[0])
	if ix == nil {
		s.writeError(w, r, errIndexNotFound(rc.segs[0]))
		return
	}
	ix.mu.RLock()
	slot, ok := ix.ids[rc.segs[2]]
	var d *storedDoc
	if ok {
		d = ix.docs[slot]
	}
	ix.mu.RUnlock()
	if d == nil {
		s.writeError(w, r, &esError{status: http.StatusNotFound, typ: "resource_not_found_exception",
			reason: fmt.Sprintf("Document not found [%s]/[%s]", ix.name, rc.segs[2])})
		return
	}
	s.writeJSON(w, r, http.StatusOK, getSourceFilter(rc.params).apply(d.source))
}

func getSourceFilter(params map[string][]string) sourceFilter {
	var sf sourceFilter
	if v, ok := params["_source"]; ok {
		switch v[0] {
		case "false":
			sf.disabled = true
		case "true", "":
		default:
			sf.includes = splitList(v[0])
		}
	}
	if v, ok := params["_source_includes"]; ok {
		sf.includes = splitList(v[0])
	}
	if v, ok := params["_source_excludes"]; ok {
		sf.excludes = splitList(v[0])
	}
	return sf
}

func (s *Server) handleDeleteDoc(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ix := s.lookupIndex(rc.segs[0])
	if ix == nil {
		s.writeError(w, r, errIndexNotFound(rc.segs[0]))
		return
	}
	ix.mu.Lock()
	if err := checkSeqNo(ix, rc.segs[2], rc.params); err != nil {
		ix.mu.Unlock()
		s.writeError(w, r, err)
		return
	}
	res := ix.delete(rc.segs[2])
	ix.mu.Unlock()
	s.writeJSON(w, r, res.status, okWrite(ix, res, false))
}

func (s *Server) handleUpdateDoc(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	body, err := decodeJSONObject(rc.body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ix, err := s.writeIndex(rc.segs[0], rc.now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ix.mu.Lock()
	res, err := ix.update(rc.segs[2], body)
	ix.mu.Unlock()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.status == http.StatusCreated {
		s.writeJSON(w, r, res.status, okWrite(ix, res, false))
		return
	}
	s.writeJSON(w, r, http.StatusOK, okWrite(ix, res, false))
}
