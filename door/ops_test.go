package door

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchd/latch/schedule"
)

var admin = Actor{Name: "ops", Role: "access_door_manager"}

func withInputs(c *Config) {
	c.Inputs = []InputConfig{
		{Name: "fire", Action: InputEmergencyRelease},
		{Name: "panic", Action: InputLockdown},
		{Name: "tamper", Action: InputAlarm, Report: true},
	}
}

// modeTrail is the mode_changed events as from>to/cause.
func modeTrail(evs []Event) []string {
	var out []string
	for _, e := range evs {
		if e.Event == EvModeChanged {
			out = append(out, e.From+">"+e.To+"/"+e.Cause)
		}
	}
	return out
}

func (d *driver) input(name string, active bool) {
	d.step(inInput{name: name, active: active})
	d.wait(d.s.cfg.Debounce)
}

// TestLockdownRefusesButEgress: a locked-down door refuses cards and codes
// as lockdown, refuses a remote unlock with ErrLockdown, and still lets
// people out (REX).
func TestLockdownRefusesButEgress(t *testing.T) {
	d := runOps(t, schedule.AccessControlled, func(c *Config) { c.RexUnlocks = true }, func(d *driver) {})
	if err := d.command(cmdLockdown{on: true, by: admin}); err != nil {
		t.Fatal(err)
	}
	d.card("in", 100)
	d.keys("in", "1111#")
	if err := d.command(cmdUnlock{d: 5 * time.Second, by: admin}); !errors.Is(err, ErrLockdown) {
		t.Errorf("unlock in lockdown: %v, want ErrLockdown", err)
	}
	if d.releasedAny() {
		t.Fatal("strike released by a card, code or unlock during lockdown")
	}
	d.step(inREX{pressed: true})
	d.wait(time.Second)
	if !d.releasedAny() {
		t.Error("REX did not release the strike during lockdown: egress must never be blocked")
	}
	got := summary(d.events, false)
	want := []string{denied + ReasonLockdown, denied + ReasonLockdown}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"access_controlled>locked/lockdown"}, modeTrail(d.events)); diff != "" {
		t.Errorf("modes (-want +got):\n%s", diff)
	}
	if d.events[0].Event != EvLockdownStarted || d.events[0].Actor != "ops" || d.events[0].Role != "access_door_manager" || d.events[0].State == nil {
		t.Errorf("first event %+v: want lockdown_started by ops with the state to store", d.events[0])
	}
	if err := d.orderErr; err != nil {
		t.Error(err)
	}
}

// TestRemoteUnlock: access_granted method remote with actor and duration,
// then the strike for that long.
func TestRemoteUnlock(t *testing.T) {
	d := runOps(t, schedule.Locked, nil, func(d *driver) {})
	if err := d.command(cmdUnlock{d: 3 * time.Second, by: admin}); err != nil {
		t.Fatal(err)
	}
	d.wait(5 * time.Second)
	if diff := cmp.Diff([]bool{true, false}, d.relay); diff != "" {
		t.Errorf("relay (-want +got):\n%s", diff)
	}
	e := d.events[0]
	if e.Event != EvAccessGranted || e.Method != MethodRemote || e.Actor != "ops" || e.Duration != "3s" {
		t.Errorf("grant = %+v", e)
	}
	if err := d.orderErr; err != nil {
		t.Error(err)
	}
}

// TestPrecedenceTrail walks the levels up and down on one door: every
// change is one mode_changed with the cause the table gives, and each end
// hands down to the level below at that instant.
func TestPrecedenceTrail(t *testing.T) {
	d := runOps(t, schedule.AccessControlled, withInputs, func(d *driver) {})
	d.step(overrideCmd(d, schedule.Unlocked))               // 3 over default
	d.must(t, d.command(cmdLockdown{on: true, by: admin}))  // 2 over 3
	d.input("fire", true)                                   // 1 over 2
	d.input("fire", false)                                  // 1 ends: back to 2
	d.must(t, d.command(cmdLockdown{on: false, by: admin})) // 2 ends: back to 3
	d.step(overrideCmd(d, schedule.Unknown))                // 3 cleared: default
	d.input("panic", true)                                  // a lockdown input
	d.input("panic", false)
	want := []string{
		"access_controlled>unlocked/override",
		"unlocked>locked/lockdown",
		"locked>unlocked/emergency",
		"unlocked>locked/emergency",
		"locked>unlocked/lockdown",
		"unlocked>access_controlled/override",
		"access_controlled>locked/lockdown",
		"locked>access_controlled/lockdown",
	}
	if diff := cmp.Diff(want, modeTrail(d.events)); diff != "" {
		t.Errorf("modes (-want +got):\n%s", diff)
	}
	// The relay: released for the unlocked override, locked by the
	// lockdown, released by the fire alarm, locked when it ends, released
	// again by the override, locked when it is cleared.
	if diff := cmp.Diff([]bool{true, false, true, false, true, false}, d.relay); diff != "" {
		t.Errorf("relay (-want +got):\n%s", diff)
	}
	if err := d.orderErr; err != nil {
		t.Error(err)
	}
}

