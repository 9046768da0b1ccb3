package mqtt

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/outbox"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/reader/readertest"
	"github.com/latchd/latch/schedule"
	"github.com/latchd/latch/store"
	"github.com/latchd/latch/webhook"
)

// The outbox benchmarks (docs/integrations.md, "Performance"): how many
// events a second the outbox delivers to MQTT (Debian's mosquitto on
// loopback, QoS 1, one PUBACK awaited per event) and to a webhook (a
// receiver process on loopback, one signed POST per event); and the
// door's decision p99 while both drain a backlog, against the same door
// with the outbox stopped. The receivers run in processes of their own,
// as they do in a real installation, so that what is measured is
// latchd's own work.

// benchStore is a store with retention for the whole backlog.
func benchStore(b *testing.B, retention int) *store.Store {
	dir := b.TempDir()
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key"), EventRetention: retention})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// backlog appends n events as the doors write them.
func backlog(b *testing.B, st *store.Store, n int) {
	now := time.Now()
	for n > 0 {
		k := min(n, 1000)
		evs := make([]store.Event, k)
		for i := range evs {
			evs[i] = store.Event{Time: now, Event: door.EvAccessDenied, Door: "front", Reader: "in", Reason: door.ReasonUnknownCard,
				Card: &store.EventCard{Format: "h10301", FacilityCode: 9, CardNumber: uint64(i)}}
		}
		if err := st.AppendEvents(evs); err != nil {
			b.Fatal(err)
		}
		n -= k
	}
}

// receiverEnv makes the test binary a webhook receiver (TestMain): the
// benchmark of the decision latency keeps the receivers' work out of the
// process it measures, as a real receiver is another machine.
const receiverEnv = "LATCH_BENCH_RECEIVER"

func TestMain(m *testing.M) {
	if os.Getenv(receiverEnv) == "1" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			os.Exit(1)
		}
		fmt.Println(l.Addr().String())
		http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
		}))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// receiverURL is a webhook receiver on loopback: in a process of its own
// (separate), else an httptest server in this one.
func receiverURL(b *testing.B, separate bool) string {
	if !separate {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
		}))
		b.Cleanup(srv.Close)
		return srv.URL
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), receiverEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	return "http://" + strings.TrimSpace(addr)
}

// brokerAddr is an MQTT broker on loopback: Debian's mosquitto in a
// process of its own when separate and installed, else mochi in this one.
func brokerAddr(b *testing.B, separate bool) string {
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/mosquitto")
	}
	if !separate || err != nil {
		if separate {
			b.Log("mosquitto not installed: the broker runs in this process")
		}
		return startBrokerQuiet(b)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	conf := filepath.Join(b.TempDir(), "mosquitto.conf")
	_, port, _ := net.SplitHostPort(addr)
	os.WriteFile(conf, []byte("listener "+port+" 127.0.0.1\nallow_anonymous true\nuser root\n"), 0o644)
	cmd := exec.Command(bin, "-c", conf)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			b.Fatalf("mosquitto does not listen: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // a real process starting
	}
}

func benchWebhook(b *testing.B, separate bool) *webhook.Webhook {
	p := filepath.Join(b.TempDir(), "secret")
	os.WriteFile(p, []byte("bench-secret"), 0o600)
	w, err := webhook.New(webhook.Config{Name: "bench", URL: receiverURL(b, separate), SecretFile: p}, webhook.Options{Controller: "hq"})
	if err != nil {
		b.Fatal(err)
	}
	return w
}

