// Package events defines the versioned JSON events that the services exchange
// over NATS JetStream, and the subjects and headers they travel on.
//
// Every event carries the whole ticket forward, so a consumer never needs
// another service's state to do its job.
package events

import (
	"errors"
	"fmt"
	"time"
)

// SchemaVersion is the version of every event body defined here. A consumer
// refuses (dead-letters) a body whose version it does not know.
const SchemaVersion = 1

// Event types, used as the CloudEvents `type` attribute.
const (
	TypeTicketSubmitted = "io.triage.ticket.submitted.v1"
	TypeTicketEnriched  = "io.triage.ticket.enriched.v1"
	TypeTicketRouted    = "io.triage.ticket.routed.v1"
	TypeLogsPending     = "io.triage.ticket.logs_pending.v1"
	TypeBugConfirmed    = "io.triage.bug.confirmed.v1"
	TypeBugFiled        = "io.triage.bug.filed.v1"
	TypeBugClosed       = "io.triage.bug.closed.v1"
	TypeBugReopened     = "io.triage.bug.reopened.v1"
	TypeBugFailed       = "io.triage.bug.failed.v1"
)

// Subject prefixes; the last token is the ticket id (or bug fingerprint), so
// the TICKETS stream itself is each ticket's audit history.
const (
	SubjectSubmitted = "tickets.submitted"
	SubjectEnriched  = "tickets.enriched"
	SubjectRouted    = "tickets.routed"
	// SubjectLogsPending holds tickets whose logs could not be searched
	// yet; the enricher retries them until Elasticsearch answers.
	SubjectLogsPending = "tickets.logs_pending"
	SubjectConfirmed   = "bugs.confirmed"
	SubjectFiled       = "bugs.filed"
	SubjectClosed      = "bugs.closed"
	SubjectReopened    = "bugs.reopened"
	SubjectFailed      = "bugs.failed"
)

// TicketSubject returns the subject of one ticket's event, e.g.
// tickets.submitted.<id>.
func TicketSubject(prefix, ticketID string) string { return prefix + "." + ticketID }

// Identifiers are the ids support staff already know when they submit.
type Identifiers struct {
	RequestIDs []string `json:"request_ids,omitempty"`
	OrderIDs   []string `json:"order_ids,omitempty"`
	UserIDs    []string `json:"user_ids,omitempty"`
	TraceIDs   []string `json:"trace_ids,omitempty"`
	DeviceIDs  []string `json:"device_ids,omitempty"`
}

// Ticket is a support ticket as accepted by intake.
type Ticket struct {
	ID          string      `json:"id"`
	Subject     string      `json:"subject"`
	Description string      `json:"description"`
	TenantID    string      `json:"tenant_id"`
	Reporter    string      `json:"reporter,omitempty"`
	OccurredAt  *time.Time  `json:"occurred_at,omitempty"`
	Identifiers Identifiers `json:"identifiers"`
	Channel     string      `json:"channel"`
	// Language is "ja" or "en"; LanguageDetected says intake guessed it.
	Language         string    `json:"language"`
	LanguageDetected bool      `json:"language_detected,omitempty"`
	SubmittedAt      time.Time `json:"submitted_at"`
	// SubmittedBy is the person whose token submitted it (support staff's
	// "my tickets").
	SubmittedBy string `json:"submitted_by,omitempty"`
}

// LogsStatus says what the enricher could attach.
type LogsStatus string

// Logs statuses. NotConfigured and Pending are honest "nothing attached"
// states, never an empty success.
const (
	LogsNotConfigured LogsStatus = "not_configured"
	LogsPending       LogsStatus = "pending"
	LogsAttached      LogsStatus = "attached"
	LogsNoneFound     LogsStatus = "none_found"
	// LogsFailed: the search itself was refused (a bug on our side, not an
	// outage); the note says why.
	LogsFailed LogsStatus = "failed"
)

// Evidence is one thing extracted from the ticket, with where it came from,
// so an engineer can see why a log matched.
type Evidence struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
	Field string `json:"field"`
	Text  string `json:"text"`
}

// SearchWindow is the time range searched and why.
type SearchWindow struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Reason string    `json:"reason"`
}

// LogEntry is one log attached to a ticket (shown to engineers only).
type LogEntry struct {
	ID        string            `json:"id"`
	Index     string            `json:"index,omitempty"`
	Timestamp time.Time         `json:"timestamp"`
	Level     string            `json:"level,omitempty"`
	Service   string            `json:"service,omitempty"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	// MatchedBy names the extracted items that made this log match.
	MatchedBy []string `json:"matched_by,omitempty"`
}

// Signature summarises logs that share one message template.
type Signature struct {
	ID        string    `json:"id"`
	Template  string    `json:"template"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Services  []string  `json:"services,omitempty"`
	SampleIDs []string  `json:"sample_ids,omitempty"`
	// Matched counts the logs tied to what the ticket names (its service,
	// error code, ids); storms are grouped by signatures with Matched > 0,
	// not by the tenant's other errors in the window.
	Matched int `json:"matched,omitempty"`
}

// Enrichment is what the enricher learnt about a ticket.
type Enrichment struct {
	LogsStatus LogsStatus  `json:"logs_status"`
	Note       string      `json:"note,omitempty"`
	Logs       []LogEntry  `json:"logs,omitempty"`
	Signatures []Signature `json:"signatures,omitempty"`
	// ErrorLogs counts matching logs at error level or worse.
	ErrorLogs int `json:"error_logs"`
	// TotalMatches is how many logs matched the search in all.
	TotalMatches int64         `json:"total_matches,omitempty"`
	Evidence     []Evidence    `json:"evidence,omitempty"`
	Window       *SearchWindow `json:"window,omitempty"`
	// Attempt increases each time the ticket is enriched again (for example
	// once Elasticsearch is back), so later stages keep the newest.
	Attempt     int       `json:"attempt"`
	EnrichedAt  time.Time `json:"enriched_at"`
	DiscoverURL string    `json:"discover_url,omitempty"`
}

