package queue

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
	"github.com/triage-pipeline/triage/libs/incidents"
)

// Incidents: the router groups storms into them (and links tickets to the
// declared ones); people own, resolve, split, merge, declare and confirm
// bugs on them here. Every change is a compare-and-set on the incident's
// record (incidents.Store), the router's writes included, so neither
// overwrites the other. What an incident decision means for its tickets
// (resolved with one message, linked to one bug) is carried out by
// settleIncidents from the incident's record, on every replica, again
// after a crash: each ticket's own compare-and-set makes it happen once.

// IncidentView is an incident as the API shows it: its own tickets plus
// those of the incidents merged into it.
type IncidentView struct {
	events.Incident
	// Total counts its tickets and those of the incidents merged into it.
	Total int `json:"total"`
	// OpenTickets are its tickets still open in the queue, first ones
	// first (at most one page).
	OpenTickets []Summary `json:"open_tickets"`
}

// incidentRequest is the body of the incident actions and declarations.
type incidentRequest struct {
	Message     string    `json:"message,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	TicketID    string    `json:"ticket_id,omitempty"`
	Into        string    `json:"into,omitempty"`
	Title       string    `json:"title,omitempty"`
	Notes       string    `json:"notes,omitempty"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	Component   string    `json:"component,omitempty"`
	Symptom     string    `json:"symptom,omitempty"`
	Severity    string    `json:"severity,omitempty"`
	StartsAt    time.Time `json:"starts_at,omitzero"`
	EndsAt      time.Time `json:"ends_at,omitzero"`
}

const maxSupportMessage = 2000

func (s *Service) istore() incidents.Store { return incidents.Store{KV: s.st.incidents} }

func incidentErr(id string, err error) error {
	if errors.Is(err, incidents.ErrNotFound) {
		return httpapi.Errorf(httpapi.CodeIncidentNotFound, "no incident %q; GET /api/v1/incidents lists the open ones", id)
	}
	return err
}

// incident reads an incident by id from the bucket (not the view, which
// may not have a change this replica just wrote: a person reads their own
// writes).
func (s *Service) incident(ctx context.Context, id string) (events.Incident, error) {
	inc, _, _, err := s.istore().Get(ctx, id)
	return inc, incidentErr(id, err)
}

// family is the incident's id and those of the incidents merged into it:
// the tickets linked to it are the tickets of any of them.
func family(inc events.Incident) []string { return append([]string{inc.ID}, inc.Merged...) }

// linkedOpen lists the tickets of the incident and of those merged into
// it that are still being worked (not resolved, fixed or closed), in queue
// order, at most limit (0: all).
func (s *Service) linkedOpen(inc events.Incident, limit int) []Summary {
	f := Filter{Incidents: family(inc)}
	var out []Summary
	var after *sortKey
	for {
		page, next := s.view.list(f, after, maxLimit)
		for _, sm := range page {
			if !settled(sm.Status) {
				out = append(out, sm)
			}
		}
		if next == "" || (limit > 0 && len(out) >= limit) {
			break
		}
		k := keyOf(page[len(page)-1])
		after = &k
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// totalOf counts the incident's tickets and those of the incidents merged
// into it (a merged one is its group's current incident: it goes on
// collecting).
func (s *Service) totalOf(inc events.Incident) int {
	n := inc.Count
	for _, id := range inc.Merged {
		if m, ok := s.incidents.Current(id); ok {
			n += m.Count
		}
	}
	return n
}

// viewOf adds what the API shows beside the record.
func (s *Service) viewOf(inc events.Incident) IncidentView {
	return IncidentView{Incident: inc, Total: s.totalOf(inc), OpenTickets: s.linkedOpen(inc, defaultLimit)}
}

// listIncidents answers GET /api/v1/incidents: the incidents open now.
func (s *Service) listIncidents(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"incidents": s.liveViews()})
}

