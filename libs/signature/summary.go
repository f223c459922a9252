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
	// Matched says the log was tied to what the ticket names (its service,
	// error code, ids), not only another error of the tenant in the window.
	Matched bool
}

// Summary describes one signature among a set of logs.
type Summary struct {
	ID        string    `json:"id"`
	Template  string    `json:"template"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"` // zero when no entry had a time
	LastSeen  time.Time `json:"last_seen"`
	Services  []string  `json:"services"`          // distinct, sorted
	SampleIDs []string  `json:"sample_ids"`        // earliest logs first, at most MaxSampleIDs
	Matched   int       `json:"matched,omitempty"` // entries with Matched set
}

// Summarize groups entries by their Template and returns one Summary per
// template, the most frequent first (ties: earliest first seen, then id).
//
// It groups by Template rather than by mining the batch: a ticket's
// signature ids are fingerprints that storm grouping and the bug filer
// compare across tickets, batches, processes and restarts, so they must not
// depend on which other logs happened to be in the batch (a mined group's
// template can generalise differently with different neighbours).
func (m *Miner) Summarize(entries []Entry) []Summary {
	sigs := make([]Signature, len(entries))
	byMessage := map[string]Signature{} // a repeated message is masked once
	for i, e := range entries {
		sig, ok := byMessage[e.Message]
		if !ok {
			t := Template(e.Message)
			sig = Signature{ID: TemplateID(t), Template: t}
			byMessage[e.Message] = sig
		}
		sigs[i] = sig
	}

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
		if e.Matched {
			s.Matched++
		}
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
