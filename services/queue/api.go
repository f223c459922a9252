package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
)

const (
	defaultLimit = 50
	maxLimit     = 500
)

// Route is one API route or page, with the role it needs: routes() serves
// them and the access test walks them all.
type Route struct {
	Method, Pattern string
	Role            auth.Role // "" for public routes (sign-in, health)
	Page            bool
	handler         http.HandlerFunc
}

// Routes lists every route the queue serves, with its role.
func (s *Service) Routes() []Route {
	api := []Route{
		{Method: "GET", Pattern: "/api/v1/queue", Role: auth.RoleEngineer, handler: s.list},
		{Method: "GET", Pattern: "/api/v1/queue/events", Role: auth.RoleEngineer, handler: s.listEvents},
		{Method: "GET", Pattern: "/api/v1/queue/mine", Role: auth.RoleSupport, handler: s.mine},
		{Method: "GET", Pattern: "/api/v1/queue/search", Role: auth.RoleSupport, handler: s.search},
		{Method: "GET", Pattern: "/api/v1/queue/tickets/{id}", Role: auth.RoleSupport, handler: s.ticket},
		{Method: "GET", Pattern: "/api/v1/queue/tickets/{id}/events", Role: auth.RoleSupport, handler: s.ticketEvents},
		{Method: "GET", Pattern: "/api/v1/queue/tickets/{id}/history", Role: auth.RoleSupport, handler: s.historyAPI},
		// A POST: reading the logs writes its record in the history, so it
		// must not be something another site can make a browser do.
		{Method: "POST", Pattern: "/api/v1/queue/tickets/{id}/logs", Role: auth.RoleEngineer, handler: s.logsAPI},
		{Method: "POST", Pattern: "/api/v1/queue/tickets/{id}/claim", Role: auth.RoleEngineer, handler: s.action(actClaim)},
		{Method: "POST", Pattern: "/api/v1/queue/tickets/{id}/release", Role: auth.RoleEngineer, handler: s.action(actRelease)},
		{Method: "POST", Pattern: "/api/v1/queue/tickets/{id}/assign", Role: auth.RoleEngineer, handler: s.action(actAssign)},
		{Method: "POST", Pattern: "/api/v1/queue/tickets/{id}/status", Role: auth.RoleEngineer, handler: s.action(actStatus)},
		{Method: "POST", Pattern: "/api/v1/queue/tickets/{id}/comments", Role: auth.RoleSupport, handler: s.action(actComment)},
		{Method: "POST", Pattern: "/api/v1/queue/tickets/{id}/reroute", Role: auth.RoleSupport, handler: s.action(actReroute)},
		{Method: "POST", Pattern: "/api/v1/queue/tickets/{id}/confirm-bug", Role: auth.RoleEngineer, handler: s.action(actConfirmBug)},
		{Method: "GET", Pattern: "/api/v1/incidents", Role: auth.RoleEngineer, handler: s.listIncidents},
		{Method: "POST", Pattern: "/api/v1/incidents", Role: auth.RoleEngineer, handler: s.declare},
		{Method: "GET", Pattern: "/api/v1/incidents/declared", Role: auth.RoleSupport, handler: s.listDeclared},
		{Method: "GET", Pattern: "/api/v1/incidents/{iid}", Role: auth.RoleEngineer, handler: s.getIncident},
		{Method: "POST", Pattern: "/api/v1/incidents/{iid}/claim", Role: auth.RoleEngineer, handler: s.incidentHandler(incClaim)},
		{Method: "POST", Pattern: "/api/v1/incidents/{iid}/release", Role: auth.RoleEngineer, handler: s.incidentHandler(incRelease)},
		{Method: "POST", Pattern: "/api/v1/incidents/{iid}/resolve", Role: auth.RoleEngineer, handler: s.incidentHandler(incResolve)},
		{Method: "POST", Pattern: "/api/v1/incidents/{iid}/confirm-bug", Role: auth.RoleEngineer, handler: s.incidentHandler(incConfirmBug)},
		{Method: "POST", Pattern: "/api/v1/incidents/{iid}/split", Role: auth.RoleEngineer, handler: s.incidentHandler(incSplit)},
		{Method: "POST", Pattern: "/api/v1/incidents/{iid}/merge", Role: auth.RoleEngineer, handler: s.mergeIncidents},
		{Method: "POST", Pattern: "/api/v1/alerts/alertmanager", Role: auth.RoleMonitoring, handler: s.alertmanager},
		{Method: "GET", Pattern: "/api/v1/admin/tokens", Role: auth.RoleAdmin, handler: s.listTokens},
		{Method: "POST", Pattern: "/api/v1/admin/tokens", Role: auth.RoleAdmin, handler: s.issueToken},
		{Method: "POST", Pattern: "/api/v1/admin/tokens/{tid}/revoke", Role: auth.RoleAdmin, handler: s.revokeToken},
	}
	return append(api, s.pageRoutes()...)
}