// liveViews lists the incidents open now, each with its total.
func (s *Service) liveViews() []IncidentView {
	live := s.incidents.Live(s.now())
	out := make([]IncidentView, len(live))
	for i, inc := range live {
		out[i] = IncidentView{Incident: inc, Total: s.totalOf(inc)}
	}
	return out
}

// DeclaredNotice is what support staff see of a declared incident.
type DeclaredNotice struct {
	ID        string    `json:"id"`
	Component string    `json:"component"`
	Symptom   string    `json:"symptom"`
	Message   string    `json:"message"`
	StartsAt  time.Time `json:"starts_at"`
}

// declaredNotices are the live declared incidents, newest first.
func (s *Service) declaredNotices() []DeclaredNotice {
	now := s.now()
	out := []DeclaredNotice{}
	for _, inc := range s.incidents.Select(func(inc events.Incident) bool { return inc.Declared != nil && inc.Live(now) }) {
		d := inc.Declared
		out = append(out, DeclaredNotice{ID: inc.ID, Component: inc.Component, Symptom: d.Symptom, Message: d.Message, StartsAt: d.StartsAt})
	}
	slices.SortStableFunc(out, func(a, b DeclaredNotice) int { return b.StartsAt.Compare(a.StartsAt) })
	return out
}

// listDeclared answers GET /api/v1/incidents/declared, for support staff.
func (s *Service) listDeclared(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"declared": s.declaredNotices()})
}

// getIncident answers GET /api/v1/incidents/{iid}.
func (s *Service) getIncident(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("iid")
	inc, err := s.incident(r.Context(), id)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, s.viewOf(inc))
}

// incidentAction is one person's change to an incident: it checks the
// request against the record and changes it (a pure function of the record,
// re-run if another writer got in first).
type incidentAction struct {
	name  string
	check func(s *Service, req *incidentRequest) error
	apply func(inc *events.Incident, p auth.Principal, req incidentRequest, at time.Time) error
}

func ownsIncident(inc *events.Incident, p auth.Principal) error {
	switch {
	case inc.Owner == p.Name || (p.Role.Includes(auth.RoleAdmin) && inc.Owner != ""):
		return nil
	case inc.Owner == "":
		return httpapi.Errorf(httpapi.CodeNotOwner, "nobody owns incident %s; claim it first", inc.ID)
	}
	return httpapi.Errorf(httpapi.CodeNotOwner, "incident %s is owned by %s; only they (or an admin) can do this", inc.ID, inc.Owner)
}

// stillOpen refuses changes to an incident that was resolved or merged.
func stillOpen(inc *events.Incident) error {
	switch {
	case inc.Resolution != nil:
		return httpapi.Errorf(httpapi.CodeInvalidTransition, "incident %s was resolved by %s at %s", inc.ID, inc.Resolution.By.Name, inc.Resolution.At.Format(time.RFC3339))
	case inc.MergedInto != "":
		return httpapi.Errorf(httpapi.CodeInvalidTransition, "incident %s was merged into %s; act on that one", inc.ID, inc.MergedInto)
	}
	return nil
}

