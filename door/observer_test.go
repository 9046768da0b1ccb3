package door

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/reader/readertest"
	"github.com/latchd/latch/schedule"
)

// fakeObserver records what the door reports, and the relay's level at
// each decision (a grant must find the strike already released).
type fakeObserver struct {
	relay     *readertest.OutPin
	decisions []observed
	badReads  []string
}

type observed struct {
	Latency        time.Duration
	Result, Reason string
	Relay          gpio.Level
}

func (o *fakeObserver) ObserveDecision(latency time.Duration, result, reason string) {
	o.decisions = append(o.decisions, observed{latency, result, reason, o.relay.Level()})
}

func (o *fakeObserver) ObserveBadRead(reason string) { o.badReads = append(o.badReads, reason) }

func TestObserver(t *testing.T) {
	ms := time.Millisecond
	// A step of the script: a frame completed `ago` before the door takes
	// it (at the clock's current reading), or the clock moving on and the
	// door's timer firing.
	type frame struct {
		read    reader.Read
		ago     time.Duration // Read.At = clock - ago; negative: leave At zero
		advance time.Duration // move the clock by this, then Tick (no frame)
	}
	cardRead := func(cn uint64, ago time.Duration) frame {
		return frame{read: reader.Read{Reader: "in", Kind: reader.KindCard, Card: card(cn)}, ago: ago}
	}
	key := func(k byte, ago time.Duration) frame {
		return frame{read: reader.Read{Reader: "in", Kind: reader.KindKeys, Keys: []byte{k}}, ago: ago}
	}
	bad := func(rdr string, why reader.BadReason) frame {
		return frame{read: reader.Read{Reader: rdr, Kind: reader.KindBad, Bad: why}, ago: 1 * ms}
	}
	tests := []struct {
		name      string
		mode      schedule.Mode
		script    []frame
		decisions []observed
		badReads  []string
	}{
		{"card grant: from the card's frame to the relay", schedule.AccessControlled,
			[]frame{cardRead(100, 3*ms)},
			[]observed{{3 * ms, "granted", "card", gpio.High}}, nil},
		{"card and code: from the '#' frame, not the badge", schedule.CardAndCode,
			[]frame{cardRead(100, 9*ms), key('4', 7*ms), key('3', 7*ms), key('2', 7*ms), key('1', 7*ms), key('#', 2*ms)},
			[]observed{{2 * ms, "granted", "card_and_code", gpio.High}}, nil},
		{"wrong code is a denial measured from '#'", schedule.CardAndCode,
			[]frame{cardRead(100, 9*ms), key('9', 7*ms), key('9', 7*ms), key('9', 7*ms), key('9', 7*ms), key('#', 5*ms)},
			[]observed{{5 * ms, "denied", "wrong_code", gpio.Low}}, nil},
		{"unknown card", schedule.AccessControlled,
			[]frame{cardRead(999, 1*ms)},
			[]observed{{1 * ms, "denied", "unknown_card", gpio.Low}}, nil},
		{"code_requested is no decision; the timeout is, from the deadline's handling", schedule.CardAndCode,
			[]frame{cardRead(100, 1*ms), {advance: DefaultCodeTimeout}},
			[]observed{{0, "denied", "code_timeout", gpio.Low}}, nil},
		{"a frame without At is measured from when the door took it", schedule.AccessControlled,
			[]frame{cardRead(100, -1)},
			[]observed{{0, "granted", "card", gpio.High}}, nil},
		{"bad reads by reason", schedule.AccessControlled,
			[]frame{bad("in", reader.BadParity), bad("in", reader.BadKeypad), bad("in", reader.BadGlitch)},
			[]observed{{1 * ms, "denied", "bad_read", gpio.Low}, {1 * ms, "denied", "bad_read", gpio.Low}, {1 * ms, "denied", "bad_read", gpio.Low}},
			[]string{"parity", "keypad", "glitch"}},
		{"a bad read of another door's reader is not counted", schedule.AccessControlled,
			[]frame{bad("side", reader.BadLength)}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, p := testConfig(tc.mode)
			now := t0
			c.Now = func() time.Time { return now }
			obs := &fakeObserver{relay: p.relay}
			c.Observer = obs
			st := startStepper(t, c)
			for _, f := range tc.script {
				if f.advance > 0 {
					now = now.Add(f.advance)
					st.Tick()
					continue
				}
				r := f.read
				if f.ago >= 0 {
					r.At = now.Add(-f.ago)
				}
				st.Submit(r)
			}
			if diff := cmp.Diff(tc.decisions, obs.decisions); diff != "" {
				t.Errorf("decisions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.badReads, obs.badReads); diff != "" {
				t.Errorf("bad reads (-want +got):\n%s", diff)
			}
		})
	}
}

// TestObserverMeasuresToRelay: the clock is read after the relay command,
// so time the relay write takes counts, and time the feedback lines and the
// event hand-off take does not.
func TestObserverMeasuresToRelay(t *testing.T) {
	c, p := testConfig(schedule.AccessControlled)
	now := t0
	c.Now = func() time.Time { return now }
	// The relay write takes 4 ms; each green LED write 1 ms.
	c.Relay = &slowPin{OutPin: p.relay, now: &now, cost: 4 * time.Millisecond}
	c.Readers[0].Feedback.Green = &slowPin{OutPin: p.green, now: &now, cost: time.Millisecond}
	obs := &fakeObserver{relay: p.relay}
	c.Observer = obs
	st := startStepper(t, c)
	st.Submit(reader.Read{Reader: "in", Kind: reader.KindCard, Card: card(100), At: now.Add(-time.Millisecond)})
	want := []observed{{5 * time.Millisecond, "granted", "card", gpio.High}}
	if diff := cmp.Diff(want, obs.decisions); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
}

// slowPin advances a test clock by cost on every write.
type slowPin struct {
	*readertest.OutPin
	now  *time.Time
	cost time.Duration
}

func (p *slowPin) Out(l gpio.Level) error {
	*p.now = p.now.Add(p.cost)
	return p.OutPin.Out(l)
}

// BenchmarkStepObserved is Run's cost per card decision (lookup, step,
// relay, events) with and without an observer: the hook must not allocate.
func BenchmarkStepObserved(b *testing.B) {
	for _, withObs := range []bool{false, true} {
		name := "observer=none"
		if withObs {
			name = "observer=set"
		}
		b.Run(name, func(b *testing.B) {
			c, _ := testConfig(schedule.AccessControlled)
			c.Debounce = -1
			now := t0
			c.Now = func() time.Time { return now }
			if withObs {
				c.Observer = nopObserver{}
			}
			st := startStepper(b, c)
			r := reader.Read{Reader: "out", Kind: reader.KindCard, Card: card(100)}
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(time.Millisecond)
				r.At = now
				st.Submit(r)
				st.DoorSensor(true)
				st.DoorSensor(false)
			}
		})
	}
}

type nopObserver struct{}

func (nopObserver) ObserveDecision(time.Duration, string, string) {}
func (nopObserver) ObserveBadRead(string)                         {}
