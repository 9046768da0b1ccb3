package door

import (
	"context"
	"crypto/subtle"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchd/latch/store/storetest"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/reader/readertest"
	"github.com/latchd/latch/schedule"
	"github.com/latchd/latch/store"
)

// fakeCreds is an in-memory Credentials.
type fakeCreds struct {
	mu    sync.Mutex
	cards map[CardKey]fakeCard
	users map[string]*fakeUser
	// acceptAll makes VerifyCardCode accept any code: a door that asks
	// the store when it must not then grants, and the test sees it.
	acceptAll bool
	verifies  int // VerifyCardCode calls
}

type fakeCard struct {
	user   string
	active bool
}

type fakeUser struct {
	view   UserView
	mfa    [][]byte
	entry  []byte
	duress []byte
}

// MatchCardCode is VerifyCardCode, and the user's duress code wherever
// an MFA or entry code is accepted.
func (f *fakeCreds) MatchCardCode(k CardKey, userID string, code []byte, fallback bool) (CodeMatch, error) {
	ok, err := f.VerifyCardCode(k, userID, code, fallback)
	if err != nil {
		return store.CodeNone, err
	}
	f.mu.Lock()
	u := f.users[userID]
	duress := u != nil && len(u.duress) > 0 && subtle.ConstantTimeCompare(u.duress, code) == 1 &&
		(len(u.mfa) > 0 || fallback && len(u.entry) > 0)
	f.mu.Unlock()
	switch {
	case duress:
		return store.CodeDuress, nil
	case ok:
		return store.CodeValid, nil
	}
	return store.CodeNone, nil
}

// MatchEntryCode is LookupEntryCode, and the duress codes of the users
// with an entry code (as the store).
func (f *fakeCreds) MatchEntryCode(code []byte) (UserView, CodeMatch, error) {
	if u, err := f.LookupEntryCode(code); err == nil {
		return u, store.CodeValid, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if len(u.duress) > 0 && len(u.entry) > 0 && subtle.ConstantTimeCompare(u.duress, code) == 1 {
			return u.view, store.CodeDuress, nil
		}
	}
	return UserView{}, store.CodeNone, ErrNotFound
}

func (f *fakeCreds) LookupCard(k CardKey) (UserView, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.cards[k]
	if !ok {
		return UserView{}, false, ErrNotFound
	}
	return f.users[c.user].view, c.active, nil
}

func (f *fakeCreds) VerifyCardCode(k CardKey, userID string, code []byte, fallback bool) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifies++
	if c, ok := f.cards[k]; !ok || c.user != userID || !c.active {
		return false, ErrCardChanged
	}
	if u := f.users[userID]; u != nil && u.view.Suspended {
		return false, ErrUserSuspended
	}
	if f.acceptAll {
		return true, nil
	}
	u := f.users[userID]
	if u == nil || len(code) == 0 {
		return false, nil
	}
	if len(u.mfa) > 0 {
		ok := false
		for _, m := range u.mfa {
			ok = subtle.ConstantTimeCompare(m, code) == 1 || ok
		}
		return ok, nil
	}
	return fallback && len(u.entry) > 0 && subtle.ConstantTimeCompare(u.entry, code) == 1, nil
}

func (f *fakeCreds) LookupEntryCode(code []byte) (UserView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if len(u.entry) > 0 && subtle.ConstantTimeCompare(u.entry, code) == 1 {
			return u.view, nil
		}
	}
	return UserView{}, ErrNotFound
}

func (f *fakeCreds) add(id string, cn uint64, active bool, groups []string, mfa []string, entry string, mod func(*UserView)) {
	if f.cards == nil {
		f.cards = map[CardKey]fakeCard{}
		f.users = map[string]*fakeUser{}
	}
	u := &fakeUser{view: UserView{UserID: "u-" + id, ExternalID: id, Groups: groups, HasMFA: len(mfa) > 0, HasEntryCode: entry != ""}}
	for _, m := range mfa {
		u.mfa = append(u.mfa, []byte(m))
	}
	if entry != "" {
		u.entry = []byte(entry)
	}
	if mod != nil {
		mod(&u.view)
	}
	f.users[u.view.UserID] = u
	if cn != 0 {
		f.cards[CardKey{Format: "h10301", FacilityCode: 1, CardNumber: cn}] = fakeCard{user: u.view.UserID, active: active}
	}
}