var (
	incClaim = incidentAction{name: "claim", apply: func(inc *events.Incident, p auth.Principal, _ incidentRequest, at time.Time) error {
		if err := stillOpen(inc); err != nil {
			return err
		}
		switch inc.Owner {
		case p.Name:
			return httpapi.Errorf(httpapi.CodeAlreadyClaimed, "you already own incident %s", inc.ID)
		case "":
			inc.Owner, inc.UpdatedAt = p.Name, at
			return nil
		}
		return httpapi.Errorf(httpapi.CodeAlreadyClaimed, "incident %s is already owned by %s", inc.ID, inc.Owner)
	}}
	incRelease = incidentAction{name: "release", apply: func(inc *events.Incident, p auth.Principal, _ incidentRequest, at time.Time) error {
		if err := ownsIncident(inc, p); err != nil {
			return err
		}
		inc.Owner, inc.UpdatedAt = "", at
		return nil
	}}
	incResolve = incidentAction{name: "resolve",
		check: func(_ *Service, req *incidentRequest) error {
			return text("message", req.Message, maxSupportMessage, true)
		},
		apply: func(inc *events.Incident, p auth.Principal, req incidentRequest, at time.Time) error {
			if err := stillOpen(inc); err != nil {
				return err
			}
			if err := ownsIncident(inc, p); err != nil {
				return err
			}
			inc.Resolution = &events.IncidentResolution{By: actorOf(p), At: at, Message: strings.TrimSpace(req.Message)}
			inc.UpdatedAt = at
			return nil
		}}
	incConfirmBug = incidentAction{name: "confirm-bug",
		check: func(s *Service, req *incidentRequest) error {
			req.Fingerprint = strings.ToLower(strings.TrimSpace(req.Fingerprint))
			if req.Fingerprint != "" && !fingerprintPattern.MatchString(req.Fingerprint) {
				return fieldErr("fingerprint", httpapi.FieldInvalidFormat, "3-64 lowercase letters, digits, '-' or '_'")
			}
			if err := text("title", req.Title, maxTitle, false); err != nil {
				return err
			}
			return text("notes", req.Notes, s.cfg.MaxComment, false)
		},
		apply: func(inc *events.Incident, p auth.Principal, req incidentRequest, at time.Time) error {
			if err := stillOpen(inc); err != nil {
				return err
			}
			if err := ownsIncident(inc, p); err != nil {
				return err
			}
			if inc.Bug != nil {
				return httpapi.Errorf(httpapi.CodeInvalidTransition, "a bug was confirmed on incident %s already (%s, by %s)", inc.ID, inc.Bug.Fingerprint, inc.Bug.By.Name)
			}
			inc.Bug = &events.IncidentBug{Fingerprint: incidentFingerprint(*inc, req.Fingerprint), Title: incidentTitle(*inc, req.Title),
				Notes: req.Notes, By: actorOf(p), At: at}
			inc.UpdatedAt = at
			return nil
		}}
	incSplit = incidentAction{name: "split",
		check: func(_ *Service, req *incidentRequest) error {
			if !ticketIDPattern.MatchString(req.TicketID) {
				return fieldErr("ticket_id", httpapi.FieldInvalidValue, "%q is not a ticket id", req.TicketID)
			}
			return text("reason", req.Reason, maxReason, true)
		},
		apply: func(inc *events.Incident, _ auth.Principal, req incidentRequest, at time.Time) error {
			// A merged incident holds its own tickets; the one it joined
			// was found open before.
			if inc.Resolution != nil {
				return stillOpen(inc)
			}
			if slices.Contains(inc.Split, req.TicketID) {
				return nil // split before (a retry): the ticket's event may still be missing
			}
			inc.Split = append(inc.Split, req.TicketID)
			if i := slices.Index(inc.Tickets, req.TicketID); i >= 0 {
				inc.Tickets = slices.Delete(inc.Tickets, i, i+1)
			}
			inc.Count = max(inc.Count-1, 0)
			inc.UpdatedAt = at
			return nil
		}}
)

// incidentFingerprint is the bug's fingerprint: the engineer's, or the
// component with the incident's signature, as a ticket's confirmation
// would give, so a ticket confirmed alone meets the incident on one issue.
func incidentFingerprint(inc events.Incident, given string) string {
	comp := cmp.Or(inc.Component, "other")
	switch {
	case given != "":
		return given
	case inc.Signature != "":
		return comp + "-" + inc.Signature
	}
	sum := sha256.Sum256([]byte(inc.Key))
	return comp + "-" + hex.EncodeToString(sum[:6])
}

