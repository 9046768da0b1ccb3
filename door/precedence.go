package door

import "github.com/latchd/latch/schedule"

// Level is a rung of the precedence that decides a door's mode
// (docs/operations.md, "What decides a door's mode"), highest first.
type Level uint8

// The levels, highest first.
const (
	LevelEmergency   Level = 1 // an emergency_release input is active: unlocked
	LevelLockdown    Level = 2 // a lockdown command or input: locked
	LevelOverride    Level = 3 // an override: its mode until its end
	LevelDoubleBadge Level = 4 // a double-badge toggle: unlocked
	LevelException   Level = 5 // a dated exception of the schedule
	LevelSchedule    Level = 6 // a weekly window (first-person-in gated)
	LevelDefault     Level = 7 // the default mode (or the fail-secure mode while the clock is unknown)
)

var levelNames = [...]string{"", "emergency", "lockdown", "override", "double_badge", "exception", "schedule", "default"}

// String is the level's name in the door view: emergency, lockdown,
// override, double_badge, exception, schedule, default.
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "unknown"
}

// Levels is everything that may decide a door's mode at one instant.
type Levels struct {
	Emergency   bool          // level 1
	Lockdown    bool          // level 2
	Override    schedule.Mode // level 3; "" = none
	DoubleBadge bool          // level 4
	Exception   schedule.Mode // level 5; "" = no exception in force
	// Window is the weekly window in force (level 6); "" = none.
	// WindowGated says it is a first-person-in window whose first person
	// has not come yet: the door is then in the mode it would have
	// without the window (Default).
	Window      schedule.Mode
	WindowGated bool
	// WindowOpened says a first-person-in window was opened by its first
	// person (the cause is first_person_in).
	WindowOpened bool
	Default      schedule.Mode // level 7: the default mode, or the fail-secure mode while the clock is not plausible
}

// Effective is a door's mode, the level it comes from and that level's
// cause name.
type Effective struct {
	Mode  schedule.Mode
	Level Level
	Cause string
}

// Resolve is the one place the precedence is decided: the highest level
// that holds gives the mode.
func Resolve(l Levels) Effective {
	switch {
	case l.Emergency:
		return Effective{schedule.Unlocked, LevelEmergency, CauseEmergency}
	case l.Lockdown:
		return Effective{schedule.Locked, LevelLockdown, CauseLockdown}
	case l.Override != schedule.Unknown:
		return Effective{l.Override, LevelOverride, CauseOverride}
	case l.DoubleBadge:
		return Effective{schedule.Unlocked, LevelDoubleBadge, CauseDoubleBadge}
	case l.Exception != schedule.Unknown:
		return Effective{l.Exception, LevelException, CauseException}
	case l.Window != schedule.Unknown && !l.WindowGated:
		if l.WindowOpened {
			return Effective{l.Window, LevelSchedule, CauseFirstPersonIn}
		}
		return Effective{l.Window, LevelSchedule, CauseSchedule}
	}
	return Effective{l.Default, LevelDefault, CauseSchedule}
}

// transitionCause is the cause of a change from old to new: the cause of
// the higher of the two levels (a level that starts takes the door, a
// level that ends hands it down), the new one's at the same level.
func transitionCause(old, new Effective) string {
	if old.Level != 0 && old.Level < new.Level {
		return old.Cause
	}
	return new.Cause
}
