package door

import (
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/schedule"
)

// Door modes: the schedule's mode, the fail-secure mode while the wall
// clock is not plausible, and the mode as it applies at one reader
// (docs/door.md); the levels above the schedule are ops.go's, and Resolve
// (precedence.go) decides between them.

// evalMode reads the schedule at now and applies the precedence (the
// first evaluation is the start's mode_changed).
func (s *state) evalMode(o *out) {
	now := o.now
	m, src := s.cfg.sched.ModeSource(now)
	s.schedMode, s.schedSrc = m, src
	s.nextChange, s.nextMode = time.Time{}, schedule.Unknown
	if m == schedule.Unknown {
		s.modeCheckAt = now.Add(clockPoll)
		if !s.clockWarned {
			s.clockWarned = true
			o.log(zerolog.WarnLevel, "wall clock not plausible (before "+schedule.PlausibleAfter.Format("2006-01-02")+
				"): door in fail-secure mode "+string(s.cfg.ClockUnknownMode)+" until the clock is set", actLog{})
		}
	} else {
		s.modeCheckAt = now.Add(scheduleRecheck)
		if n := s.cfg.sched.Next(now); !n.IsZero() {
			s.nextChange, s.nextMode = n, s.cfg.sched.Mode(n)
			if n.Before(s.modeCheckAt) {
				s.modeCheckAt = n
			}
		}
	}
	w, _, inWindow := s.cfg.sched.WindowAt(now)
	s.fpiWindow = inWindow && w.FirstPersonIn
	s.fpiGroups = w.FirstPersonGroups
	if !s.fpiUntil.IsZero() && (!s.fpiWindow || !now.Before(s.fpiUntil)) {
		s.fpiUntil = time.Time{} // the opened window is over: the next one starts gated
	}
	s.applyModeWith(o, false, "", Actor{}, "")
}

// clockPoll is how often the door looks again while the clock is not set.
const clockPoll = time.Second

// scheduleRecheck bounds the wait for the next schedule change, so that a
// wall-clock step (NTP) is noticed within a minute; timers run on the
// monotonic clock.
const scheduleRecheck = time.Minute

// setMode makes ev's mode (a mode_changed) the door's, emits ev, and
// holds or lets go of the strike for the unlocked mode.
func (s *state) setMode(o *out, ev Event) {
	m := schedule.Mode(ev.To)
	s.mode = m
	o.emit(ev)
	switch {
	case m == schedule.Unlocked && !s.heldByMode:
		s.heldByMode = true
		if !s.released {
			s.released = true
			o.do(actRelay{release: true})
		}
		o.emit(Event{Event: EvStrikeReleased, Mode: string(m)})
	case m != schedule.Unlocked && s.heldByMode:
		s.heldByMode = false
		s.lockStrike(o)
		if s.open {
			s.heldAt = o.now.Add(s.cfg.HeldOpenTime)
			s.heldAlarmed = false
		}
	}
}

// readerMode is the mode as it applies at one reader: an exit reader of an
// entry_only door never asks for the code.
func (s *state) readerMode(name string) schedule.Mode {
	if s.mode == schedule.CardAndCode && s.cfg.SecondFactor == SecondFactorEntryOnly {
		if rc := s.cfg.readers[name]; rc != nil && rc.out {
			return schedule.AccessControlled
		}
	}
	return s.mode
}