func (s *Service) routes() {
	byPattern := map[string]map[string]http.HandlerFunc{}
	var order []string
	for _, rt := range s.Routes() {
		h := http.Handler(rt.handler)
		switch {
		case rt.Role == "":
		case rt.Page:
			h = s.auth.RequirePage(rt.Role, s.forbiddenPage, h)
		default:
			h = s.auth.Require(rt.Role, h)
		}
		if strings.Contains(rt.Pattern, "{id}") {
			h = checkTicketID(h)
		}
		if byPattern[rt.Pattern] == nil {
			byPattern[rt.Pattern] = map[string]http.HandlerFunc{}
			order = append(order, rt.Pattern)
		}
		byPattern[rt.Pattern][rt.Method] = h.ServeHTTP
	}
	for _, p := range order {
		s.Mux.Handle(p, httpapi.Methods(byPattern[p]))
	}
	s.Mux.HandleFunc("/", s.notFound)
}

// checkTicketID refuses a path whose ticket id could not be one: the id
// becomes a NATS subject token, where "*" or ">" would match every ticket.
func checkTicketID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.PathValue("id"); !ticketIDPattern.MatchString(id) {
			httpapi.WriteError(w, r, httpapi.Errorf(httpapi.CodeTicketNotFound, "%q is not a ticket id", id))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ListResponse is one page of a queue.
type ListResponse struct {
	Queue      string    `json:"queue"`
	Tickets    []Summary `json:"tickets"`
	NextCursor string    `json:"next_cursor,omitempty"`
	Counts     Counts    `json:"counts"`
}

func badParam(name, format string, args ...any) error {
	e := httpapi.Errorf(httpapi.CodeInvalidParameter, "query parameter %q: "+format, append([]any{name}, args...)...)
	e.Fields = []httpapi.FieldError{{Field: name, Code: httpapi.FieldInvalidValue, Message: e.Message}}
	return e
}

func intParam(v string, def, min, max int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, fmt.Errorf("must be a whole number from %d to %d", min, max)
	}
	return n, nil
}

// filterFrom reads a listing's filters from the query.
func (s *Service) filterFrom(r *http.Request, me string) (Filter, int, *sortKey, error) {
	q := r.URL.Query()
	f := Filter{Queue: q.Get("queue"), Status: q.Get("status"), Component: q.Get("component"),
		Tenant: q.Get("tenant")}
	if id := q.Get("incident"); id != "" {
		// An incident's tickets include those of the incidents merged into
		// it; an id that names no incident selects nothing.
		f.Incidents = []string{id}
		if inc, ok := s.incidents.Current(id); ok {
			f.Incidents = family(inc)
		} else if inc, _, _, err := s.istore().Get(r.Context(), id); err == nil {
			f.Incidents = family(inc)
		}
	}
	if f.Queue == "" {
		f.Queue = events.QueueEscalation
	}
	if f.Queue != events.QueueEscalation && f.Queue != events.QueueSupport {
		return f, 0, nil, badParam("queue", "must be %q or %q", events.QueueEscalation, events.QueueSupport)
	}
	switch q.Get("needs_triage") {
	case "", "false":
	case "true", "1":
		f.NeedsTriage = true
	default:
		return f, 0, nil, badParam("needs_triage", "must be true or false")
	}
	if f.Status != "" && !isStatus(f.Status) {
		return f, 0, nil, badParam("status", "must be one of %s", strings.Join(Statuses(), ", "))
	}
	switch a := q.Get("assignee"); a {
	case "":
	case "mine":
		f.Assignee = me
	case "unassigned":
		f.Assignee = AssigneeNone
	default:
		f.Assignee = a
	}
	limit, err := intParam(q.Get("limit"), defaultLimit, 1, maxLimit)
	if err != nil {
		return f, 0, nil, badParam("limit", "%v", err)
	}
	var after *sortKey
	if c := q.Get("cursor"); c != "" {
		k, err := parseCursor(c)
		if err != nil {
			return f, 0, nil, badParam("cursor", "%v", err)
		}
		after = &k
	}
	return f, limit, after, nil
}

