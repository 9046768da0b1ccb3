package door

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

type op func(*driver)

func badge(rdr string, cn uint64) op { return func(d *driver) { d.card(rdr, cn) } }
func typ(rdr, ks string) op          { return func(d *driver) { d.keys(rdr, ks) } }
func wait(dt time.Duration) op       { return func(d *driver) { d.wait(dt) } }
func bad(rdr string) op {
	return func(d *driver) { d.step(inBad{reader: rdr, reason: reader.BadParity}) }
}
func dps(open bool) op            { return func(d *driver) { d.step(inDPS{open: open}) } }
func rex(pressed bool) op         { return func(d *driver) { d.step(inREX{pressed: pressed}) } }
func override(m schedule.Mode) op { return func(d *driver) { d.step(overrideCmd(d, m)) } }
func times(n int, o op) op {
	return func(d *driver) {
		for range n {
			o(d)
		}
	}
}
func seq(ops ...op) op {
	return func(d *driver) {
		for _, o := range ops {
			o(d)
		}
	}
}
func tick() op { return func(d *driver) { d.step(inTick{}) } }
func modeIs(m schedule.Mode) func(*testing.T, *driver) {
	return func(t *testing.T, d *driver) {
		if d.s.mode != m {
			t.Errorf("mode = %q, want %q", d.s.mode, m)
		}
	}
}

const (
	granted   = "access_granted/"
	denied    = "access_denied/"
	requested = "code_requested"
	lockout   = "keypad_lockout"
)

// TestDecisionTable covers every mode × credential kind of docs/door.md, "Modes".
func TestDecisionTable(t *testing.T) {
	modes := []schedule.Mode{schedule.Unlocked, schedule.AccessControlled, schedule.CardAndCode, schedule.Locked}
	kinds := []struct {
		name string
		ops  op
	}{
		{"card alone", badge("in", 100)},
		{"entry code alone", typ("in", "1111#")},
		{"card then code", seq(badge("in", 100), typ("in", "4321#"))},
	}
	want := map[schedule.Mode][][]string{
		schedule.Unlocked: {
			{granted + MethodUnlockedMode},
			{granted + MethodUnlockedMode},
			{granted + MethodUnlockedMode}, // keys after the badge are not needed
		},
		schedule.AccessControlled: {
			{granted + MethodCard},
			{granted + MethodEntryCode},
			{granted + MethodCard},
		},
		schedule.CardAndCode: {
			{requested},
			{denied + ReasonCardRequired},
			{requested, granted + MethodCardAndCode},
		},
		schedule.Locked: {
			{denied + ReasonDoorLocked},
			{denied + ReasonDoorLocked},
			{denied + ReasonDoorLocked, denied + ReasonDoorLocked},
		},
	}
	// whether the relay is commanded to release after start
	wantRelease := map[schedule.Mode][]bool{
		schedule.Unlocked:         {false, false, false}, // already released at start
		schedule.AccessControlled: {true, true, true},
		schedule.CardAndCode:      {false, false, true},
		schedule.Locked:           {false, false, false},
	}
	for _, m := range modes {
		for i, k := range kinds {
			t.Run(string(m)+"/"+k.name, func(t *testing.T) {
				d := mustDriver(t, m, nil)
				d.reset()
				k.ops(d)
				if diff := cmp.Diff(want[m][i], summary(d.events, false)); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				if rel := d.releasedAny(); rel != wantRelease[m][i] {
					t.Errorf("relay released = %v, want %v", rel, wantRelease[m][i])
				}
			})
		}
	}
}