func incidentTitle(inc events.Incident, given string) string {
	if t := strings.TrimSpace(given); t != "" {
		return t
	}
	what := inc.Template
	if inc.Declared != nil {
		what = inc.Declared.Symptom
	}
	if what == "" {
		what = fmt.Sprintf("incident %s (%d tickets)", inc.ID, inc.Count)
	}
	return truncateRunes("["+cmp.Or(inc.Component, "other")+"] "+what, maxTitle)
}

// incidentHandler runs one incident action for the API.
func (s *Service) incidentHandler(a incidentAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var req incidentRequest
		if r.ContentLength != 0 {
			if err := decodeBody(r, &req); err != nil {
				httpapi.WriteError(w, r, err)
				return
			}
		}
		id := r.PathValue("iid")
		p, _ := auth.From(ctx)
		inc, err := s.runIncidentAction(ctx, id, a, p, req)
		if err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, s.viewOf(inc))
	}
}

func (s *Service) runIncidentAction(ctx context.Context, id string, a incidentAction, p auth.Principal, req incidentRequest) (events.Incident, error) {
	outcome := "refused"
	defer func() { s.metrics.actions.WithLabelValues("incident-"+a.name, outcome).Inc() }()
	if a.check != nil {
		if err := a.check(s, &req); err != nil {
			return events.Incident{}, err
		}
	}
	if a.name == incSplit.name {
		// The ticket must be one of the incident's, which must be open.
		// The split is written where the ticket came in: this incident
		// or one merged into it, whose record the router keeps adding to.
		rec, _, err := s.st.current(ctx, req.TicketID)
		if err != nil {
			return events.Incident{}, ticketError(req.TicketID, err)
		}
		inc, err := s.incident(ctx, id)
		if err != nil {
			return events.Incident{}, err
		}
		if err := stillOpen(&inc); err != nil {
			return events.Incident{}, err
		}
		if !slices.Contains(family(inc), rec.Routing.Incident) && !slices.Contains(inc.Split, req.TicketID) {
			return events.Incident{}, httpapi.Errorf(httpapi.CodeInvalidTransition, "ticket %s is not in incident %s", req.TicketID, id)
		}
		if rec.Routing.Incident != "" {
			id = rec.Routing.Incident
		}
	}
	at := s.now().UTC()
	inc, err := s.istore().Update(ctx, id, func(inc *events.Incident) error { return a.apply(inc, p, req, at) })
	if err != nil {
		return events.Incident{}, incidentErr(id, err)
	}
	if a.name == incSplit.name {
		if err := s.splitTicket(ctx, req.TicketID, id, p, req.Reason); err != nil {
			return events.Incident{}, err
		}
	}
	outcome = "done"
	s.Log.Info("incident "+a.name, zap.String("incident", id), zap.String("by", p.Name))
	s.settleSoon(inc.ID)
	return inc, nil
}

// actSplit records on the ticket that a person took it out of its
// incident.
func actSplit(from string) actionKind {
	return actionKind{"split", func(_ context.Context, _ *Service, r *Record, p auth.Principal, req ActionRequest, at time.Time) (draft, error) {
		if r.Routing.Incident != from {
			return draft{}, errSettled
		}
		return draft{events.SubjectIncidentChanged, events.TypeTicketIncidentChanged,
			events.TicketIncidentChanged{Action: base(r, p, at, req.Reason), From: from}}, nil
	}}
}

// errSettled: the ticket is as the incident wants it already.
var errSettled = errors.New("nothing to do")

func (s *Service) splitTicket(ctx context.Context, ticket, from string, p auth.Principal, reason string) error {
	_, err := s.act(ctx, ticket, p, "*", actSplit(from), ActionRequest{Reason: reason})
	if errors.Is(err, errSettled) {
		return nil
	}
	return err
}

// mergeIncidents answers POST /api/v1/incidents/{iid}/merge: the incident
// joins another (into); its tickets, present and future, count there.
func (s *Service) mergeIncidents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req incidentRequest
	if err := decodeBody(r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	from := r.PathValue("iid")
	p, _ := auth.From(ctx)
	inc, err := s.merge(ctx, from, req.Into, p, req.Reason)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, s.viewOf(inc))
}

