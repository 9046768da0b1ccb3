package api

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/outbox"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/store"
)

// Metrics is what the doors report to.
var _ door.Observer = (*Metrics)(nil)

// Metrics holds latch's Prometheus metrics and writes them in the text
// exposition format (hand-written: the official client pulls in too much for
// a Pi). Counters are derived from the event log (Follow or ObserveEvent);
// decision latency and bad reads by reason, which no event carries, come
// from the doors: Metrics is a door.Observer (door.Config.Observer). Label
// values come from fixed vocabularies, so a code or token can never become a
// label. It is safe for concurrent use.
type Metrics struct {
	mu             sync.Mutex
	decisions      map[[3]string]uint64 // result, method, reason
	badReads       map[string]uint64
	strikeReleases uint64
	lockouts       uint64
	latency        map[string]*histogram // by result
	lost           map[string]uint64     // events not stored, by reason (ObserveEventsLost)
	deadLines      func() []string       // SetDeadLines; nil = none
	outbox         func() []outbox.Stat  // SetOutbox; nil = no destinations
}

// latencyBuckets are the decision-latency histogram's upper bounds in
// seconds, around the 250 µs p99 target (docs/door.md, "Performance").
var latencyBuckets = []float64{25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 100e-3, 1}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	inf    uint64
	sum    time.Duration // exact; converted to seconds when written
	n      uint64
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{decisions: map[[3]string]uint64{}, badReads: map[string]uint64{}, latency: map[string]*histogram{}, lost: map[string]uint64{}}
}

// Vocabularies of label values: the door's own lists (door.Methods,
// door.Reasons, door.Results, door.LostReasons), ranged over rather than
// retyped, so that a name the door adds is counted as itself; and the
// reader's bad-read reasons. Anything else is counted as "other".
var (
	grantMethods   = vocab(door.Methods())
	denyReasons    = vocab(door.Reasons())
	badReadReasons = vocab([]string{string(reader.BadParity), string(reader.BadLength), string(reader.BadOverflow),
		string(reader.BadGlitch), string(reader.BadKeypad)})
	lostReasons = vocab(door.LostReasons())
	results     = vocab(door.Results())
)

func vocab(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func label(v string, vocab map[string]bool) string {
	if vocab[v] {
		return v
	}
	if v == "" {
		return ""
	}
	return "other"
}

// ObserveDecision records how long one decision took, from the end of the
// frame (or '#') to the relay command (door.Observer). result is "granted"
// or "denied"; reason (the grant's method or the denial's reason) is not a
// label of the histogram: the counters by reason come from the events.
func (m *Metrics) ObserveDecision(latency time.Duration, result, reason string) {
	_ = reason
	r := label(result, results)
	sec := latency.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.latency[r]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets))}
		m.latency[r] = h
	}
	i := sort.SearchFloat64s(latencyBuckets, sec)
	if i < len(latencyBuckets) {
		h.counts[i]++
	} else {
		h.inf++
	}
	h.sum += latency
	h.n++
}

// ObserveBadRead counts one bad frame by its reader.BadReason (parity,
// length, overflow, glitch, keypad; anything else is "other")
// (door.Observer). The access_denied bad_read event of the same frame is
// counted in latch_decisions_total by ObserveEvent.
func (m *Metrics) ObserveBadRead(reason string) {
	r := label(reason, badReadReasons)
	if r == "" {
		r = "unspecified"
	}
	m.mu.Lock()
	m.badReads[r]++
	m.mu.Unlock()
}

// ObserveEvent counts one event. Bad reads by reason are not counted here
// (the event does not say why a frame was bad): see ObserveBadRead.
func (m *Metrics) ObserveEvent(e store.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch e.Event {
	case door.EvAccessGranted:
		m.decisions[[3]string{door.ResultGranted, label(e.Method, grantMethods), ""}]++
	case door.EvAccessDenied:
		m.decisions[[3]string{door.ResultDenied, "", label(e.Reason, denyReasons)}]++
	case door.EvStrikeReleased:
		m.strikeReleases++
	case door.EvKeypadLockout:
		m.lockouts++
	}
}