// TestDenials shows every denial reason and every refused case of docs/door.md.
func TestDenials(t *testing.T) {
	cc := schedule.CardAndCode
	ac := schedule.AccessControlled
	tests := []struct {
		name    string
		mode    schedule.Mode
		mod     func(*Config)
		ops     op
		want    []string
		release bool
	}{
		{name: "bad_read", mode: ac, ops: bad("in"), want: []string{denied + ReasonBadRead}},
		{name: "unknown_card", mode: ac, ops: badge("in", 999), want: []string{denied + ReasonUnknownCard}},
		{name: "card_inactive", mode: ac, ops: badge("in", 103), want: []string{denied + ReasonCardInactive}},
		{name: "user suspended", mode: ac, ops: badge("in", 104), want: []string{denied + ReasonUserInactive}},
		{name: "user past end", mode: cc, ops: badge("in", 107), want: []string{denied + ReasonUserInactive}},
		{name: "suspended user's entry code", mode: ac, ops: typ("in", "4444#"), want: []string{denied + ReasonUserInactive}},
		{name: "no_access group of another door", mode: ac, ops: badge("in", 105), want: []string{denied + ReasonNoAccess}},
		{name: "no_access outside group schedule", mode: cc, ops: badge("in", 106), want: []string{denied + ReasonNoAccess}},
		{name: "group schedule allows inside its window", mode: ac, ops: seq(wait(12*time.Hour+30*time.Minute), badge("in", 106)),
			want: []string{granted + MethodCard}, release: true},
		{name: "group schedule window ends", mode: ac, ops: seq(wait(14*time.Hour), badge("in", 106)),
			want: []string{denied + ReasonNoAccess}},
		{name: "no_access entry code", mode: ac, ops: typ("in", "5555#"), want: []string{denied + ReasonNoAccess}},
		{name: "door_locked card", mode: schedule.Locked, ops: badge("in", 100), want: []string{denied + ReasonDoorLocked}},
		// Choice (docs/door.md): in unlocked mode a refused credential is
		// still logged with its reason; the strike stays as it is.
		{name: "unlocked: unknown card still denied", mode: schedule.Unlocked, ops: badge("in", 999), want: []string{denied + ReasonUnknownCard}},
		{name: "unlocked: suspended user still denied", mode: schedule.Unlocked, ops: badge("in", 104), want: []string{denied + ReasonUserInactive}},
		{name: "unlocked: unknown entry code still denied", mode: schedule.Unlocked, ops: typ("in", "0000#"), want: []string{denied + ReasonUnknownCode}},
		{name: "card_required: entry code alone in card_and_code", mode: cc, ops: typ("in", "1111#"), want: []string{denied + ReasonCardRequired}},
		{name: "no_second_factor: user with neither", mode: cc, ops: badge("in", 102), want: []string{denied + ReasonNoSecondFactor}},
		{name: "no_second_factor: entry code without fallback", mode: cc, mod: func(c *Config) { c.MFA.EntryCodeFallback = false },
			ops: badge("in", 101), want: []string{denied + ReasonNoSecondFactor}},
		{name: "entry code as fallback second factor", mode: cc, ops: seq(badge("in", 101), typ("in", "2222#")),
			want: []string{requested, granted + MethodCardAndCode}, release: true},
		{name: "MFA code is not an entry code for the fallback user", mode: cc, ops: seq(badge("in", 100), typ("in", "1111#")),
			want: []string{requested, denied + ReasonWrongCode}},
		{name: "another user's MFA code", mode: cc, ops: seq(badge("in", 101), typ("in", "4321#")),
			want: []string{requested, denied + ReasonWrongCode}},
		{name: "second MFA code of the user", mode: cc, ops: seq(badge("in", 100), typ("in", "87654321#")),
			want: []string{requested, granted + MethodCardAndCode}, release: true},
		{name: "shared MFA code", mode: cc, ops: seq(badge("in", 108), typ("in", "4321#")),
			want: []string{requested, granted + MethodCardAndCode}, release: true},
		{name: "code_timeout before the first key", mode: cc, ops: seq(badge("in", 100), wait(DefaultCodeTimeout-time.Millisecond), typ("in", "4"), wait(DefaultKeyTimeout)),
			want: []string{requested, denied + ReasonCodeTimeout}},
		{name: "no code at all", mode: cc, ops: seq(badge("in", 100), wait(DefaultCodeTimeout)),
			want: []string{requested, denied + ReasonCodeTimeout}},
		{name: "code_timeout between keys", mode: cc, ops: seq(badge("in", 100), typ("in", "43"), wait(DefaultKeyTimeout), typ("in", "21#")),
			want: []string{requested, denied + ReasonCodeTimeout, denied + ReasonCardRequired}},
		{name: "keys just within the key timeout", mode: cc, ops: seq(badge("in", 100), typ("in", "43"), wait(DefaultKeyTimeout-time.Millisecond), typ("in", "21#")),
			want: []string{requested, granted + MethodCardAndCode}, release: true},
		{name: "bad_code: 17 digits", mode: cc, ops: seq(badge("in", 100), typ("in", "12345678901234567")),
			want: []string{requested, denied + ReasonBadCode}},
		{name: "16 digits are fine", mode: cc, ops: seq(badge("in", 100), typ("in", "1234567890123456#")),
			want: []string{requested, denied + ReasonWrongCode}},
		{name: "bad_code: entry code of 17 digits", mode: ac, ops: typ("in", "12345678901234567"), want: []string{denied + ReasonBadCode}},
		{name: "empty code refused", mode: cc, ops: seq(badge("in", 100), typ("in", "#")),
			want: []string{requested, denied + ReasonBadCode}},
		{name: "cleared code is empty", mode: cc, ops: seq(badge("in", 100), typ("in", "4321*#")),
			want: []string{requested, denied + ReasonBadCode}},
		{name: "empty entry code", mode: ac, ops: typ("in", "#"), want: []string{denied + ReasonBadCode}},
		{name: "star clears", mode: cc, ops: seq(badge("in", 100), typ("in", "99*4321#")),
			want: []string{requested, granted + MethodCardAndCode}, release: true},
		{name: "star on empty cancels", mode: cc, ops: seq(badge("in", 100), typ("in", "*"), typ("in", "4321#")),
			want: []string{requested, denied + ReasonCodeAbandoned, denied + ReasonCardRequired}},
		{name: "code equal to the card number", mode: cc, ops: seq(badge("in", 5678), typ("in", "5678#")),
			want: []string{requested, denied + ReasonWrongCode}},
		{name: "card number with leading zeros", mode: cc, ops: seq(badge("in", 5678), typ("in", "005678#")),
			want: []string{requested, denied + ReasonWrongCode}},
		{name: "card number typed as code counts toward the lockout", mode: cc,
			ops:  seq(times(3, seq(badge("in", 5678), typ("in", "5678#"))), badge("in", 5678)),
			want: []string{requested, denied + ReasonWrongCode, requested, denied + ReasonWrongCode, requested, denied + ReasonWrongCode, lockout, denied + ReasonLockedOut}},
		{name: "wrong_code", mode: cc, ops: seq(badge("in", 100), typ("in", "9999#")),
			want: []string{requested, denied + ReasonWrongCode}},
		{name: "one attempt per badge", mode: cc, ops: seq(badge("in", 100), typ("in", "9999#"), typ("in", "4321#")),
			want: []string{requested, denied + ReasonWrongCode, denied + ReasonCardRequired}},
		{name: "code_abandoned by a new badge", mode: cc, ops: seq(badge("in", 100), typ("in", "43"), badge("in", 101), typ("in", "2222#")),
			want: []string{requested, denied + ReasonCodeAbandoned, requested, granted + MethodCardAndCode}, release: true},
		{name: "unknown_code: MFA code typed alone", mode: ac, ops: typ("in", "4321#"), want: []string{denied + ReasonUnknownCode}},
		{name: "unknown_code", mode: ac, ops: typ("in", "0000#"), want: []string{denied + ReasonUnknownCode}},
		{name: "entry_only: exit reader skips the code", mode: cc, mod: func(c *Config) { c.SecondFactor = SecondFactorEntryOnly },
			ops: badge("out", 100), want: []string{granted + MethodCard}, release: true},
		{name: "entry_only: entry reader still asks", mode: cc, mod: func(c *Config) { c.SecondFactor = SecondFactorEntryOnly },
			ops: badge("in", 100), want: []string{requested}},
		{name: "always: exit reader asks too", mode: cc, ops: badge("out", 100), want: []string{requested}},
		{name: "lockout after 3 wrong codes", mode: cc,
			ops:  seq(times(3, seq(badge("in", 100), typ("in", "9999#"))), badge("in", 100)),
			want: []string{requested, denied + ReasonWrongCode, requested, denied + ReasonWrongCode, requested, denied + ReasonWrongCode, lockout, denied + ReasonLockedOut}},
		{name: "lockout is per card", mode: cc,
			ops:  seq(times(3, seq(badge("in", 100), typ("in", "9999#"))), badge("in", 108), typ("in", "4321#")),
			want: []string{requested, denied + ReasonWrongCode, requested, denied + ReasonWrongCode, requested, denied + ReasonWrongCode, lockout, requested, granted + MethodCardAndCode}, release: true},
		{name: "lockout expires", mode: cc,
			ops:  seq(times(3, seq(badge("in", 100), typ("in", "9999#"))), wait(DefaultLockoutTime), badge("in", 100), typ("in", "4321#")),
			want: []string{requested, denied + ReasonWrongCode, requested, denied + ReasonWrongCode, requested, denied + ReasonWrongCode, lockout, requested, granted + MethodCardAndCode}, release: true},
		{name: "wrong codes outside the window do not add up", mode: cc,
			ops:  seq(times(2, seq(badge("in", 100), typ("in", "9999#"))), wait(DefaultLockoutWindow), badge("in", 100), typ("in", "9999#"), badge("in", 100)),
			want: []string{requested, denied + ReasonWrongCode, requested, denied + ReasonWrongCode, requested, denied + ReasonWrongCode, requested}},
		{name: "a right code resets the count", mode: cc,
			ops: seq(times(2, seq(badge("in", 100), typ("in", "9999#"))), badge("in", 100), typ("in", "4321#"),
				times(2, seq(badge("in", 100), typ("in", "9999#"))), badge("in", 100)),
			want: []string{requested, denied + ReasonWrongCode, requested, denied + ReasonWrongCode, requested, granted + MethodCardAndCode,
				requested, denied + ReasonWrongCode, requested, denied + ReasonWrongCode, requested}, release: true},
		{name: "entry codes typed alone lock the reader out", mode: ac,
			ops:  seq(times(3, typ("in", "0000#")), typ("in", "1111#"), typ("out", "1111#")),
			want: []string{denied + ReasonUnknownCode, denied + ReasonUnknownCode, denied + ReasonUnknownCode, lockout, denied + ReasonLockedOut, granted + MethodEntryCode}, release: true},
		{name: "a known entry code resets the reader's count", mode: ac,
			ops:  seq(times(2, typ("in", "0000#")), typ("in", "1111#"), times(2, typ("in", "0000#")), typ("in", "1111#")),
			want: []string{denied + ReasonUnknownCode, denied + ReasonUnknownCode, granted + MethodEntryCode, denied + ReasonUnknownCode, denied + ReasonUnknownCode, granted + MethodEntryCode}, release: true},
		{name: "a refused user's entry code does not reset the reader's count", mode: ac,
			ops:  seq(times(2, typ("in", "0000#")), typ("in", "4444#"), typ("in", "0000#"), typ("in", "1111#")),
			want: []string{denied + ReasonUnknownCode, denied + ReasonUnknownCode, denied + ReasonUserInactive, denied + ReasonUnknownCode, lockout, denied + ReasonLockedOut}},
		{name: "wrong entry codes outside the window do not add up", mode: ac,
			ops:  seq(times(2, typ("in", "0000#")), wait(DefaultLockoutWindow), typ("in", "0000#"), typ("in", "1111#")),
			want: []string{denied + ReasonUnknownCode, denied + ReasonUnknownCode, denied + ReasonUnknownCode, granted + MethodEntryCode}, release: true},
		{name: "reader lockout expires", mode: ac,
			ops:  seq(times(3, typ("in", "0000#")), wait(DefaultLockoutTime), typ("in", "1111#")),
			want: []string{denied + ReasonUnknownCode, denied + ReasonUnknownCode, denied + ReasonUnknownCode, lockout, granted + MethodEntryCode}, release: true},
		{name: "unfinished entry code is forgotten after the key timeout", mode: ac, ops: seq(typ("in", "11"), wait(DefaultKeyTimeout), typ("in", "11#")),
			want: []string{denied + ReasonUnknownCode}},
		{name: "mode change to locked before #", mode: cc, ops: seq(badge("in", 100), typ("in", "4321"), override(schedule.Locked), typ("in", "#")),
			want: []string{requested, denied + ReasonDoorLocked}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := runOps(t, tt.mode, tt.mod, tt.ops)
			if diff := cmp.Diff(tt.want, summary(d.events, false)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if rel := d.releasedAny(); rel != tt.release {
				t.Errorf("relay released = %v, want %v", rel, tt.release)
			}
			for _, e := range d.events {
				if e.Door != "front" || e.Time.IsZero() {
					t.Errorf("event %+v lacks door or time", e)
				}
				if (e.Event == EvAccessDenied || e.Event == EvAccessGranted) && e.Reader == "" {
					t.Errorf("event %+v lacks reader", e)
				}
			}
		})
	}
}