func (s *Service) merge(ctx context.Context, from, into string, p auth.Principal, reason string) (events.Incident, error) {
	outcome := "refused"
	defer func() { s.metrics.actions.WithLabelValues("incident-merge", outcome).Inc() }()
	if err := text("reason", reason, maxReason, true); err != nil {
		return events.Incident{}, err
	}
	if into == "" {
		return events.Incident{}, fieldErr("into", httpapi.FieldRequired, "is required: the incident to merge this one into")
	}
	if into == from {
		return events.Incident{}, fieldErr("into", httpapi.FieldInvalidValue, "an incident cannot be merged into itself")
	}
	target, _, _, err := s.istore().Get(ctx, into)
	if errors.Is(err, incidents.ErrNotFound) {
		return events.Incident{}, fieldErr("into", httpapi.FieldInvalidValue, "no incident %q to merge into", into)
	}
	if err != nil {
		return events.Incident{}, err
	}
	if err := stillOpen(&target); err != nil {
		return events.Incident{}, err
	}
	at := s.now().UTC()
	// The merged one first: from then on its tickets count in the target,
	// and a crash before the target lists it is repaired by merging again.
	_, err = s.istore().Update(ctx, from, func(inc *events.Incident) error {
		switch {
		case inc.MergedInto == into:
			return nil
		case len(inc.Merged) > 0:
			return httpapi.Errorf(httpapi.CodeInvalidTransition, "incident %s has incidents merged into it (%s); merge %s into %s instead", from, strings.Join(inc.Merged, ", "), into, from)
		}
		if err := stillOpen(inc); err != nil {
			return err
		}
		inc.MergedInto, inc.UpdatedAt = into, at
		return nil
	})
	if err != nil {
		return events.Incident{}, incidentErr(from, err)
	}
	out, err := s.istore().Update(ctx, into, func(inc *events.Incident) error {
		if err := stillOpen(inc); err != nil {
			return err
		}
		if !slices.Contains(inc.Merged, from) {
			inc.Merged = append(inc.Merged, from)
		}
		inc.UpdatedAt = at
		return nil
	})
	if err != nil {
		// The target was resolved or merged meanwhile (two people merging
		// both ways at once): undo the first half, or the merged one would
		// point at an incident that does not list it.
		if _, uerr := s.istore().Update(ctx, from, func(inc *events.Incident) error {
			if inc.MergedInto == into {
				inc.MergedInto = ""
			}
			return nil
		}); uerr != nil {
			s.Log.Error("merge half done: undo failed", zap.String("incident", from), zap.String("into", into), zap.Error(uerr))
		}
		return events.Incident{}, incidentErr(into, err)
	}
	outcome = "done"
	s.Log.Info("incidents merged", zap.String("incident", from), zap.String("into", into), zap.String("by", p.Name), zap.String("reason", reason))
	return out, nil
}

// declare answers POST /api/v1/incidents: an engineer declares an incident
// ahead of the tickets; new matching tickets link to it.
func (s *Service) declare(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req incidentRequest
	if err := decodeBody(r, &req); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	p, _ := auth.From(ctx)
	d, sev, err := s.declaration(req, p)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	inc, created, err := s.declareIncident(ctx, req.Component, sev, "", d)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpapi.WriteJSON(w, status, s.viewOf(inc))
}

