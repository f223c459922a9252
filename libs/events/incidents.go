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
	UpdatedAt time.Time `json:"updated_at"`
}

// MaxIncidentTickets bounds an incident's ticket list, so its record stays
// far below a NATS message's size limit in the largest storm; beyond it the
// incident counts tickets without listing them.
const MaxIncidentTickets = 10000
