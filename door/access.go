package door

import (
	"bytes"
	"crypto/subtle"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// Access decisions: a badge, keys (Card + Code and entry codes typed
// alone), the store's answers, and the grant or denial with its event,
// feedback and relay (docs/door.md).

func eventCard(c reader.Card) *EventCard {
	return &EventCard{Format: string(c.Format), FacilityCode: c.FacilityCode, CardNumber: c.CardNumber}
}

func cardKey(c reader.Card) CardKey {
	return CardKey{Format: string(c.Format), FacilityCode: c.FacilityCode, CardNumber: c.CardNumber}
}

// accessEvent is an access event at reader rdr, naming card c (when one
// was read) and user u (when known).
func (s *state) accessEvent(name, rdr string, c reader.Card, u *UserView) Event {
	ev := Event{Event: name, Reader: rdr, Mode: string(s.mode)}
	if c.Format != "" {
		ev.Card = eventCard(c)
	}
	if u != nil {
		ev.UserID, ev.ExternalID = u.UserID, u.ExternalID
	}
	return ev
}

func (s *state) deny(o *out, rdr string, c reader.Card, u *UserView, reason string) {
	ev := s.accessEvent(EvAccessDenied, rdr, c, u)
	ev.Reason = reason
	o.decide(ev)
	s.feedback(o, rdr, &patDeny)
}

func (s *state) grant(o *out, rdr string, c reader.Card, u *UserView, method string) {
	ev := s.accessEvent(EvAccessGranted, rdr, c, u)
	ev.Method = method
	o.decide(ev)
	if method != MethodUnlockedMode {
		// Run drives the relay before it hands out any event of the step.
		s.release(o, s.cfg.UnlockTime)
	}
	s.feedback(o, rdr, &patGrant)
}

// lockedReason is why a locked door refuses: lockdown, or door_locked.
func (s *state) lockedReason() string {
	if s.eff.Level == LevelLockdown {
		return ReasonLockdown
	}
	return ReasonDoorLocked
}

// denyAttempt refuses the Card + Code attempt pending at rdr and ends it.
func (s *state) denyAttempt(o *out, rdr, reason string) {
	r := s.readers[rdr]
	s.deny(o, rdr, r.card, &r.user, reason)
	s.endAttempt(o, rdr)
}

func (s *state) feedback(o *out, rdr string, p *pattern) {
	r := s.readers[rdr]
	if r == nil || !s.cfg.readers[rdr].feedback {
		return
	}
	r.fb.start(o, rdr, p)
}

// mayUse reports whether some group of u grants this door at now.
func (s *state) mayUse(u *UserView, now time.Time) bool {
	for _, g := range u.Groups {
		if a, ok := s.cfg.groups[g]; ok && a.Allows(now) {
			return true
		}
	}
	return false
}

// userReason is the denial reason for a known user, or "".
func (s *state) userReason(u *UserView, now time.Time) string {
	if !u.ActiveAt(now) {
		return ReasonUserInactive
	}
	if !s.mayUse(u, now) {
		return ReasonNoAccess
	}
	return ""
}

func (s *state) endAttempt(o *out, rdr string) {
	r := s.readers[rdr]
	r.clearBuf()
	r.phase = phIdle
	r.card = reader.Card{}
	r.user = UserView{}
	r.deadline = time.Time{}
	r.attemptEnd = time.Time{}
	if r.fb.pat == &patAwait {
		r.fb.stop(o, rdr)
	}
}

func (s *state) onBad(o *out, in inBad) {
	r := s.readers[in.reader]
	if r == nil {
		return
	}
	o.decide(Event{Event: EvAccessDenied, Reader: in.reader, Reason: ReasonBadRead, Mode: string(s.mode)})
	if r.phase == phIdle || r.phase == phSwallow {
		s.feedback(o, in.reader, &patDeny)
	}
	o.do(actBadRead{reason: in.reason})
}

// cardReason is the access decision on a card at reader rdr at now, given
// the store's answer c for it: the denial reason, or "" when the card may
// go on (a grant, or in card_and_code a code to type). A badge decides with
// it, and so does '#' of a Card + Code attempt with the card looked up
// again then: the attempt is granted only if a fresh badge at that instant
// would be.
func (s *state) cardReason(rdr string, k CardKey, c cardLookup, now time.Time) string {
	mode := s.readerMode(rdr)
	switch {
	case mode == schedule.Locked:
		return s.lockedReason()
	case !c.found:
		return ReasonUnknownCard
	case !c.active:
		return ReasonCardInactive
	}
	if reason := s.userReason(&c.user, now); reason != "" {
		return reason
	}
	if mode == schedule.CardAndCode {
		if s.cardLocked(k, now) {
			return ReasonLockedOut
		}
		if !s.cfg.readers[rdr].Keypad || !(c.user.HasMFA || (s.cfg.MFA.EntryCodeFallback && c.user.HasEntryCode)) {
			return ReasonNoSecondFactor
		}
	}
	return ""
}

// busy reports whether reader r waits for the store (a card or a code
// being checked): reads and keys are ignored meanwhile.
func (r *readerState) busy() bool { return r.phase == phVerifying || r.phase == phEntry }

// onCard asks the store about a card read at one of the door's readers.
func (s *state) onCard(o *out, in inCard) {
	r := s.readers[in.reader]
	if r == nil {
		o.log(zerolog.WarnLevel, "read from a reader not on this door ignored", actLog{reader: in.reader})
		return
	}
	if r.busy() {
		return
	}
	o.do(actLookupCard(in))
}

// logCardErr logs a store error of a card lookup (refused as unknown).
func logCardErr(o *out, rdr string, err error) {
	if err != nil {
		o.log(zerolog.ErrorLevel, "card lookup failed; refused as unknown_card", actLog{reader: rdr, err: err})
	}
}

// onCardAnswer decides on a badge with the store's answer.
func (s *state) onCardAnswer(o *out, in inCardAnswer) {
	logCardErr(o, in.reader, in.err)
	r := s.readers[in.reader]
	if r == nil || r.busy() {
		return
	}
	now := o.now
	if r.phase == phAwaiting {
		s.deny(o, in.reader, r.card, &r.user, ReasonCodeAbandoned)
	}
	s.endAttempt(o, in.reader)

	mode := s.readerMode(in.reader)
	var u *UserView
	if in.found {
		u = &in.user
	}
	if reason := s.cardReason(in.reader, cardKey(in.card), in.cardLookup, now); reason != "" {
		s.deny(o, in.reader, in.card, u, reason)
		return
	}
	switch mode {
	case schedule.Unlocked, schedule.AccessControlled:
		method := MethodCard
		if mode == schedule.Unlocked {
			method = MethodUnlockedMode
		}
		s.grant(o, in.reader, in.card, u, method)
		s.cardGranted(o, in.card, u, true)
		if s.cfg.readers[in.reader].Keypad {
			// Keys typed by habit after a card grant are not an entry code:
			// they are ignored up to '#' or the code timeout.
			r.phase = phSwallow
			r.deadline = now.Add(s.cfg.MFA.CodeTimeout)
		}
	case schedule.CardAndCode:
		r.phase = phAwaiting
		r.card = in.card
		r.user = in.user
		r.deadline = now.Add(s.cfg.MFA.CodeTimeout)
		r.attemptEnd = now.Add(s.cfg.attemptLimit())
		o.emit(s.accessEvent(EvCodeRequested, in.reader, in.card, u))
		s.feedback(o, in.reader, &patAwait)
	}
}

func (s *state) onKey(o *out, in inKey) {
	r := s.readers[in.reader]
	if r == nil {
		return
	}
	k := in.key
	if !(k >= '0' && k <= '9') && k != '*' && k != '#' {
		return
	}
	now := o.now
	keyDeadline := now.Add(s.cfg.MFA.KeyTimeout)
	switch r.phase {
	case phVerifying, phEntry:
		return
	case phSwallow:
		if k == '#' {
			s.endAttempt(o, in.reader)
		} else {
			r.deadline = keyDeadline
		}
		return
	case phAwaiting:
		if !now.Before(r.deadline) {
			// A key after the deadline (no tick in between): too late.
			s.denyAttempt(o, in.reader, ReasonCodeTimeout)
			return
		}
		if keyDeadline.After(r.attemptEnd) {
			keyDeadline = r.attemptEnd
		}
		switch k {
		case '*':
			if len(r.buf) == 0 {
				// The user cancelled the attempt.
				s.denyAttempt(o, in.reader, ReasonCodeAbandoned)
				return
			}
			r.clearBuf()
			r.deadline = keyDeadline
		case '#':
			s.submitCardCode(o, in.reader)
		default:
			if len(r.buf) >= maxCodeDigits {
				s.denyAttempt(o, in.reader, ReasonBadCode)
				return
			}
			r.buf = append(r.buf, k)
			r.deadline = keyDeadline
		}
		return
	}
	// Idle: keys typed without a badge are an entry-code attempt.
	switch k {
	case '*':
		r.clearBuf()
		r.deadline = time.Time{}
	case '#':
		s.submitEntry(o, in.reader)
	default:
		if len(r.buf) >= maxCodeDigits {
			r.clearBuf()
			r.deadline = time.Time{}
			s.deny(o, in.reader, reader.Card{}, nil, ReasonBadCode)
			return
		}
		r.buf = append(r.buf, k)
		r.deadline = keyDeadline
	}
}

func (s *state) submitCardCode(o *out, rdr string) {
	r := s.readers[rdr]
	switch {
	case s.mode == schedule.Locked:
		s.denyAttempt(o, rdr, s.lockedReason())
	case s.cardLocked(cardKey(r.card), o.now):
		// Locked out (by wrong codes on another reader of this door, say)
		// since the badge: the store is not asked, nothing is counted.
		s.denyAttempt(o, rdr, ReasonLockedOut)
	case len(r.buf) == 0:
		s.denyAttempt(o, rdr, ReasonBadCode)
	case equalsCardNumber(r.buf, r.card.CardNumber):
		// Never a downgrade to card only, even if the user chose it as code.
		s.wrongCode(o, rdr)
	default:
		o.do(actVerify{reader: rdr, card: cardKey(r.card), userID: r.user.UserID, code: bytes.Clone(r.buf),
			fallback: s.cfg.MFA.EntryCodeFallback, at: o.at})
		r.clearBuf()
		r.phase = phVerifying
		r.deadline = time.Time{}
	}
}

// equalsCardNumber reports whether the typed digits, leading zeros
// ignored, are the card number.
func equalsCardNumber(code []byte, cn uint64) bool {
	i := 0
	for i < len(code)-1 && code[i] == '0' {
		i++
	}
	var b [20]byte
	n := strconv.AppendUint(b[:0], cn, 10)
	return subtle.ConstantTimeCompare(code[i:], n) == 1
}

func (s *state) wrongCode(o *out, rdr string) {
	r := s.readers[rdr]
	c, u := r.card, r.user
	s.denyAttempt(o, rdr, ReasonWrongCode)
	k := cardKey(c)
	locked := s.fail(s.cardFailures(k), o.now)
	s.saveCard(o, k)
	if locked {
		ev := s.accessEvent(EvKeypadLockout, rdr, c, &u)
		ev.Duration = s.cfg.MFA.LockoutTime.String()
		o.emit(ev)
	}
}

// onVerified decides at '#' of a Card + Code attempt, on the store's
// answer: the card looked up again and the code checked.
func (s *state) onVerified(o *out, in inVerified) {
	logCardErr(o, in.reader, in.lookupErr)
	switch {
	case in.refused != "":
		o.log(zerolog.InfoLevel, "the card or its user changed while the code was typed; refused",
			actLog{reader: in.reader, userID: in.userID, reason: in.refused})
	case in.err != nil:
		o.log(zerolog.ErrorLevel, "second factor check failed; refused as wrong_code",
			actLog{reader: in.reader, userID: in.userID, err: in.err})
	}
	r := s.readers[in.reader]
	if r == nil || r.phase != phVerifying {
		return
	}
	if in.refused != "" {
		// The card deactivated or reassigned, or the user suspended, since
		// the badge: refused as if it had been then; not a wrong code, so
		// no lockout count.
		s.denyAttempt(o, in.reader, in.refused)
		return
	}
	// The decision a fresh badge would make now: the user's dates,
	// suspension, groups and their schedules, the card, the lockout, as
	// they are at '#'. A refusal is not a wrong code: no lockout count.
	if reason := s.cardReason(in.reader, cardKey(r.card), in.now, o.now); reason != "" {
		if in.now.found {
			r.user = in.now.user
		}
		s.denyAttempt(o, in.reader, reason)
		return
	}
	if !in.ok {
		s.wrongCode(o, in.reader)
		return
	}
	c, u := r.card, in.now.user
	if _, ok := s.cardFails[cardKey(c)]; ok {
		delete(s.cardFails, cardKey(c))
		s.saveCard(o, cardKey(c))
	}
	s.endAttempt(o, in.reader)
	method := MethodCardAndCode
	if s.mode == schedule.Unlocked {
		method = MethodUnlockedMode
	}
	s.grant(o, in.reader, c, &u, method)
	s.cardGranted(o, c, &u, false)
}

func (s *state) submitEntry(o *out, rdr string) {
	r := s.readers[rdr]
	switch mode := s.readerMode(rdr); {
	case mode == schedule.Locked:
		s.deny(o, rdr, reader.Card{}, nil, s.lockedReason())
	case mode == schedule.CardAndCode:
		s.deny(o, rdr, reader.Card{}, nil, ReasonCardRequired)
	case len(r.buf) == 0:
		s.deny(o, rdr, reader.Card{}, nil, ReasonBadCode)
	case s.readerLocked(rdr, o.now):
		s.deny(o, rdr, reader.Card{}, nil, ReasonLockedOut)
	default:
		r.phase = phEntry
		o.do(actLookupEntry{reader: rdr, code: bytes.Clone(r.buf), at: o.at})
	}
	r.clearBuf()
	r.deadline = time.Time{}
}

// onEntry decides on an entry code typed alone with the store's answer.
func (s *state) onEntry(o *out, in inEntry) {
	if in.err != nil {
		o.log(zerolog.ErrorLevel, "entry code lookup failed; refused as unknown_code", actLog{reader: in.reader, err: in.err})
	}
	r := s.readers[in.reader]
	if r == nil || r.phase != phEntry {
		return
	}
	r.phase = phIdle
	now := o.now
	if !in.found {
		s.deny(o, in.reader, reader.Card{}, nil, ReasonUnknownCode)
		locked := s.fail(s.readerFailures(in.reader), now)
		s.saveReader(o, in.reader)
		if locked {
			o.emit(Event{Event: EvKeypadLockout, Reader: in.reader, Duration: s.cfg.MFA.LockoutTime.String(), Mode: string(s.mode)})
		}
		return
	}
	// A known code is no guess, so it does not count as a failure; only a
	// grant resets the reader's count, so that a code of a suspended or
	// out-of-schedule user cannot be used to keep guessing.
	u := in.user
	if reason := s.userReason(&u, now); reason != "" {
		s.deny(o, in.reader, reader.Card{}, &u, reason)
		return
	}
	switch s.readerMode(in.reader) {
	case schedule.Unlocked:
		s.resetReader(o, in.reader)
		s.grant(o, in.reader, reader.Card{}, &u, MethodUnlockedMode)
	case schedule.AccessControlled:
		s.resetReader(o, in.reader)
		s.grant(o, in.reader, reader.Card{}, &u, MethodEntryCode)
		s.firstPerson(o, &u)
	case schedule.Locked:
		s.deny(o, in.reader, reader.Card{}, &u, s.lockedReason())
	default:
		s.deny(o, in.reader, reader.Card{}, &u, ReasonCardRequired)
	}
}
