package bench

import (
	"context"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p := percentiles(d)
	if p.P50 != 51*time.Millisecond || p.P99 != 100*time.Millisecond || p.Max != 100*time.Millisecond {
		t.Fatalf("percentiles %+v", p)
	}
	if (percentiles(nil) != Percentiles{}) {
		t.Fatal("empty input should give zeros")
	}
}

// The ceiling run moves every message through all hops on a real server.
func TestCeilingDeliversEveryMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rate, err := Ceiling(ctx, 200, 256)
	if err != nil {
		t.Fatal(err)
	}
	if rate <= 0 {
		t.Fatalf("rate %f", rate)
	}
}

// The intake-alone run stores every offered ticket through a real intake.
func TestIntakeAloneAcceptsEveryTicket(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := intakeAlone(ctx, 50, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tickets != 50 || r.Failed != 0 || r.Accept.P50 <= 0 || r.Throughput <= 0 {
		t.Fatalf("result %+v", r)
	}
}
