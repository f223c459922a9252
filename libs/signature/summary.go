package signature

import (
	"cmp"
	"slices"
	"time"
)

// Entry is one log to summarise.
type Entry struct {
	Message string    // the log's message
	Time    time.Time // its @timestamp; the zero time means unknown
	Service string    // its service.name
	ID      string    // its event.id, to point back at the log
}

// Summary describes one signature among a set of logs.
type Summary struct {
	ID        string    `json:"id"`
	Template  string    `json:"template"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"` // zero when no entry had a time
	LastSeen  time.Time `json:"last_seen"`
	Services  []string  `json:"services"`   // distinct, sorted
	SampleIDs []string  `json:"sample_ids"` // earliest logs first, at most MaxSampleIDs
}

// Summarize groups entries by signature and returns one Summary per
// signature, the most frequent first (ties: earliest first seen, then id).
func (m *Miner) Summarize(entries []Entry) []Summary {
	msgs := make([]string, len(entries))
	for i, e := range entries {
		msgs[i] = e.Message
	}
	sigs := m.Mine(msgs)

	// Visit entries oldest first so samples are the earliest logs; entries
	// without a time come last, ties broken by id for a stable choice.
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ta, tb := entries[a].Time, entries[b].Time
		if ta.IsZero() != tb.IsZero() {
			if ta.IsZero() {
				return 1
			}
			return -1
		}
		return cmp.Or(ta.Compare(tb), cmp.Compare(entries[a].ID, entries[b].ID))
	})

	byID := make(map[string]*Summary)
	services := make(map[string]map[string]struct{})
	var out []*Summary
	for _, i := range order {
		e, sig := entries[i], sigs[i]
		s, ok := byID[sig.ID]
		if !ok {
			s = &Summary{ID: sig.ID, Template: sig.Template, Services: []string{}, SampleIDs: []string{}}
			byID[sig.ID] = s
			services[sig.ID] = make(map[string]struct{})
			out = append(out, s)
		}
		s.Count++
		if !e.Time.IsZero() {
			if s.FirstSeen.IsZero() || e.Time.Before(s.FirstSeen) {
				s.FirstSeen = e.Time
			}
			if e.Time.After(s.LastSeen) {
				s.LastSeen = e.Time
			}
		}
		if e.Service != "" {
			if _, seen := services[sig.ID][e.Service]; !seen {
				services[sig.ID][e.Service] = struct{}{}
				s.Services = append(s.Services, e.Service)
			}
		}
		if e.ID != "" && len(s.SampleIDs) < m.cfg.MaxSampleIDs {
			s.SampleIDs = append(s.SampleIDs, e.ID)
		}
	}

	result := make([]Summary, len(out))
	for i, s := range out {
		slices.Sort(s.Services)
		result[i] = *s
	}
	slices.SortFunc(result, func(a, b Summary) int {
		return cmp.Or(
			cmp.Compare(b.Count, a.Count),
			a.FirstSeen.Compare(b.FirstSeen),
			cmp.Compare(a.ID, b.ID),
		)
	})
	return result
}
