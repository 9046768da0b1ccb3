package door

import "time"

// The strike, the door position switch and the exit button: release and
// relock, forced and held-open alarms, REX, and the debounce of the two
// inputs (docs/door.md).

// raw feeds a raw level; it reports whether the stable level changed now
// (only possible with no debounce).
func (d *debouncer) raw(level bool, now time.Time, deb time.Duration) bool {
	if deb <= 0 {
		d.at = time.Time{}
		if level != d.stable {
			d.stable = level
			return true
		}
		return false
	}
	if level == d.stable {
		d.at = time.Time{} // a bounce back: nothing pending
		return false
	}
	d.pending = level
	d.at = now.Add(deb)
	return false
}

// due reports and applies a pending level whose debounce time has passed.
func (d *debouncer) due(now time.Time) bool {
	if d.at.IsZero() || now.Before(d.at) {
		return false
	}
	d.at = time.Time{}
	if d.pending == d.stable {
		return false
	}
	d.stable = d.pending
	return true
}

func (s *state) release(o *out, d time.Duration) {
	until := o.now.Add(d)
	if until.After(s.authorizedUntil) {
		s.authorizedUntil = until
	}
	if s.heldByMode {
		return // already open in unlocked mode
	}
	if !s.released || until.After(s.relockAt) {
		s.relockAt = until
	}
	if !s.released {
		s.released = true
		o.do(actRelay{release: true})
	}
	o.emit(Event{Event: EvStrikeReleased, Duration: d.String(), Mode: string(s.mode)})
}

func (s *state) lockStrike(o *out) {
	s.heldByMode = false
	s.relockAt = time.Time{}
	if !s.released {
		return
	}
	s.released = false
	o.do(actRelay{release: false})
	o.emit(Event{Event: EvStrikeLocked, Mode: string(s.mode)})
}

// ---- door position switch and exit button ----

func (s *state) onDoor(o *out, open bool) {
	s.open = open
	if !open {
		s.heldAt = time.Time{}
		s.heldAlarmed = false
		o.emit(Event{Event: EvDoorClosed, Mode: string(s.mode)})
		return
	}
	o.emit(Event{Event: EvDoorOpened, Mode: string(s.mode)})
	s.heldAt = o.now.Add(s.cfg.HeldOpenTime)
	s.heldAlarmed = false
	if s.heldByMode {
		return
	}
	if !s.released && !o.now.Before(s.authorizedUntil) {
		o.emit(Event{Event: EvDoorForcedOpen, Mode: string(s.mode)})
	}
	if s.released && s.cfg.RelockOnOpen {
		s.lockStrike(o)
	}
}

func (s *state) onREX(o *out) {
	o.emit(Event{Event: EvREX, Mode: string(s.mode)})
	// An exit shunts the forced-open alarm for as long as a grant would.
	shunt := max(s.cfg.RexUnlockTime, s.cfg.UnlockTime)
	if until := o.now.Add(shunt); until.After(s.authorizedUntil) {
		s.authorizedUntil = until
	}
	if s.cfg.RexUnlocks {
		s.release(o, s.cfg.RexUnlockTime) // egress is never blocked, even in locked
	}
}
