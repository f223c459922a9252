package logsearch

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/operator"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/sortorder"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/extract"
)

// Boosts: an id the customer gave pins the log down; an error level or a
// named service only makes it likelier.
const (
	boostStrongID  = 20
	boostUserID    = 8
	boostErrorCode = 6
	boostErrorLvl  = 4
	boostService   = 3
	boostStatus    = 2
	boostWarn      = 1
	boostKeywords  = 1

	maxTermsPerKind = 20
	maxKeywordBytes = 64
	maxKeywordsText = 512
)

// Plan is one ticket's search and what it is looking for, so hits can say
// why they matched.
type Plan struct {
	TenantID string
	Window   extract.TimeWindow
	// Wanted maps a log field to the values the ticket named for it.
	Wanted   map[string][]string
	Services []string
	Keywords []string
	Body     types.MultisearchBody
}

// errorLevels are the levels counted as errors.
var errorLevels = []string{"error", "fatal", "critical"}

// BuildPlan turns a ticket and what was extracted from it into a search.
// The customer's words reach Elasticsearch only as values of term, terms and
// match queries (never query_string), each length-capped, so no text can
// change the query's structure.
func BuildPlan(t events.Ticket, ex extract.Result, cfg Config) Plan {
	f := cfg.Fields
	p := Plan{TenantID: t.TenantID, Window: ex.Window, Wanted: map[string][]string{}}
	add := func(field string, values []string) {
		for _, v := range values {
			v = capBytes(strings.TrimSpace(v), 256)
			if v == "" || slices.Contains(p.Wanted[field], v) || len(p.Wanted[field]) >= maxTermsPerKind {
				continue
			}
			p.Wanted[field] = append(p.Wanted[field], v)
		}
	}
	add(f.TraceID, ex.Values(extract.KindTraceID))
	add(f.RequestID, ex.Values(extract.KindRequestID))
	add(f.OrderID, ex.Values(extract.KindOrderID))
	add(f.User, ex.Values(extract.KindUser))
	add(f.DeviceID, ex.Values(extract.KindDeviceID))
	add(f.ErrorCode, ex.Values(extract.KindErrorCode))
	add(f.HTTPStatus, ex.Values(extract.KindHTTPStatus))
	// An id of unknown kind may be a trace or a request id.
	for _, id := range ex.Values(extract.KindID) {
		add(f.TraceID, []string{id})
		add(f.RequestID, []string{id})
	}
	for _, s := range ex.Values(extract.KindService) {
		if !slices.Contains(p.Services, s) {
			p.Services = append(p.Services, s)
		}
	}
	for _, k := range ex.Keywords {
		if len(p.Keywords) >= cfg.MaxKeywords {
			break
		}
		if k = capBytes(k, maxKeywordBytes); k != "" {
			p.Keywords = append(p.Keywords, k)
		}
	}

	var should []types.Query
	terms := func(field string, values []string, boost float32) {
		if len(values) == 0 {
			return
		}
		vals := make([]types.FieldValue, len(values))
		for i, v := range values {
			vals[i] = v
		}
		should = append(should, types.Query{Terms: &types.TermsQuery{
			TermsQuery: map[string]types.TermsQueryField{field: vals}, Boost: &boost,
		}})
	}
	for _, field := range []string{f.TraceID, f.RequestID, f.OrderID} {
		terms(field, p.Wanted[field], boostStrongID)
	}
	terms(f.User, p.Wanted[f.User], boostUserID)
	terms(f.DeviceID, p.Wanted[f.DeviceID], boostUserID)
	terms(f.ErrorCode, p.Wanted[f.ErrorCode], boostErrorCode)
	if statuses := numeric(p.Wanted[f.HTTPStatus]); len(statuses) > 0 {
		terms(f.HTTPStatus, statuses, boostStatus)
	}
	terms(f.Service, p.Services, boostService)
	terms(f.Level, errorLevels, boostErrorLvl)
	terms(f.Level, []string{"warn", "warning"}, boostWarn)
	if len(p.Keywords) > 0 {
		b := float32(boostKeywords)
		or := operator.Or
		should = append(should, types.Query{Match: map[string]types.MatchQuery{
			f.Message: {Query: capBytes(strings.Join(p.Keywords, " "), maxKeywordsText), Operator: &or, Boost: &b},
		}})
	}

	format := "strict_date_optional_time"
	between := func(from, to time.Time) types.Query {
		gte, lte := from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano)
		return types.Query{Range: map[string]types.RangeQuery{f.Timestamp: types.DateRangeQuery{Gte: &gte, Lte: &lte, Format: &format}}}
	}
	when := between(ex.Window.From, ex.Window.To)
	// A log carrying an id the ticket named belongs to it even outside the
	// time the customer remembers, back to IDLookback.
	var named []types.Query
	for _, field := range []string{f.TraceID, f.RequestID, f.OrderID} {
		if len(p.Wanted[field]) > 0 {
			vals := make([]types.FieldValue, len(p.Wanted[field]))
			for i, v := range p.Wanted[field] {
				vals[i] = v
			}
			named = append(named, types.Query{Terms: &types.TermsQuery{TermsQuery: map[string]types.TermsQueryField{field: vals}}})
		}
	}
	if len(named) > 0 {
		horizon := between(t.SubmittedAt.Add(-cfg.IDLookback), t.SubmittedAt.Add(5*time.Minute))
		when = types.Query{Bool: &types.BoolQuery{
			Should: []types.Query{
				when,
				{Bool: &types.BoolQuery{Filter: []types.Query{horizon}, Should: named, MinimumShouldMatch: 1}},
			},
			MinimumShouldMatch: 1,
		}}
	}
	tenant := t.TenantID
	size := cfg.Candidates
	track := true
	p.Body = types.MultisearchBody{
		Query: &types.Query{Bool: &types.BoolQuery{
			Filter: []types.Query{
				{Term: map[string]types.TermQuery{f.Tenant: {Value: tenant}}},
				when,
			},
			Should:             should,
			MinimumShouldMatch: 1,
		}},
		Size:           &size,
		TrackTotalHits: track,
		// Only what the finder reads: a log's other fields would cost
		// Elasticsearch, the wire and the decoding for nothing.
		Source_: types.SourceFilter{Includes: f.read()},
		Sort: []types.SortCombinations{
			types.SortOptions{Score_: &types.ScoreSort{Order: &sortorder.Desc}},
			types.SortOptions{SortOptions: map[string]types.FieldSort{f.Timestamp: {Order: &sortorder.Desc}}},
		},
	}
	return p
}

// numeric keeps the values that are numbers (an HTTP status field is long).
func numeric(values []string) []string {
	var out []string
	for _, v := range values {
		if _, err := strconv.Atoi(v); err == nil {
			out = append(out, v)
		}
	}
	return out
}

func capBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
