package esdev

import (
	"fmt"
	"net/http"
	"sort"
)

// indexTemplate is a composable index template (PUT _index_template/{name}).
type indexTemplate struct {
	name       string
	raw        map[string]any
	patterns   []string
	priority   int
	composedOf []string
	template   map[string]any
}

// componentTemplate is a reusable template part (PUT _component_template/{name}).
type componentTemplate struct {
	name     string
	raw      map[string]any
	template map[string]any
}

// templateFor composes the settings, mappings and aliases that a new index
// called name gets from the highest-priority matching index template and
// its component templates. The caller holds s.mu.
func (s *Server) templateFor(name string) map[string]any {
	var best *indexTemplate
	for _, t := range s.tmpls {
		for _, p := range t.patterns {
			if wildcardMatch(p, name) && (best == nil || t.priority > best.priority) {
				best = t
			}
		}
	}
	out := map[string]any{}
	if best == nil {
		return out
	}
	for _, c := range best.composedOf {
		if ct := s.comps[c]; ct != nil {
			out = mergeJSON(out, ct.template)
		}
	}
	return mergeJSON(out, best.template)
}

func resourceNotFound(reason string) *esError {
	return &esError{status: http.StatusNotFound, typ: "resource_not_found_exception", reason: reason}
}

func (s *Server) handlePutIndexTemplate(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	name := rc.segs[1]
	body, err := decodeJSONObject(rc.body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t := &indexTemplate{name: name, raw: body, template: map[string]any{}}
	for k, v := range body {
		switch k {
		case "index_patterns":
			switch x := v.(type) {
			case string:
				t.patterns = []string{x}
			case []any:
				for _, p := range x {
					t.patterns = append(t.patterns, fmt.Sprint(p))
				}
			}
		case "priority":
			f, _ := toFloat(v)
			t.priority = int(f)
		case "composed_of":
			list, _ := v.([]any)
			for _, c := range list {
				t.composedOf = append(t.composedOf, fmt.Sprint(c))
			}
		case "template":
			m, ok := v.(map[string]any)
			if !ok {
				s.writeError(w, r, errParsing("[index_template] failed to parse field [template]", posOf(rc.body, k)))
				return
			}
			t.template = m
		case "data_stream":
			s.writeError(w, r, errIllegalArgument("data streams are not supported by esdev"))
			return
		case "version", "_meta", "allow_auto_create", "ignore_missing_component_templates", "deprecated":
		default:
			s.writeError(w, r, errXContent(fmt.Sprintf("[index_template] unknown field [%s]", k), posOf(rc.body, k)))
			return
		}
	}
	if len(t.patterns) == 0 {
		s.writeError(w, r, errActionRequestValidation("index patterns are missing"))
		return
	}
	// Check that the template's mappings parse, as Elasticsearch validates
	// templates when they are stored.
	if m, ok := t.template["mappings"].(map[string]any); ok {
		if _, err := parseMapping(m); err != nil {
			s.writeError(w, r, asESError(err))
			return
		}
	}
	// The answer is written after the lock is released: a slow client
	// must not hold up every index lookup.
	if err := s.storeIndexTemplate(name, t, rc.params.Get("create") == "true"); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"acknowledged": true})
}

func (s *Server) storeIndexTemplate(name string, t *indexTemplate, create bool) *esError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.tmpls[name]; exists && create {
		return errIllegalArgument(fmt.Sprintf("index template [%s] already exists", name))
	}
	for _, c := range t.composedOf {
		if s.comps[c] == nil {
			return &esError{status: http.StatusBadRequest, typ: "invalid_index_template_exception",
				reason: fmt.Sprintf("index_template [%s] invalid, cause [index template [%s] specifies component templates [%s] that do not exist]", name, name, c)}
		}
	}
	s.tmpls[name] = t
	return nil
}