func (s *Service) declaration(req incidentRequest, p auth.Principal) (events.Declaration, string, error) {
	req.Component, req.Symptom = strings.TrimSpace(req.Component), strings.TrimSpace(req.Symptom)
	if !slices.Contains(events.Components(), req.Component) {
		return events.Declaration{}, "", fieldErr("component", httpapi.FieldInvalidValue, "must be one of %s", strings.Join(events.Components(), ", "))
	}
	if err := text("symptom", req.Symptom, maxTitle, true); err != nil {
		return events.Declaration{}, "", err
	}
	if err := text("message", req.Message, maxSupportMessage, true); err != nil {
		return events.Declaration{}, "", err
	}
	sev := cmp.Or(req.Severity, "P2")
	if !slices.Contains(events.Severities(), sev) {
		return events.Declaration{}, "", fieldErr("severity", httpapi.FieldInvalidValue, "must be one of %s", strings.Join(events.Severities(), ", "))
	}
	now := s.now().UTC()
	starts := req.StartsAt
	if starts.IsZero() {
		starts = now
	}
	if !req.EndsAt.IsZero() && !req.EndsAt.After(starts) {
		return events.Declaration{}, "", fieldErr("ends_at", httpapi.FieldInvalidValue, "must be after starts_at (%s)", starts.Format(time.RFC3339))
	}
	name := req.Component + ":" + strings.ToLower(req.Symptom)
	return events.Declaration{Source: events.DeclaredByEngineer, By: actorOf(p), Name: name, Symptom: req.Symptom,
		Message: strings.TrimSpace(req.Message), StartsAt: starts.UTC(), EndsAt: req.EndsAt.UTC()}, sev, nil
}

// declareIncident creates the declared incident, or updates the live one
// with the same name (a repeated alert, a corrected message).
func (s *Service) declareIncident(ctx context.Context, component, severity, runbook string, d events.Declaration) (events.Incident, bool, error) {
	now := s.now().UTC()
	fresh := events.Incident{Component: component, Severity: severity, Open: true, OpenedAt: &now,
		Tickets: []string{}, Tenants: []string{}, FirstSeen: now, LastSeen: now, Until: d.EndsAt, UpdatedAt: now,
		Reason: fmt.Sprintf("declared by %s (%s): %s", d.By.Name, d.Source, d.Symptom), Declared: &d, Runbook: runbook}
	update := func(inc *events.Incident) {
		keep := inc.Declared
		inc.Declared = &d
		if keep != nil {
			inc.Declared.StartsAt = keep.StartsAt
		}
		inc.Severity, inc.Until, inc.UpdatedAt = severity, d.EndsAt, now
		inc.Reason = fresh.Reason
		if runbook != "" {
			inc.Runbook = runbook
		}
	}
	inc, created, err := s.istore().Declare(ctx, incidents.DeclaredGroup(d), fresh, update)
	if err != nil {
		return events.Incident{}, false, err
	}
	s.incidents.Put(incidents.GroupKey(inc.Key), inc) // seen at once by this replica's pages
	s.Log.Info("incident declared", zap.String("incident", inc.ID), zap.String("source", d.Source),
		zap.String("component", component), zap.Bool("new", created))
	return inc, created, nil
}

// --- carrying out incident decisions on their tickets ---

// settleQueue holds the incidents to look at: a set, so a storm's
// thousand writes to one incident make one look, and none is dropped.
type settleQueue struct {
	mu   sync.Mutex
	ids  map[string]bool
	wake chan struct{}
}

func newSettleQueue() *settleQueue {
	return &settleQueue{ids: map[string]bool{}, wake: make(chan struct{}, 1)}
}

func (q *settleQueue) add(id string) {
	q.mu.Lock()
	q.ids[id] = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

func (q *settleQueue) take() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]string, 0, len(q.ids))
	for id := range q.ids {
		out = append(out, id)
	}
	clear(q.ids)
	return out
}

// settleSoon asks settleIncidents to look at the incident now.
func (s *Service) settleSoon(id string) { s.settle.add(id) }

// settleSweep is how often every current incident is looked at again, for
// decisions a crash left half done and tickets that joined since.
const settleSweep = time.Minute