func benchMQTT(b *testing.B, separate bool) *Client {
	c := startClient(b, Config{URL: "tcp://" + brokerAddr(b, separate), DiscoveryPrefix: DefaultDiscoveryPrefix},
		Options{Controller: "hq", Log: zerolog.Nop(), Doors: []DoorInfo{{Name: "front"}}, ReconnectBackoff: func(int) time.Duration { return 10 * time.Millisecond }})
	actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer acancel()
	if err := c.cm.AwaitConnection(actx); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkOutboxThroughput: b.N stored events delivered through the
// outbox to one destination with no rate budget (Rate < 0); events/s is
// the sustained rate the delivery itself allows (the default budget,
// outbox.DefaultRate in all, keeps latchd below it).
func BenchmarkOutboxThroughput(b *testing.B) {
	for _, dest := range []string{"mqtt", "webhook"} {
		b.Run("dest="+dest, func(b *testing.B) {
			st := benchStore(b, max(b.N+10, 100000))
			var d outbox.Destination
			if dest == "mqtt" {
				d = benchMQTT(b, true)
			} else {
				d = benchWebhook(b, true)
			}
			ob := outbox.New(st, outbox.Options{Log: zerolog.Nop(), Rate: -1})
			ob.Add(d)
			if err := ob.Init(); err != nil {
				b.Fatal(err)
			}
			backlog(b, st, b.N)
			_, last, _ := st.EventBounds()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b.ResetTimer()
			start := time.Now()
			done := make(chan struct{})
			go func() { defer close(done); ob.Run(ctx) }()
			for ob.Stats()[0].Cursor < last {
				time.Sleep(time.Millisecond) // polling the outbox's figures; the work is in its goroutines
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		})
	}
}

// latencies records the door's own decision latencies (door.Observer)
// into the phase's slice. Under go test -trace each one is also a log
// "decision" (its nanoseconds) on the door's goroutine, and each phase
// starts with a log "phase": a slow decision can be found in the trace
// and what the goroutine and the processors did meanwhile read there.
type latencies struct {
	mu  sync.Mutex
	cur *[]time.Duration
}

func (l *latencies) ObserveDecision(d time.Duration, result, _ string) {
	if result != door.ResultGranted {
		return
	}
	if trace.IsEnabled() {
		trace.Log(context.Background(), "decision", strconv.FormatInt(int64(d), 10))
	}
	l.mu.Lock()
	*l.cur = append(*l.cur, d)
	l.mu.Unlock()
}

func (l *latencies) ObserveBadRead(string) {}

func (l *latencies) into(p *[]time.Duration) {
	l.mu.Lock()
	l.cur = p
	l.mu.Unlock()
}

// BenchmarkDecisionWhileDelivering: card grants on a door (1,000 users,
// the real store and event writer), each card's 26-bit frame sent on a
// fake Wiegand line at a reader's usual timing (2 ms a bit, 53 ms from
// first edge to Read) through the real capture loop, which holds the
// store's gate (package quiet) as on the controller; a frame every
// 100 ms, so that the outbox has about half of each cycle to deliver in.
// Phases of 50 decisions take turns: the outbox stopped ("idle"), then
// delivering a backlog (1,000,000 events) to MQTT and a webhook at once
// with the default rate budget and the gate ("default", what latchd runs),
// idle again, and so on, so that both share whatever else the machine is
// doing, in short turns. LATCH_BENCH_VARIANTS (variantsEnv) adds, for
// comparison, "unbounded" (the gate and no budget) and "nogate" (the
// default budget, an outbox that ignores the gate: the outbox before the
// gate), each in its own turns with idle: e.g.
// LATCH_BENCH_VARIANTS=default,unbounded,nogate.
//
// p99-ns-<variant> is the door's own decision latency (the Read handed to
// the door → relay command, its Observer figure); p99-ratio-<variant> is
// that over the idle p99 (the target, for the default, is at most 1.10),
// and p99-ratio-lo-/-hi-<variant> a 90 % bootstrap interval of it (phases
// drawn with replacement); p99-ratio-idle-odd/even is idle against idle
// (its odd phases over its even ones), how close to 1 this machine can
// tell a ratio; <dest>-events/s-<variant> is each destination's rate in
// those phases. Per second of each variant's phases: gc/s-* is the
// garbage collections (runtime/metrics), cpu-µs/s-* the CPU time of this
// process (the door, the store and the outbox; the broker and the
// receiver are other processes), cpu-wait-µs/s-* the time its threads
// were ready to run but had no CPU (Linux's schedstat); the goroutines'
// scheduling latencies, the GC pauses, and the decisions that came after
// a garbage collection against the others are logged. Run it with
// -benchtime 6000x (about 11 minutes, 3,000 decisions a side): with fewer
// decisions a p99 moves more from run to run than the 10 % it is
// measured against.
func BenchmarkDecisionWhileDelivering(b *testing.B) {
	const users = 1000
	const pending = 1000000 // the unbounded outbox must not drain it in 6,000 decisions
	const phase = 50
	const pace = 100 * time.Millisecond
	st := benchStore(b, pending+1000000)
	by := store.Actor{Name: "bench"}
	for i := range users {
		u, err := st.CreateUser(store.UserFields{ExternalID: fmt.Sprintf("emp%d", i), Groups: []string{"staff"}}, by)
		if err == nil {
			err = st.AddCard(u.UserID, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: uint64(i + 1), Active: true}, by)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The destinations are kept from phase to phase; each delivering
	// phase runs a new outbox with its variant's options, from the cursors
	// the last one left.
	dests := []outbox.Destination{benchMQTT(b, true), benchWebhook(b, true)}
	first := outbox.New(st, outbox.Options{Log: zerolog.Nop()})
	for _, d := range dests {
		first.Add(d)
	}
	if err := first.Init(); err != nil {
		b.Fatal(err)
	}
	backlog(b, st, pending)

	ew := door.NewEventWriter(st, nil, zerolog.Nop())
	go ew.Run(ctx)
	relay := readertest.NewOutPin("relay", gpio.Low, nil)
	writes := make(chan readertest.Change, 16)
	relay.Notify(writes)
	idle := &benchVariant{name: "idle"}
	variants := []*benchVariant{
		{name: "default", rate: 0, gate: true},
		{name: "unbounded", rate: -1, gate: true},
		{name: "nogate", rate: 0},
	}
	// The figure is the default against idle; the other variants, for
	// comparison, are asked for by name.
	want := strings.Split(cmp.Or(os.Getenv(variantsEnv), "default"), ",")
	variants = slices.DeleteFunc(variants, func(v *benchVariant) bool { return !slices.Contains(want, v.name) })
	if len(variants) == 0 {
		b.Fatalf("%s: no variant of default, unbounded, nogate", variantsEnv)
	}
	var cycle []*benchVariant
	for _, v := range variants {
		v.delivered = map[string]uint64{}
		cycle = append(cycle, idle, v)
	}
	obs := &latencies{cur: &idle.lat}
	c := door.DefaultConfig()
	c.Name, c.Relay, c.Debounce, c.DefaultMode, c.Observer = "front", relay, -1, schedule.AccessControlled, obs
	c.Readers = []door.ReaderConfig{{Name: "in"}}
	c.Groups = []door.Group{{Name: "staff", Doors: []string{"front"}}}
	d, err := door.New(c, st, ew)
	if err != nil {
		b.Fatal(err)
	}
	ddone := make(chan struct{})
	go func() { d.Run(ctx); close(ddone) }()
	defer func() { cancel(); <-ddone }()
	waitLevel(b, writes, gpio.Low)
	waitLevel(b, writes, gpio.Low)
	// The reader: a fake line on the wall clock into the capture loop.
	epoch := time.Now()
	line := readertest.NewTimedLine(readertest.LineConfig{}, epoch)
	dec, err := reader.NewDecoder(reader.Config{Name: "in", Formats: []string{"h10301"}}, reader.WithEpoch(epoch), reader.WithGate(st.Gate()))
	if err != nil {
		b.Fatal(err)
	}
	h10301, err := reader.ParseFormatSpec("h10301", "")
	if err != nil {
		b.Fatal(err)
	}
	cdone := make(chan struct{})
	// The decision is timed from the Read's hand-off to the door, not
	// from the frame's deadline: the fake line wakes the capture loop with
	// a Go timer, which the runtime serves to the millisecond when it is
	// idle (its netpoller's epoll timeout), up to 1 ms late, while
	// gpiocdev's ppoll on the controller has a nanosecond timeout; that
	// rounding would be most of a p99 here and none of the door's.
	handOff := func(r reader.Read) {
		r.At = time.Now()
		d.Submit(r)
	}
	go func() { defer close(cdone); reader.Capture(ctx, line, dec, 0, handOff) }()
	defer func() { cancel(); <-cdone }()

	var cur *benchVariant
	var stopOB func() // ends the running outbox, nil when idle
	var mark runtimeMark
	var phaseStart time.Time
	// endPhase closes the running phase: its time, the runtime's figures
	// and what its outbox delivered go to its variant.
	endPhase := func() {
		if cur == nil {
			return
		}
		now := readRuntime()
		cur.rt.add(mark, now)
		if stopOB != nil {
			stopOB()
		}
		cur.time += time.Since(phaseStart)
	}
	startPhase := func(v *benchVariant) {
		cur = v
		trace.Log(ctx, "phase", v.name)
		obs.into(&v.lat)
		obs.mu.Lock()
		v.phases = append(v.phases, len(v.lat))
		obs.mu.Unlock()
		mark = readRuntime()
		phaseStart = time.Now()
		stopOB = nil
		if v == idle {
			return
		}
		opts := outbox.Options{Log: zerolog.Nop(), Rate: v.rate}
		if v.gate {
			opts.Gate = st.Gate()
		}
		ob := outbox.New(st, opts)
		for _, d := range dests {
			ob.Add(d)
		}
		octx, ocancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); ob.Run(octx) }()
		stopOB = func() {
			ocancel()
			<-done
			for _, s := range ob.Stats() {
				v.delivered[s.Name] += s.Delivered
			}
		}
	}
	// A frame every pace: a busy door decides every few seconds, and back
	// to back the door's own events would fill the disk.
	tick := time.NewTicker(pace)
	defer tick.Stop()
	gcLast := gcCount()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		<-tick.C
		if i%phase == 0 {
			endPhase()
			startPhase(cycle[(i/phase)%len(cycle)])
		}
		i++
		w, err := readertest.NewWiegandReader(readertest.WiegandConfig{})
		if err == nil {
			w.Wait(line.Now() + time.Millisecond)
			err = w.SendCard(h10301, 1, uint64(1+i%users))
		}
		if err != nil {
			b.Fatal(err)
		}
		line.Send(w.Edges()...)
		waitLevel(b, writes, gpio.High)
		gcNow := gcCount()
		cur.afterGC = append(cur.afterGC, gcNow != gcLast)
		gcLast = gcNow
		d.DoorSensor(true) // relock on open
		waitLevel(b, writes, gpio.Low)
		d.DoorSensor(false)
	}
	b.StopTimer()
	endPhase()
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(idle.lat) == 0 || len(variants[len(variants)-1].lat) == 0 {
		b.Logf("run at least %d decisions for every phase", len(cycle)*phase)
		return
	}
	p99 := func(l []time.Duration) time.Duration { return l[len(l)*99/100] }
	perSec := func(x float64, v *benchVariant) float64 { return x / v.time.Seconds() }
	// Before the sorting below: the phases and the decisions' tags are in
	// the order of lat.
	for _, v := range variants {
		lo, hi := bootstrapRatio(idle.phaseLats(), v.phaseLats(), 2000)
		b.ReportMetric(lo, "p99-ratio-lo-"+v.name)
		b.ReportMetric(hi, "p99-ratio-hi-"+v.name)
	}
	// The machine's own resolution: idle against idle, its phases taken
	// in turns (the even ones against the odd ones). A variant's ratio is
	// as far from 1 as this can tell.
	var even, odd [][]time.Duration
	for k, ph := range idle.phaseLats() {
		if k%2 == 0 {
			even = append(even, ph)
		} else {
			odd = append(odd, ph)
		}
	}
	if len(odd) > 0 {
		b.ReportMetric(float64(p99Of(odd))/float64(p99Of(even)), "p99-ratio-idle-odd/even")
	}
	for _, v := range append([]*benchVariant{idle}, variants...) {
		b.Logf("%s: %s", v.name, v.gcSplit())
		slices.Sort(v.lat)
		b.ReportMetric(float64(p99(v.lat).Nanoseconds()), "p99-ns-"+v.name)
		b.ReportMetric(float64(v.lat[len(v.lat)/2].Nanoseconds()), "p50-ns-"+v.name)
		b.ReportMetric(perSec(float64(v.rt.gcs), v), "gc/s-"+v.name)
		b.ReportMetric(perSec(float64(v.rt.cpu.Microseconds()), v), "cpu-µs/s-"+v.name)
		b.ReportMetric(perSec(float64(v.rt.runDelay.Microseconds()), v), "cpu-wait-µs/s-"+v.name)
		b.Logf("%s: %d decisions; %s", v.name, len(v.lat), v.rt.String())
		if v == idle {
			continue
		}
		b.ReportMetric(float64(p99(v.lat))/float64(p99(idle.lat)), "p99-ratio-"+v.name)
		for _, dst := range dests {
			b.ReportMetric(perSec(float64(v.delivered[dst.Name()]), v), dst.Name()+"-events/s-"+v.name)
		}
	}
	_, last, _ := st.EventBounds()
	for _, dst := range dests {
		if c, _, _ := st.Cursor(dst.Name()); last-c < 1000 {
			b.Logf("%s drained its backlog before the decisions ended: raise pending", dst.Name())
		}
	}
}

