package mqtt

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// phaseRuntime adds up what the Go runtime says of a benchmark's phases
// (runtime/metrics): how long runnable goroutines waited for a processor,
// the garbage collections and their stop-the-world pauses, and the CPU
// time of mark assists (goroutines that allocate helping the collector).
// It is how the cost of delivery to the door was traced to its causes
// (docs/integrations.md, "Performance").
type phaseRuntime struct {
	sched, pauses   []uint64 // histogram counts
	schedB, pausesB []float64
	gcs             uint64
	assist          float64
	runDelay        time.Duration // the process's threads' time runnable but off a CPU
	cpu             time.Duration // the process's CPU time (user and system)
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runDelay is the time the threads of this process have spent waiting
// for a CPU, as Linux counts it (/proc/self/task/*/schedstat, the second
// figure); 0 where there is no such file. It is what the Go runtime
// cannot see: a goroutine the runtime counts as running whose thread the
// operating system has set aside for another program.
func runDelay() time.Duration {
	tasks, _ := filepath.Glob("/proc/self/task/*/schedstat")
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that ended
		}
		if f := strings.Fields(string(b)); len(f) == 3 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			sum += time.Duration(n)
		}
	}
	return sum
}

// runtimeMark is the figures at one moment.
type runtimeMark struct {
	s             []metrics.Sample
	runDelay, cpu time.Duration
}

var runtimeNames = []string{
	"/sched/latencies:seconds",
	"/sched/pauses/total/gc:seconds",
	"/gc/cycles/total:gc-cycles",
	"/cpu/classes/gc/mark/assist:cpu-seconds",
}

func readRuntime() runtimeMark {
	s := make([]metrics.Sample, len(runtimeNames))
	for i, n := range runtimeNames {
		s[i].Name = n
	}
	metrics.Read(s)
	return runtimeMark{s, runDelay(), cpuTime()}
}

// add adds the phase that ran from ma to mz.
func (p *phaseRuntime) add(ma, mz runtimeMark) {
	p.runDelay += max(mz.runDelay-ma.runDelay, 0)
	p.cpu += mz.cpu - ma.cpu
	a, z := ma.s, mz.s
	addHist(&p.sched, &p.schedB, a[0], z[0])
	addHist(&p.pauses, &p.pausesB, a[1], z[1])
	p.gcs += z[2].Value.Uint64() - a[2].Value.Uint64()
	p.assist += z[3].Value.Float64() - a[3].Value.Float64()
}

func addHist(counts *[]uint64, bounds *[]float64, a, z metrics.Sample) {
	ha, hz := a.Value.Float64Histogram(), z.Value.Float64Histogram()
	if *counts == nil {
		*counts, *bounds = make([]uint64, len(hz.Counts)), hz.Buckets
	}
	for i := range hz.Counts {
		(*counts)[i] += hz.Counts[i] - ha.Counts[i]
	}
}

// quantile is the upper bound of the bucket holding quantile q (0 for an
// empty histogram).
func quantile(counts []uint64, bounds []float64, q float64) float64 {
	var n uint64
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		return 0
	}
	want, seen := uint64(math.Ceil(q*float64(n))), uint64(0)
	for i, c := range counts {
		seen += c
		if seen >= want {
			return bounds[i+1]
		}
	}
	return math.Inf(1)
}

func (p *phaseRuntime) String() string {
	return fmt.Sprintf("goroutines' waits for a processor p99 %.0f µs, p99.9 %.0f µs; threads' waits for a CPU %s in all; %d GCs, pauses p99 %.0f µs, max %.0f µs; mark assists %.3f s",
		quantile(p.sched, p.schedB, .99)*1e6, quantile(p.sched, p.schedB, .999)*1e6, p.runDelay.Round(time.Millisecond),
		p.gcs, quantile(p.pauses, p.pausesB, .99)*1e6, quantile(p.pauses, p.pausesB, 1)*1e6, p.assist)
}
