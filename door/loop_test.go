package door

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// recEvents is an Emitter that records.
type recEvents struct {
	mu  sync.Mutex
	evs []Event
}

func (r *recEvents) Emit(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
}

func (r *recEvents) take() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.evs
	r.evs = nil
	return evs
}

// clockAt returns a wall clock that reads start at the bubble's first
// instant and advances with the bubble's fake time.
func clockAt(start time.Time) func() time.Time {
	off := time.Until(start)
	return func() time.Time { return time.Now().Add(off) }
}

type loop struct {
	d      *Door
	ev     *recEvents
	pins   *testPins
	cancel context.CancelFunc
	done   chan error
}

// startLoop runs a door in the current bubble with its wall clock at start.
func startLoop(t *testing.T, c Config, pins *testPins, creds Credentials, start time.Time) *loop {
	t.Helper()
	if c.Now == nil {
		c.Now = clockAt(start)
	}
	ev := &recEvents{}
	d := newDoor(t, c, creds, ev)
	ctx, cancel := context.WithCancel(t.Context())
	l := &loop{d: d, ev: ev, pins: pins, cancel: cancel, done: make(chan error, 1)}
	go func() { l.done <- d.Run(ctx) }()
	synctest.Wait()
	return l
}

func (l *loop) stop(t *testing.T) {
	t.Helper()
	l.cancel()
	if err := <-l.done; err != nil {
		t.Fatal(err)
	}
}

func (l *loop) badge(rdr string, cn uint64) {
	l.d.Submit(reader.Read{Reader: rdr, Kind: reader.KindCard, Card: card(cn), At: time.Now()})
	synctest.Wait()
}

func (l *loop) keys(rdr, ks string) {
	for i := 0; i < len(ks); i++ {
		l.d.Submit(reader.Read{Reader: rdr, Kind: reader.KindKeys, Keys: []byte{ks[i]}, At: time.Now()})
	}
	synctest.Wait()
}

// timed is "HH:MM:SS.mmm event/detail" in UTC.
func timed(evs []Event) []string {
	var out []string
	for _, e := range evs {
		s := summary([]Event{e}, true)
		if len(s) == 0 {
			continue
		}
		out = append(out, e.Time.UTC().Format("2006-01-02T15:04:05.000 ")+s[0])
	}
	return out
}

func TestLoopCodeTimeoutAndLockoutExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := testConfig(schedule.CardAndCode)
		l := startLoop(t, c, p, testCreds(), t0)
		defer l.stop(t)
		l.ev.take()
		l.badge("in", 100)
		time.Sleep(DefaultCodeTimeout)
		synctest.Wait()
		for range 3 {
			l.badge("in", 100)
			l.keys("in", "9999#")
		}
		l.badge("in", 100)
		time.Sleep(DefaultLockoutTime - time.Second)
		l.badge("in", 100)
		time.Sleep(time.Second)
		l.badge("in", 100)
		l.keys("in", "43")
		time.Sleep(DefaultKeyTimeout)
		synctest.Wait()
		want := []string{
			"2026-06-01T10:00:00.000 code_requested",
			"2026-06-01T10:00:10.000 access_denied/code_timeout",
			"2026-06-01T10:00:10.000 code_requested",
			"2026-06-01T10:00:10.000 access_denied/wrong_code",
			"2026-06-01T10:00:10.000 code_requested",
			"2026-06-01T10:00:10.000 access_denied/wrong_code",
			"2026-06-01T10:00:10.000 code_requested",
			"2026-06-01T10:00:10.000 access_denied/wrong_code",
			"2026-06-01T10:00:10.000 keypad_lockout",
			"2026-06-01T10:00:10.000 access_denied/locked_out",
			"2026-06-01T10:01:09.000 access_denied/locked_out",
			"2026-06-01T10:01:10.000 code_requested",
			"2026-06-01T10:01:15.000 access_denied/code_timeout",
		}
		if diff := cmp.Diff(want, timed(l.ev.take())); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

func TestLoopStrikeHeldOpenRelock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := testConfig(schedule.AccessControlled)
		l := startLoop(t, c, p, testCreds(), t0)
		defer l.stop(t)
		l.ev.take()
		l.badge("in", 100)
		if p.relay.Level() != gpio.High {
			t.Fatal("strike not released on grant")
		}
		time.Sleep(2 * time.Second)
		l.d.DoorSensor(true)
		time.Sleep(DefaultDebounce)
		synctest.Wait()
		if p.relay.Level() != gpio.Low {
			t.Error("strike not relocked on open")
		}
		st := l.d.Status()
		if !st.DoorOpen || st.StrikeReleased {
			t.Errorf("status = %+v", st)
		}
		time.Sleep(DefaultHeldOpenTime)
		synctest.Wait()
		l.d.DoorSensor(false)
		time.Sleep(DefaultDebounce)
		synctest.Wait()
		want := []string{
			"2026-06-01T10:00:00.000 access_granted/card",
			"2026-06-01T10:00:00.000 strike_released/10s",
			"2026-06-01T10:00:02.050 door_opened",
			"2026-06-01T10:00:02.050 strike_locked",
			"2026-06-01T10:01:02.050 door_held_open",
			"2026-06-01T10:01:02.100 door_closed",
		}
		if diff := cmp.Diff(want, timed(l.ev.take())); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

