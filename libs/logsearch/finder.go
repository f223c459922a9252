package logsearch

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/types"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/extract"
	"github.com/triage-pipeline/triage/libs/signature"
)

// Finder finds and summarises one ticket's logs.
type Finder struct {
	cfg       Config
	search    func(context.Context, types.MultisearchBody) (*Item, error)
	extractor *extract.Extractor
	miner     *signature.Miner
	zones     map[string]*time.Location
	defZone   *time.Location
}

// NewFinder returns a Finder searching through s. zones maps tenant ids to
// their time zone (the customer's "19:05" is local); others use defZone.
// Without a searcher (nil) it only extracts.
func NewFinder(cfg Config, s *Searcher, zones map[string]*time.Location, defZone *time.Location) (*Finder, error) {
	miner, err := signature.New(signature.Config{})
	if err != nil {
		return nil, fmt.Errorf("signature miner: %w", err)
	}
	if defZone == nil {
		defZone = time.UTC
	}
	ecfg := extract.DefaultConfig()
	ecfg.DefaultLocation = defZone
	f := &Finder{cfg: cfg, extractor: extract.New(ecfg), miner: miner, zones: zones, defZone: defZone}
	if s != nil {
		f.search = s.Search
	}
	return f, nil
}

// Extract runs extraction on a ticket in its tenant's time zone.
func (f *Finder) Extract(t events.Ticket) extract.Result {
	ids := map[string][]string{
		"request_ids": t.Identifiers.RequestIDs, "order_ids": t.Identifiers.OrderIDs, "user_ids": t.Identifiers.UserIDs,
		"trace_ids": t.Identifiers.TraceIDs, "device_ids": t.Identifiers.DeviceIDs,
	}
	loc := f.zones[t.TenantID]
	if loc == nil {
		loc = f.defZone
	}
	return f.extractor.Extract(extract.Input{
		Subject: t.Subject, Description: t.Description, TenantID: t.TenantID, Language: t.Language,
		Identifiers: ids, OccurredAt: t.OccurredAt, SubmittedAt: t.SubmittedAt, Location: loc,
	})
}

// Find searches the ticket's logs. An error wrapping ErrUnavailable means
// Elasticsearch could not answer; try again later.
func (f *Finder) Find(ctx context.Context, t events.Ticket) (events.Enrichment, error) {
	if f.search == nil {
		return events.Enrichment{}, errors.New("logsearch: a finder without a searcher cannot search")
	}
	ex := f.Extract(t)
	plan := BuildPlan(t, ex, f.cfg)
	enr := events.Enrichment{
		Evidence: Evidence(ex),
		Window:   &events.SearchWindow{From: ex.Window.From.UTC(), To: ex.Window.To.UTC(), Reason: ex.Window.Reason},
	}
	if f.cfg.KibanaURL != "" {
		enr.DiscoverURL = DiscoverURL(f.cfg, plan)
	}
	item, err := f.search(ctx, plan.Body)
	if err != nil {
		return enr, err
	}
	cands, err := f.candidates(item, plan)
	if err != nil {
		return enr, err
	}
	if item.Hits.Total != nil {
		enr.TotalMatches = item.Hits.Total.Value
	}
	var errEntries []signature.Entry
	for _, c := range cands {
		if c.isError {
			enr.ErrorLogs++
			errEntries = append(errEntries, signature.Entry{Message: c.log.Message, Time: c.log.Timestamp, Service: c.log.Service, ID: c.log.ID,
				Matched: c.tier >= tierServiceError})
		}
	}
	rank(cands, ex.Window.Anchor)
	for _, c := range cands {
		if len(enr.Logs) == f.cfg.MaxLogs || c.tier == 0 {
			break
		}
		enr.Logs = append(enr.Logs, c.log)
	}
	for _, s := range f.miner.Summarize(errEntries) {
		enr.Signatures = append(enr.Signatures, events.Signature{
			ID: s.ID, Template: s.Template, Count: s.Count, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen,
			Services: s.Services, SampleIDs: s.SampleIDs, Matched: s.Matched,
		})
	}
	enr.LogsStatus = events.LogsAttached
	if len(enr.Logs) == 0 {
		enr.LogsStatus = events.LogsNoneFound
		enr.Note = fmt.Sprintf("no matching logs for tenant %s between %s and %s", t.TenantID,
			ex.Window.From.UTC().Format(time.RFC3339), ex.Window.To.UTC().Format(time.RFC3339))
	}
	return enr, nil
}

// Evidence is what the enricher attaches of an extraction: each item with
// where in the ticket it was found.
func Evidence(ex extract.Result) []events.Evidence {
	out := make([]events.Evidence, 0, len(ex.Items))
	for _, it := range ex.Items {
		out = append(out, events.Evidence{Kind: string(it.Kind), Value: it.Value, Field: it.Source.Field, Text: it.Source.Text})
	}
	return out
}

