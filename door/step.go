package door

import "time"

// step is the door's transition: it changes s in place for input in at
// now and returns what Run is to do. No I/O, no goroutines, no clock but
// now; the store is asked through actions whose answers are inputs.
// Unknown readers and keys are ignored.
func (s *state) step(in input, now time.Time) []action { return s.stepInto(nil, in, now) }

// stepInto is step appending the actions to buf (Door.apply hands in its
// kept buffer, so a step allocates no action slice).
func (s *state) stepInto(buf []action, in input, now time.Time) []action {
	if c, ok := in.(inCommand); ok && (s.stopped || !s.started) {
		return append(buf, actReply{ch: c.reply, err: ErrNotRunning})
	}
	if s.stopped {
		return nil
	}
	if _, ok := in.(inStart); !ok && !s.started {
		// Nothing but start is meaningful before start.
		return nil
	}
	o := &out{s: s, now: now, acts: buf}
	if f, ok := in.(framed); ok {
		o.at = f.frameAt()
	}
	switch in := in.(type) {
	case inStart:
		if !s.started {
			s.started = true
			s.expireAtStart(now)
			o.do(actRelay{release: false})
			s.evalMode(o)
		}
	case inStop:
		s.stopped = true
		if s.released {
			s.lockStrike(o)
		}
		for _, name := range s.readerNames {
			r := s.readers[name]
			wipe(r.buf)
			*r = readerState{}
			if s.cfg.readers[name].feedback {
				o.do(actFeedback{reader: name})
			}
		}
	case inTick:
		s.tick(o)
	case inCard:
		s.onCard(o, in)
	case inCardAnswer:
		s.onCardAnswer(o, in)
	case inBad:
		s.onBad(o, in)
	case inKey:
		s.onKey(o, in)
	case inVerified:
		s.onVerified(o, in)
	case inEntry:
		s.onEntry(o, in)
	case inDPS:
		if s.dps.raw(in.open, now, s.cfg.Debounce) {
			s.onDoor(o, s.dps.stable)
		}
	case inREX:
		if s.rex.raw(in.pressed, now, s.cfg.Debounce) && s.rex.stable {
			s.onREX(o)
		}
	case inCommand:
		s.onCommand(o, in)
	case inInput:
		s.onInput(o, in)
	}
	return o.acts
}

// nextDeadline is the earliest instant at which step needs an inTick; zero
// when nothing is pending.
func (s *state) nextDeadline() time.Time {
	var n time.Time
	min := func(t time.Time) {
		if !t.IsZero() && (n.IsZero() || t.Before(n)) {
			n = t
		}
	}
	if !s.started || s.stopped {
		return n
	}
	min(s.modeCheckAt)
	min(s.dps.at)
	min(s.rex.at)
	s.opsDeadline(min)
	if s.released && !s.heldByMode {
		min(s.relockAt)
	}
	if s.open && !s.heldAlarmed && !s.heldByMode {
		min(s.heldAt)
	}
	for _, r := range s.readers {
		if r.phase == phAwaiting || r.phase == phSwallow || (r.phase == phIdle && len(r.buf) > 0) {
			min(r.deadline)
		}
		if r.fb.pat != nil {
			min(r.fb.segEnd)
		}
	}
	return n
}

func (s *state) tick(o *out) {
	now := o.now
	if s.dps.due(now) {
		s.onDoor(o, s.dps.stable)
	}
	if s.rex.due(now) && s.rex.stable {
		s.onREX(o)
	}
	if !s.modeCheckAt.IsZero() && !now.Before(s.modeCheckAt) {
		s.evalMode(o)
	}
	s.opsTick(o)
	if s.released && !s.heldByMode && !now.Before(s.relockAt) {
		s.lockStrike(o)
	}
	if s.open && !s.heldAlarmed && !s.heldByMode && !s.heldAt.IsZero() && !now.Before(s.heldAt) {
		s.heldAlarmed = true
		o.emit(Event{Event: EvDoorHeldOpen, Mode: string(s.mode)})
	}
	for _, name := range s.readerNames {
		r := s.readers[name]
		if r.deadline.IsZero() || now.Before(r.deadline) {
			continue
		}
		switch r.phase {
		case phAwaiting:
			s.denyAttempt(o, name, ReasonCodeTimeout)
		case phSwallow:
			s.endAttempt(o, name)
		case phIdle:
			// An entry code left unfinished: forget it quietly.
			r.clearBuf()
			r.deadline = time.Time{}
		}
	}
	for _, name := range s.readerNames {
		s.readers[name].fb.advance(o, name, now)
	}
	if now.Sub(s.lastFailuresGC) > s.cfg.MFA.LockoutWindow {
		s.gcFailures(o)
	}
}