// Queue names.
const (
	QueueEscalation = "escalation"
	QueueSupport    = "support"
)

// Routing is the router's decision and its readable reasons.
type Routing struct {
	Queue     string   `json:"queue"`
	Technical bool     `json:"technical"`
	Severity  string   `json:"severity"`
	Component string   `json:"component"`
	Reasons   []string `json:"reasons"`
	// RuleIDs are the rules that matched, for audits and rule tuning.
	RuleIDs      []string  `json:"rule_ids"`
	RulesVersion string    `json:"rules_version"`
	RoutedAt     time.Time `json:"routed_at"`
	// Confidence is how sure the router is of the queue, 0.5–1.
	Confidence float64 `json:"confidence"`
	// NeedsTriage says the router was not sure enough to decide: a
	// person picks the queue (the ticket waits in Queue meanwhile).
	NeedsTriage bool `json:"needs_triage,omitempty"`
	// Runbook is the page to open first for this component or error.
	Runbook string `json:"runbook,omitempty"`
	// Incident is the storm the ticket was grouped into (see Incident);
	// the queue shows it once the incident is open.
	Incident string `json:"incident,omitempty"`
}

// TicketSubmitted is published by intake once a ticket is accepted.
type TicketSubmitted struct {
	SchemaVersion int    `json:"schema_version"`
	Ticket        Ticket `json:"ticket"`
}

// TicketEnriched is published by the enricher.
type TicketEnriched struct {
	SchemaVersion int        `json:"schema_version"`
	Ticket        Ticket     `json:"ticket"`
	Enrichment    Enrichment `json:"enrichment"`
}

// TicketRouted is published by the router.
type TicketRouted struct {
	SchemaVersion int        `json:"schema_version"`
	Ticket        Ticket     `json:"ticket"`
	Enrichment    Enrichment `json:"enrichment"`
	Routing       Routing    `json:"routing"`
}

// TicketLogsPending asks the enricher to search a ticket's logs again.
type TicketLogsPending struct {
	SchemaVersion int    `json:"schema_version"`
	Ticket        Ticket `json:"ticket"`
	// Attempt is the enrichment attempt that left logs pending.
	Attempt int    `json:"attempt"`
	Reason  string `json:"reason"`
}

// BugConfirmed is published (by the queue) when an engineer confirms a
// bug on a ticket: bugs.confirmed.<fingerprint>.
type BugConfirmed struct {
	SchemaVersion int       `json:"schema_version"`
	Bug           BugReport `json:"bug"`
	// TicketID is the ticket the confirmation was made on.
	TicketID    string    `json:"ticket_id"`
	ConfirmedBy Actor     `json:"confirmed_by"`
	ConfirmedAt time.Time `json:"confirmed_at"`
}

// BugState is published by the bug filer: bugs.filed.<fingerprint> once
// the issue exists (or a later confirmation was added to it),
// bugs.closed/bugs.reopened.<fingerprint> when GitHub says so, and
// bugs.failed.<fingerprint> when filing cannot succeed.
type BugState struct {
	SchemaVersion int       `json:"schema_version"`
	Fingerprint   string    `json:"fingerprint"`
	TicketIDs     []string  `json:"ticket_ids"`
	IssueNumber   int       `json:"issue_number,omitempty"`
	IssueURL      string    `json:"issue_url,omitempty"`
	Repository    string    `json:"repository,omitempty"`
	At            time.Time `json:"at"`
	// By is who closed or reopened the issue on GitHub.
	By string `json:"by,omitempty"`
	// Reason says why filing failed.
	Reason string `json:"reason,omitempty"`
	// Regression names the closed issue a new one was filed after.
	Regression int `json:"regression,omitempty"`
}

// CheckVersion refuses bodies from a schema this code does not know.
func CheckVersion(v int) error {
	if v != SchemaVersion {
		return fmt.Errorf("unsupported schema_version %d (want %d)", v, SchemaVersion)
	}
	return nil
}

func checkTicket(version int, t Ticket) error {
	if err := CheckVersion(version); err != nil {
		return err
	}
	if t.ID == "" {
		return errors.New("event has no ticket id")
	}
	return nil
}

// Check reports a body no consumer can use.
func (e TicketSubmitted) Check() error { return checkTicket(e.SchemaVersion, e.Ticket) }

// Check reports a body no consumer can use.
func (e TicketEnriched) Check() error { return checkTicket(e.SchemaVersion, e.Ticket) }

// Check reports a body no consumer can use.
func (e TicketRouted) Check() error { return checkTicket(e.SchemaVersion, e.Ticket) }

// Check reports a body no consumer can use.
func (e TicketLogsPending) Check() error { return checkTicket(e.SchemaVersion, e.Ticket) }

// Check reports a body no consumer can use.
func (e BugConfirmed) Check() error {
	if err := CheckVersion(e.SchemaVersion); err != nil {
		return err
	}
	if e.Bug.Fingerprint == "" {
		return errors.New("confirmed bug has no fingerprint")
	}
	return nil
}

// Check reports a body no consumer can use.
func (e BugState) Check() error {
	if err := CheckVersion(e.SchemaVersion); err != nil {
		return err
	}
	if e.Fingerprint == "" {
		return errors.New("bug state has no fingerprint")
	}
	return nil
}
