package bench

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/harness/procs"
)

// part is one component whose CPU time a run accounts for.
type part struct {
	name string
	// service marks one of our five services; they are also summed as
	// "our services".
	service bool
	cpu     func() (time.Duration, error)
}

func processPart(name string, service bool, p *procs.Proc) part {
	return part{name: name, service: service, cpu: p.CPU}
}

func selfPart(name string) part { return part{name: name, cpu: procs.SelfCPU} }

// usage is the CPU time each part used over one run.
type usage struct {
	wall  time.Duration
	parts []partUsage
	// machine is the whole machine's CPU time over the run; ok false when
	// /proc/stat could not be read.
	machine   procs.MachineCPU
	machineOK bool
}

type partUsage struct {
	part
	used time.Duration
	err  error
}

// measure reads every part's CPU time now, and returns a function that
// reads them again and returns what each used in between.
func measure(parts []part) func() *usage {
	before := make([]time.Duration, len(parts))
	errs := make([]error, len(parts))
	for i, p := range parts {
		before[i], errs[i] = p.cpu()
	}
	machineBefore, machineErr := procs.ReadMachineCPU()
	start := time.Now()
	return func() *usage {
		u := &usage{wall: time.Since(start)}
		for i, p := range parts {
			after, err := p.cpu()
			if errs[i] != nil {
				err = errs[i]
			}
			u.parts = append(u.parts, partUsage{part: p, used: after - before[i], err: err})
		}
		if m, err := procs.ReadMachineCPU(); err == nil && machineErr == nil {
			u.machine, u.machineOK = m.Sub(machineBefore), true
		}
		return u
	}
}

// total is the CPU time of the parts that were measured.
func (u *usage) total() time.Duration {
	var t time.Duration
	for _, p := range u.parts {
		if p.err == nil {
			t += p.used
		}
	}
	return t
}

// print writes the CPU time per unit (ticket, message) of each part, with
// its share of the total, and how busy the machine's CPUs were.
func (u *usage) print(out io.Writer, unit string, n int) {
	if u == nil || n <= 0 {
		return
	}
	total := u.total()
	per := func(d time.Duration) float64 { return ms(d) / float64(n) }
	share := func(d time.Duration) float64 { return 100 * float64(d) / float64(max(total, 1)) }
	busy := fmt.Sprintf("%.2f of %d CPUs busy over %s", total.Seconds()/u.wall.Seconds(), runtime.NumCPU(), u.wall.Round(100*time.Millisecond))
	if len(u.parts) == 1 {
		p := u.parts[0]
		if p.err != nil {
			fmt.Fprintf(out, "  CPU per %s: not measured (%v)\n", unit, p.err)
			return
		}
		fmt.Fprintf(out, "  %-20s %.3f ms, %s; %s\n", "CPU per "+unit+":", per(p.used), p.name, busy)
		u.printMachine(out, unit, per, total)
		return
	}
	fmt.Fprintf(out, "  CPU per %s (user+system; %s):\n", unit, busy)
	width := len("our services")
	for _, p := range u.parts {
		width = max(width, len(p.name))
	}
	row := func(name string, d time.Duration, note string) {
		fmt.Fprintf(out, "    %-*s %7.3f ms %4.0f%%%s\n", width, name, per(d), share(d), note)
	}
	var ours time.Duration
	services := 0
	for i, p := range u.parts {
		if p.err != nil {
			fmt.Fprintf(out, "    %-*s not measured (%v)\n", width, p.name, p.err)
		} else {
			row(p.name, p.used, "")
		}
		if p.service {
			services++
			if p.err == nil {
				ours += p.used
			}
			if i+1 == len(u.parts) || !u.parts[i+1].service {
				row("our services", ours, fmt.Sprintf("  (the %d above)", services))
			}
		}
	}
	row("total", total, "")
	u.printMachine(out, unit, per, total)
}

// printMachine says what the rest of the machine used meanwhile: on a
// shared machine other programs, and other virtual machines (steal), take
// CPU the figures above could have had.
func (u *usage) printMachine(out io.Writer, unit string, per func(time.Duration) float64, ours time.Duration) {
	if !u.machineOK || u.machine.Total <= 0 {
		return
	}
	others := max(u.machine.Busy-ours, 0)
	fmt.Fprintf(out, "    rest of the machine: %.3f ms CPU per %s (other processes, interrupts); %.0f%% of the CPUs' time busy, %.0f%% stolen by other virtual machines\n",
		per(others), unit, 100*float64(u.machine.Busy)/float64(u.machine.Total), 100*float64(u.machine.Steal)/float64(u.machine.Total))
}