type candidate struct {
	log     events.LogEntry
	tier    int
	isError bool
	trace   string
}

// Tiers: a log carrying a trace, request or order id the ticket named beats
// an error of a service or error code the ticket names (or of the same
// request as one), which beats an error when the ticket names neither,
// which beats a warning of a named service. Other logs are not attached.
const (
	tierNone = iota
	tierWarn
	tierError
	tierServiceError
	tierNamedID
)

func (f *Finder) candidates(item *Item, plan Plan) ([]candidate, error) {
	fl := f.cfg.Fields
	detail := fl.detail()
	out := make([]candidate, 0, len(item.Hits.Hits))
	for _, h := range item.Hits.Hits {
		var src map[string]any
		if err := json.Unmarshal(h.Source, &src); err != nil {
			return nil, fmt.Errorf("decode hit %s: %w", h.ID, err)
		}
		flat := map[string]string{}
		flatten("", src, flat)
		ts, _ := time.Parse(time.RFC3339Nano, flat[fl.Timestamp])
		lvl := strings.ToLower(flat[fl.Level])
		c := candidate{log: events.LogEntry{
			ID: h.ID, Index: h.Index, Timestamp: ts.UTC(), Level: lvl,
			Service: flat[fl.Service], Message: flat[fl.Message], Fields: map[string]string{},
		}}
		for _, k := range detail {
			if v := flat[k]; v != "" {
				c.log.Fields[k] = v
			}
		}
		c.isError = slices.Contains(errorLevels, lvl)
		for _, field := range []string{fl.TraceID, fl.RequestID, fl.OrderID} {
			if v := flat[field]; v != "" && slices.Contains(plan.Wanted[field], v) {
				c.tier = tierNamedID
				c.log.MatchedBy = append(c.log.MatchedBy, field+"="+v)
			}
		}
		namedCode := flat[fl.ErrorCode] != "" && slices.Contains(plan.Wanted[fl.ErrorCode], flat[fl.ErrorCode])
		namedService := slices.Contains(plan.Services, c.log.Service)
		// A user or device the ticket names narrows its service's logs to
		// theirs (logs without that field stay).
		fits := true
		for _, field := range []string{fl.User, fl.DeviceID} {
			if v := flat[field]; v != "" && len(plan.Wanted[field]) > 0 {
				if slices.Contains(plan.Wanted[field], v) {
					c.log.MatchedBy = append(c.log.MatchedBy, field+"="+v)
				} else {
					fits = false
				}
			}
		}
		if c.tier == tierNone {
			switch {
			case c.isError && fits && (namedService || namedCode):
				c.tier = tierServiceError
			case c.isError && fits && len(plan.Services) == 0 && len(plan.Wanted[fl.ErrorCode]) == 0:
				c.tier = tierError
			case (lvl == "warn" || lvl == "warning") && fits && namedService:
				c.tier = tierWarn
			}
		}
		if namedCode {
			c.log.MatchedBy = append(c.log.MatchedBy, fl.ErrorCode+"="+flat[fl.ErrorCode])
		}
		if c.isError {
			c.log.MatchedBy = append(c.log.MatchedBy, fl.Level+"="+lvl)
		}
		if namedService {
			c.log.MatchedBy = append(c.log.MatchedBy, fl.Service+"="+c.log.Service)
		}
		c.trace = flat[fl.TraceID]
		out = append(out, c)
	}
	// Follow the trace: an error in the same request as a relevant error is
	// part of the same failure (order-api failing because the gateway did).
	traces := map[string]bool{}
	for _, c := range out {
		if c.tier >= tierServiceError && c.trace != "" {
			traces[c.trace] = true
		}
	}
	for i := range out {
		if c := &out[i]; c.isError && c.tier < tierServiceError && traces[c.trace] {
			c.tier = tierServiceError
			c.log.MatchedBy = append(c.log.MatchedBy, fl.TraceID+"="+c.trace+" (same request as a matching error)")
		}
	}
	return out, nil
}

// rank orders candidates by tier, then by closeness to the moment the
// ticket describes.
func rank(cands []candidate, anchor time.Time) {
	slices.SortStableFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(b.tier, a.tier); c != 0 {
			return c
		}
		return cmp.Compare(absDur(a.log.Timestamp.Sub(anchor)), absDur(b.log.Timestamp.Sub(anchor)))
	})
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// flatten turns nested and dotted _source keys alike into dotted paths.
func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flatten(key, child, out)
		}
	case string:
		out[prefix] = x
	case float64:
		out[prefix] = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		out[prefix] = strconv.FormatBool(x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				parts = append(parts, s)
			}
		}
		out[prefix] = strings.Join(parts, ",")
	}
}

// IsUnavailable reports whether err means "try again later".
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }
