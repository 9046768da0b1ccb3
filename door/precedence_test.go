package door

import (
	"fmt"
	"testing"

	"github.com/latchd/latch/schedule"
)

// levelSet sets level l in ls to a mode of its own where the level has a
// mode of its choosing, so that the winner shows in the result.
func levelSet(ls *Levels, l Level) {
	switch l {
	case LevelEmergency:
		ls.Emergency = true
	case LevelLockdown:
		ls.Lockdown = true
	case LevelOverride:
		ls.Override = schedule.CardAndCode
	case LevelDoubleBadge:
		ls.DoubleBadge = true
	case LevelException:
		ls.Exception = schedule.AccessControlled
	case LevelSchedule:
		ls.Window = schedule.Unlocked
	case LevelDefault:
	}
}

var levelMode = map[Level]schedule.Mode{
	LevelEmergency: schedule.Unlocked, LevelLockdown: schedule.Locked, LevelOverride: schedule.CardAndCode,
	LevelDoubleBadge: schedule.Unlocked, LevelException: schedule.AccessControlled, LevelSchedule: schedule.Unlocked,
	LevelDefault: schedule.Locked,
}

// TestResolveEveryPair: for every pair of levels, the higher decides, and
// a change between them is caused by the higher (it starts over the lower,
// or ends and hands down to it).
func TestResolveEveryPair(t *testing.T) {
	for hi := LevelEmergency; hi <= LevelDefault; hi++ {
		for lo := hi; lo <= LevelDefault; lo++ {
			t.Run(fmt.Sprintf("%s>%s", hi, lo), func(t *testing.T) {
				both := Levels{Default: schedule.Locked}
				levelSet(&both, hi)
				levelSet(&both, lo)
				got := Resolve(both)
				if got.Level != hi || got.Mode != levelMode[hi] || got.Cause == "" {
					t.Fatalf("Resolve = %+v, want level %s mode %s", got, hi, levelMode[hi])
				}
				if hi == lo {
					return
				}
				only := Levels{Default: schedule.Locked}
				levelSet(&only, lo)
				low := Resolve(only)
				if low.Level != lo {
					t.Fatalf("alone: Resolve = %+v, want level %s", low, lo)
				}
				if c := transitionCause(low, got); c != got.Cause {
					t.Errorf("%s starts over %s: cause %q, want %q", hi, lo, c, got.Cause)
				}
				if c := transitionCause(got, low); c != got.Cause {
					t.Errorf("%s ends onto %s: cause %q, want %q", hi, lo, c, got.Cause)
				}
			})
		}
	}
}

// TestResolveFirstPersonIn: a gated window gives the default mode; opened,
// the window's mode with cause first_person_in.
func TestResolveFirstPersonIn(t *testing.T) {
	l := Levels{Window: schedule.Unlocked, WindowGated: true, Default: schedule.AccessControlled}
	if got := Resolve(l); got.Mode != schedule.AccessControlled || got.Level != LevelDefault {
		t.Errorf("gated: %+v", got)
	}
	l.WindowGated, l.WindowOpened = false, true
	if got := Resolve(l); got.Mode != schedule.Unlocked || got.Cause != CauseFirstPersonIn || got.Level != LevelSchedule {
		t.Errorf("opened: %+v", got)
	}
	// An exception is above the gated window.
	l.Exception = schedule.Locked
	if got := Resolve(l); got.Mode != schedule.Locked || got.Level != LevelException {
		t.Errorf("exception: %+v", got)
	}
}

func TestLevelNames(t *testing.T) {
	want := []string{"emergency", "lockdown", "override", "double_badge", "exception", "schedule", "default"}
	for i, w := range want {
		if got := Level(i + 1).String(); got != w {
			t.Errorf("Level(%d) = %q, want %q", i+1, got, w)
		}
	}
	if Level(99).String() != "unknown" {
		t.Error("out-of-range level has a name")
	}
}
