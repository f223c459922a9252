package bench

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/harness/procs"
)

func fixed(d time.Duration) func() (time.Duration, error) {
	return func() (time.Duration, error) { return d, nil }
}

// The table gives each part's CPU per ticket and share, sums our services,
// leaves out a part it could not read, and says what the rest of the
// machine used.
func TestUsagePrint(t *testing.T) {
	ms := time.Millisecond
	u := &usage{
		wall: 10 * time.Second,
		parts: []partUsage{
			{part: part{name: "intake", service: true}, used: 1000 * ms},
			{part: part{name: "enricher", service: true}, used: 3000 * ms},
			{part: part{name: "NATS"}, used: 4000 * ms},
			{part: part{name: "development Elasticsearch"}, err: errors.New("process 7 exited")},
			{part: part{name: "load generator (this process)"}, used: 2000 * ms},
		},
		machine:   procs.MachineCPU{Busy: 12000 * ms, Steal: 1000 * ms, Total: 20000 * ms},
		machineOK: true,
	}
	var out strings.Builder
	u.print(&out, "ticket", 1000)
	got := out.String()
	for _, want := range []string{
		"CPU per ticket (user+system; 1.00 of",
		"CPUs busy over 10s):",
		"    intake                          1.000 ms   10%\n",
		"    enricher                        3.000 ms   30%\n",
		"    our services                    4.000 ms   40%  (the 2 above)\n",
		"    NATS                            4.000 ms   40%\n",
		"    development Elasticsearch     not measured (process 7 exited)\n",
		"    load generator (this process)   2.000 ms   20%\n",
		"    total                          10.000 ms  100%\n",
		"rest of the machine: 2.000 ms CPU per ticket (other processes, interrupts); 60% of the CPUs' time busy, 5% stolen",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, "our services") > strings.Index(got, "NATS") {
		t.Errorf("our services should follow the last service:\n%s", got)
	}

	// One part (everything in one process): one line.
	out.Reset()
	one := &usage{wall: time.Second, parts: []partUsage{{part: part{name: "the whole process"}, used: 500 * ms}}}
	one.print(&out, "message", 100)
	if got, want := out.String(), "  CPU per message:     5.000 ms, the whole process; 0.50 of"; !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 1 {
		t.Errorf("got %q, want one line starting %q", got, want)
	}

	// Nothing to divide by, or nothing measured: nothing printed.
	out.Reset()
	one.print(&out, "ticket", 0)
	(*usage)(nil).print(&out, "ticket", 10)
	if out.Len() != 0 {
		t.Errorf("printed %q", out.String())
	}
}

// measure reports what each part used between its two readings, and an
// error from either reading.
func TestMeasure(t *testing.T) {
	readings := []time.Duration{2 * time.Second, 5 * time.Second}
	calls := 0
	failing := errors.New("gone")
	done := measure([]part{
		{name: "counting", cpu: func() (time.Duration, error) { calls++; return readings[calls-1], nil }},
		{name: "failing", cpu: func() (time.Duration, error) { return 0, failing }},
		{name: "steady", cpu: fixed(time.Second)},
	})
	u := done()
	if u.parts[0].used != 3*time.Second || u.parts[0].err != nil {
		t.Errorf("counting: %+v", u.parts[0])
	}
	if !errors.Is(u.parts[1].err, failing) {
		t.Errorf("failing: %+v", u.parts[1])
	}
	if u.parts[2].used != 0 || u.total() != 3*time.Second {
		t.Errorf("steady: %+v, total %v", u.parts[2], u.total())
	}
}
