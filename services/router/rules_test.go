package router

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/events"
)

func TestDecide(t *testing.T) {
	rules, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	errorLogs := events.Enrichment{
		LogsStatus: events.LogsAttached, ErrorLogs: 14,
		Signatures: []events.Signature{{Template: "payment provider timeout after <*> ms", Count: 14, Services: []string{"payment-gateway"}}},
	}
	for _, tc := range []struct {
		name, subject, description string
		enrichment                 events.Enrichment
		queue, severity, component string
		reasonHas                  string
	}{
		{name: "ja payment outage", subject: "決済できない", description: "19:05頃からカード決済でエラーになります", queue: "escalation", severity: "P1", component: "payment", reasonHas: `"決済できない"`},
		{name: "en printer broken", subject: "Kitchen printer not printing", description: "Since 7pm nothing prints in the kitchen.", queue: "escalation", severity: "P2", component: "printer", reasonHas: `"not printing"`},
		{name: "error logs alone", subject: "お客様から連絡", description: "お客様が困っているようです", enrichment: errorLogs, queue: "escalation", severity: "P2", component: "payment", reasonHas: "14 error logs from payment-gateway"},
		{name: "full-width error word", subject: "ＥＲＲＯＲが出る", description: "画面にＥＲＲＯＲと出ます", queue: "escalation", severity: "P3", component: "other", reasonHas: `"error"`},
		{name: "no-break space folded as the extractor does", subject: "Card terminal", description: "It keeps saying time\u00a0out", queue: "escalation", severity: "P3", component: "payment", reasonHas: `"time out"`},
		{name: "ja how-to", subject: "メニューの追加方法", description: "新しいメニューの使い方を教えてください", queue: "support", severity: "P4", component: "menu", reasonHas: "howto-ja"},
		{name: "en billing", subject: "Invoice question", description: "Can you resend last month's invoice?", queue: "support", severity: "P4", component: "billing", reasonHas: "billing"},
		{name: "urgent-sounding contract question stays support", subject: "至急！解約について", description: "至急、契約の解約方法を教えてください", queue: "support", severity: "P4", component: "billing"},
		{name: "feature request", subject: "Feature request", description: "It would be nice to export sales to CSV. Please add it.", queue: "support", severity: "P4", component: "other"},
		{name: "word boundary: download is not down", subject: "Download the report", description: "Where can I download the monthly report?", queue: "support", severity: "P4", component: "other"},
		{name: "nothing matches", subject: "こんにちは", description: "ご確認お願いします", queue: "support", severity: "P4", component: "other", reasonHas: "no rule found a technical problem"},
		{name: "logs pending noted", subject: "Payments fail", description: "Card payments fail with HTTP 503", enrichment: events.Enrichment{LogsStatus: events.LogsPending}, queue: "escalation", severity: "P3", component: "payment", reasonHas: "logs pending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rules.Decide(events.Ticket{Subject: tc.subject, Description: tc.description}, tc.enrichment)
			if r.Queue != tc.queue || r.Severity != tc.severity || r.Component != tc.component {
				t.Fatalf("got %s/%s/%s, want %s/%s/%s; reasons %q", r.Queue, r.Severity, r.Component, tc.queue, tc.severity, tc.component, r.Reasons)
			}
			if r.Technical != (tc.queue == "escalation") {
				t.Fatalf("technical=%v for queue %s", r.Technical, r.Queue)
			}
			if !strings.HasPrefix(r.Reasons[0], "routed to "+tc.queue+" because: ") {
				t.Fatalf("first reason %q", r.Reasons[0])
			}
			if !strings.Contains(strings.Join(r.Reasons, "\n"), tc.reasonHas) {
				t.Fatalf("reasons %q lack %q", r.Reasons, tc.reasonHas)
			}
			if r.RulesVersion == "" {
				t.Fatal("no rules version recorded")
			}
		})
	}
}

func TestBadRulesFiles(t *testing.T) {
	want := map[string]string{
		"unknown-key.bad.yaml":       "field keywrods not found",
		"bad-severity.bad.yaml":      `severity must be one of [P1 P2 P3 P4], got "P0"`,
		"unknown-component.bad.yaml": "components.payments: unknown component",
		"duplicate-id.bad.yaml":      "non_technical[0] (same): duplicate id",
		"no-condition.bad.yaml":      "technical[0] (empty): needs keywords or min_error_logs",
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
	d := r.Decide(events.Ticket{Subject: "Printer crashed"}, events.Enrichment{})
	if d.Queue != events.QueueEscalation {
		t.Fatalf("rules from file routed a crash to %s", d.Queue)
	}
}