// ObserveEventsLost counts n events that were never stored: their write
// failed ("write_failed": the disk is full or broken) or the writer's queue
// overflowed ("queue_full"). They are part of latch_events_dropped_total
// (door.EventWriter.OnLost calls it; the store cannot count what it never
// got).
func (m *Metrics) ObserveEventsLost(reason string, n int) {
	if n <= 0 {
		return
	}
	r := label(reason, lostReasons)
	m.mu.Lock()
	m.lost[r] += uint64(n)
	m.mu.Unlock()
}

// SetDeadLines tells the metrics and /v1/health where to ask which hardware
// lines are dead (a reader's capture or an input's watch failed). latchd
// exits on a dead line; until it has, the line shows as latch_line_dead and
// /v1/health answers 503 naming it.
func (m *Metrics) SetDeadLines(f func() []string) {
	m.mu.Lock()
	m.deadLines = f
	m.mu.Unlock()
}

// SetOutbox tells the metrics where to ask for the outbox destinations'
// figures (latch_outbox_*).
func (m *Metrics) SetOutbox(f func() []outbox.Stat) {
	m.mu.Lock()
	m.outbox = f
	m.mu.Unlock()
}

// DeadLines returns the dead lines, sorted; none when SetDeadLines was not called.
func (m *Metrics) DeadLines() []string {
	m.mu.Lock()
	f := m.deadLines
	m.mu.Unlock()
	if f == nil {
		return nil
	}
	out := f()
	sort.Strings(out)
	return out
}

// EventSource is what Follow reads: the store's live feed and its log.
type EventSource interface {
	Subscribe(buffer int) (events <-chan store.Event, cancel func())
	Events(q store.EventQuery) ([]store.Event, error)
}

// Follow counts every event appended to src from now until ctx is done. When
// the store cuts the subscription off (too slow), it resubscribes and catches
// up from the log, so no event is counted twice or missed.
func (m *Metrics) Follow(ctx context.Context, src EventSource) {
	var last uint64
	started := false
	for ctx.Err() == nil {
		ch, cancel := src.Subscribe(4096)
		if started {
			for q := (store.EventQuery{After: last, Limit: 1000}); ; {
				evs, err := src.Events(q)
				if err != nil {
					break
				}
				for _, e := range evs {
					m.ObserveEvent(e)
					last = e.Seq
				}
				if len(evs) < q.Limit {
					break
				}
				q.After = last
			}
		}
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case e, ok := <-ch:
				if !ok {
					break loop
				}
				if started && e.Seq <= last {
					continue
				}
				m.ObserveEvent(e)
				last, started = e.Seq, true
			}
		}
		cancel()
	}
}

