package router

import (
	"github.com/triage-pipeline/triage/libs/events"
)

// KeywordDecide routes with the rules alone, as the router did before it
// had a model: technical when the technical rules' weights outweigh the
// non-technical ones' (a tie goes to support), the first severity rule that
// matches, the component with the most keyword hits (logs count two). It is
// the keyword baseline that evaluation prints beside the model; the router
// never routes with it.
func (r *Rules) KeywordDecide(t events.Ticket, e events.Enrichment) events.Routing {
	tf := extractFeatures(t, e, nil)
	fired := r.fire(fold(t.Subject+"\n"+t.Description), tf)
	var tech, nonTech int
	severity := ""
	hits := map[string]int{}
	var ids []string
	for _, f := range fired {
		switch f.group {
		case groupTechnical:
			tech += f.rule.Weight
		case groupNonTechnical:
			nonTech += f.rule.Weight
		case groupSeverity:
			if severity == "" {
				severity = f.target
			}
		case groupComponent, groupService:
			hits[f.target] += f.hits
		}
		ids = append(ids, f.rule.ID)
	}
	technical := tech > nonTech
	queue := events.QueueSupport
	if technical {
		queue = events.QueueEscalation
	}
	switch {
	case !technical:
		severity = r.Severity.Default
	case severity == "":
		severity = r.Severity.DefaultTechnical
	}
	component, best := "other", 0
	for _, c := range r.components {
		if hits[c.name] > best {
			component, best = c.name, hits[c.name]
		}
	}
	return events.Routing{Queue: queue, Technical: technical, Severity: severity, Component: component, RuleIDs: ids, RulesVersion: r.Version, Confidence: 1}
}
