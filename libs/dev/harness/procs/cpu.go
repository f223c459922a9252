package procs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// clockTick is the unit of the CPU times in /proc: USER_HZ, which the
// kernel fixes at 100 per second for user space on every architecture Go
// runs on (sysconf(_SC_CLK_TCK) says the same, but needs cgo to ask).
const clockTick = 10 * time.Millisecond

// ProcessCPU returns the user plus system CPU time the process pid has
// used so far, all its threads together, from /proc/<pid>/stat. The kernel
// keeps the total to the nanosecond and reports it in clock ticks, so a
// reading is at most 10ms short. /proc/<pid>/schedstat has nanoseconds but
// only for the main thread, and getrusage covers a child only after it has
// been waited for; this one works on a process that keeps running.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu time of process %d: %w", pid, err)
	}
	d, err := parsePidStat(b)
	if err != nil {
		return 0, fmt.Errorf("cpu time of process %d: %w", pid, err)
	}
	return d, nil
}

// parsePidStat reads utime and stime (fields 14 and 15) from a
// /proc/<pid>/stat line. The command name in field 2 is in parentheses and
// may itself hold spaces and parentheses, so the fields are counted from
// the last ')'.
func parsePidStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("no command name in /proc/<pid>/stat")
	}
	fields := bytes.Fields(b[i+1:]) // fields[0] is field 3, the state
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("/proc/<pid>/stat has %d fields after the command name, want at least %d", len(fields), stime+1)
	}
	var total time.Duration
	for _, f := range []int{utime, stime} {
		ticks, err := strconv.ParseUint(string(fields[f]), 10, 63)
		if err != nil {
			return 0, fmt.Errorf("/proc/<pid>/stat field %d: %w", f+3, err)
		}
		total += time.Duration(ticks) * clockTick
	}
	return total, nil
}

// SelfCPU returns the user plus system CPU time this process has used so
// far, to the microsecond (getrusage).
func SelfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// MachineCPU is the whole machine's CPU time so far, all CPUs together.
type MachineCPU struct {
	// Busy is time running anything: user, nice, system, irq, softirq.
	Busy time.Duration
	// Steal is time the hypervisor gave to other machines while this one
	// wanted to run.
	Steal time.Duration
	// Total is every state, idle and iowait included.
	Total time.Duration
}

// Sub is the CPU time used between earlier and m.
func (m MachineCPU) Sub(earlier MachineCPU) MachineCPU {
	return MachineCPU{Busy: m.Busy - earlier.Busy, Steal: m.Steal - earlier.Steal, Total: m.Total - earlier.Total}
}

// ReadMachineCPU reads the machine's CPU time from /proc/stat.
func ReadMachineCPU() (MachineCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return MachineCPU{}, fmt.Errorf("machine cpu time: %w", err)
	}
	m, err := parseProcStat(b)
	if err != nil {
		return MachineCPU{}, fmt.Errorf("machine cpu time: %w", err)
	}
	return m, nil
}

// parseProcStat reads the "cpu" line of /proc/stat: user nice system idle
// iowait irq softirq steal, in clock ticks (guest time, after them, is
// already counted in user and nice).
func parseProcStat(b []byte) (MachineCPU, error) {
	for line := range bytes.Lines(b) {
		fields := bytes.Fields(line)
		if len(fields) == 0 || string(fields[0]) != "cpu" {
			continue
		}
		if len(fields) < 9 {
			return MachineCPU{}, fmt.Errorf("/proc/stat cpu line has %d fields, want at least 9", len(fields))
		}
		var t [8]time.Duration // user nice system idle iowait irq softirq steal
		for i := range t {
			ticks, err := strconv.ParseUint(string(fields[i+1]), 10, 63)
			if err != nil {
				return MachineCPU{}, fmt.Errorf("/proc/stat cpu field %d: %w", i+1, err)
			}
			t[i] = time.Duration(ticks) * clockTick
		}
		m := MachineCPU{Busy: t[0] + t[1] + t[2] + t[5] + t[6], Steal: t[7]}
		for _, d := range t {
			m.Total += d
		}
		return m, nil
	}
	return MachineCPU{}, errors.New(`/proc/stat has no "cpu" line`)
}