// WriteText writes every metric in the Prometheus text format.
// eventsDropped is the store's count of events dropped by retention.
func (m *Metrics) WriteText(w io.Writer, eventsDropped uint64) error {
	bw := bufio.NewWriter(w)
	m.mu.Lock()
	keys := slices.SortedFunc(maps.Keys(m.decisions), func(a, b [3]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]), strings.Compare(a[2], b[2]))
	})
	fmt.Fprintln(bw, "# HELP latch_decisions_total Access decisions by result, grant method and deny reason.")
	fmt.Fprintln(bw, "# TYPE latch_decisions_total counter")
	for _, k := range keys {
		fmt.Fprintf(bw, "latch_decisions_total{result=%q,method=%q,reason=%q} %d\n", k[0], k[1], k[2], m.decisions[k])
	}

	fmt.Fprintln(bw, "# HELP latch_decision_latency_seconds Time from the end of a frame or '#' to the relay command.")
	fmt.Fprintln(bw, "# TYPE latch_decision_latency_seconds histogram")
	for _, r := range slices.Sorted(maps.Keys(m.latency)) {
		h := m.latency[r]
		var cum uint64
		for i, b := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(bw, "latch_decision_latency_seconds_bucket{result=%q,le=%q} %d\n", r, strconv.FormatFloat(b, 'g', -1, 64), cum)
		}
		fmt.Fprintf(bw, "latch_decision_latency_seconds_bucket{result=%q,le=\"+Inf\"} %d\n", r, cum+h.inf)
		fmt.Fprintf(bw, "latch_decision_latency_seconds_sum{result=%q} %s\n", r, strconv.FormatFloat(h.sum.Seconds(), 'g', -1, 64))
		fmt.Fprintf(bw, "latch_decision_latency_seconds_count{result=%q} %d\n", r, h.n)
	}

	fmt.Fprintln(bw, "# HELP latch_bad_reads_total Frames that were not a card or key, by reason.")
	fmt.Fprintln(bw, "# TYPE latch_bad_reads_total counter")
	for _, r := range slices.Sorted(maps.Keys(m.badReads)) {
		fmt.Fprintf(bw, "latch_bad_reads_total{reason=%q} %d\n", r, m.badReads[r])
	}

	fmt.Fprintln(bw, "# HELP latch_strike_releases_total Times a strike was released.")
	fmt.Fprintln(bw, "# TYPE latch_strike_releases_total counter")
	fmt.Fprintf(bw, "latch_strike_releases_total %d\n", m.strikeReleases)
	fmt.Fprintln(bw, "# HELP latch_keypad_lockouts_total Cards or readers locked out of code entry.")
	fmt.Fprintln(bw, "# TYPE latch_keypad_lockouts_total counter")
	fmt.Fprintf(bw, "latch_keypad_lockouts_total %d\n", m.lockouts)
	lost := map[string]uint64{}
	for _, r := range door.LostReasons() {
		lost[r] = m.lost[r] // every reason, also at zero
	}
	if n := m.lost["other"]; n > 0 {
		lost["other"] = n
	}
	m.mu.Unlock()

	// Every event that is not in the store is counted: dropped by retention
	// after it was stored, or never stored at all.
	fmt.Fprintln(bw, "# HELP latch_events_dropped_total Events not in the store: dropped by retention (oldest first), or never stored (write failed, queue full).")
	fmt.Fprintln(bw, "# TYPE latch_events_dropped_total counter")
	fmt.Fprintf(bw, "latch_events_dropped_total{reason=\"retention\"} %d\n", eventsDropped)
	for _, r := range slices.Sorted(maps.Keys(lost)) {
		fmt.Fprintf(bw, "latch_events_dropped_total{reason=%q} %d\n", r, lost[r])
	}

	m.mu.Lock()
	obf := m.outbox
	m.mu.Unlock()
	if obf != nil {
		writeOutbox(bw, obf())
	}

	fmt.Fprintln(bw, "# HELP latch_line_dead Hardware lines whose capture or watch failed (latchd exits and systemd restarts it).")
	fmt.Fprintln(bw, "# TYPE latch_line_dead gauge")
	for _, l := range m.DeadLines() {
		fmt.Fprintf(bw, "latch_line_dead{line=%q} 1\n", l)
	}
	return bw.Flush()
}

// writeOutbox writes each outbox destination's figures. Destination names
// come from the configuration ("mqtt", "webhook:<name>"), never from a
// request.
func writeOutbox(w io.Writer, stats []outbox.Stat) {
	fmt.Fprintln(w, "# HELP latch_outbox_delivered_total Events a destination acknowledged (MQTT PUBACK, webhook 2xx), repeats after a restart included.")
	fmt.Fprintln(w, "# TYPE latch_outbox_delivered_total counter")
	for _, s := range stats {
		fmt.Fprintf(w, "latch_outbox_delivered_total{destination=%q} %d\n", s.Name, s.Delivered)
	}
	fmt.Fprintln(w, "# HELP latch_outbox_backlog Events in the log after a destination's cursor, not yet acknowledged.")
	fmt.Fprintln(w, "# TYPE latch_outbox_backlog gauge")
	for _, s := range stats {
		fmt.Fprintf(w, "latch_outbox_backlog{destination=%q} %d\n", s.Name, s.Backlog)
	}
	fmt.Fprintln(w, "# HELP latch_outbox_dropped_total Events a destination will never receive: removed by retention first, or given up on (a webhook after 24 h).")
	fmt.Fprintln(w, "# TYPE latch_outbox_dropped_total counter")
	for _, s := range stats {
		for _, r := range door.DropReasons() {
			fmt.Fprintf(w, "latch_outbox_dropped_total{destination=%q,reason=%q} %d\n", s.Name, r, s.Dropped[r])
		}
	}
	fmt.Fprintln(w, "# HELP latch_outbox_failures_total Deliveries that failed and are retried (broker down, receiver not 2xx).")
	fmt.Fprintln(w, "# TYPE latch_outbox_failures_total counter")
	for _, s := range stats {
		fmt.Fprintf(w, "latch_outbox_failures_total{destination=%q} %d\n", s.Name, s.Failures)
	}
}
