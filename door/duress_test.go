package door

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/reader/readertest"
	"github.com/latchd/latch/schedule"
	"github.com/latchd/latch/store"
)

// duressCreds is testCreds with duress codes: alice (MFA user) 9191,
// bob (entry-code fallback user) 9292, erin (suspended) 9494, carol (no
// second factor) 9393.
func duressCreds() *fakeCreds {
	f := testCreds()
	for id, code := range map[string]string{"u-alice": "9191", "u-bob": "9292", "u-erin": "9494", "u-carol": "9393"} {
		f.users[id].duress = []byte(code)
	}
	return f
}

// shown is what the door shows and tells of a run: every action except
// the duress latch's, with the events' times kept (the virtual clock
// makes them exact).
func shown(acts []action) []string {
	var out []string
	for _, a := range acts {
		switch a := a.(type) {
		case actDuress:
			continue
		case actEmit:
			if a.ev.Event == EvDuress {
				continue
			}
			ev, c := a.ev, EventCard{}
			if ev.Card != nil {
				c = *ev.Card
			}
			ev.Card = nil
			out = append(out, fmt.Sprintf("emit %+v card=%+v", ev, c))
		default:
			out = append(out, fmt.Sprintf("%T %+v", a, a))
		}
	}
	return out
}

func duressEvents(d *driver) []Event {
	var out []Event
	for _, a := range d.acts {
		switch a := a.(type) {
		case actDuress:
			out = append(out, a.ev)
		case actEmit:
			if a.ev.Event == EvDuress {
				out = append(out, a.ev)
			}
		}
	}
	return out
}

