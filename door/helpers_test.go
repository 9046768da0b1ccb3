package door

import (
	"crypto/subtle"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// recPin is a recording gpio.PinOut: every level written, in order.
type recPin struct {
	name string
	mu   sync.Mutex
	lv   []gpio.Level
	fail error
}

func (p *recPin) String() string   { return p.name }
func (p *recPin) Halt() error      { return nil }
func (p *recPin) Name() string     { return p.name }
func (p *recPin) Number() int      { return -1 }
func (p *recPin) Function() string { return "Out" }
func (p *recPin) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lv = append(p.lv, l)
	return p.fail
}
func (p *recPin) PWM(gpio.Duty, physic.Frequency) error { return fmt.Errorf("recpin: no pwm") }

func (p *recPin) levels() []gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]gpio.Level(nil), p.lv...)
}

func (p *recPin) last() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lv) == 0 {
		return gpio.Low
	}
	return p.lv[len(p.lv)-1]
}

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
	view  UserView
	mfa   [][]byte
	entry []byte
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

// testPins are the pins of testConfig.
type testPins struct {
	relay, green, red, beep, outGreen *recPin
}

// testConfig is door "front": reader "in" (keypad, feedback lines), reader
// "out" (keypad, exit), groups staff (always), night (22:00–24:00), other
// (another door).
func testConfig(mode schedule.Mode) (Config, *testPins) {
	p := &testPins{relay: &recPin{name: "relay"}, green: &recPin{name: "green"}, red: &recPin{name: "red"}, beep: &recPin{name: "beep"}, outGreen: &recPin{name: "out-green"}}
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

// driver steps a state the way Run does, answering store queries from a
// fakeCreds, and records what comes out.
type driver struct {
	s      state
	creds  *fakeCreds
	now    time.Time
	events []Event
	relay  []bool // relay commands, true = release
	acts   []action
}

func newDriver(c Config, creds *fakeCreds) (*driver, error) {
	rc, err := resolveConfig(c)
	if err != nil {
		return nil, err
	}
	d := &driver{s: newState(rc), creds: creds, now: t0}
	d.step(inStart{})
	return d, nil
}

func (d *driver) step(in input) {
	s, acts := step(d.s, in, d.now)
	d.s = s
	d.acts = append(d.acts, acts...)
	var follow []input
	for _, a := range acts {
		switch a := a.(type) {
		case actRelay:
			d.relay = append(d.relay, a.release)
		case actEmit:
			d.events = append(d.events, a.ev)
		case actVerify:
			follow = append(follow, answerVerify(d.creds, a, func(_ string, k CardKey) cardLookup {
				c, _ := lookupCard(d.creds, k)
				return c
			}, nil))
		case actLookupEntry:
			u, err := d.creds.LookupEntryCode(a.code)
			follow = append(follow, inEntry{reader: a.reader, user: u, found: err == nil})
		}
	}
	for _, in := range follow {
		d.step(in)
	}
}

func (d *driver) card(rdr string, cn uint64) {
	c := card(cn)
	l, _ := lookupCard(d.creds, cardKey(c))
	d.step(inCard{reader: rdr, card: c, cardLookup: l})
}

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
