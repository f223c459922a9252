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
	// Until is when the incident ends unless another ticket joins: its
	// last ticket plus the group's window.
	Until     time.Time `json:"until"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Live says whether the incident is open and its window not yet over.
func (inc Incident) Live(now time.Time) bool { return inc.Open && now.Before(inc.Until) }

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