func TestLoopScheduleTransitions(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	weekdays := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	tests := []struct {
		name       string
		loc        *time.Location
		windows    []schedule.Window
		exceptions []schedule.Exception
		start      string
		run        time.Duration
		want       []string
	}{
		{
			name:    "weekly window at the exact minute",
			loc:     berlin,
			windows: []schedule.Window{{Days: weekdays, Start: 8 * 60, End: 18 * 60, Mode: schedule.CardAndCode}},
			start:   "2026-06-01T05:59:30Z", // Monday 07:59:30 CEST
			run:     10*time.Hour + time.Minute,
			want: []string{
				"2026-06-01T05:59:30.000 mode_changed/>access_controlled/start",
				"2026-06-01T06:00:00.000 mode_changed/access_controlled>card_and_code/schedule",
				"2026-06-01T16:00:00.000 mode_changed/card_and_code>access_controlled/schedule",
			},
		},
		{
			name:       "exception start and end",
			loc:        berlin,
			windows:    []schedule.Window{{Days: weekdays, Start: 8 * 60, End: 18 * 60, Mode: schedule.CardAndCode}},
			exceptions: []schedule.Exception{{Date: schedule.Date{Year: 2026, Month: 6, Day: 1}, Start: 12 * 60, End: 13 * 60, Mode: schedule.Unlocked}},
			start:      "2026-06-01T09:00:00Z",
			run:        3 * time.Hour,
			want: []string{
				"2026-06-01T09:00:00.000 mode_changed/>card_and_code/start",
				"2026-06-01T10:00:00.000 mode_changed/card_and_code>unlocked/exception",
				"2026-06-01T10:00:00.000 strike_released",
				"2026-06-01T11:00:00.000 mode_changed/unlocked>card_and_code/exception",
				"2026-06-01T11:00:00.000 strike_locked",
			},
		},
		{
			name:    "berlin spring forward: 01:30-02:30 is 01:30-03:00",
			loc:     berlin,
			windows: []schedule.Window{{Days: []time.Weekday{time.Sunday}, Start: 90, End: 150, Mode: schedule.Locked}},
			start:   "2026-03-29T00:00:00Z",
			run:     2 * time.Hour,
			want: []string{
				"2026-03-29T00:00:00.000 mode_changed/>access_controlled/start",
				"2026-03-29T00:30:00.000 mode_changed/access_controlled>locked/schedule",
				"2026-03-29T01:00:00.000 mode_changed/locked>access_controlled/schedule",
			},
		},
		{
			name:    "berlin fall back: 02:30-03:30 from the first 02:30",
			loc:     berlin,
			windows: []schedule.Window{{Days: []time.Weekday{time.Sunday}, Start: 150, End: 210, Mode: schedule.Locked}},
			start:   "2026-10-25T00:00:00Z",
			run:     3 * time.Hour,
			want: []string{
				"2026-10-25T00:00:00.000 mode_changed/>access_controlled/start",
				"2026-10-25T00:30:00.000 mode_changed/access_controlled>locked/schedule",
				"2026-10-25T02:30:00.000 mode_changed/locked>access_controlled/schedule",
			},
		},
		{
			name:    "new york spring forward",
			loc:     ny,
			windows: []schedule.Window{{Days: []time.Weekday{time.Sunday}, Start: 90, End: 150, Mode: schedule.Locked}},
			start:   "2026-03-08T06:00:00Z",
			run:     2 * time.Hour,
			want: []string{
				"2026-03-08T06:00:00.000 mode_changed/>access_controlled/start",
				"2026-03-08T06:30:00.000 mode_changed/access_controlled>locked/schedule",
				"2026-03-08T07:00:00.000 mode_changed/locked>access_controlled/schedule",
			},
		},
		{
			name:    "new york fall back: 01:00-01:30 only the first time round",
			loc:     ny,
			windows: []schedule.Window{{Days: []time.Weekday{time.Sunday}, Start: 60, End: 90, Mode: schedule.Locked}},
			start:   "2026-11-01T04:30:00Z",
			run:     3 * time.Hour,
			want: []string{
				"2026-11-01T04:30:00.000 mode_changed/>access_controlled/start",
				"2026-11-01T05:00:00.000 mode_changed/access_controlled>locked/schedule",
				"2026-11-01T05:30:00.000 mode_changed/locked>access_controlled/schedule",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, p := testConfig(schedule.AccessControlled)
				c.Location = tt.loc
				c.Schedule = tt.windows
				c.Exceptions = tt.exceptions
				start, _ := time.Parse(time.RFC3339, tt.start)
				l := startLoop(t, c, p, testCreds(), start)
				time.Sleep(tt.run)
				synctest.Wait()
				l.stop(t)
				got := timed(l.ev.take())
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestLoopStatusNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		berlin, _ := time.LoadLocation("Europe/Berlin")
		c, p := testConfig(schedule.AccessControlled)
		c.Location = berlin
		c.Schedule = []schedule.Window{{Days: allDays, Start: 8 * 60, End: 18 * 60, Mode: schedule.CardAndCode}}
		l := startLoop(t, c, p, testCreds(), time.Date(2026, 6, 1, 5, 0, 0, 0, time.UTC))
		defer l.stop(t)
		var wg sync.WaitGroup
		wg.Go(func() { // another goroutine reads the status while the loop runs
			for range 100 {
				_ = l.d.Status()
			}
		})
		wg.Wait()
		st := l.d.Status()
		want := Status{Door: "front", Mode: schedule.AccessControlled, Level: LevelDefault, ClockPlausible: true,
			Next: time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC), NextMode: schedule.CardAndCode}
		if !st.Next.Equal(want.Next) || !st.LevelEnd.Equal(want.Next) {
			t.Errorf("Next = %v, LevelEnd = %v, want %v", st.Next, st.LevelEnd, want.Next)
		}
		st.Next, st.LevelEnd = want.Next, time.Time{}
		if st != want {
			t.Errorf("status = %+v, want %+v", st, want)
		}
		ctl, err := NewController(l.d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ctl.Override(t.Context(), "front", Override{Mode: schedule.Locked, For: time.Hour}, Actor{Name: "t"}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st := l.d.Status(); st.Mode != schedule.Locked || st.Override != schedule.Locked || st.Level != LevelOverride {
			t.Errorf("after override: %+v", st)
		}
		var ve *ValueError
		if _, err := ctl.Override(t.Context(), "front", Override{Mode: "open", For: time.Hour}, Actor{}); !errors.As(err, &ve) || ve.Field != "mode" {
			t.Errorf("bad override: %v, want a ValueError on mode", err)
		}
	})
}

func TestLoopClockNotPlausible(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logBuf bytes.Buffer
		var lmu sync.Mutex
		c, p := testConfig(schedule.AccessControlled)
		c.Logger = zerolog.New(syncWriter{&lmu, &logBuf})
		var off atomic.Int64 // the bubble starts at 2000-01-01: not plausible
		c.Now = func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
		l := startLoop(t, c, p, testCreds(), time.Time{})
		defer l.stop(t)
		l.badge("in", 100)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if st := l.d.Status(); st.ClockPlausible || st.Mode != schedule.Locked {
			t.Errorf("status = %+v", st)
		}
		off.Store(int64(time.Until(t0))) // NTP sets the clock
		time.Sleep(clockPoll)
		synctest.Wait()
		l.badge("in", 100)
		got := summary(l.ev.take(), true)
		want := []string{"mode_changed/>locked/start", denied + ReasonDoorLocked, "mode_changed/locked>access_controlled/schedule", granted + MethodCard, "strike_released/10s"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		lmu.Lock()
		n := strings.Count(logBuf.String(), "not plausible")
		lmu.Unlock()
		if n != 1 {
			t.Errorf("clock warning logged %d times, want once:\n%s", n, logBuf.String())
		}
	})
}

type syncWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (s syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// TestRelayHistory: start → grant → stop → restart; the relay is released
// exactly once, by the grant.
func TestRelayHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := testConfig(schedule.AccessControlled)
		creds := testCreds()
		l := startLoop(t, c, p, creds, t0)
		l.badge("in", 100)
		time.Sleep(time.Second) // stop during the release
		l.stop(t)
		l2 := startLoop(t, c, p, creds, t0.Add(time.Minute))
		time.Sleep(time.Minute)
		l2.stop(t)
		L, H := gpio.Low, gpio.High
		want := []gpio.Level{
			L, L, // New, Run start
			H,    // the grant
			L, L, // stop: the step's relock, then Run's exit path
			L, L, // restart: New, Run start
			L, // stop
		}
		if diff := cmp.Diff(want, p.relay.Written()); diff != "" {
			t.Errorf("relay history (-want +got):\n%s", diff)
		}
	})
}

