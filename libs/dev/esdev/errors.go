package esdev

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// esError is an Elasticsearch exception. It renders as the error envelope
// Elasticsearch sends: {"error":{"root_cause":[…],"type":…,"reason":…,…},"status":N}.
type esError struct {
	status int
	typ    string
	reason string
	// extra holds the exception's metadata fields ("index", "line", …) in order.
	extra []kv
	// rootCause, when set, replaces the exception itself in root_cause
	// (search_phase_execution_exception reports the shard's failure there).
	rootCause *esError
	causedBy  *esError
	// plain is a bare string error body, as Elasticsearch sends for
	// unsupported media types and unknown endpoints.
	plain string
}

type kv struct {
	key   string
	value any
}

func (e *esError) Error() string {
	if e.plain != "" {
		return e.plain
	}
	return e.typ + ": " + e.reason
}

// writeObject writes the exception's own object (type, reason, metadata).
func (e *esError) writeObject(buf *bytes.Buffer, withRoot bool) {
	buf.WriteByte('{')
	if withRoot {
		buf.WriteString(`"root_cause":[`)
		rc := e
		if e.rootCause != nil {
			rc = e.rootCause
		}
		rc.writeObject(buf, false)
		buf.WriteString(`],`)
	}
	writeKey(buf, "type")
	writeJSON(buf, e.typ)
	buf.WriteByte(',')
	writeKey(buf, "reason")
	writeJSON(buf, e.reason)
	for _, f := range e.extra {
		buf.WriteByte(',')
		writeKey(buf, f.key)
		writeJSON(buf, f.value)
	}
	if e.causedBy != nil {
		buf.WriteByte(',')
		writeKey(buf, "caused_by")
		e.causedBy.writeObject(buf, false)
	}
	buf.WriteByte('}')
}

