package esdev

import (
	"bytes"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"time"
)

// bulkResponse is the body of a _bulk answer.
type bulkResponse struct {
	Errors bool                       `json:"errors"`
	Took   int64                      `json:"took"`
	Items  []map[string]writeResponse `json:"items"`
}

var bulkActions = map[string]bool{"index": true, "create": true, "delete": true, "update": true}

func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	defaultIndex := ""
	if len(rc.segs) == 2 {
		defaultIndex = rc.segs[0]
	}
	if rc.params.Get("pipeline") != "" {
		s.writeError(w, r, errIllegalArgument("ingest pipelines are not supported by esdev"))
		return
	}
	resp, err := s.bulk(rc.body, defaultIndex, rc.now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}

type bulkOp struct {
	action string
	line   int
	meta   map[string]any
	source []byte
	// doc and docErr are the decoded source, filled before the op applies.
	doc    map[string]any
	docErr *esError
}

// parseBulk splits an NDJSON bulk body into operations, refusing the whole
// request for malformed action lines as Elasticsearch does.
func parseBulk(body []byte, defaultIndex string) ([]bulkOp, *esError) {
	if len(body) == 0 {
		return nil, errActionRequestValidation("no requests added")
	}
	if body[len(body)-1] != '\n' {
		return nil, errIllegalArgument("The bulk request must be terminated by a newline [\\n]")
	}
	lines := bytes.Split(body, []byte{'\n'})
	var ops []bulkOp
	for i := 0; i < len(lines); i++ {
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 {
			continue
		}
		parsed, err := parseJSON(line)
		action, ok := parsed.(map[string]any)
		if err != nil || !ok || len(action) != 1 {
			return nil, errIllegalArgument(fmt.Sprintf("Malformed action/metadata line [%d], expected START_OBJECT or END_OBJECT but found [%s]", i+1, firstToken(line)))
		}
		op := bulkOp{line: i + 1}
		for name, meta := range action {
			if !bulkActions[name] {
				return nil, errIllegalArgument(fmt.Sprintf("Malformed action/metadata line [%d], expected one of [create, delete, index, update] but found [%s]", i+1, name))
			}
			m, ok := meta.(map[string]any)
			if !ok && meta != nil {
				return nil, errIllegalArgument(fmt.Sprintf("Malformed action/metadata line [%d], expected START_OBJECT but found [%s]", i+1, tokenName(meta)))
			}
			op.action, op.meta = name, m
		}
		if op.meta == nil {
			op.meta = map[string]any{}
		}
		for k := range op.meta {
			switch k {
			case "_index", "_id", "routing", "version", "version_type", "if_seq_no", "if_primary_term",
				"require_alias", "retry_on_conflict", "_source", "op_type", "require_data_stream", "list_executed_pipelines":
			case "pipeline", "dynamic_templates":
				return nil, errIllegalArgument(fmt.Sprintf("Action/metadata line [%d] uses [%s], which esdev does not support", i+1, k))
			default:
				return nil, errIllegalArgument(fmt.Sprintf("Action/metadata line [%d] contains an unknown parameter [%s]", i+1, k))
			}
		}
		if _, ok := op.meta["_index"]; !ok {
			if defaultIndex == "" {
				return nil, errActionRequestValidation("index is missing")
			}
			op.meta["_index"] = defaultIndex
		}
		if op.action != "delete" {
			i++
			for i < len(lines) && len(bytes.TrimSpace(lines[i])) == 0 && i < len(lines)-1 {
				i++
			}
			if i >= len(lines) || len(bytes.TrimSpace(lines[i])) == 0 {
				return nil, errIllegalArgument("The bulk request must be terminated by a newline [\\n]")
			}
			op.source = bytes.TrimSpace(lines[i])
		}
		ops = append(ops, op)
	}
	if len(ops) == 0 {
		return nil, errActionRequestValidation("no requests added")
	}
	return ops, nil
}