func isStatus(s string) bool {
	for _, st := range Statuses() {
		if st == s {
			return true
		}
	}
	return false
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	f, limit, after, err := s.filterFrom(r, p.Name)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	if !s.view.isLoaded() {
		httpapi.WriteError(w, r, httpapi.Errorf(httpapi.CodeQueueLoading, "the queue is still loading; retry in a moment"))
		return
	}
	tickets, next := s.view.list(f, after, limit)
	httpapi.WriteJSON(w, http.StatusOK, ListResponse{Queue: f.Queue, Tickets: tickets, NextCursor: next, Counts: s.view.count(f.Queue, s.now())})
}

// mine lists the open tickets the caller submitted (support staff's "my
// tickets"), in queue order.
func (s *Service) mine(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"tickets": s.openTicketsOf(p)})
}

// openTicketsOf lists the open tickets p submitted, in queue order, as p's
// role may see them (the API's "mine" and the "my tickets" page).
func (s *Service) openTicketsOf(p auth.Principal) []Summary {
	out := []Summary{}
	for _, q := range []string{events.QueueEscalation, events.QueueSupport} {
		page, _ := s.view.list(Filter{Queue: q, Reporter: p.Name}, nil, maxLimit)
		out = append(out, page...)
	}
	return supportSummaries(out, p)
}

// search finds tickets, closed ones too, by id or tenant.
func (s *Service) search(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.From(r.Context())
	q := r.URL.Query()
	var out []Summary
	switch {
	case q.Get("id") != "":
		rec, _, err := s.st.current(r.Context(), q.Get("id"))
		if err == nil {
			out = []Summary{summarize(rec)}
		} else if !errors.Is(err, errNoTicket) {
			httpapi.WriteError(w, r, err)
			return
		}
	case q.Get("tenant") != "":
		var err error
		if out, err = s.st.byTenant(r.Context(), q.Get("tenant")); err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
	default:
		httpapi.WriteError(w, r, badParam("tenant", "give tenant= or id="))
		return
	}
	if out == nil {
		out = []Summary{}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"tickets": supportSummaries(out, p)})
}

// supportSummaries leaves out what support staff must not see in a list:
// nothing a summary holds is raw logs, but the error-log count and
// suggestions are for engineers.
func supportSummaries(list []Summary, p auth.Principal) []Summary {
	if p.Role.Includes(auth.RoleEngineer) {
		return list
	}
	out := make([]Summary, len(list))
	for i, s := range list {
		s.ErrorLogs, s.RouterSuggests = 0, ""
		out[i] = s
	}
	return out
}

func etag(r *Record) string { return strconv.Quote(strconv.FormatUint(r.Version, 10)) }

// ticket returns one ticket as the caller's role may see it. With ?wait=5s
// it waits that long for a ticket that is not queued yet.
func (s *Service) ticket(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > s.cfg.MaxWait {
			httpapi.WriteError(w, r, badParam("wait", "must be a duration up to %s, such as 5s", s.cfg.MaxWait))
			return
		}
		// The wait ends early when the service stops, so a long poll never
		// holds a shutdown up.
		sctx, stop := httpapi.UntilStopping(r.Context())
		wctx, cancel := context.WithTimeout(sctx, d)
		found := s.view.wait(wctx, id)
		cancel()
		stop()
		if !found && httpapi.IsStopping(r.Context()) {
			httpapi.ShuttingDown(w, r)
			return
		}
	}
	rec, _, err := s.st.current(r.Context(), id)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client left while it waited: nothing to answer
		}
		httpapi.WriteError(w, r, ticketError(id, err))
		return
	}
	p, _ := auth.From(r.Context())
	w.Header().Set("ETag", etag(rec))
	httpapi.WriteJSON(w, http.StatusOK, viewFor(rec, p))
}

func ticketError(id string, err error) error {
	switch {
	case errors.Is(err, errNoTicket):
		return httpapi.Errorf(httpapi.CodeTicketNotQueued, "ticket %s is not in a queue (yet); intake's /api/v1/tickets/%s shows where it is", id, id)
	case errors.Is(err, errNewerEvent):
		return httpapi.Errorf(httpapi.CodeNewerVersion, "ticket %s's history holds events of a newer version than this replica; retry (a newer replica answers)", id)
	}
	return err
}

// SupportView is a ticket as support staff see it: where it is, who has
// it, what engineers told them, and its GitHub issue; never logs, log
// excerpts, user ids or extracted identifiers.
type SupportView struct {
	ID             string     `json:"id"`
	Subject        string     `json:"subject"`
	Description    string     `json:"description"`
	TenantID       string     `json:"tenant_id"`
	Reporter       string     `json:"reporter,omitempty"`
	SubmittedAt    time.Time  `json:"submitted_at"`
	Queue          string     `json:"queue"`
	Status         string     `json:"status"`
	Severity       string     `json:"severity"`
	Component      string     `json:"component"`
	Assignee       string     `json:"assignee,omitempty"`
	Incident       string     `json:"incident,omitempty"`
	LogsStatus     string     `json:"logs_status"`
	Bug            *BugLink   `json:"bug,omitempty"`
	SupportMessage string     `json:"support_message,omitempty"`
	SLA            SLA        `json:"sla"`
	Version        uint64     `json:"version"`
	UpdatedAt      time.Time  `json:"updated_at"`
	Reroute        *Reroute   `json:"reroute,omitempty"`
	Routing        SupportWhy `json:"routing"`
}

