package queue

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

// sseEvent is one Server-Sent Event as a client reads it.
type sseEvent struct {
	id, name, data string
}

// stream opens an event stream as who, resuming after lastID when set, and
// returns its events as they come.
func (f *fixture) stream(ctx context.Context, who, path, lastID string) <-chan sseEvent {
	f.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.s.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens[who])
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		f.t.Fatalf("stream %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 100)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					select {
					case out <- ev:
					case <-ctx.Done():
						return
					}
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.name = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return out
}

// next waits for the next event whose data mentions want.
func next(t *testing.T, events <-chan sseEvent, name, want string) sseEvent {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the stream ended before a %s event with %q", name, want)
			}
			if ev.name == name && strings.Contains(ev.data, want) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event with %q in 20s", name, want)
		}
	}
}

// The queue page's stream tells a connected client of every change, and a
// client that reconnects with Last-Event-ID gets what it missed.
func TestLiveUpdatesResumeWhereTheyLeftOff(t *testing.T) {
	f := startQueue(t)
	f.route("t-live-1", events.QueueEscalation, "P2", 1)
	f.queued("t-live-1")
	ctx, cancel := context.WithCancel(t.Context())
	first := f.stream(ctx, "kim", "/api/v1/queue/events", "")
	hello := next(t, first, "hello", "rev")
	f.route("t-live-2", events.QueueEscalation, "P3", 1)
	seen := next(t, first, "change", "t-live-2")
	cancel() // the page goes away (a laptop closed)
	for range first {
	}

	// Meanwhile: a claim and a new ticket.
	_, tag := f.queued("t-live-1")
	if a := f.do("kim", "POST", "/api/v1/queue/tickets/t-live-1/claim", nil, "If-Match", tag); a.status != 200 {
		t.Fatalf("claim: %d %s", a.status, a.body)
	}
	f.route("t-live-3", events.QueueEscalation, "P1", 1)
	f.queued("t-live-3")
	testkit.Eventually(t, 20*time.Second, func() error {
		if s, ok := f.s.view.get("t-live-1"); !ok || s.Assignee != "kim" {
			return fmt.Errorf("the claim has not reached the view")
		}
		return nil
	})

	ctx2, cancel2 := context.WithCancel(t.Context())
	defer cancel2()
	resumed := f.stream(ctx2, "kim", "/api/v1/queue/events", seen.id)
	// Both missed changes arrive, in whatever order they were stored.
	missed := map[string]bool{}
	deadline := time.After(20 * time.Second)
	for !(missed["claim"] && missed["new"]) {
		select {
		case ev := <-resumed:
			if ev.name != "change" {
				continue
			}
			missed["claim"] = missed["claim"] || (strings.Contains(ev.data, "t-live-1") && strings.Contains(ev.data, `"assignee":"kim"`))
			missed["new"] = missed["new"] || strings.Contains(ev.data, "t-live-3")
		case <-deadline:
			t.Fatalf("the resumed stream did not replay what was missed: %v", missed)
		}
	}
	if hello.id == "" || seen.id == "" {
		t.Fatal("events carry no ids to resume from")
	}
	// A ticket page's stream says when its ticket changed.
	tctx, tcancel := context.WithCancel(t.Context())
	defer tcancel()
	ticket := f.stream(tctx, "sato", "/api/v1/queue/tickets/t-live-3/events", "")
	_, tag3 := f.queued("t-live-3")
	if a := f.do("lee", "POST", "/api/v1/queue/tickets/t-live-3/claim", nil, "If-Match", tag3); a.status != 200 {
		t.Fatalf("claim: %d %s", a.status, a.body)
	}
	var rev struct{ Rev uint64 }
	if err := json.Unmarshal([]byte(next(t, ticket, "changed", "rev").data), &rev); err != nil || rev.Rev == 0 {
		t.Fatalf("ticket change event: %+v %v", rev, err)
	}
	http.DefaultClient.CloseIdleConnections()
}

// A missed target is written once, counted, and shown on the ticket. The
// SLA watch runs on a clock the test moves, so no check can fall between
// two due times by chance.
func TestSLABreachIsRecordedOnce(t *testing.T) {
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	args := []string{"--sla-targets", "P1=10m/1h,P2=1h/2h", "--sla-always-on", "P1", "--sla-check", "1s"}
	f := startQueueAt(t, now, args...)
	f.route("t-sla", events.QueueEscalation, "P1", 1)
	f.queued("t-sla")
	offset.Store(int64(20 * time.Minute)) // past the response target only
	v := f.eventually("t-sla", "response breached", func(v Record) bool { return v.SLA.ResponseBreached })
	if v.SLA.ResolutionBreached {
		t.Fatalf("resolution breached 40 minutes early: %+v", v.SLA)
	}
	if s, ok := f.s.view.get("t-sla"); ok && s.SLAState(now()) != SLABreached {
		t.Fatalf("the list does not show the breach: %+v", s)
	}
	// A second replica checking the same tickets writes nothing twice.
	f.start(loadConfig(t, f.srv.ClientURL(), args...), true)
	offset.Store(int64(2 * time.Hour)) // past the resolution target too
	f.eventually("t-sla", "resolution breached", func(v Record) bool { return v.SLA.ResolutionBreached })
	h := string(f.do("kim", "GET", "/api/v1/queue/tickets/t-sla/history", nil).body)
	if n := strings.Count(h, `"type":"sla_breached"`); n != 2 {
		t.Fatalf("%d breaches in the history, want 2 (response, resolution): %s", n, h)
	}
}
