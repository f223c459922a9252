package router

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

func paymentErrors() events.Enrichment {
	return events.Enrichment{
		LogsStatus: events.LogsAttached, ErrorLogs: 14,
		Signatures: []events.Signature{{Template: "payment provider timeout after <*> ms", Count: 14, Services: []string{"payment-gateway"}}},
		Logs: []events.LogEntry{{Level: "error", Service: "payment-gateway", Message: "payment provider timeout after 30000 ms",
			Fields: map[string]string{"error.code": "PAY-1042", "http.response.status_code": "504"}, MatchedBy: []string{"service.name=payment-gateway", "log.level=error"}}},
	}
}

// Clear-cut tickets: the hard cases are scored by the cross-validation in
// training/, not pinned here.
func TestDecide(t *testing.T) {
	c, err := DefaultClassifier()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, subject, description string
		enrichment                 events.Enrichment
		queue, severity, component string
		reasonHas                  []string
		runbook                    string
	}{
		{name: "ja payment outage at peak", subject: "決済できない", description: "19:05頃からカード決済でエラーになります。ディナーのピークで会計が一切できません。",
			queue: "escalation", severity: "P1", component: "payment", reasonHas: []string{`rule p1-cannot-trade: mentions "会計が一切"`, `rule broken-ja: mentions "エラー"`}, runbook: "https://runbooks.example.com/payment"},
		{name: "en printer broken", subject: "Kitchen printer not printing", description: "Since 7pm nothing prints in the kitchen. Restarted the printer, same.",
			queue: "escalation", severity: "P2", component: "printer", reasonHas: []string{`mentions "not printing"`}},
		{name: "logs weigh and pick the runbook", subject: "Card payments fail", description: "Every card payment fails with HTTP 503 since 19:00, all registers.", enrichment: paymentErrors(),
			queue: "escalation", component: "payment", reasonHas: []string{"14 ERROR logs (14 from payment-gateway)", "HTTP 504; PAY-1042", "rule error-logs"},
			runbook: "https://runbooks.example.com/payment/provider-timeout"},
		{name: "ja how-to", subject: "メニューの追加方法", description: "新しいメニューの使い方を教えてください",
			queue: "support", severity: "P4", component: "menu", reasonHas: []string{`rule howto-ja: mentions "使い方"`}},
		{name: "en billing", subject: "Invoice question", description: "Can you resend last month's invoice?",
			queue: "support", severity: "P4", component: "billing", reasonHas: []string{`rule billing: mentions "invoice"`}},
		{name: "feature request", subject: "Feature request", description: "It would be nice to export sales to CSV. Please add it.",
			queue: "support", severity: "P4", component: "other", reasonHas: []string{"rule feature-request"}},
		{name: "logs pending noted", subject: "Payments fail", description: "Card payments fail with HTTP 503", enrichment: events.Enrichment{LogsStatus: events.LogsPending},
			queue: "escalation", component: "payment", reasonHas: []string{"logs pending"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Decide(events.Ticket{Subject: tc.subject, Description: tc.description}, tc.enrichment)
			if r.Queue != tc.queue || (tc.severity != "" && r.Severity != tc.severity) || r.Component != tc.component || r.NeedsTriage {
				t.Fatalf("got %s/%s/%s (needs triage %v), want %s/%s/%s; reasons %q", r.Queue, r.Severity, r.Component, r.NeedsTriage, tc.queue, tc.severity, tc.component, r.Reasons)
			}
			if r.Technical != (tc.queue == "escalation") {
				t.Fatalf("technical=%v for queue %s", r.Technical, r.Queue)
			}
			if !strings.HasPrefix(r.Reasons[0], "routed to "+tc.queue+" (confidence ") || r.Confidence < 0.6 || r.Confidence > 1 {
				t.Fatalf("first reason %q, confidence %v", r.Reasons[0], r.Confidence)
			}
			all := strings.Join(r.Reasons, "\n")
			for _, want := range tc.reasonHas {
				if !strings.Contains(all, want) {
					t.Fatalf("reasons %q lack %q", r.Reasons, want)
				}
			}
			if tc.runbook != "" && r.Runbook != tc.runbook {
				t.Fatalf("runbook %q, want %q", r.Runbook, tc.runbook)
			}
			if r.RulesVersion == "" || len(r.RuleIDs) == 0 {
				t.Fatalf("rules version %q, rule ids %v", r.RulesVersion, r.RuleIDs)
			}
		})
	}
}

