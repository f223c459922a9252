package demoworld

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// bulkAction is the action line of an Elasticsearch _bulk index request.
type bulkAction struct {
	Index struct {
		Index string `json:"_index"`
		ID    string `json:"_id"`
	} `json:"index"`
}

// WriteBulk writes every log as Elasticsearch _bulk NDJSON: an index action
// naming the daily index and the event id, then the document.
func (w *World) WriteBulk(out io.Writer) error {
	return w.WriteBulkRange(out, 0, len(w.Logs))
}

// WriteBulkRange writes Logs[from:to] as _bulk NDJSON, for loaders that
// send the world in several requests.
func (w *World) WriteBulkRange(out io.Writer, from, to int) error {
	if from < 0 || to > len(w.Logs) || from > to {
		return fmt.Errorf("write bulk: range [%d:%d] outside %d logs", from, to, len(w.Logs))
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var action bulkAction
	for i := from; i < to; i++ {
		l := &w.Logs[i]
		action.Index.Index, action.Index.ID = l.Index(), l.Event.ID
		if err := enc.Encode(&action); err != nil {
			return fmt.Errorf("write bulk action for %s: %w", l.Event.ID, err)
		}
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("write bulk document %s: %w", l.Event.ID, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write bulk: %w", err)
	}
	return nil
}

func keyword() map[string]any { return map[string]any{"type": "keyword", "ignore_above": 1024} }

func object(props map[string]any) map[string]any { return map[string]any{"properties": props} }

// mappings is the explicit ECS mapping of the log documents; the types
// follow ECS 8.17.0 (keyword with ignore_above 1024, match_only_text for
// message and error.message, long status code, date @timestamp).
func mappings() map[string]any {
	text := map[string]any{"type": "match_only_text"}
	labels := object(map[string]any{
		"tenant_id": keyword(), "order_id": keyword(), "device_id": keyword(), "app_version": keyword(),
	})
	labels["type"] = "object"
	return object(map[string]any{
		"@timestamp": map[string]any{"type": "date"},
		"message":    text,
		"log":        object(map[string]any{"level": keyword()}),
		"service":    object(map[string]any{"name": keyword()}),
		"trace":      object(map[string]any{"id": keyword()}),
		"user":       object(map[string]any{"id": keyword()}),
		"error":      object(map[string]any{"type": keyword(), "message": text, "code": keyword()}),
		"http": object(map[string]any{
			"request":  object(map[string]any{"id": keyword()}),
			"response": object(map[string]any{"status_code": map[string]any{"type": "long"}}),
		}),
		"labels": labels,
		"event":  object(map[string]any{"id": keyword(), "dataset": keyword()}),
	})
}

// IndexMapping returns the body of a create-index request
// (PUT logs-pos-YYYY.MM.DD) with the explicit ECS mappings.
func (w *World) IndexMapping() []byte { return IndexMapping() }

// IndexMapping returns the create-index body; it does not depend on a world.
func IndexMapping() []byte {
	return mustJSON(map[string]any{"mappings": mappings()})
}

// IndexTemplate returns the body of PUT _index_template/<name> that gives
// every logs-pos-* index the same mappings.
func IndexTemplate() []byte {
	return mustJSON(map[string]any{
		"index_patterns": []string{IndexPrefix + "*"},
		"priority":       200,
		"template":       map[string]any{"mappings": mappings()},
	})
}

// mustJSON marshals maps of strings and numbers, which cannot fail.
func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
