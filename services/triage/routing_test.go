package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/services/router"
)

// The commands' lines parse (they are registered in main.go's cli).
func TestRoutingCommandLinesParse(t *testing.T) {
	for _, args := range [][]string{
		{"classify", "--needs-triage-below", "0.7"},
		{"routing", "retrain", "--out", "/etc/triage/model.json", "--correction-weight", "5"},
		{"routing", "retrain", "--dry-run"},
		{"routing", "diff", "--model", "/etc/triage/model.json"},
	} {
		var c struct {
			Classify classifyCmd `cmd:""`
			Routing  routingCmd  `cmd:""`
		}
		parser, err := kong.New(&c, kong.Name("triage"), kong.Exit(func(int) { t.Fatalf("exit on %v", args) }))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.Parse(args); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// `triage classify`: JSON lines in, one decision per line out, in order,
// the same as the router decides.
func TestClassifyRoundTrip(t *testing.T) {
	cl, err := router.DefaultClassifier()
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Join([]string{
		`{"id":"a","subject":"決済できない","description":"19:05頃からカード決済でエラーになります。ディナーのピークで会計が一切できません。","tenant_id":"rst-1","language":"ja"}`,
		``,
		`{"id":"b","subject":"Invoice question","description":"Can you resend last month's invoice?","tenant_id":"rst-2","label":{"technical":false}}`,
		`{"id":"c","subject":"お客様から連絡","description":"お客様が困っているようです","tenant_id":"rst-3","logs":[{"id":"l1","timestamp":"2026-11-21T10:05:00Z","level":"error","service":"payment-gateway","message":"payment provider timeout after 30000 ms","fields":{"error.code":"PAY-1042","http.response.status_code":"504"}}]}`,
	}, "\n")
	var out bytes.Buffer
	if err := classify(strings.NewReader(in), &out, cl); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d decisions for 3 tickets:\n%s", len(lines), out.String())
	}
	for i, tc := range []struct {
		id, queue, component, reasonHas string
	}{
		{"a", "escalation", "payment", "p1-cannot-trade"},
		{"b", "support", "billing", "rule billing"},
		{"c", "escalation", "payment", "1 ERROR logs (1 from payment-gateway)"},
	} {
		var got classifyOutput
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatal(err)
		}
		if got.ID != tc.id || got.Queue != tc.queue || got.Component != tc.component || got.Technical != (tc.queue == "escalation") || got.Confidence < 0.5 {
			t.Errorf("line %d: %+v, want %s in %s, %s", i, got, tc.id, tc.queue, tc.component)
		}
		if !strings.Contains(strings.Join(got.Reasons, "\n"), tc.reasonHas) {
			t.Errorf("line %d: reasons %q lack %q", i, got.Reasons, tc.reasonHas)
		}
	}
	if err := classify(strings.NewReader("{not json"), &out, cl); err == nil || !strings.Contains(err.Error(), "stdin line 1") {
		t.Fatalf("bad input: %v", err)
	}
}

// A person's re-route, kept in the stream, flips the ticket's decision
// once the model is retrained with it; diff shows it before anything is
// written, and retrain writes a model the router loads.
func TestRetrainWithCorrection(t *testing.T) {
	ns := testkit.RunJetStream(t)
	ctx := t.Context()
	nc, js, err := bus.Connect(ctx, ns.ClientURL(), "test", zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if err := bus.EnsureStreams(ctx, js, bus.DefaultTopology().Streams()...); err != nil {
		t.Fatal(err)
	}
	cl, err := router.DefaultClassifier()
	if err != nil {
		t.Fatal(err)
	}
	// Support staff wrote it as a question; the engineer knows this
	// tenant's menu screen really is broken.
	corrected := events.Ticket{ID: "t-corrected", Subject: "メニューの追加方法", Description: "新しいメニューの使い方を教えてください", TenantID: "rst-9", SubmittedAt: time.Now()}
	other := events.Ticket{ID: "t-other", Subject: "Kitchen printer not printing", Description: "Since 7pm nothing prints in the kitchen.", TenantID: "rst-8", SubmittedAt: time.Now()}
	enr := events.Enrichment{LogsStatus: events.LogsNoneFound, Attempt: 1}
	decision := cl.Decide(corrected, enr)
	if decision.Queue != events.QueueSupport {
		t.Fatalf("the built-in model already routes the ticket to %s", decision.Queue)
	}
	publish := func(subject, typ, id string, data any) {
		t.Helper()
		if _, err := bus.Publish(ctx, js, bus.Event{Subject: subject, Type: typ, ID: id, Source: "test", About: id, Time: time.Now(), Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tk := range []events.Ticket{corrected, other} {
		publish(events.TicketSubject(events.SubjectRouted, tk.ID), events.TypeTicketRouted, "routed:"+tk.ID,
			events.TicketRouted{SchemaVersion: events.SchemaVersion, Ticket: tk, Enrichment: enr, Routing: cl.Decide(tk, enr)})
	}
	publish(events.TicketSubject(events.SubjectRerouted, corrected.ID), events.TypeTicketRerouted, "rerouted:"+corrected.ID,
		events.TicketRerouted{Action: events.Action{SchemaVersion: events.SchemaVersion, TicketID: corrected.ID, Actor: events.Actor{Name: "kim", Role: "engineer"}, At: time.Now(), Reason: "menu screen broken for this tenant"},
			From: events.QueueSupport, To: events.QueueEscalation, RouterDecision: decision})

	modelPath := filepath.Join(t.TempDir(), "model.json")
	run := func(dryRun bool) string {
		t.Helper()
		var out bytes.Buffer
		c := routingRetrainCmd{CorrectionWeight: 3, Out: modelPath, DryRun: dryRun, Show: 20}
		if err := c.retrain(ctx, jetstream.JetStream(js), &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	diff := run(true)
	for _, want := range []string{
		"corrections in the stream: 1 re-routed tickets (1 to escalation, 0 to support)",
		"the current model agrees with 0 of 1 people, the new one with 1",
		"on the 2 routed tickets in the stream, the new model would change:",
		"queue: 1 to escalation, 0 to support",
		`t-corrected "メニューの追加方法": support`,
		"dry run: nothing written",
	} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}
	if _, err := os.Stat(modelPath); !os.IsNotExist(err) {
		t.Fatalf("a dry run wrote the model: %v", err)
	}
	if out := run(false); !strings.Contains(out, "wrote "+modelPath) {
		t.Fatalf("retrain output:\n%s", out)
	}
	m, err := router.LoadModel(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	if m.Trained.Corrections != 1 {
		t.Fatalf("model trained with %d corrections", m.Trained.Corrections)
	}
	after := router.NewClassifier(cl.Rules(), m, router.ClassifierConfig{}).Decide(corrected, enr)
	if after.Queue != events.QueueEscalation || after.NeedsTriage {
		t.Fatalf("after retraining the ticket goes to %s (needs triage %v); reasons %q", after.Queue, after.NeedsTriage, after.Reasons)
	}
}
