// Package esdev is an in-memory, Elasticsearch-compatible HTTP server for
// tests, local demos and benchmarks, where no Elasticsearch can be
// installed. It implements the subset of Elasticsearch 8.x the product uses
// and answers as Elasticsearch does (headers, bodies, error envelopes), so
// go-elasticsearch v8 (esapi and the typed API) works against it unchanged.
// What it does not implement it refuses with an Elasticsearch-shaped 400.
//
// Use it in process:
//
//	s := esdev.New(esdev.Options{})
//	url, stop, err := s.Start(ctx, "127.0.0.1:0")
//	defer stop()
//	es, _ := elasticsearch.NewTypedClient(elasticsearch.Config{Addresses: []string{url}})
//
// or as a command: ListenAndServe(ctx, ":9200") serves until ctx ends.
//
// # Endpoints
//
// GET|HEAD /; PUT|HEAD|GET|DELETE /{index}; GET|PUT /{index}/_mapping and
// GET /_mapping; POST|PUT /_bulk and /{index}/_bulk (index, create, delete,
// update with a partial doc); PUT|POST /{index}/_doc/{id}, POST
// /{index}/_doc, PUT|POST /{index}/_create/{id}, GET|HEAD|DELETE
// /{index}/_doc/{id}, POST /{index}/_update/{id}, GET /{index}/_source/{id};
// GET|POST /_search, /{index}/_search, /_msearch, /{index}/_msearch,
// /_count, /{index}/_count; POST /_refresh, /{index}/_refresh; GET
// /_cluster/health[/{index}]; index and component templates under
// /_index_template and /_component_template. Index expressions take names,
// aliases, comma lists, wildcards, "_all" and "-exclusions", with
// ignore_unavailable/allow_no_indices as Elasticsearch defaults them.
// Common parameters: pretty, filter_path, error_trace (accepted). Unknown
// URL parameters are refused as Elasticsearch refuses them.
//
// # Mappings and analysis
//
// Explicit mappings (create index, templates, PUT _mapping) and dynamic
// mapping like Elasticsearch: strings become text with a .keyword
// sub-field (ignore_above 256) unless they look like dates; integers long;
// other numbers float; booleans boolean; dynamic templates, date_detection
// and dynamic: strict/false are honoured. Dotted keys and nested objects
// name the same field. Field types: keyword, wildcard, constant_keyword,
// ip and version (all as keyword), text and match_only_text, long, integer,
// short, byte, unsigned_long, double, float, half_float, scaled_float, date,
// date_nanos, boolean, flattened (leaves as keywords), object. geo_point,
// geo_shape, nested, binary, alias and dense_vector are accepted in
// mappings and kept in _source but not searchable. Text uses the standard
// analyzer (UAX #29 word boundaries, lower case; Han and hiragana one token
// per character, a katakana run one token, as Lucene does).
//
// # Search
//
// Queries: bool, term, terms, match, match_phrase, multi_match (best_fields,
// most_fields, phrase), range (date math, format, time_zone), exists, ids,
// prefix, wildcard, match_all, match_none, constant_score, dis_max. Scores
// are BM25 (Lucene's formula, per index statistics); filters do not score.
// Options: size, from, sort (fields, _score, _doc, order, missing,
// unmapped_type, mode), _source filtering, track_total_hits, track_scores,
// search_after, post_filter, min_score, terminate_after, version,
// seq_no_primary_term. Aggregations: terms, min, max, avg, sum, stats,
// value_count, cardinality (exact), date_histogram, top_hits, filter,
// filters, with typed_keys prefixes. A search on several indices where some
// fail (for example a sort on a field one index does not map) returns the
// others with _shards.failures, as Elasticsearch does.
//
// # Faults, statistics and recording
//
// InjectFault adds latency, 429 es_rejected_execution_exception, 503, a
// proxy-style 504, or dropped connections (the client sees a transport
// error), for the next N requests, a fraction of them, or until
// ClearFaults; /_dev endpoints are never faulted; Stats counts requests per
// endpoint; Options.OnRequest (see RequestLog) sees every request. The same
// controls are served over HTTP for a running demo:
//
//	POST   /_dev/faults  {"kind":"unavailable","endpoints":["search"],"count":3,"delay":"200ms"}
//	GET    /_dev/faults
//	DELETE /_dev/faults
//	GET    /_dev/stats   (DELETE resets)
//
// # Differences from Elasticsearch
//
// Writes are searchable at once (refresh is accepted and does nothing).
// Each index is one in-memory store however many shards its settings name.
// Numbers are held as float64, so longs beyond 2^53 lose precision.
// Cardinality is exact. match_only_text scores like text. Phrase queries
// with slop allow gaps but not reordering. A cluster health wait for a
// status the single node cannot reach answers 408 at once instead of after
// the timeout. Scripts, query_string, pipelines, point in time, scroll,
// highlighting and the aggregations not listed above are refused with a 400.
// See the escontract sub-package for checks against Elastic's published
// OpenAPI description.
package esdev