// benchVariant is one variant of BenchmarkDecisionWhileDelivering and
// what its phases measured.
type benchVariant struct {
	name      string
	rate      float64 // outbox.Options.Rate; idle has no outbox
	gate      bool    // outbox.Options.Gate is the store's
	lat       []time.Duration
	rt        phaseRuntime
	time      time.Duration
	delivered map[string]uint64
	afterGC   []bool // per decision: a collection ran since the one before
	phases    []int  // where each of its phases starts in lat
}

// phaseLats is lat cut into its phases (before lat is sorted).
func (v *benchVariant) phaseLats() [][]time.Duration {
	var out [][]time.Duration
	for k, start := range v.phases {
		end := len(v.lat)
		if k+1 < len(v.phases) {
			end = v.phases[k+1]
		}
		if end > start {
			out = append(out, v.lat[start:end])
		}
	}
	return out
}

// gcSplit says how the decisions that came after a garbage collection
// (one since the decision before) compare with the others (before lat is
// sorted).
func (v *benchVariant) gcSplit() string {
	if len(v.afterGC) != len(v.lat) {
		return fmt.Sprintf("%d decisions, %d tagged: no split", len(v.lat), len(v.afterGC))
	}
	var after, others []time.Duration
	for k, l := range v.lat {
		if v.afterGC[k] {
			after = append(after, l)
		} else {
			others = append(others, l)
		}
	}
	q := func(l []time.Duration) string {
		if len(l) == 0 {
			return "none"
		}
		slices.Sort(l)
		return fmt.Sprintf("%d, p50 %v p90 %v p99 %v", len(l), l[len(l)/2], l[len(l)*9/10], l[len(l)*99/100])
	}
	return "decisions after a garbage collection: " + q(after) + "; the others: " + q(others)
}

