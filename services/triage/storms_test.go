package main

import (
	"math"
	"testing"

	"github.com/triage-pipeline/triage/libs/events"
)

func TestScoreGrouping(t *testing.T) {
	label := map[string]string{"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "x": ""}
	storms := map[string]int{"A": 3, "B": 2}
	for _, tc := range []struct {
		name                 string
		incs                 [][]string
		purity, completeness float64
		strays               int
	}{
		{name: "perfect", incs: [][]string{{"a1", "a2", "a3"}, {"b1", "b2"}}, purity: 1, completeness: 1},
		{name: "a stray joins", incs: [][]string{{"a1", "a2", "a3", "x"}, {"b1", "b2"}}, purity: 5.0 / 6, completeness: 1, strays: 1},
		{name: "a storm split", incs: [][]string{{"a1", "a2"}, {"a3", "b1", "b2"}}, purity: 4.0 / 5, completeness: (2.0/3 + 1) / 2},
		{name: "nothing grouped", purity: 0, completeness: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var incs []events.Incident
			for _, ids := range tc.incs {
				incs = append(incs, events.Incident{Tickets: ids, Count: len(ids)})
			}
			got := scoreGrouping(incs, label, storms)
			if math.Abs(got.purity-tc.purity) > 1e-9 || math.Abs(got.completeness-tc.completeness) > 1e-9 || got.strays != tc.strays {
				t.Fatalf("purity %.3f completeness %.3f strays %d, want %.3f %.3f %d", got.purity, got.completeness, got.strays, tc.purity, tc.completeness, tc.strays)
			}
		})
	}
}