// A decision less sure than the threshold goes to the needs-triage lane:
// the escalation queue, flagged, with the router's lean in the reasons.
func TestNeedsTriageThreshold(t *testing.T) {
	rules, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	model, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	vague := events.Ticket{Subject: "お客様から連絡", Description: "ご確認お願いします"}
	clear := events.Ticket{Subject: "Feature request", Description: "It would be nice to export sales to CSV. Please add it."}
	for _, tc := range []struct {
		name        string
		below       float64
		ticket      events.Ticket
		needsTriage bool
		queue       string
	}{
		{"vague ticket under a high threshold", 0.99, vague, true, events.QueueEscalation},
		{"clear ticket under a high threshold", 0.99, clear, true, events.QueueEscalation},
		{"clear ticket under the default threshold", 0, clear, false, events.QueueSupport},
		{"threshold at one half never triages", 0.5, vague, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClassifier(rules, model, ClassifierConfig{NeedsTriageBelow: tc.below})
			r := c.Decide(tc.ticket, events.Enrichment{})
			if r.NeedsTriage != tc.needsTriage || (tc.queue != "" && r.Queue != tc.queue) {
				t.Fatalf("needs triage %v in %s (confidence %.2f), want %v in %s; reasons %q", r.NeedsTriage, r.Queue, r.Confidence, tc.needsTriage, tc.queue, r.Reasons)
			}
			if tc.needsTriage && !strings.HasPrefix(r.Reasons[0], "needs triage: the router leans ") {
				t.Fatalf("first reason %q", r.Reasons[0])
			}
		})
	}
}

// An override rule decides whatever the model says.
func TestOverrideRule(t *testing.T) {
	text := strings.Replace(string(defaultRules), "\ntechnical:\n", "\ntechnical:\n  - id: cross-tenant\n    description: another restaurant's data is shown\n    weight: 1\n    override: true\n    keywords: [\"other restaurant's data\"]\n", 1)
	rules, err := ParseRules([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	model, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	c := NewClassifier(rules, model, ClassifierConfig{})
	r := c.Decide(events.Ticket{Subject: "how to", Description: "How do I see other restaurant's data? Thank you, explained."}, events.Enrichment{})
	if r.Queue != events.QueueEscalation || r.Confidence != 1 || !strings.Contains(r.Reasons[0], "rule cross-tenant decides") {
		t.Fatalf("got %s %.2f %q", r.Queue, r.Confidence, r.Reasons)
	}
}

func TestBadRulesFiles(t *testing.T) {
	want := map[string]string{
		"unknown-key.bad.yaml":       "line 6: field keywrods not found",
		"bad-severity.bad.yaml":      `line 6: severity.rules[0] (urgent): severity must be one of [P1 P2 P3 P4], got "P0"`,
		"unknown-component.bad.yaml": "line 6: components.payments: unknown component",
		"duplicate-id.bad.yaml":      "line 7: non_technical[0] (same): duplicate id",
		"no-condition.bad.yaml":      "line 3: technical[0] (empty): needs keywords or min_error_logs",
		"bad-runbook.bad.yaml":       `line 10: runbooks[1]: url must be an http(s) link, got "runbooks/payment"`,
	}
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) != len(want) {
		t.Fatalf("%d bad files, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := LoadRules(f)
			if err == nil || !strings.Contains(err.Error(), want[filepath.Base(f)]) {
				t.Fatalf("error %v, want it to contain %q", err, want[filepath.Base(f)])
			}
		})
	}
}

func TestLoadRulesFromFileMatchesBuiltIn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, defaultRules, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := LoadRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRules(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("a missing rules file was accepted")
	}
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	d := NewClassifier(r, m, ClassifierConfig{}).Decide(events.Ticket{Subject: "Printer crashed", Description: "The kitchen printer crashed and prints nothing since noon."}, events.Enrichment{})
	if d.Queue != events.QueueEscalation {
		t.Fatalf("rules from file routed a crash to %s", d.Queue)
	}
}

func TestModelFileParses(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	if m.Trained.Examples < 300 || len(m.Technical.Weights) == 0 {
		t.Fatalf("model trained on %d examples with %d features", m.Trained.Examples, len(m.Technical.Weights))
	}
	if _, err := ParseModel([]byte(`{"format": 2}`)); err == nil || !strings.Contains(err.Error(), "format 2") {
		t.Fatalf("a model of another format: %v", err)
	}
}