// MarshalJSON renders the full envelope with status.
func (e *esError) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"error":`)
	if e.plain != "" {
		writeJSON(&buf, e.plain)
	} else {
		e.writeObject(&buf, true)
	}
	buf.WriteString(`,"status":`)
	fmt.Fprintf(&buf, "%d", e.status)
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// itemJSON renders the exception as a bulk item's "error" object (no root_cause).
func (e *esError) itemJSON() json.RawMessage {
	var buf bytes.Buffer
	e.writeObject(&buf, false)
	return buf.Bytes()
}

func writeKey(buf *bytes.Buffer, k string) {
	writeJSON(buf, k)
	buf.WriteByte(':')
}

func writeJSON(buf *bytes.Buffer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`null`)
	}
	buf.Write(b)
}

func errIndexNotFound(name string) *esError {
	return &esError{
		status: http.StatusNotFound, typ: "index_not_found_exception",
		reason: fmt.Sprintf("no such index [%s]", name),
		extra: []kv{
			{"resource.type", "index_or_alias"}, {"resource.id", name},
			{"index_uuid", "_na_"}, {"index", name},
		},
	}
}

func errResourceExists(name, uuid string) *esError {
	return &esError{
		status: http.StatusBadRequest, typ: "resource_already_exists_exception",
		reason: fmt.Sprintf("index [%s/%s] already exists", name, uuid),
		extra:  []kv{{"index_uuid", uuid}, {"index", name}},
	}
}

func errInvalidIndexName(name, why string) *esError {
	return &esError{
		status: http.StatusBadRequest, typ: "invalid_index_name_exception",
		reason: fmt.Sprintf("Invalid index name [%s], %s", name, why),
		extra:  []kv{{"index_uuid", "_na_"}, {"index", name}},
	}
}

// errParsing is Elasticsearch's parsing_exception; line and col point into
// the request body (1-based) when known.
func errParsing(reason string, pos textPos) *esError {
	e := &esError{status: http.StatusBadRequest, typ: "parsing_exception", reason: reason}
	if pos.line > 0 {
		e.extra = []kv{{"line", pos.line}, {"col", pos.col}}
	}
	return e
}

func errXContent(reason string, pos textPos) *esError {
	e := &esError{status: http.StatusBadRequest, typ: "x_content_parse_exception", reason: reason}
	if pos.line > 0 {
		e.reason = fmt.Sprintf("[%d:%d] %s", pos.line, pos.col, reason)
	}
	return e
}

func errIllegalArgument(reason string) *esError {
	return &esError{status: http.StatusBadRequest, typ: "illegal_argument_exception", reason: reason}
}

func errActionRequestValidation(reason string) *esError {
	return &esError{
		status: http.StatusBadRequest, typ: "action_request_validation_exception",
		reason: "Validation Failed: 1: " + reason + ";",
	}
}

func errMapperParsing(reason string) *esError {
	return &esError{status: http.StatusBadRequest, typ: "mapper_parsing_exception", reason: reason}
}

func errDocumentParsing(reason string) *esError {
	return &esError{status: http.StatusBadRequest, typ: "document_parsing_exception", reason: reason}
}

func errVersionConflict(ix *index, id string, version int64) *esError {
	return &esError{
		status: http.StatusConflict, typ: "version_conflict_engine_exception",
		reason: fmt.Sprintf("[%s]: version conflict, document already exists (current version [%d])", id, version),
		extra:  []kv{{"index_uuid", ix.uuid}, {"shard", "0"}, {"index", ix.name}},
	}
}

func errDocumentMissing(ix *index, id string) *esError {
	return &esError{
		status: http.StatusNotFound, typ: "document_missing_exception",
		reason: fmt.Sprintf("[%s]: document missing", id),
		extra:  []kv{{"index_uuid", ix.uuid}, {"shard", "0"}, {"index", ix.name}},
	}
}

// errShardFailure wraps a failure that Elasticsearch raises while executing
// a search on a shard (bad date, aggregation on a text field, …): the client
// sees search_phase_execution_exception with the cause as root_cause.
func errShardFailure(indexName string, cause *esError) *esError {
	return &esError{
		status: http.StatusBadRequest, typ: "search_phase_execution_exception",
		reason: "all shards failed",
		extra: []kv{
			{"phase", "query"}, {"grouped", true},
			{"failed_shards", []any{map[string]any{
				"shard": 0, "index": indexName, "node": nodeID, "reason": cause.itemJSON(),
			}}},
		},
		rootCause: cause,
	}
}

func errQueryShard(reason string, indexName, uuid string) *esError {
	return &esError{
		status: http.StatusBadRequest, typ: "query_shard_exception", reason: reason,
		extra: []kv{{"index_uuid", uuid}, {"index", indexName}},
	}
}

func errRejected() *esError {
	return &esError{
		status: http.StatusTooManyRequests, typ: "es_rejected_execution_exception",
		reason: "rejected execution of org.elasticsearch.common.util.concurrent.TimedRunnable@1 on " +
			"EsThreadPoolExecutor[name = " + nodeName + "/search, queue capacity = 1000, " +
			"org.elasticsearch.common.util.concurrent.EsThreadPoolExecutor@2[Running, pool size = 2, " +
			"active threads = 2, queued tasks = 1000, completed tasks = 0]]",
	}
}

func errUnavailable() *esError {
	return &esError{
		status: http.StatusServiceUnavailable, typ: "cluster_block_exception",
		reason: "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];",
	}
}

func errNoHandler(method, uri string) *esError {
	return &esError{
		status: http.StatusBadRequest,
		plain:  fmt.Sprintf("no handler found for uri [%s] and method [%s]", uri, method),
	}
}

func errMethodNotAllowed(method, uri string, allowed []string) *esError {
	return &esError{
		status: http.StatusMethodNotAllowed,
		plain:  fmt.Sprintf("Incorrect HTTP method for uri [%s] and method [%s], allowed: %v", uri, method, allowed),
	}
}

func errMediaType(ct string) *esError {
	return &esError{
		status: http.StatusNotAcceptable,
		plain:  fmt.Sprintf("Content-Type header [%s] is not supported", ct),
	}
}

func errUnsupportedParam(path, param string) *esError {
	return errIllegalArgument(fmt.Sprintf("request [%s] contains unrecognized parameter: [%s]", path, param))
}

// textPos is a 1-based line and column in a request body.
type textPos struct{ line, col int }

// posOf finds where a JSON key first appears in body, for the line/col that
// Elasticsearch reports with parsing errors. It is a best effort: the first
// occurrence of the quoted key.
func posOf(body []byte, key string) textPos {
	if len(body) == 0 || key == "" {
		return textPos{}
	}
	needle, _ := json.Marshal(key)
	i := bytes.Index(body, needle)
	if i < 0 {
		return textPos{}
	}
	line := 1 + bytes.Count(body[:i], []byte{'\n'})
	col := i - bytes.LastIndexByte(body[:i], '\n')
	return textPos{line: line, col: col}
}