// TestDuressGrantsAsTheCode: a duress code typed where the user's MFA or
// entry code is accepted gets exactly the normal code's decision,
// access_granted (or access_denied), relay commands, feedback and timing
// on the door's clock, and one duress event besides; a code typed where
// it is not accepted is a wrong code like any other.
func TestDuressGrantsAsTheCode(t *testing.T) {
	type run struct {
		name     string
		mode     schedule.Mode
		fallback bool
		ops      func(code string) op
		normal   string // the code the duress code stands in for
		duress   string
		user     string
		card     bool
	}
	cardCode := func(cn uint64) func(string) op {
		return func(code string) op {
			return func(d *driver) {
				d.card("in", cn)
				d.wait(time.Second)
				d.keys("in", code+"#")
				d.wait(30 * time.Second)
			}
		}
	}
	entry := func(code string) op {
		return func(d *driver) { d.keys("in", code+"#"); d.wait(30 * time.Second) }
	}
	for _, r := range []run{
		{"card+code, MFA user", schedule.CardAndCode, true, cardCode(100), "4321", "9191", "u-alice", true},
		{"card+code, MFA user, no fallback", schedule.CardAndCode, false, cardCode(100), "4321", "9191", "u-alice", true},
		{"card+code, entry-code fallback", schedule.CardAndCode, true, cardCode(101), "2222", "9292", "u-bob", true},
		{"keypad entry code", schedule.AccessControlled, true, entry, "2222", "9292", "u-bob", false},
		{"keypad entry code, unlocked mode", schedule.Unlocked, true, entry, "2222", "9292", "u-bob", false},
		// Denied as the normal code would be (suspended user): the same
		// denial, and the duress event still goes out.
		{"keypad entry code, suspended user", schedule.AccessControlled, true, entry, "4444", "9494", "u-erin", false},
	} {
		t.Run(r.name, func(t *testing.T) {
			mod := func(c *Config) { c.MFA.EntryCodeFallback = r.fallback }
			normal := runOps(t, r.mode, mod, r.ops(r.normal))
			mod2 := func(c *Config) { c.MFA.EntryCodeFallback = r.fallback }
			d := mustDriver(t, r.mode, mod2)
			d.creds = duressCreds()
			d.door.creds = d.creds
			d.reset()
			r.ops(r.duress)(d)
			if diff := cmp.Diff(shown(normal.acts), shown(d.acts)); diff != "" {
				t.Errorf("the door shows a difference (-normal +duress):\n%s", diff)
			}
			if !slices.Equal(normal.relay, d.relay) {
				t.Errorf("relay %v, normal %v", d.relay, normal.relay)
			}
			if slices.ContainsFunc(normal.events, func(e Event) bool { return e.Event == EvAccessGranted }) !=
				!slices.ContainsFunc(normal.events, func(e Event) bool { return e.Event == EvAccessDenied }) {
				t.Fatalf("the normal run is neither a grant nor a denial: %v", summary(normal.events, true))
			}
			evs := duressEvents(d)
			if len(evs) != 1 {
				t.Fatalf("%d duress events, want 1", len(evs))
			}
			ev := evs[0]
			if ev.Event != EvDuress || ev.Door != "front" || ev.Reader != "in" || ev.UserID != r.user || (ev.Card != nil) != r.card {
				t.Errorf("duress event %+v", ev)
			}
			if len(duressEvents(normal)) != 0 {
				t.Error("the normal code made a duress event")
			}
			if d.orderErr != nil {
				t.Error(d.orderErr)
			}
		})
	}
	// Where neither the MFA nor the entry code is accepted, the duress
	// code is a wrong code: bob without the entry-code fallback is refused
	// at the badge (no second factor), carol has no second factor at all.
	for _, c := range []struct {
		name     string
		cn       uint64
		code     string
		fallback bool
	}{{"bob without fallback", 101, "9292", false}, {"carol", 102, "9393", true}} {
		t.Run(c.name, func(t *testing.T) {
			d := mustDriver(t, schedule.CardAndCode, func(cfg *Config) { cfg.MFA.EntryCodeFallback = c.fallback })
			d.creds = duressCreds()
			d.door.creds = d.creds
			d.reset()
			d.card("in", c.cn)
			d.keys("in", c.code+"#")
			d.wait(30 * time.Second)
			if len(duressEvents(d)) != 0 || slices.ContainsFunc(d.events, func(e Event) bool { return e.Event == EvAccessGranted }) {
				t.Errorf("events %v, duress %v", summary(d.events, true), duressEvents(d))
			}
		})
	}
	// Another user's duress code after a badge is a wrong code.
	d := mustDriver(t, schedule.CardAndCode, nil)
	d.creds = duressCreds()
	d.door.creds = d.creds
	d.reset()
	d.card("in", 100)
	d.keys("in", "9292#")
	if got := summary(d.events, false); !slices.Contains(got, EvAccessDenied+"/"+ReasonWrongCode) || len(duressEvents(d)) != 0 {
		t.Errorf("another user's duress code: %v, duress %v", got, duressEvents(d))
	}
}

