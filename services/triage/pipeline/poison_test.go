package pipeline

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/triage-pipeline/triage/libs/bus"
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
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	var dls []bus.DeadLetter
	for {
		var err error
		if dls, err = bus.ListDeadLetters(ctx, js); err != nil {
			t.Fatal(err)
		}
		if len(dls) > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the malformed event never reached the dead-letter stream")
		}
		time.Sleep(50 * time.Millisecond)
	}
	dl := dls[0]
	if dl.Consumer != "enricher" || dl.Subject != "tickets.submitted.poison-1" || !strings.Contains(dl.Reason, "decode tickets.submitted.poison-1") {
		t.Fatalf("dead letter %+v", dl)
	}
	// Tickets behind it still flow.
	subs := sampleTickets(3)
	for _, s := range subs {
		if r, err := submit(ctx, client(), p.Intake.URL(), s); err != nil || r.status != 202 {
			t.Fatalf("submit: %d %v", r.status, err)
		}
	}
	t.Log("dead-lettered; submitting")
	if got := queueContents(t, p.Queue.URL(), 3); len(got) != 3 {
		t.Fatalf("%d tickets queued behind the poison message, want 3", len(got))
	}
	t.Log("queued; replaying")
	// Replay puts it back; still malformed, it returns to the dead letters.
	if _, err := bus.ReplayDeadLetter(ctx, js, dl.Seq); err != nil {
		t.Fatal(err)
	}
	for {
		dls, err := bus.ListDeadLetters(ctx, js)
		if err != nil {
			t.Fatal(err)
		}
		if len(dls) == 1 && dls[0].Seq != dl.Seq {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("replayed message did not come back as a new dead letter: %+v", dls)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