func firstToken(line []byte) string {
	if len(line) == 0 {
		return "EOF"
	}
	switch line[0] {
	case '[':
		return "START_ARRAY"
	case '"':
		return "VALUE_STRING"
	}
	return "VALUE"
}

func (s *Server) bulk(body []byte, defaultIndex string, now time.Time) (*bulkResponse, *esError) {
	start := time.Now()
	ops, err := parseBulk(body, defaultIndex)
	if err != nil {
		return nil, err
	}
	decodeSources(ops)
	resp := &bulkResponse{Items: make([]map[string]writeResponse, 0, len(ops))}
	for i := range ops {
		op := &ops[i]
		item := s.bulkItem(op, now)
		if item.Error != nil {
			resp.Errors = true
		}
		resp.Items = append(resp.Items, map[string]writeResponse{op.action: item})
	}
	resp.Took = time.Since(start).Milliseconds()
	return resp, nil
}

// decodeSources decodes the documents of a bulk request on all cores: JSON
// decoding is most of the cost of a bulk load, and it needs no locks.
func decodeSources(ops []bulkOp) {
	workers := runtime.GOMAXPROCS(0)
	if workers > 8 {
		workers = 8
	}
	if len(ops) < 64 {
		workers = 1
	}
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys := map[string]string{}
			for i := range next {
				op := &ops[i]
				switch op.action {
				case "index", "create":
					op.doc, op.docErr = decodeSourceKeys(op.source, keys)
				case "update":
					op.doc, op.docErr = decodeJSONObject(op.source)
				}
			}
		}()
	}
	for i := range ops {
		next <- i
	}
	close(next)
	wg.Wait()
}

func (s *Server) bulkItem(op *bulkOp, now time.Time) writeResponse {
	name := scalarString(op.meta["_index"])
	id := ""
	if v, ok := op.meta["_id"]; ok && v != nil {
		id = scalarString(v)
	}
	fail := func(e *esError) writeResponse {
		return writeResponse{Index: name, ID: id, Status: e.status, Error: e.itemJSON()}
	}
	if id == "" && op.action != "index" && op.action != "create" {
		return fail(errActionRequestValidation("id is missing"))
	}
	doc := op.doc
	if op.docErr != nil {
		return fail(op.docErr)
	}
	var ix *index
	if op.action == "delete" {
		if ix = s.lookupIndex(name); ix == nil {
			return fail(errIndexNotFound(name))
		}
	} else {
		var err *esError
		if ix, err = s.writeIndex(name, now); err != nil {
			return fail(err)
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if id != "" {
		params := map[string][]string{}
		if v, ok := op.meta["if_seq_no"]; ok {
			params["if_seq_no"] = []string{scalarString(v)}
		}
		if err := checkSeqNo(ix, id, params); err != nil {
			return fail(err)
		}
	}
	var res writeResult
	var err *esError
	switch op.action {
	case "index", "create":
		create := op.action == "create" || op.meta["op_type"] == "create"
		if id == "" {
			id, create = newID(), true
		}
		res, err = ix.put(id, op.source, doc, create)
	case "delete":
		res = ix.delete(id)
	case "update":
		res, err = ix.update(id, doc)
	}
	if err != nil {
		return fail(err)
	}
	return okWrite(ix, res, true)
}

// LoadBulk applies an NDJSON bulk body (as sent to POST /_bulk) directly,
// without HTTP; defaultIndex is used for actions without _index. It fails
// when any item fails, naming the first failure.
func (s *Server) LoadBulk(body []byte, defaultIndex string) error {
	// Stored sources point into the body, so keep a private copy.
	resp, err := s.bulk(bytes.Clone(body), defaultIndex, s.opts.Now())
	if err != nil {
		return fmt.Errorf("esdev bulk load: %w", err)
	}
	if resp.Errors {
		for i, item := range resp.Items {
			for action, wr := range item {
				if wr.Error != nil {
					return fmt.Errorf("esdev bulk load: item %d (%s %s/%s) failed with status %d: %s", i, action, wr.Index, wr.ID, wr.Status, wr.Error)
				}
			}
		}
	}
	return nil
}