// bootstrapRatio is a 90 % interval of the p99 of variant over the p99 of
// idle: n times, each side's phases are drawn with replacement (as many
// as it ran) and the ratio of the two p99s taken; lo and hi are the 5th
// and 95th percentiles of those ratios. Phases, not decisions, are drawn,
// as decisions within a phase share its moment's machine.
func bootstrapRatio(idle, variant [][]time.Duration, n int) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	draw := func(ph [][]time.Duration) time.Duration {
		picked := make([][]time.Duration, len(ph))
		for k := range picked {
			picked[k] = ph[rng.IntN(len(ph))]
		}
		return p99Of(picked)
	}
	ratios := make([]float64, n)
	for k := range ratios {
		ratios[k] = float64(draw(variant)) / float64(draw(idle))
	}
	slices.Sort(ratios)
	return ratios[n*5/100], ratios[n*95/100]
}

// p99Of is the p99 of the phases' decisions together.
func p99Of(phases [][]time.Duration) time.Duration {
	all := slices.Concat(phases...)
	slices.Sort(all)
	return all[len(all)*99/100]
}

// variantsEnv names the variants BenchmarkDecisionWhileDelivering runs
// beside idle, comma-separated (default: "default").
const variantsEnv = "LATCH_BENCH_VARIANTS"

// gcCount is the number of garbage collections so far.
func gcCount() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func waitLevel(b *testing.B, ch <-chan readertest.Change, want gpio.Level) {
	for {
		select {
		case c := <-ch:
			if c.Level == want {
				return
			}
		case <-time.After(5 * time.Second):
			b.Fatalf("relay never went %v", want)
		}
	}
}