// panicCreds panics on a given card.
type panicCreds struct{ *fakeCreds }

func (p panicCreds) LookupCard(k CardKey) (UserView, bool, error) {
	if k.CardNumber == 666 {
		panic("boom")
	}
	return p.fakeCreds.LookupCard(k)
}

func TestPanicAndHaltLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := testConfig(schedule.AccessControlled)
		c.Now = clockAt(t0)
		d := newDoor(t, c, panicCreds{testCreds()}, nil)
		recovered := runRecovering(d, t.Context())
		d.Submit(reader.Read{Reader: "in", Kind: reader.KindCard, Card: card(100)})
		synctest.Wait()
		if p.relay.Level() != gpio.High {
			t.Fatal("no grant")
		}
		d.Submit(reader.Read{Reader: "in", Kind: reader.KindCard, Card: card(666)})
		if r := <-recovered; r != "boom" {
			t.Fatalf("recovered %v", r)
		}
		if p.relay.Level() != gpio.Low {
			t.Error("strike not locked after panic")
		}
		d.Submit(reader.Read{Reader: "in", Kind: reader.KindCard, Card: card(100)}) // Run is gone: returns
	})
	synctest.Test(t, func(t *testing.T) {
		c, p := testConfig(schedule.AccessControlled)
		l := startLoop(t, c, p, testCreds(), t0)
		defer l.stop(t)
		l.badge("in", 100)
		if err := l.d.Halt(); err != nil {
			t.Fatal(err)
		}
		if p.relay.Level() != gpio.Low || p.green.Level() != gpio.High { // feedback active low: off = High
			t.Errorf("after Halt relay %v green %v", p.relay.Level(), p.green.Level())
		}
		n := len(p.relay.Written())
		l.badge("in", 100)
		for _, lv := range p.relay.Written()[n:] {
			if lv == gpio.High {
				t.Error("released after Halt")
			}
		}
	})
}

func TestRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := testConfig(schedule.AccessControlled)
		l := startLoop(t, c, p, testCreds(), t0)
		defer l.stop(t)
		if err := l.d.Run(t.Context()); err == nil {
			t.Error("second Run accepted")
		}
	})
}

func TestNewRelayError(t *testing.T) {
	c, p := testConfig(schedule.AccessControlled)
	p.relay.SetFail(errors.New("gpio: busy"))
	if _, err := New(c, testCreds(), nil); err == nil || !strings.Contains(err.Error(), "door: front: relay: gpio: busy") {
		t.Errorf("err = %v", err)
	}
}

// brokenCreds is a store whose reads fail: LookupCard for card 500, every
// VerifyCardCode (answering true with its error, which must not
// count), and every LookupEntryCode.
type brokenCreds struct{ *fakeCreds }

var errDisk = errors.New("store: read: input/output error")

func (b brokenCreds) LookupCard(k CardKey) (UserView, bool, error) {
	if k.CardNumber == 500 {
		return UserView{}, false, errDisk
	}
	return b.fakeCreds.LookupCard(k)
}

func (brokenCreds) VerifyCardCode(CardKey, string, []byte, bool) (bool, error) { return true, errDisk }

func (brokenCreds) LookupEntryCode([]byte) (UserView, error) { return UserView{}, errDisk }

// TestStoreErrorsRefuse: a store error during a lookup is logged (without
// the code) and refused as unknown_card, wrong_code or unknown_code; the
// strike stays locked.
func TestStoreErrorsRefuse(t *testing.T) {
	for _, tc := range []struct {
		mode schedule.Mode
		do   func(l *loop)
		want []string
	}{
		{schedule.AccessControlled, func(l *loop) { l.badge("in", 500) }, []string{denied + ReasonUnknownCard}},
		{schedule.CardAndCode, func(l *loop) { l.badge("in", 100); l.keys("in", "4321#") }, []string{requested, denied + ReasonWrongCode}},
		{schedule.AccessControlled, func(l *loop) { l.keys("in", "1111#") }, []string{denied + ReasonUnknownCode}},
	} {
		synctest.Test(t, func(t *testing.T) {
			var logBuf bytes.Buffer
			var lmu sync.Mutex
			c, p := testConfig(tc.mode)
			c.Logger = zerolog.New(syncWriter{&lmu, &logBuf})
			l := startLoop(t, c, p, brokenCreds{testCreds()}, t0)
			l.ev.take()
			tc.do(l)
			l.stop(t)
			if diff := cmp.Diff(tc.want, summary(l.ev.take(), false)); diff != "" {
				t.Errorf("%s events (-want +got):\n%s", tc.mode, diff)
			}
			for _, lv := range p.relay.Written() {
				if lv == gpio.High {
					t.Errorf("%s: strike released on a store error", tc.mode)
				}
			}
			lmu.Lock()
			log := logBuf.String()
			lmu.Unlock()
			if !strings.Contains(log, "input/output error") {
				t.Errorf("%s: store error not logged:\n%s", tc.mode, log)
			}
			if strings.Contains(log, "4321") || strings.Contains(log, "1111") {
				t.Errorf("%s: a code reached the log:\n%s", tc.mode, log)
			}
		})
	}
}
