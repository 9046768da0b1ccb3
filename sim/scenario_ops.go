package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/schedule"
)

// The scenario lines that operate doors (docs/scenarios.md, "Operating
// doors"): unlock, override, lockdown, input and restart. Their rules
// (durations, modes, which door) are the door package's Controller's: the
// parser only reads the words.

// The operating commands.
const (
	StepUnlock   StepKind = "unlock"   // Door, Duration (0 = the door's unlock_time)
	StepOverride StepKind = "override" // Door, Mode and For or Until, or Clear
	StepLockdown StepKind = "lockdown" // Doors (none = all), Release
	StepInput    StepKind = "input"    // Input, Active
	StepRestart  StepKind = "restart"
)

// OpFields are the fields of the operating commands, embedded in Step.
type OpFields struct {
	Duration time.Duration // unlock: 0 = the door's unlock_time; restart: how long latchd stays down
	Mode     string        // override
	For      time.Duration // override … for
	Until    time.Time     // override … until
	Clear    bool          // override … clear
	Doors    []string      // lockdown; empty = all
	Release  bool          // lockdown release
	Input    string        // input: the [[input]]'s name
	Active   bool          // input on
}

// CommandActor is who a scenario's (and latchd --sim's) door commands act
// as in their events.
var CommandActor = door.Actor{Name: "scenario"}

// maxLockdownDoors bounds a lockdown line's door list.
const maxLockdownDoors = 256

// parseOp parses an operating command's arguments into st; handled is
// false for any other command.
func parseOp(st *Step, args []string) (handled bool, msg string) {
	switch st.Kind {
	case StepUnlock:
		if len(args) < 1 || len(args) > 2 {
			return true, "usage: unlock DOOR [DURATION]"
		}
		st.Door = args[0]
		if len(args) == 2 {
			d, err := time.ParseDuration(args[1])
			if err != nil || d <= 0 {
				return true, fmt.Sprintf("unlock: %q is not a Go duration such as 5s", truncate(args[1]))
			}
			st.Duration = d
		}
	case StepOverride:
		const usage = "usage: override DOOR MODE for DURATION | override DOOR MODE until TIME | override DOOR clear"
		switch {
		case len(args) == 2 && args[1] == "clear":
			st.Door, st.Clear = args[0], true
		case len(args) == 4 && (args[2] == "for" || args[2] == "until"):
			st.Door = args[0]
			m, err := schedule.ParseMode(args[1])
			if err != nil || m == schedule.Unknown {
				return true, fmt.Sprintf("override: %q is not a mode: locked, unlocked, access_controlled or card_and_code", truncate(args[1]))
			}
			st.Mode = string(m)
			if args[2] == "for" {
				d, err := time.ParseDuration(args[3])
				if err != nil || d <= 0 {
					return true, fmt.Sprintf("override: %q is not a Go duration such as 90m or 2h", truncate(args[3]))
				}
				st.For = d
			} else {
				t, err := time.Parse(time.RFC3339, args[3])
				if err != nil {
					return true, fmt.Sprintf("override: %q is not an RFC 3339 time such as 2026-12-24T18:00:00+01:00", truncate(args[3]))
				}
				st.Until = t
			}
		default:
			return true, usage
		}
	case StepLockdown:
		if len(args) > 0 && args[0] == "release" {
			st.Release, args = true, args[1:]
		}
		switch {
		case len(args) == 0:
			return true, "usage: lockdown all | lockdown DOOR... | lockdown release all | lockdown release DOOR..."
		case len(args) == 1 && args[0] == "all":
		case len(args) > maxLockdownDoors:
			return true, fmt.Sprintf("lockdown: at most %d doors on one line", maxLockdownDoors)
		default:
			for _, d := range args {
				if d == "all" {
					return true, "lockdown: all stands alone (every door)"
				}
				if m := checkName("door name", d); m != "" {
					return true, m
				}
				st.Doors = append(st.Doors, d)
			}
		}
	case StepInput:
		if len(args) != 2 || (args[1] != "on" && args[1] != "off") {
			return true, "usage: input NAME on|off"
		}
		st.Input, st.Active = args[0], args[1] == "on"
		if m := checkName("input name", st.Input); m != "" {
			return true, m
		}
	case StepRestart:
		if len(args) > 1 {
			return true, "usage: restart [DOWNTIME]"
		}
		if len(args) == 1 {
			d, err := time.ParseDuration(args[0])
			if err != nil || d < 0 || d > maxWait {
				return true, fmt.Sprintf("restart: %q is not a Go duration 0–%s such as 30s or 2h", truncate(args[0]), maxWait)
			}
			st.Duration = d
		}
	default:
		return false, ""
	}
	return true, ""
}

// Command carries out a door command (unlock, override, lockdown) on ctl as
// actor by: the scenario runner and latchd --sim both call it. Its error is
// the Controller's refusal, worded for a console.
func Command(ctx context.Context, ctl *door.Controller, st Step, by door.Actor) error {
	var err error
	switch st.Kind {
	case StepUnlock:
		_, err = ctl.Unlock(ctx, st.Door, st.Duration, by)
	case StepOverride:
		if st.Clear {
			_, err = ctl.ClearOverride(ctx, st.Door, by)
		} else {
			_, err = ctl.Override(ctx, st.Door, door.Override{Mode: door.Mode(st.Mode), For: st.For, Until: st.Until}, by)
		}
	case StepLockdown:
		if st.Release {
			_, err = ctl.ReleaseLockdown(ctx, st.Doors, by)
		} else {
			_, err = ctl.Lockdown(ctx, st.Doors, by)
		}
	default:
		return fmt.Errorf("%s is not a door command", st.Kind)
	}
	if err == nil {
		return nil
	}
	var ve *door.ValueError
	if errors.As(err, &ve) {
		return fmt.Errorf("%s refused: %s %s", st.Kind, ve.Field, ve.Rule)
	}
	return fmt.Errorf("%s refused: %s", st.Kind, strings.TrimPrefix(err.Error(), "door: "))
}

// IsCommand reports whether st is a door command (Command carries it out).
func IsCommand(st Step) bool {
	return st.Kind == StepUnlock || st.Kind == StepOverride || st.Kind == StepLockdown
}