// SupportWhy is the routing outcome support staff see.
type SupportWhy struct {
	Technical bool   `json:"technical"`
	Queue     string `json:"queue"`
}

func viewFor(r *Record, p auth.Principal) any {
	if p.Role.Includes(auth.RoleEngineer) {
		return r // everything; its version is the ETag
	}
	return supportView(r)
}

func supportView(r *Record) SupportView {
	return SupportView{
		ID: r.Ticket.ID, Subject: r.Ticket.Subject, Description: r.Ticket.Description, TenantID: r.Ticket.TenantID,
		Reporter: r.Ticket.Reporter, SubmittedAt: r.Ticket.SubmittedAt, Queue: r.Queue, Status: r.Status,
		Severity: r.Routing.Severity, Component: r.Routing.Component, Assignee: r.Assignee, Incident: r.Routing.Incident,
		LogsStatus: string(r.Enrichment.LogsStatus), Bug: r.Bug, SupportMessage: r.SupportMessage, SLA: r.SLA,
		Version: r.Version, UpdatedAt: r.UpdatedAt, Reroute: r.Reroute,
		Routing: SupportWhy{Technical: r.Routing.Technical, Queue: r.Routing.Queue},
	}
}

// HistoryEntry is one event in a ticket's history.
type HistoryEntry struct {
	Seq   uint64       `json:"seq"`
	Type  string       `json:"type"`
	At    time.Time    `json:"at"`
	Actor events.Actor `json:"actor"`
	// Text is the entry in English; pages say Phrase in their language.
	Text   string `json:"text"`
	Detail string `json:"detail,omitempty"`
	// Internal entries are for engineers only.
	Internal bool   `json:"internal,omitempty"`
	Phrase   phrase `json:"-"`
}

func (s *Service) historyAPI(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, _, err := s.st.current(r.Context(), id); err != nil {
		httpapi.WriteError(w, r, ticketError(id, err))
		return
	}
	p, _ := auth.From(r.Context())
	h, err := s.history(r.Context(), id, p)
	for i := 0; err == nil && i < len(h); i++ {
		// The API says it in English; pages say the phrase in their
		// reader's language.
		h[i].Text, err = s.pages.phrase(defaultLanguage, h[i].Phrase)
	}
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"history": h})
}

// logsAPI returns the ticket's attached logs to an engineer, and records
// the read in the ticket's history first: logs can hold customers'
// personal data, and who read them must leave a trace.
func (s *Service) logsAPI(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rec, _, err := s.st.current(r.Context(), id)
	if err != nil {
		httpapi.WriteError(w, r, ticketError(id, err))
		return
	}
	logs, err := s.readLogs(r.Context(), rec)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"logs": logs, "signatures": rec.Enrichment.Signatures, "discover_url": rec.Enrichment.DiscoverURL,
	})
}

// readLogs records the read, then reads the logs.
func (s *Service) readLogs(ctx context.Context, rec *Record) ([]events.LogEntry, error) {
	p, _ := auth.From(ctx)
	logs, err := s.st.logs(ctx, rec)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	ev := events.TicketLogsViewed{Action: events.Action{SchemaVersion: events.SchemaVersion, TicketID: rec.Ticket.ID, Actor: actorOf(p), At: now}, Logs: len(logs)}
	if err := s.publish(ctx, events.SubjectLogsViewed, events.TypeTicketLogsViewed, rec.Ticket.ID, now, ev, nil); err != nil {
		return nil, fmt.Errorf("record the logs read: %w", err)
	}
	if logs == nil {
		logs = []events.LogEntry{}
	}
	return logs, nil
}

// decodeBody reads a small JSON body strictly.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 256<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return httpapi.Errorf(httpapi.CodeBodyTooLarge, "the body is larger than %d bytes", mbe.Limit)
		}
		return httpapi.Errorf(httpapi.CodeInvalidJSON, "the body must be one JSON object: %v", err)
	}
	return nil
}

func (s *Service) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") || r.Header.Get("Accept") == "application/json" {
		httpapi.NotFound(w, r)
		return
	}
	s.notFoundPage(w, r)
}
