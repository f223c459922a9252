package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

// A malformed event on a live pipeline ends in the dead-letter stream with
// the reason, does not block the tickets behind it, and can be replayed.
func TestPoisonMessageInPipeline(t *testing.T) {
	p := startPipeline(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js := p.Intake.JS
	m := nats.NewMsg("tickets.submitted.poison-1")
	m.Data = []byte(`{"schema_version":1,"ticket":`) // cut short
	m.Header.Set(bus.HeaderType, events.TypeTicketSubmitted)
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	var dls []bus.DeadLetter
	testkit.Eventually(t, time.Minute, func() (err error) {
		if dls, err = bus.ListDeadLetters(ctx, js); err == nil && len(dls) == 0 {
			err = errors.New("the malformed event has not reached the dead-letter stream")
		}
		return err
	})
	dl := dls[0]
	if dl.Consumer != "enricher" || dl.Subject != "tickets.submitted.poison-1" || !strings.Contains(dl.Reason, "decode tickets.submitted.poison-1") {
		t.Fatalf("dead letter %+v", dl)
	}
	// Tickets behind it still flow.
	subs := sampleTickets(3)
	for _, s := range subs {
		if r, err := submit(ctx, client(), p.Pipeline, s); err != nil || r.status != 202 {
			t.Fatalf("submit: %d %v", r.status, err)
		}
	}
	t.Log("dead-lettered; submitting")
	if got := queueContents(t, p.Pipeline, 3); len(got) != 3 {
		t.Fatalf("%d tickets queued behind the poison message, want 3", len(got))
	}
	t.Log("queued; replaying")
	// Replay puts it back; still malformed, it returns to the dead letters.
	if _, err := bus.ReplayDeadLetter(ctx, js, dl.Seq); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Minute, func() error {
		dls, err := bus.ListDeadLetters(ctx, js)
		if err == nil && (len(dls) != 1 || dls[0].Seq == dl.Seq) {
			err = fmt.Errorf("replayed message has not come back as a new dead letter: %+v", dls)
		}
		return err
	})
}
