package extract

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHostileInputIsBounded feeds 10 MB fields, a flood of identifiers and
// one endless token: nothing panics, each field is read only up to
// MaxFieldBytes (64 KiB) and the call stays fast.
func TestHostileInputIsBounded(t *testing.T) {
	unit := "19:05 rst-0042 7c9e6679-7425-40de-944b-e07fc1f90ae7 昨日の夜 HTTP 503 PAY-1042 {\"query\":\"*\"} \x00 "
	big := strings.Repeat(unit, 10<<20/len(unit)+1)
	many := make([]string, 100000)
	for i := range many {
		many[i] = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	}
	in := Input{
		Subject:     strings.Repeat("a", 10<<20),
		Description: big,
		TenantID:    strings.Repeat("rst-0042", 1<<20),
		Identifiers: map[string][]string{"request_ids": many, "weird": {strings.Repeat("f", 1<<20)}},
		SubmittedAt: morning,
	}
	start := time.Now()
	res := Extract(in)
	elapsed := time.Since(start)
	checkInvariants(t, in, res)
	for _, f := range []string{FieldSubject, FieldDescription, FieldTenantID, "identifiers.request_ids", "identifiers.weird"} {
		if !slices.Contains(res.Truncated, f) {
			t.Errorf("Truncated %q lacks %s", res.Truncated, f)
		}
	}
	for _, it := range res.Items {
		if it.Source.End > 64<<10 {
			t.Fatalf("item %s beyond the 64 KiB cap: %+v", it.Kind, it.Source)
		}
	}
	if got := len(res.Values(KindRequestID)); got != 1 {
		t.Errorf("%d request ids, want the one repeated value once", got)
	}
	// Generous for -race on two shared cores; typically ~30 ms.
	if elapsed > 5*time.Second {
		t.Errorf("took %s", elapsed)
	}
	t.Logf("10 MB fields, 100k identifiers: %s, %d items", elapsed, len(res.Items))
}

func TestItemsPerKindCapped(t *testing.T) {
	var b strings.Builder
	for i := range 200 {
		b.WriteString("usr-")
		b.WriteString(strings.Repeat("0", 3))
		b.WriteString(string(rune('0' + i/100)))
		b.WriteString(string(rune('0' + i/10%10)))
		b.WriteString(string(rune('0' + i%10)))
		b.WriteString(" ")
	}
	res := Extract(Input{Description: b.String(), SubmittedAt: morning})
	if got := len(res.Values(KindUser)); got != 50 {
		t.Fatalf("%d users, want the cap of 50", got)
	}
}

// TestStableOrder: structured fields come first, then subject and
// description in text order; the same input gives the same result.
func TestStableOrder(t *testing.T) {
	in := Input{
		Subject:     "PAY-1042 at 19:05",
		Description: "usr-104233 then ord_2611221053, HTTP 503",
		TenantID:    "rst-0042",
		Identifiers: map[string][]string{"user_ids": {"usr-999999"}, "order_ids": {"ord_1111111111"}},
		SubmittedAt: morning,
	}
	res := Extract(in)
	var got []string
	for _, it := range res.Items {
		got = append(got, it.Source.Field+":"+string(it.Kind)+":"+it.Value)
	}
	want := []string{
		"tenant_id:tenant:rst-0042",
		"identifiers.order_ids:order_id:ord_1111111111",
		"identifiers.user_ids:user:usr-999999",
		"subject:error_code:PAY-1042",
		"subject:service:payment-gateway",
		"subject:time:2026-11-21T18:50:00+09:00/2026-11-21T19:20:00+09:00",
		"description:user:usr-104233",
		"description:order_id:ord_2611221053",
		"description:http_status:503",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order:\n got %q\nwant %q", got, want)
	}
	for range 5 {
		if again := Extract(in); !reflect.DeepEqual(again, res) {
			t.Fatal("a second call gave a different result")
		}
	}
}

func TestConfig(t *testing.T) {
	e := New(Config{MinuteSlack: 5 * time.Minute, DefaultLookback: 30 * time.Minute, MaxKeywords: 2})
	res := e.Extract(Input{Description: "19:05頃 printer paper jam timeout", SubmittedAt: morning})
	if want := at(t, jst, "2026-11-21 19:00"); !res.Window.From.Equal(want) {
		t.Errorf("from %s, want %s with a 5m slack", res.Window.From, want)
	}
	if len(res.Keywords) != 2 {
		t.Errorf("keywords %q, want 2", res.Keywords)
	}
	res = e.Extract(Input{Description: "broken", SubmittedAt: morning})
	if got := res.Window.To.Sub(res.Window.From); got != 30*time.Minute {
		t.Errorf("default window %s, want 30m", got)
	}
	// A zero SubmittedAt uses the configured clock.
	fixed := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	res = New(Config{Now: func() time.Time { return fixed }}).Extract(Input{Description: "broken"})
	if !res.Window.To.Equal(fixed) {
		t.Errorf("window ends %s, want the clock's %s", res.Window.To, fixed)
	}
}