// TestDuressLatch: the latch drives its line at a signal, stores the
// event with the state, comes back active on a new start, and only Clear
// ends it, with a duress_cleared event naming the actor.
func TestDuressLatch(t *testing.T) {
	for _, active := range []gpio.Level{gpio.High, gpio.Low} {
		t.Run(active.String(), func(t *testing.T) {
			st := tempStore(t)
			pin := readertest.NewOutPin("duress", gpio.Low, nil)
			var told []string
			cfg := DuressConfig{Output: pin, Active: active, Store: st, Stored: func(ev Event) { told = append(told, ev.Event) },
				Now: func() time.Time { return t0 }}
			l, err := NewDuress(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if pin.Level() != !active || l.State().Active {
				t.Fatalf("fresh latch: line %v, state %+v", pin.Level(), l.State())
			}
			if was, err := l.Clear("ops", "access_system_admin"); was || err != nil {
				t.Errorf("clear of an inactive latch = %v, %v", was, err)
			}
			ev := Event{Time: t0, Event: EvDuress, Door: "front", Reader: "in", UserID: "u-alice"}
			l.signal(ev) // no Run: stored here
			l.signal(ev)
			if pin.Level() != active {
				t.Errorf("line %v after a signal, want %v", pin.Level(), active)
			}
			if s, _ := st.DuressState(); !s.Active || !s.Since.Equal(t0) {
				t.Errorf("stored state %+v", s)
			}
			// A restart: a new latch on the same store drives the line at once.
			pin2 := readertest.NewOutPin("duress", gpio.Low, nil)
			cfg.Output = pin2
			l2, err := NewDuress(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if pin2.Level() != active || !l2.State().Active {
				t.Errorf("after a restart: line %v, state %+v", pin2.Level(), l2.State())
			}
			if was, err := l2.Clear("ops", "access_system_admin"); !was || err != nil {
				t.Errorf("clear = %v, %v", was, err)
			}
			if pin2.Level() != !active || l2.State().Active {
				t.Errorf("after clear: line %v, state %+v", pin2.Level(), l2.State())
			}
			evs, _ := st.Events(store.EventQuery{Limit: 10})
			var got []string
			for _, e := range evs {
				got = append(got, e.Event+" "+e.Actor+" "+e.Role)
			}
			want := []string{"duress  ", "duress  ", "duress_cleared ops access_system_admin"}
			if !slices.Equal(got, want) {
				t.Errorf("events %q, want %q", got, want)
			}
			if !slices.Equal(told, []string{"duress", "duress", "duress_cleared"}) {
				t.Errorf("told %v", told)
			}
		})
	}
}

// TestDuressLatchAsync: with Run, the door's signal does not wait for the
// store; what is queued is stored before Run returns, and Clear stores it
// before it clears.
func TestDuressLatchAsync(t *testing.T) {
	st := tempStore(t)
	pin := readertest.NewOutPin("duress", gpio.Low, nil)
	l, err := NewDuress(DuressConfig{Output: pin, Active: gpio.High, Store: st, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	l.async.Store(true) // as Run sets it, before Run's goroutine runs
	go func() { l.Run(ctx); close(done) }()
	l.signal(Event{Time: t0, Event: EvDuress, Door: "front"})
	if pin.Level() != gpio.High {
		t.Error("line not driven at the signal")
	}
	if was, err := l.Clear("ops", "access_system_admin"); !was || err != nil {
		t.Errorf("clear = %v, %v", was, err)
	}
	l.signal(Event{Time: t0.Add(time.Second), Event: EvDuress, Door: "back"})
	cancel()
	<-done
	if s, _ := st.DuressState(); !s.Active || !s.Since.Equal(t0.Add(time.Second)) {
		t.Errorf("state after Run = %+v", s)
	}
	evs, _ := st.Events(store.EventQuery{Limit: 10})
	var got []string
	for _, e := range evs {
		got = append(got, e.Event+" "+e.Door)
	}
	if want := []string{"duress front", "duress_cleared ", "duress back"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

// failingDuressStore fails RecordDuress while fail is set.
type failingDuressStore struct {
	DuressStore
	fail bool
}

func (f *failingDuressStore) RecordDuress(ev Event) error {
	if f.fail {
		return errors.New("store: disk full")
	}
	return f.DuressStore.RecordDuress(ev)
}

// TestDuressClearWaitsForItsEvents: a duress event the store failed to
// take is kept; Clear refuses until it is stored, so a clear never hides
// an unrecorded duress.
func TestDuressClearWaitsForItsEvents(t *testing.T) {
	fs := &failingDuressStore{DuressStore: tempStore(t), fail: true}
	pin := readertest.NewOutPin("duress", gpio.Low, nil)
	l, err := NewDuress(DuressConfig{Output: pin, Active: gpio.High, Store: fs, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	l.signal(Event{Time: t0, Event: EvDuress, Door: "front"})
	if pin.Level() != gpio.High {
		t.Fatal("line not driven while the store fails")
	}
	if _, err := l.Clear("ops", "access_system_admin"); !errors.Is(err, ErrDuressPending) {
		t.Errorf("clear with an unstored duress = %v", err)
	}
	if pin.Level() != gpio.High {
		t.Error("line cleared with an unstored duress")
	}
	fs.fail = false
	if was, err := l.Clear("ops", "access_system_admin"); !was || err != nil {
		t.Errorf("clear = %v, %v", was, err)
	}
	if pin.Level() != gpio.Low {
		t.Error("line still active after clear")
	}
}

// TestDuressThroughTheLoop: a door with the latch, run by Run on a real
// store, grants a duress code as the normal one and signals the latch.
func TestDuressThroughTheLoop(t *testing.T) {
	st := tempStore(t)
	by := store.Actor{Name: "t", Role: store.RoleSystemAdmin}
	u, err := st.CreateUser(store.UserFields{ExternalID: "ann", Groups: []string{"staff"}}, by)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetEntryCode(u.UserID, []byte("2468"), by); err != nil {
		t.Fatal(err)
	}
	if err := st.SetDuressCode(u.UserID, []byte("8642"), by); err != nil {
		t.Fatal(err)
	}
	pin := readertest.NewOutPin("duress", gpio.Low, nil)
	l, err := NewDuress(DuressConfig{Output: pin, Active: gpio.High, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	c, pins := testConfig(schedule.AccessControlled)
	c.Duress = l
	evs := &recEvents{}
	d := newDoor(t, c, st, evs)
	st2 := d.Stepper()
	st2.Start()
	st2.Submit(reader.Read{Kind: reader.KindKeys, Reader: "in", Keys: []byte("8642#")})
	if pin.Level() != gpio.High {
		t.Error("duress line not active")
	}
	if pins.relay.Level() != c.RelayActive {
		t.Error("strike not released by the duress code")
	}
	granted := false
	got := evs.take()
	for _, e := range got {
		if e.Event == EvAccessGranted && e.Method == MethodEntryCode && e.UserID == u.UserID {
			granted = true
		}
		if e.Event == EvDuress {
			t.Errorf("duress event through the door's emitter: %+v", e)
		}
	}
	if !granted {
		t.Errorf("no entry_code grant: %v", got)
	}
	stored, _ := st.Events(store.EventQuery{Event: EvDuress, Limit: 10})
	if len(stored) != 1 || stored[0].UserID != u.UserID || stored[0].Door != "front" || stored[0].Reader != "in" {
		t.Errorf("stored duress events %+v", stored)
	}
}

// TestEventWriterBarrier: a barrier closes once every event emitted before
// it has been handed to the store, not before.
func TestEventWriterBarrier(t *testing.T) {
	st := tempStore(t)
	w := NewEventWriter(st, nil, zerolog.Nop())
	if b := w.Barrier(); !closed(b) {
		t.Error("a barrier with nothing emitted is not closed")
	}
	w.Emit(Event{Event: EvAccessGranted, Door: "front"})
	b := w.Barrier()
	w.Emit(Event{Event: EvStrikeReleased, Door: "front"})
	b2 := w.Barrier()
	if closed(b) {
		t.Fatal("a barrier closed before its event was written")
	}
	w.flush(false)
	if !closed(b) || !closed(b2) {
		t.Error("barriers still open after the flush")
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestDuressFollowsItsGrant: with After (latchd's event writer), the
// latch's writer stores a duress event only after the grant emitted
// before it, so its seq follows the grant's.
func TestDuressFollowsItsGrant(t *testing.T) {
	st := tempStore(t)
	w := NewEventWriter(st, nil, zerolog.Nop())
	l, err := NewDuress(DuressConfig{Store: st, After: w.Barrier, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ldone := make(chan struct{})
	l.async.Store(true)
	go func() { l.Run(ctx); close(ldone) }()
	w.Emit(Event{Time: t0, Event: EvAccessGranted, Door: "front"})
	l.signal(Event{Time: t0, Event: EvDuress, Door: "front"})
	// The event writer runs only now: the latch's writer must have waited.
	wctx, wcancel := context.WithCancel(context.Background())
	wdone := make(chan struct{})
	go func() { w.Run(wctx); close(wdone) }()
	cancel()
	<-ldone
	wcancel()
	<-wdone
	evs, _ := st.Events(store.EventQuery{Limit: 10})
	var got []string
	for _, e := range evs {
		got = append(got, e.Event)
	}
	if !slices.Equal(got, []string{EvAccessGranted, EvDuress}) {
		t.Errorf("stored %v, want the grant first", got)
	}
}
