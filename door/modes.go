package door

import (
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/schedule"
)

// Door modes: the schedule's mode, an override, the fail-secure mode while
// the wall clock is not plausible, and the mode as it applies at one
// reader (docs/door.md).

// evalMode reads the schedule at now (start: the mode_changed of start).
func (s *state) evalMode(o *out, start bool) {
	now := o.now
	m, src := s.cfg.sched.ModeSource(now)
	prevSrc := s.schedSrc
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
	cause := CauseSchedule
	if src == schedule.SourceException || prevSrc == schedule.SourceException {
		cause = CauseException
	}
	if start {
		cause = CauseStart
	}
	s.applyMode(o, cause)
}

// clockPoll is how often the door looks again while the clock is not set.
const clockPoll = time.Second

// scheduleRecheck bounds the wait for the next schedule change, so that a
// wall-clock step (NTP) is noticed within a minute; timers run on the
// monotonic clock.
const scheduleRecheck = time.Minute

func (s *state) effectiveMode() schedule.Mode {
	switch {
	case s.override != schedule.Unknown:
		return s.override
	case s.schedMode == schedule.Unknown:
		return s.cfg.ClockUnknownMode
	default:
		return s.schedMode
	}
}

func (s *state) applyMode(o *out, cause string) {
	m := s.effectiveMode()
	if m == s.mode && cause != CauseStart {
		return
	}
	from := s.mode
	s.mode = m
	o.emit(Event{Event: EvModeChanged, From: string(from), To: string(m), Cause: cause, Mode: string(m)})
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
