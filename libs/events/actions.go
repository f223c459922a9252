package events

import (
	"errors"
	"time"
)

// Events people cause on a ticket (through the queue), each on the
// ticket's own subject in TICKETS, so the stream is the ticket's audit
// history: who did what, when and why.
const (
	TypeTicketClaimed       = "io.triage.ticket.claimed.v1"
	TypeTicketReleased      = "io.triage.ticket.released.v1"
	TypeTicketReassigned    = "io.triage.ticket.reassigned.v1"
	TypeTicketStatusChanged = "io.triage.ticket.status_changed.v1"
	TypeTicketCommented     = "io.triage.ticket.commented.v1"
	TypeTicketRerouted      = "io.triage.ticket.rerouted.v1"
	TypeTicketBugConfirmed  = "io.triage.ticket.bug_confirmed.v1"
	TypeTicketLogsViewed    = "io.triage.ticket.logs_viewed.v1"
	TypeTicketSLABreached   = "io.triage.ticket.sla_breached.v1"
	TypeTicketBugUpdated    = "io.triage.ticket.bug_updated.v1"
	// A person split the ticket out of its incident.
	TypeTicketIncidentChanged = "io.triage.ticket.incident_changed.v1"
)

// Subjects of those events: <prefix>.<ticket_id>.
const (
	SubjectClaimed         = "tickets.claimed"
	SubjectReleased        = "tickets.released"
	SubjectReassigned      = "tickets.reassigned"
	SubjectStatusChanged   = "tickets.status_changed"
	SubjectCommented       = "tickets.commented"
	SubjectRerouted        = "tickets.rerouted"
	SubjectBugConfirmed    = "tickets.bug_confirmed"
	SubjectLogsViewed      = "tickets.logs_viewed"
	SubjectSLABreached     = "tickets.sla_breached"
	SubjectBugUpdated      = "tickets.bug_updated"
	SubjectIncidentChanged = "tickets.incident_changed"
)

// TicketHistoryFilter matches every event of one ticket in TICKETS; the
// queue's compare-and-set is on it, so an action is written only if
// nothing happened to the ticket since the state it was checked against.
func TicketHistoryFilter(ticketID string) string { return "tickets.*." + ticketID }

// Actor is who caused an event: a person (by the name on their token), or
// a service.
type Actor struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// Action is the part every person's event shares.
type Action struct {
	SchemaVersion int       `json:"schema_version"`
	TicketID      string    `json:"ticket_id"`
	Actor         Actor     `json:"actor"`
	At            time.Time `json:"at"`
	// Reason is why, in the person's words (required for reassigning and
	// re-routing).
	Reason string `json:"reason,omitempty"`
}

// Check reports an action no consumer can use.
func (a Action) Check() error {
	if err := CheckVersion(a.SchemaVersion); err != nil {
		return err
	}
	if a.TicketID == "" {
		return errors.New("action has no ticket id")
	}
	return nil
}

// TicketClaimed: the actor owns the ticket now.
type TicketClaimed struct {
	Action
}

// TicketReleased: the ticket has no owner again.
type TicketReleased struct {
	Action
	Previous string `json:"previous"`
}

// TicketReassigned: the owner changed to Assignee.
type TicketReassigned struct {
	Action
	Previous string `json:"previous,omitempty"`
	Assignee string `json:"assignee"`
}

// TicketStatusChanged: the ticket moved from one status to another.
type TicketStatusChanged struct {
	Action
	From string `json:"from"`
	To   string `json:"to"`
	// Message is a reply support staff see (a resolution they can pass on
	// to the customer), when the engineer wrote one.
	Message string `json:"message,omitempty"`
}

// Comment visibility: internal notes are for engineers (they may quote
// logs); support notes are shown to support staff too.
const (
	VisibilityInternal = "internal"
	VisibilitySupport  = "support"
)

// TicketCommented: a comment, in plain text (rendered escaped, with
// links; never as HTML).
type TicketCommented struct {
	Action
	Text       string `json:"text"`
	Visibility string `json:"visibility"`
}

// TicketRerouted: a person moved the ticket between the escalation and
// support queues, correcting the router; kept as a labelled example for
// the router to learn from.
type TicketRerouted struct {
	Action
	From string `json:"from"`
	To   string `json:"to"`
	// RouterDecision is what the router had decided, for learning.
	RouterDecision Routing `json:"router_decision"`
}

// LogExcerpt is a log line an engineer selected for a bug report.
type LogExcerpt struct {
	ID        string    `json:"id"`
	Timestamp time.Time `json:"timestamp"`
	Level     string    `json:"level,omitempty"`
	Service   string    `json:"service,omitempty"`
	Message   string    `json:"message"`
}

// BugReport is everything the bug filer needs to write a useful issue
// without reading any other service's state.
type BugReport struct {
	Fingerprint string   `json:"fingerprint"`
	Title       string   `json:"title"`
	Severity    string   `json:"severity"`
	Component   string   `json:"component"`
	TicketIDs   []string `json:"ticket_ids"`
	Tenants     []string `json:"tenants"`
	// Reported is what customers reported (subjects and descriptions, to be
	// redacted by the filer).
	Reported   []string     `json:"reported"`
	FirstSeen  time.Time    `json:"first_seen"`
	LastSeen   time.Time    `json:"last_seen"`
	Notes      string       `json:"notes,omitempty"`
	Signatures []Signature  `json:"signatures,omitempty"`
	Excerpts   []LogExcerpt `json:"excerpts,omitempty"`
	// TicketURL links back to the ticket in the queue's web UI.
	TicketURL   string `json:"ticket_url,omitempty"`
	DiscoverURL string `json:"discover_url,omitempty"`
}

// TicketBugConfirmed: an engineer confirmed a bug; the queue passes the
// report on to the bug filer (bugs.confirmed.<fingerprint>).
type TicketBugConfirmed struct {
	Action
	Bug BugReport `json:"bug"`
}

// TicketLogsViewed records that a person read the ticket's raw logs (they
// can hold personal data; engineers read them with special permission).
type TicketLogsViewed struct {
	Action
	Logs int `json:"logs"`
}

// SLA kinds.
const (
	SLAResponse   = "response"
	SLAResolution = "resolution"
)

// TicketSLABreached: a target was missed; published once per kind.
type TicketSLABreached struct {
	Action
	Kind string    `json:"kind"`
	Due  time.Time `json:"due"`
}

// Bug states as GitHub has them.
const (
	BugFiling   = "filing"
	BugOpen     = "open"
	BugClosed   = "closed"
	BugFailed   = "failed"
	BugReopened = "reopened"
)

// TicketBugUpdated links the ticket to its GitHub issue, or says the
// issue was closed or reopened (the loop back from GitHub).
type TicketBugUpdated struct {
	Action
	Fingerprint string `json:"fingerprint"`
	State       string `json:"state"`
	IssueNumber int    `json:"issue_number,omitempty"`
	IssueURL    string `json:"issue_url,omitempty"`
	// Note says why filing failed, for a person to act on.
	Note string `json:"note,omitempty"`
}

// TicketIncidentChanged: a person moved the ticket out of incident From
// (To is empty) and the router's grouping no longer applies to it.
type TicketIncidentChanged struct {
	Action
	From string `json:"from"`
	To   string `json:"to,omitempty"`
}