func (s *Server) handleGetIndexTemplate(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	pattern := "*"
	if len(rc.segs) == 2 {
		pattern = rc.segs[1]
	}
	s.mu.RLock()
	var list []any
	names := make([]string, 0, len(s.tmpls))
	for name := range s.tmpls {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if wildcardMatch(pattern, name) {
			t := s.tmpls[name]
			body := cloneJSON(t.raw)
			if _, ok := body["composed_of"]; !ok {
				body["composed_of"] = []any{}
			}
			list = append(list, map[string]any{"name": name, "index_template": body})
		}
	}
	s.mu.RUnlock()
	if len(list) == 0 && len(rc.segs) == 2 {
		if r.Method == http.MethodHead {
			s.writeStatus(w, r, http.StatusNotFound)
			return
		}
		s.writeError(w, r, resourceNotFound(fmt.Sprintf("index template matching [%s] not found", pattern)))
		return
	}
	if r.Method == http.MethodHead {
		s.writeStatus(w, r, http.StatusOK)
		return
	}
	if list == nil {
		list = []any{}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"index_templates": list})
}

func (s *Server) handleDeleteIndexTemplate(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	name := rc.segs[1]
	s.mu.Lock()
	_, ok := s.tmpls[name]
	delete(s.tmpls, name)
	s.mu.Unlock()
	if !ok {
		s.writeError(w, r, resourceNotFound(fmt.Sprintf("index_template matching [%s] not found", name)))
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"acknowledged": true})
}

func (s *Server) handlePutComponentTemplate(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	name := rc.segs[1]
	body, err := decodeJSONObject(rc.body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tmpl, ok := body["template"].(map[string]any)
	if !ok {
		s.writeError(w, r, errActionRequestValidation("a component template must have a [template]"))
		return
	}
	for k := range body {
		switch k {
		case "template", "version", "_meta", "deprecated":
		default:
			s.writeError(w, r, errXContent(fmt.Sprintf("[component_template] unknown field [%s]", k), posOf(rc.body, k)))
			return
		}
	}
	if m, ok := tmpl["mappings"].(map[string]any); ok {
		if _, err := parseMapping(m); err != nil {
			s.writeError(w, r, asESError(err))
			return
		}
	}
	s.mu.Lock()
	if _, exists := s.comps[name]; exists && rc.params.Get("create") == "true" {
		s.mu.Unlock()
		s.writeError(w, r, errIllegalArgument(fmt.Sprintf("component template [%s] already exists", name)))
		return
	}
	s.comps[name] = &componentTemplate{name: name, raw: body, template: tmpl}
	s.mu.Unlock()
	s.writeJSON(w, r, http.StatusOK, map[string]any{"acknowledged": true})
}

func (s *Server) handleGetComponentTemplate(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	pattern := "*"
	if len(rc.segs) == 2 {
		pattern = rc.segs[1]
	}
	s.mu.RLock()
	var list []any
	names := make([]string, 0, len(s.comps))
	for name := range s.comps {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if wildcardMatch(pattern, name) {
			list = append(list, map[string]any{"name": name, "component_template": s.comps[name].raw})
		}
	}
	s.mu.RUnlock()
	if len(list) == 0 && len(rc.segs) == 2 {
		if r.Method == http.MethodHead {
			s.writeStatus(w, r, http.StatusNotFound)
			return
		}
		s.writeError(w, r, resourceNotFound(fmt.Sprintf("component template matching [%s] not found", pattern)))
		return
	}
	if r.Method == http.MethodHead {
		s.writeStatus(w, r, http.StatusOK)
		return
	}
	if list == nil {
		list = []any{}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"component_templates": list})
}

func (s *Server) handleDeleteComponentTemplate(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if err := s.deleteComponentTemplate(rc.segs[1]); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"acknowledged": true})
}

func (s *Server) deleteComponentTemplate(name string) *esError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.comps[name]; !ok {
		return resourceNotFound(fmt.Sprintf("component template matching [%s] not found", name))
	}
	for _, t := range s.tmpls {
		for _, c := range t.composedOf {
			if c == name {
				return errIllegalArgument(fmt.Sprintf("component templates [%s] cannot be removed as they are still in use by index templates [%s]", name, t.name))
			}
		}
	}
	delete(s.comps, name)
	return nil
}
