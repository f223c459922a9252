package queue

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/triage-pipeline/triage/libs/events"
)

// RecordSchemaVersion is the version of the current-state record this code
// writes. A record from a newer version is never written back by this one
// (see Record.writable); fields it does not know are kept when it does
// write.
const RecordSchemaVersion = 1

// Ticket statuses. A ticket starts new; claiming it gives it an owner;
// the owner moves it along; closed tickets leave the active queue.
const (
	StatusNew          = "new"
	StatusClaimed      = "claimed"
	StatusInvestigate  = "investigating"
	StatusWaiting      = "waiting_on_customer"
	StatusResolved     = "resolved"
	StatusNotABug      = "not_a_bug"
	StatusBugConfirmed = "bug_confirmed"
	StatusFixed        = "fixed"
	StatusClosed       = "closed"
)

// Statuses lists every status in the order of the workflow.
func Statuses() []string {
	return []string{StatusNew, StatusClaimed, StatusInvestigate, StatusWaiting, StatusResolved,
		StatusNotABug, StatusBugConfirmed, StatusFixed, StatusClosed}
}

// transitions are the status changes a person may make with the status
// action; claim, release and confirm-bug are actions of their own, and
// fixed comes from GitHub.
func transitions(from string) []string {
	switch from {
	case StatusClaimed, StatusInvestigate, StatusWaiting:
		return without([]string{StatusInvestigate, StatusWaiting, StatusResolved, StatusNotABug}, from)
	case StatusResolved, StatusNotABug, StatusFixed:
		return []string{StatusInvestigate, StatusClosed}
	case StatusBugConfirmed:
		return []string{StatusInvestigate, StatusClosed}
	case StatusClosed:
		return []string{StatusInvestigate}
	}
	return nil // new: claim it first
}

func without(list []string, s string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(x string) bool { return x == s })
}

// working reports whether a status means someone is working the ticket:
// the statuses release returns to new.
func working(status string) bool {
	return status == StatusClaimed || status == StatusInvestigate || status == StatusWaiting
}

// settled reports whether a status ends the work on a ticket (it may stay
// in the active queue until closed).
func settled(status string) bool {
	return status == StatusResolved || status == StatusNotABug || status == StatusFixed || status == StatusClosed
}

// open reports whether a status keeps the ticket in the active queue.
func open(status string) bool { return status != StatusClosed }

// BugLink is the GitHub issue a ticket's bug became.
type BugLink struct {
	Fingerprint string    `json:"fingerprint"`
	State       string    `json:"state"`
	IssueNumber int       `json:"issue_number,omitempty"`
	IssueURL    string    `json:"issue_url,omitempty"`
	Note        string    `json:"note,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// SLA is a ticket's targets and how it stands against them.
type SLA struct {
	ResponseDue        time.Time  `json:"response_due"`
	ResolutionDue      time.Time  `json:"resolution_due"`
	RespondedAt        *time.Time `json:"responded_at,omitempty"`
	ResolvedAt         *time.Time `json:"resolved_at,omitempty"`
	ResponseBreached   bool       `json:"response_breached,omitempty"`
	ResolutionBreached bool       `json:"resolution_breached,omitempty"`
}

// Next is the due time that matters now: the response until someone
// responded, then the resolution; zero once resolved.
func (s SLA) Next() time.Time {
	switch {
	case s.ResolvedAt != nil:
		return time.Time{}
	case s.RespondedAt == nil:
		return s.ResponseDue
	}
	return s.ResolutionDue
}

// NextKind names what Next is due for: "response", "resolution" or "".
func (s SLA) NextKind() string {
	switch {
	case s.ResolvedAt != nil:
		return ""
	case s.RespondedAt == nil:
		return events.SLAResponse
	}
	return events.SLAResolution
}

// Reroute is a person's correction of the router.
type Reroute struct {
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
}

// Record is a ticket's current state, materialised from its events: the
// value in the tickets bucket. It holds no logs: those stay in the routed
// event (RoutedSeq), so no action ever copies them again.
type Record struct {
	SchemaVersion int           `json:"schema_version"`
	Ticket        events.Ticket `json:"ticket"`
	// Enrichment is the enricher's summary without the logs; LogCount says
	// how many are attached.
	Enrichment events.Enrichment `json:"enrichment"`
	LogCount   int               `json:"log_count"`
	// Routing is the router's latest decision; Queue is where the ticket
	// is, which differs when a person re-routed it.
	Routing  events.Routing `json:"routing"`
	Queue    string         `json:"queue"`
	Status   string         `json:"status"`
	Assignee string         `json:"assignee,omitempty"`
	Reroute  *Reroute       `json:"reroute,omitempty"`
	// PersonTouched: a person claimed, re-routed or moved the ticket, so a
	// late routing (logs arrived, a dead letter replayed) only suggests.
	PersonTouched bool `json:"person_touched,omitempty"`
	// RouterSuggests is a later routing that disagrees with where a person
	// put the ticket, shown as "the router now suggests ...".
	RouterSuggests *events.Routing `json:"router_suggests,omitempty"`
	// IncidentSplit: a person took the ticket out of its incident
	// (Routing.Incident is then empty); a late routing does not put it back.
	IncidentSplit bool     `json:"incident_split,omitempty"`
	Bug           *BugLink `json:"bug,omitempty"`
	SLA           SLA      `json:"sla"`
	Comments      int      `json:"comments"`
	// SupportMessage is the latest message engineers left for support
	// staff (a resolution to pass on to the customer).
	SupportMessage string    `json:"support_message,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// Version is the stream sequence of the last event that changed the
	// state: the ETag clients send back in If-Match.
	Version uint64 `json:"version"`
	// LastSeq is the last of the ticket's events folded in (audit-only
	// events such as a logs view included): the compare-and-set point.
	LastSeq uint64 `json:"last_seq"`
	// RoutedSeq is the routed event whose logs are attached.
	RoutedSeq uint64 `json:"routed_seq"`

	// extra holds fields of a newer version's record, written back as
	// they were.
	extra map[string]json.RawMessage
}

type recordAlias Record

// recordFields are the JSON names of the fields this version knows, read
// once from the struct tags.
var recordFields = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	t := reflect.TypeFor[recordAlias]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
})

// UnmarshalJSON keeps the fields this version does not know.
func (r *Record) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*recordAlias)(r)); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	known := recordFields()
	for k := range all {
		if known[k] {
			delete(all, k)
		}
	}
	r.extra = nil
	if len(all) > 0 {
		r.extra = all
	}
	return nil
}

// MarshalJSON writes the fields this version knows and the ones it kept.
func (r Record) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(recordAlias(r))
	if err != nil || len(r.extra) == 0 {
		return b, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, v := range r.extra {
		if _, ok := all[k]; !ok {
			all[k] = v
		}
	}
	return json.Marshal(all)
}

// writable refuses to write back a record of a newer schema: its meaning
// may have changed in ways this version cannot see, so a newer replica
// must do it.
func (r *Record) writable() error {
	if r.SchemaVersion > RecordSchemaVersion {
		return fmt.Errorf("ticket %s's record has schema version %d, newer than this replica's %d: leaving it to a newer replica",
			r.Ticket.ID, r.SchemaVersion, RecordSchemaVersion)
	}
	return nil
}

// Open reports whether the ticket is in the active queue.
func (r *Record) Open() bool { return open(r.Status) }