func (d *driver) must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestOverrideEnds: a timed override ends at its end, handing down.
func TestOverrideEnds(t *testing.T) {
	d := runOps(t, schedule.AccessControlled, nil, func(d *driver) {})
	d.step(inCommand{cmd: cmdOverride{mode: schedule.Locked, until: d.now.Add(time.Hour), by: admin}, reply: make(chan error, 1)})
	d.wait(59 * time.Minute)
	if d.s.mode != schedule.Locked {
		t.Fatal("override ended early")
	}
	d.wait(time.Minute)
	if diff := cmp.Diff([]string{"access_controlled>locked/override", "locked>access_controlled/override"}, modeTrail(d.events)); diff != "" {
		t.Errorf("modes (-want +got):\n%s", diff)
	}
	if e := d.events[0]; e.Until != "2026-06-01T11:00:00.000Z" || e.Actor != "ops" {
		t.Errorf("override event %+v: want until and actor", e)
	}
}

// TestAlarmInput: an alarm input only records input_alarm/input_normal,
// debounced: a bounce shorter than the debounce is nothing.
func TestAlarmInput(t *testing.T) {
	d := runOps(t, schedule.AccessControlled, withInputs, func(d *driver) {})
	d.step(inInput{name: "tamper", active: true})
	d.wait(d.s.cfg.Debounce / 2)
	d.step(inInput{name: "tamper", active: false}) // a bounce
	d.wait(time.Second)
	d.input("tamper", true)
	d.input("tamper", false)
	var got []string
	for _, e := range d.events {
		got = append(got, e.Event+"/"+e.Input)
	}
	if diff := cmp.Diff([]string{"input_alarm/tamper", "input_normal/tamper"}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if d.releasedAny() {
		t.Error("an alarm input released the strike")
	}
}

// TestDoubleBadge: the same card twice within the window toggles the door
// unlocked until the second double badge; not during lockdown; and a
// toggle lapses at the end of the local day.
func TestDoubleBadge(t *testing.T) {
	mod := func(c *Config) { c.DoubleBadge = true }
	d := runOps(t, schedule.AccessControlled, mod, func(d *driver) {})
	d.card("in", 100)
	d.wait(2 * time.Second)
	d.card("in", 100)
	if d.s.mode != schedule.Unlocked || d.s.eff.Level != LevelDoubleBadge {
		t.Fatalf("after a double badge: mode %s level %s", d.s.mode, d.s.eff.Level)
	}
	d.wait(10 * time.Second)
	d.card("in", 100)
	d.wait(time.Second)
	d.card("in", 100)
	if d.s.mode != schedule.AccessControlled {
		t.Fatalf("after the second double badge: mode %s", d.s.mode)
	}
	// Two badges further apart than the window: nothing.
	d.wait(10 * time.Second)
	d.card("in", 100)
	d.wait(6 * time.Second)
	d.card("in", 100)
	if d.s.mode != schedule.AccessControlled {
		t.Fatal("badges 6 s apart toggled the door")
	}
	// Toggled, then the day ends.
	d.wait(10 * time.Second)
	d.card("in", 100)
	d.card("in", 100)
	d.wait(14 * time.Hour)
	want := []string{"access_controlled>unlocked/double_badge", "unlocked>access_controlled/double_badge",
		"access_controlled>unlocked/double_badge", "unlocked>access_controlled/double_badge"}
	if diff := cmp.Diff(want, modeTrail(d.events)); diff != "" {
		t.Errorf("modes (-want +got):\n%s", diff)
	}
	// Never during lockdown.
	d.must(t, d.command(cmdLockdown{on: true, by: admin}))
	d.card("in", 100)
	d.card("in", 100)
	if d.s.mode != schedule.Locked || !d.s.dblUntil.IsZero() {
		t.Error("a double badge toggled a locked-down door")
	}
}

// TestFirstPersonIn: the window starts gated, the first grant of a member
// of the groups unlocks it until its end, the next day starts gated.
func TestFirstPersonIn(t *testing.T) {
	mod := func(c *Config) {
		c.Schedule = []schedule.Window{{Days: allDays, Start: 8 * 60, End: 17 * 60, Mode: schedule.Unlocked,
			FirstPersonIn: true, FirstPersonGroups: []string{"staff"}}}
	}
	d := runOps(t, schedule.AccessControlled, mod, func(d *driver) {}) // t0 is 10:00 UTC, inside
	if d.s.mode != schedule.AccessControlled {
		t.Fatalf("gated window: mode %s", d.s.mode)
	}
	d.card("in", 105) // frank: not staff, and no access here: denied anyway
	d.card("in", 100) // alice: staff
	d.wait(8 * time.Hour)
	d.wait(15 * time.Hour) // 09:00 next day: gated again
	want := []string{"access_controlled>unlocked/first_person_in", "unlocked>access_controlled/first_person_in"}
	if diff := cmp.Diff(want, modeTrail(d.events)); diff != "" {
		t.Errorf("modes (-want +got):\n%s", diff)
	}
	if d.s.mode != schedule.AccessControlled {
		t.Errorf("next morning: mode %s, want gated access_controlled", d.s.mode)
	}
}

// TestCommandBeforeStart: a command to a door not started is refused, not
// left waiting.
func TestCommandBeforeStart(t *testing.T) {
	c, _ := testConfig(schedule.AccessControlled)
	d := &driver{creds: testCreds(), now: t0}
	c.Now = func() time.Time { return d.now }
	d.door = newDoor(t, c, d.creds, nil)
	d.s = newState(d.door.cfg)
	if err := d.command(cmdUnlock{d: time.Second}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("unlock before start: %v", err)
	}
}