// TestNeverDowngraded: docs/door.md, "Card + Code". A code equal to the card's number,
// an empty code, or a user whose second factor is empty never turns Card +
// Code into card only. The store here accepts any code, so the door must
// refuse these without asking it (Choice, docs/door.md: a code equal to the
// card number is refused even when it is the user's real code).
func TestNeverDowngraded(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*Config)
		ops    op
		reason string
	}{
		{"code equal to the card number", nil, seq(badge("in", 5678), typ("in", "5678#")), ReasonWrongCode},
		{"card number with leading zeros", nil, seq(badge("in", 5678), typ("in", "0005678#")), ReasonWrongCode},
		{"card number as the entry-code fallback", nil, seq(badge("in", 101), typ("in", "101#")), ReasonWrongCode},
		{"empty code", nil, seq(badge("in", 100), typ("in", "#")), ReasonBadCode},
		{"code typed, cleared, submitted", nil, seq(badge("in", 100), typ("in", "4321*#")), ReasonBadCode},
		{"user with no second factor", nil, badge("in", 102), ReasonNoSecondFactor},
		{"only an entry code, fallback off", func(c *Config) { c.MFA.EntryCodeFallback = false }, badge("in", 101), ReasonNoSecondFactor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := testConfig(schedule.CardAndCode)
			if tt.mod != nil {
				tt.mod(&c)
			}
			creds := testCreds()
			creds.acceptAll = true
			d := newDriver(t, c, creds)
			d.reset()
			tt.ops(d)
			got := summary(d.events, false)
			if len(got) == 0 || got[len(got)-1] != denied+tt.reason {
				t.Errorf("events %v, want the last to be %s", got, denied+tt.reason)
			}
			if creds.verifies != 0 {
				t.Errorf("the store was asked %d times", creds.verifies)
			}
			if len(d.relay) != 0 {
				t.Errorf("relay commands %v, want none", d.relay)
			}
		})
	}
	// The same store grants a real code: the refusals above are the door's.
	c, _ := testConfig(schedule.CardAndCode)
	creds := testCreds()
	creds.acceptAll = true
	d := newDriver(t, c, creds)
	d.reset()
	seq(badge("in", 5678), typ("in", "1234#"))(d)
	if diff := cmp.Diff([]string{requested, granted + MethodCardAndCode}, summary(d.events, false)); diff != "" {
		t.Errorf("control (-want +got):\n%s", diff)
	}
}