// newDoor is New(c, creds, events), failing t on an error.
func newDoor(t testing.TB, c Config, creds Credentials, events Emitter) *Door {
	t.Helper()
	d, err := New(c, creds, events)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// startStepper is a started Stepper of a door of config c with testCreds.
func startStepper(t testing.TB, c Config) *Stepper {
	t.Helper()
	st := newDoor(t, c, testCreds(), nil).Stepper()
	st.Start()
	return st
}

// runRecovering runs d in a goroutine; the channel gets what Run panicked
// with (nil when it returned).
func runRecovering(d *Door, ctx context.Context) <-chan any {
	got := make(chan any, 1)
	go func() {
		defer func() { got <- recover() }()
		d.Run(ctx)
	}()
	return got
}

// tempStore is an empty store in a temporary folder, closed at the end.
func tempStore(t testing.TB) *store.Store {
	t.Helper()
	return storetest.Temp(t)
}

// Test users: card numbers are the second argument.
func testCreds() *fakeCreds {
	f := &fakeCreds{}
	staff := []string{"staff"}
	f.add("alice", 100, true, staff, []string{"4321", "87654321"}, "1111", nil)
	f.add("bob", 101, true, staff, nil, "2222", nil)            // no MFA: entry code is the fallback
	f.add("carol", 102, true, staff, nil, "", nil)              // no second factor at all
	f.add("dave", 103, false, staff, []string{"4321"}, "", nil) // card inactive
	f.add("erin", 104, true, staff, []string{"4321"}, "4444", func(u *UserView) { u.Suspended = true })
	f.add("frank", 105, true, []string{"other"}, []string{"4321"}, "5555", nil)
	f.add("gina", 106, true, []string{"night"}, []string{"4321"}, "", nil)
	f.add("hank", 107, true, staff, []string{"4321"}, "", func(u *UserView) { u.End = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) })
	// ivan's MFA codes are his card number, also with leading zeros: the
	// store would accept them, the door must not ask it.
	f.add("ivan", 5678, true, staff, []string{"5678", "005678"}, "", nil)
	f.add("jo", 108, true, staff, []string{"4321"}, "", nil) // shares alice's MFA code
	return f
}

func card(cn uint64) reader.Card {
	return reader.Card{Format: "h10301", FacilityCode: 1, CardNumber: cn}
}

// testPins are the pins of testConfig: fake outputs that record every
// level written (Written) and can fail (SetFail).
type testPins struct {
	relay, green, red, beep, outGreen *readertest.OutPin
}

// testConfig is door "front": reader "in" (keypad, feedback lines), reader
// "out" (keypad, exit), groups staff (always), night (22:00–24:00), other
// (another door).
func testConfig(mode schedule.Mode) (Config, *testPins) {
	pin := func(name string) *readertest.OutPin { return readertest.NewOutPin(name, gpio.Low, nil) }
	p := &testPins{relay: pin("relay"), green: pin("green"), red: pin("red"), beep: pin("beep"), outGreen: pin("out-green")}
	c := DefaultConfig()
	c.Name = "front"
	c.Relay = p.relay
	c.DefaultMode = mode
	c.Readers = []ReaderConfig{
		{Name: "in", Direction: DirectionIn, Keypad: true, Feedback: reader.Feedback{Green: p.green, Red: p.red, Beeper: p.beep, Active: gpio.Low}},
		{Name: "out", Direction: DirectionOut, Keypad: true, Feedback: reader.Feedback{Green: p.outGreen, Active: gpio.Low}},
	}
	c.Groups = []Group{
		{Name: "staff", Doors: []string{"front"}},
		{Name: "night", Doors: []string{"front"}, Schedule: []schedule.Window{{Days: allDays, Start: 22 * 60, End: 24 * 60}}},
		{Name: "other", Doors: []string{"back"}},
	}
	return c, p
}

var allDays = []time.Weekday{0, 1, 2, 3, 4, 5, 6}

// t0 is Monday 2026-06-01 10:00 UTC: a plausible wall clock.
var t0 = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

// driver steps a door's state through the door's own apply, as Run and a
// Stepper do (relay first, the store queries answered by answer from a
// fakeCreds, lockouts after), at a clock the test moves, and records the
// actions apply carries out.
type driver struct {
	door   *Door
	s      *state
	creds  *fakeCreds
	now    time.Time
	events []Event
	relay  []bool // relay commands, true = release
	acts   []action
	// orderErr is the first breach of apply's order (checkOrder).
	orderErr error
}

// newDriver is a started driver for a door of config c.
func newDriver(t testing.TB, c Config, creds *fakeCreds) *driver {
	t.Helper()
	d := &driver{creds: creds, now: t0}
	c.Now = func() time.Time { return d.now }
	door := newDoor(t, c, creds, nil)
	door.trace = d.record
	d.door, d.s = door, newState(door.cfg)
	d.step(inStart{})
	return d
}

// mustDriver is a driver for testConfig(mode), changed by mod (may be
// nil), with testCreds.
func mustDriver(t testing.TB, mode schedule.Mode, mod func(*Config)) *driver {
	t.Helper()
	c, _ := testConfig(mode)
	if mod != nil {
		mod(&c)
	}
	return newDriver(t, c, testCreds())
}

// runOps starts a driver in mode with mod applied to its config, forgets
// what the start did, and carries out ops.
func runOps(t testing.TB, mode schedule.Mode, mod func(*Config), ops op) *driver {
	t.Helper()
	d := mustDriver(t, mode, mod)
	d.reset()
	ops(d)
	return d
}

func (d *driver) record(a action) {
	d.acts = append(d.acts, a)
	switch a := a.(type) {
	case actRelay:
		d.relay = append(d.relay, a.release)
	case actEmit:
		d.events = append(d.events, a.ev)
	}
}

// step applies in; a breach of apply's order is kept in d.orderErr.
func (d *driver) step(in input) {
	start, released := len(d.acts), d.s.released
	d.door.apply(d.s, in, d.now)
	if err := checkOrder(d.acts[start:], released); err != nil && d.orderErr == nil {
		d.orderErr = fmt.Errorf("%T: %w", in, err)
	}
}

// checkOrder checks the order in which apply carried out acts, the
// strike released before the step (released): a relay command is driven
// before any event that reports it (a grant or strike_released after a
// release, strike_locked after a lock: a step may do both), and the
// lockout counters are saved after every event and feedback line.
func checkOrder(acts []action, released bool) error {
	var releasedCmd, lockedCmd, saved bool
	for i, a := range acts {
		switch a := a.(type) {
		case actRelay:
			releasedCmd = releasedCmd || a.release
			lockedCmd = lockedCmd || !a.release
		case actLockout:
			saved = true
		case actEmit:
			e := a.ev
			switch {
			case saved:
				return fmt.Errorf("action %d: event %s after a lockout counter was saved", i, e.Event)
			case (e.Event == EvAccessGranted && e.Method != MethodUnlockedMode || e.Event == EvStrikeReleased) && !released && !releasedCmd:
				return fmt.Errorf("action %d: %s handed out before the relay released", i, e.Event)
			case e.Event == EvStrikeLocked && !lockedCmd:
				return fmt.Errorf("action %d: %s handed out before the relay locked", i, e.Event)
			}
		case actFeedback:
			if saved {
				return fmt.Errorf("action %d: feedback after a lockout counter was saved", i)
			}
		}
	}
	return nil
}

func (d *driver) card(rdr string, cn uint64) { d.step(inCard{reader: rdr, card: card(cn)}) }

func (d *driver) keys(rdr, ks string) {
	for i := 0; i < len(ks); i++ {
		d.step(inKey{reader: rdr, key: ks[i]})
	}
}

// wait advances the clock to each deadline up to now+dt, ticking at each.
func (d *driver) wait(dt time.Duration) {
	end := d.now.Add(dt)
	for i := 0; ; i++ {
		if i > 1e6 {
			panic(fmt.Sprintf("driver.wait: no progress at %v: deadline %v state %+v", d.now, d.s.nextDeadline(), d.s))
		}
		n := d.s.nextDeadline()
		if n.IsZero() || n.After(end) {
			break
		}
		if n.After(d.now) {
			d.now = n
		}
		d.step(inTick{})
	}
	d.now = end
}

// releasedAny reports whether a relay command since the last reset
// released the strike.
func (d *driver) releasedAny() bool { return slices.Contains(d.relay, true) }

func (d *driver) reset() {
	d.events, d.relay, d.acts = nil, nil, nil
}

// summary is event/method-or-reason for the access events.
func summary(evs []Event, all bool) []string {
	var out []string
	for _, e := range evs {
		switch e.Event {
		case EvAccessGranted:
			out = append(out, e.Event+"/"+e.Method)
		case EvAccessDenied:
			out = append(out, e.Event+"/"+e.Reason)
		case EvCodeRequested, EvKeypadLockout:
			out = append(out, e.Event)
		default:
			if all {
				s := e.Event
				if e.Duration != "" {
					s += "/" + e.Duration
				}
				if e.Cause != "" {
					s += "/" + e.From + ">" + e.To + "/" + e.Cause
				}
				out = append(out, s)
			}
		}
	}
	return out
}