// settleIncidents carries out incidents' decisions on their tickets.
func (s *Service) settleIncidents(ctx context.Context) error {
	tick := time.NewTicker(settleSweep)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.settle.wake:
			for _, id := range s.settle.take() {
				s.settleIncident(ctx, id)
			}
		case <-tick.C:
			now := s.now()
			for _, inc := range s.incidents.Select(func(inc events.Incident) bool { return inc.NeedsLook(now) }) {
				s.settleIncident(ctx, inc.ID)
			}
		}
	}
}

// settleIncident brings the incident's open tickets in line with it: a
// confirmed bug confirmed on each, a resolution resolving each with its
// message; and pages for it, or resolves its page. Failures are logged; the
// sweep (or the next change) tries again. Once a resolution is carried out
// everywhere, the incident is marked settled and left alone.
func (s *Service) settleIncident(ctx context.Context, id string) {
	// From the bucket, not the view: the view may not have the decision
	// that asked for this look yet.
	inc, _, _, err := s.istore().Get(ctx, id)
	if err != nil {
		s.Log.Warn("incident to settle not found", zap.String("incident", id), zap.Error(err))
		return
	}
	done := true
	if s.pager != nil {
		if err := s.pager.Handle(ctx, inc, s.publicURL()+"/incidents/"+inc.ID); err != nil {
			s.Log.Warn("page not sent; retried on the next sweep", zap.String("incident", inc.ID), zap.Error(err))
			done = false
		}
	}
	if inc.MergedInto != "" {
		// Its tickets are the target's to settle.
		if inc.Resolution != nil && inc.SettledAt == nil && done {
			s.markSettled(ctx, inc.ID)
		}
		s.settleSoon(inc.MergedInto)
		return
	}
	if inc.SettledAt != nil || (inc.Resolution == nil && inc.Bug == nil) {
		return
	}
	if inc.Resolution != nil {
		// Incidents merged into a resolved one end with it, so their
		// group's next tickets start a new incident instead of joining.
		for _, m := range inc.Merged {
			_, err := s.istore().Update(ctx, m, func(mi *events.Incident) error {
				if mi.Resolution != nil {
					return errSettled
				}
				res := *inc.Resolution
				mi.Resolution, mi.UpdatedAt = &res, res.At
				return nil
			})
			if err != nil && !errors.Is(err, errSettled) {
				s.Log.Warn("merged incident not resolved", zap.String("incident", m), zap.Error(err))
				done = false
			}
		}
	}
	var bug *events.BugReport // built when a ticket first needs it
	for _, t := range s.linkedOpen(inc, 0) {
		if slices.Contains(inc.Split, t.ID) {
			continue
		}
		if inc.Bug != nil && t.BugState == "" && inc.Resolution == nil {
			if bug == nil {
				b := s.incidentBugReport(ctx, inc)
				bug = &b
			}
			done = s.settleTicket(ctx, t.ID, inc.Bug.By, actIncidentBug(inc, *bug)) && done
		}
		if inc.Resolution != nil {
			done = s.settleTicket(ctx, t.ID, inc.Resolution.By, actIncidentResolved(inc)) && done
		}
	}
	// A ticket routed into the incident just before its resolution may
	// reach the queue's view a moment later: looks go on for a while.
	if inc.Resolution != nil && done && s.now().After(inc.Resolution.At.Add(settleGrace)) {
		s.markSettled(ctx, inc.ID)
	}
}

// settleGrace is how long after a resolution its incident is still looked
// at (every sweep) for tickets that were on their way.
const settleGrace = 2 * time.Minute

func (s *Service) markSettled(ctx context.Context, id string) {
	at := s.now().UTC()
	if _, err := s.istore().Update(ctx, id, func(inc *events.Incident) error {
		if inc.SettledAt == nil {
			inc.SettledAt = &at
		}
		return nil
	}); err != nil {
		s.Log.Warn("incident not marked settled; looked at again", zap.String("incident", id), zap.Error(err))
	}
}

