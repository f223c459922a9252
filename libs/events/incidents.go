package events

import "time"

// Incident groups the tickets of one storm: tickets whose logs share an
// error signature (or, without logs, the same component and error code)
// within a time window. The router keeps each group's current incident in
// the incidents bucket; the queue shows it.
type Incident struct {
	ID string `json:"id"`
	// Key is what groups the tickets: "signature:<id>" or
	// "component:<component>[:<error code>]".
	Key       string   `json:"key"`
	Reason    string   `json:"reason"`
	Component string   `json:"component"`
	Severity  string   `json:"severity"` // the most severe of its tickets
	Signature string   `json:"signature,omitempty"`
	Template  string   `json:"template,omitempty"`
	Services  []string `json:"services,omitempty"`
	// ErrorCode is the code the tickets quote, when they are grouped by
	// component and code (no logs tied to them).
	ErrorCode string `json:"error_code,omitempty"`
	// Open says enough tickets arrived (the threshold, or one P1) for the
	// group to be shown as an incident; until then it only collects.
	Open     bool       `json:"open"`
	OpenedAt *time.Time `json:"opened_at,omitempty"`
	// Tickets lists the first MaxIncidentTickets ticket ids; Count counts
	// them all.
	Tickets   []string  `json:"tickets"`
	Tenants   []string  `json:"tenants"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Until is when the incident ends unless another ticket joins: its
	// last ticket plus the group's window.
	// A declared incident has no window: it lasts until it is resolved,
	// or until its declaration's end when one was given (zero: no end).
	Until     time.Time `json:"until,omitzero"`
	UpdatedAt time.Time `json:"updated_at"`
	// Runbook is the page to open first, from the rules (its first
	// ticket's routing).
	Runbook string `json:"runbook,omitempty"`

	// People's decisions, made in the queue. The router keeps them when it
	// adds tickets (every write is a compare-and-set on the whole record).
	//
	// Owner is the one engineer who works the incident.
	Owner string `json:"owner,omitempty"`
	// Resolution ends the incident: its open tickets are resolved with
	// the message, and later tickets of the group start a new incident.
	Resolution *IncidentResolution `json:"resolution,omitempty"`
	// Bug is the bug confirmed for the whole incident: its open tickets
	// link to one GitHub issue.
	Bug *IncidentBug `json:"bug,omitempty"`
	// Split lists tickets a person took out of the incident; the router
	// never puts them back.
	Split []string `json:"split,omitempty"`
	// MergedInto is the incident a person merged this one into: its
	// tickets, present and future, count there.
	MergedInto string   `json:"merged_into,omitempty"`
	Merged     []string `json:"merged,omitempty"`
	// Declared is set on an incident declared ahead of the tickets, by an
	// engineer or by the monitoring's alerts.
	Declared *Declaration `json:"declared,omitempty"`
	// SettledAt: the resolution was carried out on every ticket (and the
	// page resolved); nothing is left to do for it.
	SettledAt *time.Time `json:"settled_at,omitempty"`
}

// NeedsLook says whether the queue has anything left to do for the
// incident at now: a resolution not yet carried out on its tickets (or its
// page), a bug to give tickets that join, a P1 that may need a page.
func (inc Incident) NeedsLook(now time.Time) bool {
	if inc.Resolved() {
		return inc.SettledAt == nil
	}
	return inc.Live(now) && (inc.Bug != nil || inc.Severity == "P1")
}

// IncidentResolution is how an incident ended.
type IncidentResolution struct {
	By Actor     `json:"by"`
	At time.Time `json:"at"`
	// Message is the reply support staff see on every linked ticket.
	Message string `json:"message"`
}

// IncidentBug is a bug confirmed on a whole incident.
type IncidentBug struct {
	Fingerprint string    `json:"fingerprint"`
	Title       string    `json:"title"`
	Notes       string    `json:"notes,omitempty"`
	By          Actor     `json:"by"`
	At          time.Time `json:"at"`
}

// Declaration sources.
const (
	DeclaredByEngineer     = "engineer"
	DeclaredByAlertmanager = "alertmanager"
)

// Declaration is an incident declared before (or without) tickets.
type Declaration struct {
	Source string `json:"source"`
	By     Actor  `json:"by"`
	// Name is what identifies the declaration to its source: the alert's
	// fingerprint, or the engineer's title. A repeat updates it.
	Name    string `json:"name"`
	Symptom string `json:"symptom"`
	// Message is what support staff tell customers; the submit form shows
	// it while they type a matching ticket.
	Message  string    `json:"message"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at,omitzero"`
	// Labels are the alert's labels, for people to read.
	Labels map[string]string `json:"labels,omitempty"`
}

// Live says whether the incident is open now: opened, not resolved or
// merged away, and its window (if it has one) not over.
func (inc Incident) Live(now time.Time) bool {
	if !inc.Open || inc.Resolved() || inc.MergedInto != "" {
		return false
	}
	return inc.Until.IsZero() || now.Before(inc.Until)
}

// Resolved says whether a person (or the alert's end) resolved it.
func (inc Incident) Resolved() bool { return inc.Resolution != nil }

// MaxIncidentTickets bounds an incident's ticket and tenant lists, so that
// its record, read and written for every batch of joining tickets, stays
// small in the largest storm. Beyond it the incident counts tickets without
// listing them (a ticket redelivered then may be counted twice).
const MaxIncidentTickets = 1000

// SeverityRank orders severities: P1 (most severe) is 1, P4 is 4, anything
// else after them.
func SeverityRank(s string) int {
	if len(s) == 2 && s[0] == 'P' && s[1] >= '1' && s[1] <= '4' {
		return int(s[1] - '0')
	}
	return 9
}

// Components is the component vocabulary of DESIGN.md, in the order
// reports use; routing, declarations and alerts share it.
func Components() []string {
	return []string{"order", "payment", "printer", "menu", "auth", "customer-id", "billing", "account", "other"}
}

// Severities is P1…P4.
func Severities() []string { return []string{"P1", "P2", "P3", "P4"} }
