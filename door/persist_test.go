package door

import (
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/schedule"
	"github.com/latchd/latch/store"
)

// appendNow stores each event at once (as the scenario runner does).
type appendNow struct {
	t *testing.T
	s *store.Store
}

func (a appendNow) Emit(ev Event) {
	if err := a.s.AppendEvents([]Event{ev}); err != nil {
		a.t.Error(err)
	}
}

// TestStateSurvivesRestart: an override, a lockdown, a double-badge toggle
// come back after a restart (a crash: no clean stop), on a real store; an
// override that ended while the door was down has ended; the restart does
// not release the strike.
func TestStateSurvivesRestart(t *testing.T) {
	st := tempStore(t)
	now := t0
	boot := func(pins **testPins) (*Stepper, *Controller) {
		c, p := testConfig(schedule.AccessControlled)
		*pins = p
		c.Now = func() time.Time { return now }
		c.State = st
		c.DoubleBadge = true
		s := newDoor(t, c, testCreds(), appendNow{t, st}).Stepper()
		s.Start()
		ctl, err := NewController(s)
		if err != nil {
			t.Fatal(err)
		}
		return s, ctl
	}
	var p *testPins
	s1, ctl := boot(&p)
	ctx := t.Context()
	if _, err := ctl.Override(ctx, "front", Override{Mode: schedule.Unlocked, For: 2 * time.Hour}, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.Lockdown(ctx, nil, admin); err != nil {
		t.Fatal(err)
	}
	if got := s1.d.Status(); !got.Lockdown || got.Mode != schedule.Locked || got.Override != schedule.Unlocked {
		t.Fatalf("before the crash: %+v", got)
	}
	_ = s1 // crashed: never stopped

	now = now.Add(time.Hour)
	s2, ctl2 := boot(&p)
	got := s2.d.Status()
	if !got.Lockdown || got.LockdownBy != admin || got.Mode != schedule.Locked || got.Override != schedule.Unlocked ||
		!got.OverrideUntil.Equal(t0.Add(2*time.Hour)) || got.OverrideBy != admin {
		t.Fatalf("after the restart: %+v", got)
	}
	for _, lvl := range p.relay.Written() {
		if lvl == gpio.High {
			t.Fatal("the restart released the strike")
		}
	}
	// Released: the override (unlocked) takes over, one release.
	if _, err := ctl2.ReleaseLockdown(ctx, []string{"front"}, admin); err != nil {
		t.Fatal(err)
	}
	if got := s2.d.Status(); got.Mode != schedule.Unlocked || got.Level != LevelOverride {
		t.Fatalf("after the release: %+v", got)
	}
	// Down past the override's end: it has ended.
	now = now.Add(3 * time.Hour)
	s3, _ := boot(&p)
	if got := s3.d.Status(); got.Override != "" || got.Mode != schedule.AccessControlled || got.Lockdown {
		t.Fatalf("after an override ended while down: %+v", got)
	}
	ds, err := st.LoadDoorState("front")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Override != nil || ds.Lockdown != nil {
		t.Errorf("stored state after the start dropped the ended override: %+v", ds)
	}
}