// TestEventFields checks the fields of the access events.
func TestEventFields(t *testing.T) {
	d := mustDriver(t, schedule.CardAndCode, nil)
	if diff := cmp.Diff([]Event{{Time: t0, Event: EvModeChanged, Door: "front", To: "card_and_code", Cause: CauseStart, Mode: "card_and_code"}}, d.events); diff != "" {
		t.Errorf("start events (-want +got):\n%s", diff)
	}
	d.reset()
	d.card("in", 100)
	d.now = d.now.Add(time.Second)
	d.keys("in", "4321#")
	ec := &EventCard{Format: "h10301", FacilityCode: 1, CardNumber: 100}
	t1 := t0.Add(time.Second)
	want := []Event{
		{Time: t0, Event: EvCodeRequested, Door: "front", Reader: "in", UserID: "u-alice", ExternalID: "alice", Card: ec, Mode: "card_and_code"},
		{Time: t1, Event: EvAccessGranted, Door: "front", Reader: "in", UserID: "u-alice", ExternalID: "alice", Card: ec, Method: MethodCardAndCode, Mode: "card_and_code"},
		{Time: t1, Event: EvStrikeReleased, Door: "front", Duration: "10s", Mode: "card_and_code"},
	}
	if diff := cmp.Diff(want, d.events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	for _, e := range d.events {
		if strings.Contains(e.Reason+e.Method+e.UserID, "4321") {
			t.Errorf("event carries the code: %+v", e)
		}
	}
	d.reset()
	d.wait(10 * time.Second)
	if diff := cmp.Diff([]string{"strike_locked"}, summary(d.events, true)); diff != "" {
		t.Errorf("relock (-want +got):\n%s", diff)
	}
}

// TestDeniedEventNamesUser: a card refused in locked mode, or for a
// reason found after the lookup, still names its user and card.
func TestDeniedEventNamesUser(t *testing.T) {
	for _, tc := range []struct {
		mode   schedule.Mode
		cn     uint64
		user   string
		reason string
	}{
		{schedule.Locked, 100, "alice", ReasonDoorLocked},
		{schedule.AccessControlled, 103, "dave", ReasonCardInactive},
		{schedule.AccessControlled, 105, "frank", ReasonNoAccess},
		{schedule.CardAndCode, 102, "carol", ReasonNoSecondFactor},
		{schedule.AccessControlled, 999, "", ReasonUnknownCard},
	} {
		d := mustDriver(t, tc.mode, nil)
		d.reset()
		d.card("in", tc.cn)
		want := []Event{{Time: t0, Event: EvAccessDenied, Door: "front", Reader: "in", Reason: tc.reason, Mode: string(tc.mode),
			Card: &EventCard{Format: "h10301", FacilityCode: 1, CardNumber: tc.cn}}}
		if tc.user != "" {
			want[0].UserID, want[0].ExternalID = "u-"+tc.user, tc.user
		}
		if diff := cmp.Diff(want, d.events); diff != "" {
			t.Errorf("%s card %d (-want +got):\n%s", tc.mode, tc.cn, diff)
		}
	}
}

// TestStrikeAndSensors covers unlock time, relock on open, forced and held
// open, REX and debounce.
func TestStrikeAndSensors(t *testing.T) {
	ac := schedule.AccessControlled
	deb := DefaultDebounce
	tests := []struct {
		name  string
		mode  schedule.Mode
		mod   func(*Config)
		ops   op
		want  []string
		relay []bool
		check func(*testing.T, *driver)
	}{
		{name: "grant releases for unlock_time", mode: ac, ops: seq(badge("in", 100), wait(DefaultUnlockTime)),
			want: []string{granted + "card", "strike_released/10s", "strike_locked"}, relay: []bool{true, false}},
		{name: "a second grant extends the release", mode: ac, ops: seq(badge("in", 100), wait(5*time.Second), badge("out", 101), wait(9*time.Second), tick()),
			want: []string{granted + "card", "strike_released/10s", granted + "card", "strike_released/10s"}, relay: []bool{true}},
		{name: "relock on open", mode: ac, ops: seq(badge("in", 100), dps(true), wait(deb)),
			want: []string{granted + "card", "strike_released/10s", "door_opened", "strike_locked"}, relay: []bool{true, false}},
		{name: "no relock on open when disabled", mode: ac, mod: func(c *Config) { c.RelockOnOpen = false },
			ops:  seq(badge("in", 100), dps(true), wait(deb), dps(false), wait(deb)),
			want: []string{granted + "card", "strike_released/10s", "door_opened", "door_closed"}, relay: []bool{true}},
		{name: "forced open", mode: ac, ops: seq(dps(true), wait(deb)), want: []string{"door_opened", "door_forced_open"}},
		{name: "opened after the grant ran out is forced", mode: ac, ops: seq(badge("in", 100), wait(DefaultUnlockTime), dps(true), wait(deb)),
			want: []string{granted + "card", "strike_released/10s", "strike_locked", "door_opened", "door_forced_open"}, relay: []bool{true, false}},
		{name: "debounce swallows a bounce", mode: ac, ops: seq(dps(true), wait(deb/2), dps(false), wait(deb)), want: nil},
		{name: "debounce restarts on each bounce", mode: ac, ops: seq(dps(true), wait(deb-time.Millisecond), dps(false), dps(true), wait(deb-time.Millisecond)),
			want: nil},
		{name: "held open", mode: ac, ops: seq(badge("in", 100), dps(true), wait(deb), wait(DefaultHeldOpenTime), dps(false), wait(deb)),
			want: []string{granted + "card", "strike_released/10s", "door_opened", "strike_locked", "door_held_open", "door_closed"}, relay: []bool{true, false}},
		{name: "rex suppresses forced open without unlocking", mode: ac, ops: seq(rex(true), wait(deb), rex(false), dps(true), wait(deb)),
			want: []string{"rex", "door_opened"}},
		{name: "rex unlocks even in locked", mode: schedule.Locked, mod: func(c *Config) { c.RexUnlocks = true },
			ops:  seq(rex(true), wait(deb), wait(DefaultRexUnlockTime)),
			want: []string{"rex", "strike_released/3s", "strike_locked"}, relay: []bool{true, false}},
		{name: "rex press counts once", mode: ac, mod: func(c *Config) { c.RexUnlocks = true },
			ops:  seq(rex(true), wait(deb), rex(false), wait(deb), wait(time.Second)),
			want: []string{"rex", "strike_released/3s"}, relay: []bool{true}},
		{name: "unlocked mode holds the strike; leaving relocks", mode: schedule.Unlocked, ops: seq(badge("in", 100), dps(true), wait(deb), wait(2*DefaultHeldOpenTime), override(ac)),
			want:  []string{granted + "unlocked_mode", "door_opened", "mode_changed/unlocked>access_controlled/override", "strike_locked"},
			relay: []bool{false},
			check: modeIs(ac)},
		{name: "held open counts from leaving unlocked", mode: schedule.Unlocked, ops: seq(dps(true), wait(deb), override(ac), wait(DefaultHeldOpenTime)),
			want:  []string{"door_opened", "mode_changed/unlocked>access_controlled/override", "strike_locked", "door_held_open"},
			relay: []bool{false}},
		{name: "override to unlocked and back", mode: ac, ops: seq(override(schedule.Unlocked), override(schedule.Unknown)),
			want:  []string{"mode_changed/access_controlled>unlocked/override", "strike_released", "mode_changed/unlocked>access_controlled/override", "strike_locked"},
			relay: []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := runOps(t, tt.mode, tt.mod, tt.ops)
			if diff := cmp.Diff(tt.want, summary(d.events, true)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.relay, d.relay); diff != "" {
				t.Errorf("relay (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

func TestStartModes(t *testing.T) {
	// Start in unlocked: the strike is released at start (the mode, not a pulse).
	d := mustDriver(t, schedule.Unlocked, nil)
	if diff := cmp.Diff([]bool{false, true}, d.relay); diff != "" {
		t.Errorf("relay at start (-want +got):\n%s", diff)
	}
	// Stop locks.
	d.reset()
	d.step(inStop{})
	if diff := cmp.Diff([]bool{false}, d.relay); diff != "" {
		t.Errorf("relay at stop (-want +got):\n%s", diff)
	}
	// Nothing after stop.
	d.reset()
	d.card("in", 100)
	if len(d.acts) != 0 {
		t.Errorf("actions after stop: %v", d.acts)
	}
}

func TestFeedbackPatterns(t *testing.T) {
	type fb struct{ g, r, b bool }
	tests := []struct {
		name string
		mode schedule.Mode
		ops  op
		want []fb
	}{
		{"grant: green and one beep", schedule.AccessControlled, seq(badge("in", 100), wait(3*time.Second)),
			[]fb{{true, false, true}, {true, false, false}, {false, false, false}}},
		{"deny: red and three beeps", schedule.AccessControlled, seq(badge("in", 999), wait(3*time.Second)),
			[]fb{{false, true, true}, {false, true, false}, {false, true, true}, {false, true, false}, {false, true, true}, {false, true, false}, {false, false, false}}},
		{"awaiting: beep then slow amber flash, then grant", schedule.CardAndCode, seq(badge("in", 100), wait(1700*time.Millisecond), typ("in", "4321#")),
			[]fb{{true, true, true}, {true, true, false}, {false, false, false}, {true, true, false}, {false, false, false}, {true, false, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := runOps(t, tt.mode, nil, tt.ops)
			var got []fb
			for _, a := range d.acts {
				if f, ok := a.(actFeedback); ok && f.reader == "in" {
					got = append(got, fb{f.green, f.red, f.beeper})
				}
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(fb{})); diff != "" {
				t.Errorf("feedback (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no name", func(c *Config) { c.Name = "" }, "door: name: must not be empty"},
		{"no relay", func(c *Config) { c.Relay = nil }, "relay: a relay pin is required"},
		{"unlock time", func(c *Config) { c.UnlockTime = 2 * time.Minute }, "unlock_time 2m0s: must be 1s–60s"},
		{"second factor", func(c *Config) { c.SecondFactor = "sometimes" }, "second_factor \"sometimes\""},
		{"direction", func(c *Config) { c.Readers[0].Direction = "up" }, "direction \"up\""},
		{"reader twice", func(c *Config) { c.Readers[1].Name = "in" }, "reader \"in\": named twice"},
		{"card_and_code without keypad", func(c *Config) {
			c.Readers[0].Keypad, c.Readers[1].Keypad = false, false
			c.Schedule = []schedule.Window{{Days: allDays, Start: 0, End: 60, Mode: schedule.CardAndCode}}
		}, "schedule[0].mode: card_and_code needs a keypad, and reader in, out of door \"front\" has none"},
		{"overlap", func(c *Config) {
			c.Schedule = []schedule.Window{{Days: allDays, Start: 0, End: 60, Mode: schedule.Locked}, {Days: allDays, Start: 30, End: 90, Mode: schedule.Unlocked}}
		}, "schedule[1]: overlaps schedule[0] on sun"},
		{"group schedule", func(c *Config) { c.Groups[1].Schedule[0].End = 10 }, "group \"night\": schedule: schedule[0].end: end 00:10 is not after start 22:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := testConfig(schedule.AccessControlled)
			tt.mod(&c)
			_, err := New(c, testCreds(), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "door: ") {
				t.Errorf("err = %v, want ~%q", err, tt.want)
			}
		})
	}
}

// TestCardChangedWhileTyping: a card deactivated, deleted or given to
// another user between the badge and the code is refused as card_inactive,
// a user suspended meanwhile as user_inactive, whatever the code, and
// neither counts towards the card's lockout.
func TestCardChangedWhileTyping(t *testing.T) {
	for _, change := range []struct {
		name string
		fn   func(f *fakeCreds, k CardKey)
	}{
		{"deactivated", func(f *fakeCreds, k CardKey) { f.cards[k] = fakeCard{user: f.cards[k].user, active: false} }},
		{"reassigned", func(f *fakeCreds, k CardKey) { f.cards[k] = fakeCard{user: "u-bob", active: true} }},
		{"deleted", func(f *fakeCreds, k CardKey) { delete(f.cards, k) }},
		{"user suspended", func(f *fakeCreds, k CardKey) { f.users["u-alice"].view.Suspended = true }},
	} {
		t.Run(change.name, func(t *testing.T) {
			c, _ := testConfig(schedule.CardAndCode)
			creds := testCreds()
			d := newDriver(t, c, creds)
			k := cardKey(card(100))
			saved := creds.cards[k]
			reason := ReasonCardInactive
			if change.name == "user suspended" {
				reason = ReasonUserInactive
			}
			restore := func() {
				creds.cards[k] = saved
				creds.users["u-alice"].view.Suspended = false
			}
			for i := 0; i < c.MFA.MaxCodeAttempts+1; i++ {
				restore()
				d.reset()
				d.card("in", 100)
				change.fn(creds, k)
				d.keys("in", "4321#") // alice's right code
				if got := summary(d.events, true); !slices.Equal(got, []string{EvCodeRequested, denied + reason}) {
					t.Fatalf("attempt %d: events %v, want code_requested then access_denied %s", i, got, reason)
				}
				if last := d.events[len(d.events)-1]; last.UserID != "u-alice" || last.Card == nil || last.Card.CardNumber != 100 {
					t.Fatalf("attempt %d: the denial names %s card %+v, want alice's card 100", i, last.UserID, last.Card)
				}
				for _, release := range d.relay {
					if release {
						t.Fatalf("attempt %d released the strike", i)
					}
				}
			}
			// No lockout: with the card restored, the right code opens.
			restore()
			d.reset()
			d.card("in", 100)
			d.keys("in", "4321#")
			if got := summary(d.events, false); !slices.Equal(got, []string{EvCodeRequested, "access_granted/" + MethodCardAndCode}) {
				t.Errorf("after the changes, alice's card and code: %v, want access_granted", got)
			}
		})
	}
}