// settleTicket applies an incident's decision to one ticket and reports
// whether the ticket is as the incident wants it.
func (s *Service) settleTicket(ctx context.Context, ticket string, by events.Actor, kind actionKind) bool {
	p := auth.Principal{Name: by.Name, Role: auth.Role(by.Role)}
	if _, err := s.act(ctx, ticket, p, "*", kind, ActionRequest{}); err != nil && !errors.Is(err, errSettled) {
		s.Log.Warn("incident decision not applied to ticket; retried on the next sweep",
			zap.String("ticket_id", ticket), zap.String("action", kind.name), zap.Error(err))
		return false
	}
	return true
}

// belongs says whether the ticket is one of the incident's (or of those
// merged into it) for its decisions: not split out, and listed in it or
// routed before it was resolved (a merged incident's later tickets are
// not).
func belongs(r *Record, inc events.Incident) bool {
	if !slices.Contains(family(inc), r.Routing.Incident) || slices.Contains(inc.Split, r.Ticket.ID) {
		return false
	}
	return inc.Resolution == nil || slices.Contains(inc.Tickets, r.Ticket.ID) || !r.Routing.RoutedAt.After(inc.Resolution.At)
}

// actIncidentResolved resolves one of a resolved incident's tickets with
// the incident's message.
func actIncidentResolved(inc events.Incident) actionKind {
	res := *inc.Resolution
	return actionKind{"incident-resolve", func(_ context.Context, _ *Service, r *Record, p auth.Principal, _ ActionRequest, _ time.Time) (draft, error) {
		if settled(r.Status) || !belongs(r, inc) {
			return draft{}, errSettled
		}
		return draft{events.SubjectStatusChanged, events.TypeTicketStatusChanged, events.TicketStatusChanged{
			Action: base(r, p, res.At, "incident "+inc.ID+" resolved"), From: r.Status, To: StatusResolved, Message: res.Message}}, nil
	}}
}

// actIncidentBug confirms an incident's bug on one of its tickets.
func actIncidentBug(inc events.Incident, bug events.BugReport) actionKind {
	return actionKind{"incident-bug", func(_ context.Context, _ *Service, r *Record, p auth.Principal, _ ActionRequest, at time.Time) (draft, error) {
		if settled(r.Status) || r.Bug != nil || !belongs(r, inc) {
			return draft{}, errSettled
		}
		return draft{events.SubjectBugConfirmed, events.TypeTicketBugConfirmed,
			events.TicketBugConfirmed{Action: base(r, p, at, "bug confirmed on incident "+inc.ID), Bug: bug}}, nil
	}}
}

// maxReported bounds the customers' words an incident's bug report quotes.
const maxReported = 5

// incidentBugReport is one report for the whole incident: every ticket,
// tenant and the first customers' words, under one fingerprint.
func (s *Service) incidentBugReport(ctx context.Context, inc events.Incident) events.BugReport {
	b := inc.Bug
	rep := events.BugReport{Fingerprint: b.Fingerprint, Title: b.Title, Severity: inc.Severity, Component: cmp.Or(inc.Component, "other"),
		TicketIDs: slices.Clone(inc.Tickets), Tenants: slices.Clone(inc.Tenants), FirstSeen: inc.FirstSeen, LastSeen: inc.LastSeen,
		Notes: b.Notes, TicketURL: s.publicURL() + "/incidents/" + inc.ID}
	if inc.Signature != "" {
		rep.Signatures = []events.Signature{{ID: inc.Signature, Template: inc.Template, Services: inc.Services,
			Count: inc.Count, FirstSeen: inc.FirstSeen, LastSeen: inc.LastSeen}}
	}
	for _, id := range inc.Tickets {
		if len(rep.Reported) == maxReported {
			break
		}
		if r, _, err := s.st.current(ctx, id); err == nil {
			rep.Reported = append(rep.Reported, r.Ticket.Subject+"\n"+r.Ticket.Description)
		}
	}
	return rep
}
