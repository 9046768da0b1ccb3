package api

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/store"
)

func TestMetricsText(t *testing.T) {
	m := NewMetrics()
	for _, e := range []store.Event{
		{Event: "access_granted", Method: "card_and_code"},
		{Event: "access_granted", Method: "card_and_code"},
		{Event: "access_granted", Method: "card"},
		{Event: "access_denied", Reason: "wrong_code"},
		{Event: "access_denied", Reason: "bad_read"},
		{Event: "access_denied", Reason: "bad_read"},
		{Event: "access_denied", Reason: "48213957"}, // never a label
		{Event: "strike_released", Duration: "10s"},
		{Event: "keypad_lockout"},
		{Event: "credential_changed", Action: "mfa_code_added"},
	} {
		m.ObserveEvent(e)
	}
	m.ObserveBadRead("parity")
	m.ObserveBadRead("")
	m.ObserveBadRead("12345678") // never a label
	m.ObserveDecision(80*time.Microsecond, "granted", "")
	m.ObserveDecision(300*time.Microsecond, "granted", "")
	m.ObserveDecision(2*time.Second, "denied", "wrong_code")
	m.ObserveEventsLost("write_failed", 3000) // the disk was full
	m.ObserveEventsLost("write_failed", 2)
	m.ObserveEventsLost("queue_full", 1)
	m.SetDeadLines(func() []string { return []string{"rex front", "reader front-in"} })
	var b bytes.Buffer
	if err := m.WriteText(&b, 7); err != nil {
		t.Fatal(err)
	}
	want := `# HELP latch_decisions_total Access decisions by result, grant method and deny reason.
# TYPE latch_decisions_total counter
latch_decisions_total{result="denied",method="",reason="bad_read"} 2
latch_decisions_total{result="denied",method="",reason="other"} 1
latch_decisions_total{result="denied",method="",reason="wrong_code"} 1
latch_decisions_total{result="granted",method="card",reason=""} 1
latch_decisions_total{result="granted",method="card_and_code",reason=""} 2
# HELP latch_decision_latency_seconds Time from the end of a frame or '#' to the relay command.
# TYPE latch_decision_latency_seconds histogram
latch_decision_latency_seconds_bucket{result="denied",le="2.5e-05"} 0
latch_decision_latency_seconds_bucket{result="denied",le="5e-05"} 0
latch_decision_latency_seconds_bucket{result="denied",le="0.0001"} 0
latch_decision_latency_seconds_bucket{result="denied",le="0.00025"} 0
latch_decision_latency_seconds_bucket{result="denied",le="0.0005"} 0
latch_decision_latency_seconds_bucket{result="denied",le="0.001"} 0
latch_decision_latency_seconds_bucket{result="denied",le="0.0025"} 0
latch_decision_latency_seconds_bucket{result="denied",le="0.005"} 0
latch_decision_latency_seconds_bucket{result="denied",le="0.01"} 0
latch_decision_latency_seconds_bucket{result="denied",le="0.025"} 0
latch_decision_latency_seconds_bucket{result="denied",le="0.1"} 0
latch_decision_latency_seconds_bucket{result="denied",le="1"} 0
latch_decision_latency_seconds_bucket{result="denied",le="+Inf"} 1
latch_decision_latency_seconds_sum{result="denied"} 2
latch_decision_latency_seconds_count{result="denied"} 1
latch_decision_latency_seconds_bucket{result="granted",le="2.5e-05"} 0
latch_decision_latency_seconds_bucket{result="granted",le="5e-05"} 0
latch_decision_latency_seconds_bucket{result="granted",le="0.0001"} 1
latch_decision_latency_seconds_bucket{result="granted",le="0.00025"} 1
latch_decision_latency_seconds_bucket{result="granted",le="0.0005"} 2
latch_decision_latency_seconds_bucket{result="granted",le="0.001"} 2
latch_decision_latency_seconds_bucket{result="granted",le="0.0025"} 2
latch_decision_latency_seconds_bucket{result="granted",le="0.005"} 2
latch_decision_latency_seconds_bucket{result="granted",le="0.01"} 2
latch_decision_latency_seconds_bucket{result="granted",le="0.025"} 2
latch_decision_latency_seconds_bucket{result="granted",le="0.1"} 2
latch_decision_latency_seconds_bucket{result="granted",le="1"} 2
latch_decision_latency_seconds_bucket{result="granted",le="+Inf"} 2
latch_decision_latency_seconds_sum{result="granted"} 0.00038
latch_decision_latency_seconds_count{result="granted"} 2
# HELP latch_bad_reads_total Frames that were not a card or key, by reason.
# TYPE latch_bad_reads_total counter
latch_bad_reads_total{reason="other"} 1
latch_bad_reads_total{reason="parity"} 1
latch_bad_reads_total{reason="unspecified"} 1
# HELP latch_strike_releases_total Times a strike was released.
# TYPE latch_strike_releases_total counter
latch_strike_releases_total 1
# HELP latch_keypad_lockouts_total Cards or readers locked out of code entry.
# TYPE latch_keypad_lockouts_total counter
latch_keypad_lockouts_total 1
# HELP latch_events_dropped_total Events not in the store: dropped by retention (oldest first), or never stored (write failed, queue full).
# TYPE latch_events_dropped_total counter
latch_events_dropped_total{reason="retention"} 7
latch_events_dropped_total{reason="queue_full"} 1
latch_events_dropped_total{reason="write_failed"} 3002
# HELP latch_line_dead Hardware lines whose capture or watch failed (latchd exits and systemd restarts it).
# TYPE latch_line_dead gauge
latch_line_dead{line="reader front-in"} 1
latch_line_dead{line="rex front"} 1
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("metrics (-want +got):\n%s", d)
	}
}

// cutSource is an EventSource whose first subscription is cut off after
// one event, as the store does to a slow subscriber; the second delivers
// the rest and is closed too; the third signals that the follower is done
// with the second.
type cutSource struct {
	mu    sync.Mutex
	log   []store.Event
	subs  int
	chans []chan store.Event
	third chan struct{}
}

func (c *cutSource) Subscribe(int) (<-chan store.Event, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs++
	if c.subs == 3 {
		close(c.third)
		return make(chan store.Event), func() {}
	}
	return c.chans[c.subs-1], func() {}
}

func (c *cutSource) Events(q store.EventQuery) ([]store.Event, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []store.Event
	for _, e := range c.log {
		if e.Seq > q.After && len(out) < q.Limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// TestMetricsFollowCatchesUp: after a cut-off the follower catches up from
// the log and counts every event exactly once.
func TestMetricsFollowCatchesUp(t *testing.T) {
	src := &cutSource{chans: []chan store.Event{make(chan store.Event, 1), make(chan store.Event, 2)}, third: make(chan struct{})}
	for i := uint64(1); i <= 4; i++ {
		src.log = append(src.log, store.Event{Seq: i, Event: "strike_released"})
	}
	src.chans[0] <- src.log[0]
	close(src.chans[0])        // events 2–4 are missed while cut off
	src.chans[1] <- src.log[3] // 4 also arrives live: must not count twice
	src.chans[1] <- store.Event{Seq: 5, Event: "keypad_lockout"}
	close(src.chans[1])
	m := NewMetrics()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Follow(ctx, src) }()
	<-src.third
	cancel()
	<-done
	var b bytes.Buffer
	m.WriteText(&b, 0)
	for _, want := range []string{"latch_strike_releases_total 4\n", "latch_keypad_lockouts_total 1\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
	}
}

// TestMetricsKnowDoorNames: every grant method, denial reason and lost
// reason the door has (its lists, not a copy) is counted as itself, never
// as "other".
func TestMetricsKnowDoorNames(t *testing.T) {
	m := NewMetrics()
	for _, meth := range door.Methods() {
		m.ObserveEvent(store.Event{Event: door.EvAccessGranted, Method: meth})
	}
	for _, r := range door.Reasons() {
		m.ObserveEvent(store.Event{Event: door.EvAccessDenied, Reason: r})
	}
	for _, r := range door.LostReasons() {
		m.ObserveEventsLost(r, 1)
	}
	var b bytes.Buffer
	if err := m.WriteText(&b, 0); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	if strings.Contains(text, `"other"`) {
		t.Errorf("a door name counted as other:\n%s", text)
	}
	for _, meth := range door.Methods() {
		if !strings.Contains(text, `method="`+meth+`",reason=""} 1`) {
			t.Errorf("method %s not counted", meth)
		}
	}
	for _, r := range door.Reasons() {
		if !strings.Contains(text, `reason="`+r+`"} 1`) {
			t.Errorf("reason %s not counted", r)
		}
	}
	for _, r := range door.LostReasons() {
		if !strings.Contains(text, `latch_events_dropped_total{reason="`+r+`"} 1`) {
			t.Errorf("lost reason %s not counted", r)
		}
	}
}
