package signature

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2025, 11, 22, 10, min, 0, 0, time.UTC) }
	entries := []Entry{
		{Message: "payment provider timeout after 3000 ms for order ord_2611221053", Time: at(5), Service: "payment-gateway", ID: "e5"},
		{Message: "printer prn-9f00aa offline", Time: at(1), Service: "printer-bridge", ID: "p1", Matched: true},
		{Message: "payment provider timeout after 120 ms for order ord_1000000001", Time: at(2), Service: "order-api", ID: "e2"},
		{Message: "payment provider timeout after 99 ms for order ord_1000000002", Time: at(9), Service: "payment-gateway", ID: "e9"},
		{Message: "payment provider timeout after 7 ms for order ord_1000000003", Service: "payment-gateway", ID: "e-notime"},
		{Message: "printer prn-9f00ab offline", Time: at(3), Service: "printer-bridge", ID: "p3"},
		{Message: "payment provider timeout after 8 ms for order ord_1000000004", Time: at(2), Service: "", ID: "e2b"},
		{Message: "cache warm", Time: at(4), Service: "menu-sync"},
	}
	m := newMiner(t, Config{MaxSampleIDs: 3})
	got := m.Summarize(entries)

	if len(got) != 3 {
		t.Fatalf("got %d summaries, want 3: %+v", len(got), got)
	}
	pay := got[0]
	if pay.Template != "payment provider timeout after <*> ms for order <*>" || pay.Count != 5 {
		t.Errorf("first summary = %q x%d, want the payment timeout x5", pay.Template, pay.Count)
	}
	if pay.ID != TemplateID(pay.Template) {
		t.Errorf("summary id %q is not TemplateID of its template", pay.ID)
	}
	if !pay.FirstSeen.Equal(at(2)) || !pay.LastSeen.Equal(at(9)) {
		t.Errorf("payment first/last seen = %v/%v, want %v/%v", pay.FirstSeen, pay.LastSeen, at(2), at(9))
	}
	if want := []string{"order-api", "payment-gateway"}; !slices.Equal(pay.Services, want) {
		t.Errorf("payment services = %v, want %v", pay.Services, want)
	}
	// Earliest first, equal times by id, capped at MaxSampleIDs.
	if want := []string{"e2", "e2b", "e5"}; !slices.Equal(pay.SampleIDs, want) {
		t.Errorf("payment samples = %v, want %v", pay.SampleIDs, want)
	}

	printer := got[1]
	if printer.Count != 2 || printer.Template != "printer <*> offline" || printer.Matched != 1 {
		t.Errorf("second summary = %q x%d (%d matched), want the printer x2, 1 matched", printer.Template, printer.Count, printer.Matched)
	}
	if want := []string{"p1", "p3"}; !slices.Equal(printer.SampleIDs, want) {
		t.Errorf("printer samples = %v, want %v", printer.SampleIDs, want)
	}

	cache := got[2]
	if cache.Count != 1 || len(cache.SampleIDs) != 0 || !cache.FirstSeen.Equal(at(4)) {
		t.Errorf("cache summary = %+v, want one log without samples first seen at %v", cache, at(4))
	}

	// The JSON shape is what enriched tickets carry.
	b, err := json.Marshal(cache)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"` + cache.ID + `","template":"cache warm","count":1,"first_seen":"2025-11-22T10:04:00Z","last_seen":"2025-11-22T10:04:00Z","services":["menu-sync"],"sample_ids":[]}`
	if string(b) != want {
		t.Errorf("json = %s\nwant   %s", b, want)
	}
}

func TestSummarizeTiesAndEmpty(t *testing.T) {
	m := newMiner(t, Config{})
	if got := m.Summarize(nil); len(got) != 0 {
		t.Errorf("Summarize(nil) = %v, want none", got)
	}
	// Equal counts: the earlier first seen comes first whatever the input order.
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	entries := []Entry{
		{Message: "late event", Time: t0.Add(time.Hour)},
		{Message: "early event", Time: t0},
	}
	got := m.Summarize(entries)
	if len(got) != 2 || got[0].Template != "early event" {
		t.Errorf("order = %+v, want early event first", got)
	}
}

// A ticket's signature ids are fingerprints: the same error gets the same
// id whatever else is in the batch, in whatever order, from a new Miner (a
// restart or another process). Mining would not promise that: with five
// other users beside it, "login failed for user alice" generalises to
// "login failed for user <*>"; alone it stays as it is.
func TestSummarizeIDsAreStable(t *testing.T) {
	const probe = "login failed for user alice after 3 attempts"
	msgs := []string{probe}
	for _, u := range []string{"bob", "carol", "dave", "erin", "frank"} {
		msgs = append(msgs, "login failed for user "+u+" after 3 attempts")
	}
	if mined := newMiner(t, Config{}).Mine(msgs); mined[0].ID == TemplateID(Template(probe)) {
		t.Fatalf("mining did not generalise the crowded batch (%q), so this test shows nothing", mined[0].Template)
	}
	msgs = append(msgs, "payment provider timeout after 30000 ms (order ord_1)")
	crowded := make([]Entry, len(msgs))
	for i, m := range msgs {
		crowded[i] = Entry{Message: m}
	}
	reversed := slices.Clone(crowded)
	slices.Reverse(reversed)

	idOf := func(sums []Summary) string {
		t.Helper()
		want := Template(probe)
		for _, s := range sums {
			if s.Template == want {
				return s.ID
			}
		}
		t.Fatalf("no summary for %q in %+v", probe, sums)
		return ""
	}
	want := idOf(newMiner(t, Config{}).Summarize([]Entry{{Message: probe}}))
	for name, batch := range map[string][]Entry{
		"alone again": {{Message: probe}},
		"crowded":     crowded,
		"reversed":    reversed,
		"repeated":    append(slices.Clone(crowded), crowded...),
	} {
		// A new Miner each time stands for another process or a restart.
		if got := idOf(newMiner(t, Config{}).Summarize(batch)); got != want {
			t.Errorf("%s: id %s, want %s as alone", name, got, want)
		}
	}
}
