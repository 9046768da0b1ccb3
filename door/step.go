package door

import (
	"bytes"
	"crypto/subtle"
	"slices"
	"strconv"
	"time"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// Event names (product.md §6).
const (
	EvAccessGranted  = "access_granted"
	EvAccessDenied   = "access_denied"
	EvCodeRequested  = "code_requested"
	EvStrikeReleased = "strike_released"
	EvStrikeLocked   = "strike_locked"
	EvKeypadLockout  = "keypad_lockout"
	EvDoorOpened     = "door_opened"
	EvDoorClosed     = "door_closed"
	EvDoorForcedOpen = "door_forced_open"
	EvDoorHeldOpen   = "door_held_open"
	EvREX            = "rex"
	EvModeChanged    = "mode_changed"
)

// Grant methods.
const (
	MethodCard         = "card"
	MethodEntryCode    = "entry_code"
	MethodCardAndCode  = "card_and_code"
	MethodUnlockedMode = "unlocked_mode"
)

// Denial reasons.
const (
	ReasonBadRead        = "bad_read"
	ReasonUnknownCard    = "unknown_card"
	ReasonCardInactive   = "card_inactive"
	ReasonUserInactive   = "user_inactive"
	ReasonNoAccess       = "no_access"
	ReasonDoorLocked     = "door_locked"
	ReasonCardRequired   = "card_required"
	ReasonNoSecondFactor = "no_second_factor"
	ReasonCodeTimeout    = "code_timeout"
	ReasonBadCode        = "bad_code"
	ReasonWrongCode      = "wrong_code"
	ReasonCodeAbandoned  = "code_abandoned"
	ReasonLockedOut      = "locked_out"
	ReasonUnknownCode    = "unknown_code"
)

// Causes of a mode change.
const (
	CauseSchedule  = "schedule"
	CauseException = "exception"
	CauseOverride  = "override"
	CauseStart     = "start"
)

// maxCodeDigits is the longest code (product.md §2: 4–16 digits).
const maxCodeDigits = 16

// ---- inputs ----

type input interface{ isInput() }

// inStart starts the door: evaluates the mode and emits mode_changed(start).
type inStart struct{}

// inStop stops the door: the strike locks.
type inStop struct{}

// inTick: the timer fired; every deadline <= now is handled.
type inTick struct{}

// cardLookup is the answer of the store's LookupCard for a card.
type cardLookup struct {
	user   UserView
	found  bool // the card is known (false on a store error: refused as unknown_card)
	active bool // the card is active
}

// inCard is a card read with its lookup already done by Run.
type inCard struct {
	reader string
	card   reader.Card
	cardLookup
}

// inBad is a bad frame.
type inBad struct {
	reader string
	reason reader.BadReason
}

// inKey is one key: '0'–'9', '*' or '#'.
type inKey struct {
	reader string
	key    byte
}

// inVerified is the answer to actVerify: ok is false on a store error;
// refused is a denial reason when the card or its user changed meanwhile
// (see verifyRefusal); now is the card looked up again at '#', on which
// the door decides as on a fresh badge.
type inVerified struct {
	reader  string
	ok      bool
	refused string
	now     cardLookup
}

// inEntry is the answer to actLookupEntry: found is false on a store error.
type inEntry struct {
	reader string
	user   UserView
	found  bool
}

// inDPS is a raw (not yet debounced) door position switch level.
type inDPS struct{ open bool }

// inREX is a raw exit button level.
type inREX struct{ pressed bool }

// inOverride sets (or with schedule.Unknown clears) a mode override.
type inOverride struct{ mode schedule.Mode }

func (inStart) isInput()    {}
func (inStop) isInput()     {}
func (inTick) isInput()     {}
func (inCard) isInput()     {}
func (inBad) isInput()      {}
func (inKey) isInput()      {}
func (inVerified) isInput() {}
func (inEntry) isInput()    {}
func (inDPS) isInput()      {}
func (inREX) isInput()      {}
func (inOverride) isInput() {}

// ---- actions ----

type action interface{ isAction() }

// actRelay drives the strike relay.
type actRelay struct{ release bool }

// actFeedback sets a reader's feedback lines (true = active).
type actFeedback struct {
	reader             string
	green, red, beeper bool
}

// actEmit hands an event to the event writer.
type actEmit struct{ ev Event }

// actVerify asks the store whether code is a second factor of userID,
// who badged card; Run answers with inVerified. code is a secret.
type actVerify struct {
	reader   string
	card     CardKey
	userID   string
	code     []byte
	fallback bool
}

// actLookupEntry asks the store whose entry code code is; Run answers with
// inEntry. code is a secret.
type actLookupEntry struct {
	reader string
	code   []byte
}

// actLockout hands a changed lockout counter to the lockout store, after
// the step's other actions (a zero Expires: the counter is gone).
type actLockout struct{ l Lockout }

// actLog writes a log line (never with a secret).
type actLog struct{ msg string }

func (actRelay) isAction()       {}
func (actFeedback) isAction()    {}
func (actEmit) isAction()        {}
func (actVerify) isAction()      {}
func (actLookupEntry) isAction() {}
func (actLog) isAction()         {}
func (actLockout) isAction()     {}

// ---- state ----

type phase uint8

const (
	phIdle      phase = iota // no attempt; keys build an entry code
	phAwaiting               // a card was accepted, its code is awaited
	phVerifying              // a card+code is being checked (actVerify out)
	phEntry                  // an entry code typed alone is being looked up (actLookupEntry out)
	phSwallow                // keys after a card grant in access_controlled are ignored until '#'
)

type readerState struct {
	phase    phase
	card     reader.Card
	user     UserView
	buf      []byte    // typed digits: a secret
	deadline time.Time // code/key timeout of the current phase; zero = none
	// attemptEnd bounds a Card + Code attempt from its badge (see
	// attemptLimit): '*' and keys never move deadline past it.
	attemptEnd time.Time
	fb         feedbackState
}

type failures struct {
	times       []time.Time // wrong codes within the lockout window
	lockedUntil time.Time
}

type debouncer struct {
	stable, pending bool
	at              time.Time // when pending becomes stable; zero = nothing pending
}

// state is everything the door knows. Run alone owns it. It is a handle:
// step updates the data behind it and returns it, so a state must be used
// linearly (never stepped twice from the same value), which Run and the
// tests do. Copying a handle instead of the data keeps a step free of large
// copies on the decision path.
type state struct{ *doorState }

type doorState struct {
	cfg     *config
	started bool
	stopped bool

	schedMode   schedule.Mode // Unknown while the clock is not plausible
	schedSrc    schedule.Source
	override    schedule.Mode
	mode        schedule.Mode // effective mode
	modeCheckAt time.Time
	nextChange  time.Time     // next schedule change; zero = none known
	nextMode    schedule.Mode // the mode at nextChange
	clockWarned bool

	released        bool
	heldByMode      bool      // released because the door is in unlocked mode
	relockAt        time.Time // end of a grant/REX release
	authorizedUntil time.Time // a door opening before this is not forced

	dps, rex       debouncer
	open           bool
	heldAt         time.Time // held-open alarm deadline while open
	heldAlarmed    bool
	readers        map[string]*readerState
	cardFails      map[CardKey]*failures
	readerFails    map[string]*failures
	lastFailuresGC time.Time
}

func newState(c *config) state {
	s := state{&doorState{
		cfg:         c,
		readers:     map[string]*readerState{},
		cardFails:   map[CardKey]*failures{},
		readerFails: map[string]*failures{},
	}}
	for name := range c.readers {
		s.readers[name] = &readerState{}
	}
	return s
}

// out collects the actions of one step.
type out struct {
	s    *doorState
	now  time.Time
	acts []action
}

func (o *out) emit(ev Event) {
	ev.Time = o.now
	ev.Door = o.s.cfg.Name
	o.acts = append(o.acts, actEmit{ev})
}

// step is the door's pure transition: no I/O, no goroutines, no clock but
// now. Unknown readers and keys are ignored.
func step(s state, in input, now time.Time) (state, []action) {
	o := &out{s: s.doorState, now: now}
	if s.stopped {
		return s, nil
	}
	if _, ok := in.(inStart); !ok && !s.started {
		// Nothing but start is meaningful before start.
		return s, nil
	}
	switch in := in.(type) {
	case inStart:
		if !s.started {
			s.started = true
			o.acts = append(o.acts, actRelay{release: false})
			s.evalMode(o, true)
		}
	case inStop:
		s.stopped = true
		if s.released {
			s.lockStrike(o)
		}
		for _, name := range s.readerNames() {
			r := s.readers[name]
			wipe(r.buf)
			*r = readerState{}
			if s.cfg.readers[name].feedback {
				o.acts = append(o.acts, actFeedback{reader: name})
			}
		}
	case inTick:
		s.tick(o)
	case inCard:
		s.onCard(o, in)
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
	case inOverride:
		if in.mode != s.override {
			s.override = in.mode
			s.applyMode(o, CauseOverride)
		}
	}
	return s, o.acts
}

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

// nextDeadline is the earliest instant at which step needs an inTick; zero
// when nothing is pending.
func (s *doorState) nextDeadline() time.Time {
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

func (s *doorState) tick(o *out) {
	now := o.now
	if s.dps.due(now) {
		s.onDoor(o, s.dps.stable)
	}
	if s.rex.due(now) && s.rex.stable {
		s.onREX(o)
	}
	if !s.modeCheckAt.IsZero() && !now.Before(s.modeCheckAt) {
		s.evalMode(o, false)
	}
	if s.released && !s.heldByMode && !now.Before(s.relockAt) {
		s.lockStrike(o)
	}
	if s.open && !s.heldAlarmed && !s.heldByMode && !s.heldAt.IsZero() && !now.Before(s.heldAt) {
		s.heldAlarmed = true
		o.emit(Event{Event: EvDoorHeldOpen, Mode: string(s.mode)})
	}
	for _, name := range s.readerNames() {
		r := s.readers[name]
		if r.deadline.IsZero() || now.Before(r.deadline) {
			continue
		}
		switch r.phase {
		case phAwaiting:
			s.deny(o, name, r.card, &r.user, ReasonCodeTimeout)
			s.endAttempt(o, name)
		case phSwallow:
			s.endAttempt(o, name)
		case phIdle:
			// An entry code left unfinished: forget it quietly.
			r.clearBuf()
			r.deadline = time.Time{}
		}
	}
	for _, name := range s.readerNames() {
		s.readers[name].fb.advance(o, name, now)
	}
	if now.Sub(s.lastFailuresGC) > s.cfg.MFA.LockoutWindow {
		s.gcFailures(o)
	}
}

// readerNames lists readers in a fixed order so that a step's actions are
// deterministic.
func (s *doorState) readerNames() []string {
	names := make([]string, 0, len(s.readers))
	for _, r := range s.cfg.Readers {
		if _, ok := s.readers[r.Name]; ok {
			names = append(names, r.Name)
		}
	}
	return names
}

// ---- modes ----

func (s *doorState) evalMode(o *out, start bool) {
	now := o.now
	m, src := s.cfg.sched.ModeSource(now)
	prevSrc := s.schedSrc
	s.schedMode, s.schedSrc = m, src
	s.nextChange, s.nextMode = time.Time{}, schedule.Unknown
	if m == schedule.Unknown {
		s.modeCheckAt = now.Add(clockPoll)
		if !s.clockWarned {
			s.clockWarned = true
			o.acts = append(o.acts, actLog{msg: "wall clock not plausible (before " + schedule.PlausibleAfter.Format("2006-01-02") +
				"): door in fail-secure mode " + string(s.cfg.ClockUnknownMode) + " until the clock is set"})
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

func (s *doorState) effectiveMode() schedule.Mode {
	switch {
	case s.override != schedule.Unknown:
		return s.override
	case s.schedMode == schedule.Unknown:
		return s.cfg.ClockUnknownMode
	default:
		return s.schedMode
	}
}

func (s *doorState) applyMode(o *out, cause string) {
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
			o.acts = append(o.acts, actRelay{release: true})
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
func (s *doorState) readerMode(name string) schedule.Mode {
	if s.mode == schedule.CardAndCode && s.cfg.SecondFactor == SecondFactorEntryOnly {
		if rc := s.cfg.readers[name]; rc != nil && rc.out {
			return schedule.AccessControlled
		}
	}
	return s.mode
}

// ---- strike ----

func (s *doorState) release(o *out, d time.Duration) {
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
		o.acts = append(o.acts, actRelay{release: true})
	}
	o.emit(Event{Event: EvStrikeReleased, Duration: d.String(), Mode: string(s.mode)})
}

func (s *doorState) lockStrike(o *out) {
	s.heldByMode = false
	s.relockAt = time.Time{}
	if !s.released {
		return
	}
	s.released = false
	o.acts = append(o.acts, actRelay{release: false})
	o.emit(Event{Event: EvStrikeLocked, Mode: string(s.mode)})
}

// ---- door position switch and exit button ----

func (s *doorState) onDoor(o *out, open bool) {
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

func (s *doorState) onREX(o *out) {
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

// ---- decisions ----

func eventCard(c reader.Card) *EventCard {
	return &EventCard{Format: string(c.Format), FacilityCode: c.FacilityCode, CardNumber: c.CardNumber}
}

func cardKey(c reader.Card) CardKey {
	return CardKey{Format: string(c.Format), FacilityCode: c.FacilityCode, CardNumber: c.CardNumber}
}

func (s *doorState) deny(o *out, rdr string, c reader.Card, u *UserView, reason string) {
	ev := Event{Event: EvAccessDenied, Reader: rdr, Reason: reason, Mode: string(s.mode)}
	if c.Format != "" {
		ev.Card = eventCard(c)
	}
	if u != nil {
		ev.UserID, ev.ExternalID = u.UserID, u.ExternalID
	}
	o.emit(ev)
	s.feedback(o, rdr, &patDeny)
}

func (s *doorState) grant(o *out, rdr string, c reader.Card, u *UserView, method string) {
	ev := Event{Event: EvAccessGranted, Reader: rdr, Method: method, Mode: string(s.mode)}
	if c.Format != "" {
		ev.Card = eventCard(c)
	}
	if u != nil {
		ev.UserID, ev.ExternalID = u.UserID, u.ExternalID
	}
	o.emit(ev)
	if method != MethodUnlockedMode {
		// Run drives the relay before it hands out any event of the step.
		s.release(o, s.cfg.UnlockTime)
	}
	s.feedback(o, rdr, &patGrant)
}

func (s *doorState) feedback(o *out, rdr string, p *pattern) {
	r := s.readers[rdr]
	if r == nil || !s.cfg.readers[rdr].feedback {
		return
	}
	r.fb.start(o, rdr, p)
}

// mayUse reports whether some group of u grants this door at now.
func (s *doorState) mayUse(u *UserView, now time.Time) bool {
	for _, g := range u.Groups {
		if a, ok := s.cfg.groups[g]; ok && a.Allows(now) {
			return true
		}
	}
	return false
}

// userReason is the denial reason for a known user, or "".
func (s *doorState) userReason(u *UserView, now time.Time) string {
	if !u.ActiveAt(now) {
		return ReasonUserInactive
	}
	if !s.mayUse(u, now) {
		return ReasonNoAccess
	}
	return ""
}

func (s *doorState) endAttempt(o *out, rdr string) {
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

func (s *doorState) onBad(o *out, in inBad) {
	r := s.readers[in.reader]
	if r == nil {
		return
	}
	ev := Event{Event: EvAccessDenied, Reader: in.reader, Reason: ReasonBadRead, Mode: string(s.mode)}
	o.emit(ev)
	if r.phase == phIdle || r.phase == phSwallow {
		s.feedback(o, in.reader, &patDeny)
	}
}

// cardReason is the access decision on a card at reader rdr at now, given
// the store's answer c for it: the denial reason, or "" when the card may
// go on (a grant, or in card_and_code a code to type). A badge decides with
// it, and so does '#' of a Card + Code attempt with the card looked up
// again then: the attempt is granted only if a fresh badge at that instant
// would be.
func (s *doorState) cardReason(rdr string, k CardKey, c cardLookup, now time.Time) string {
	mode := s.readerMode(rdr)
	switch {
	case mode == schedule.Locked:
		return ReasonDoorLocked
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

// cardLocked reports whether card k is locked out of this door at now.
func (s *doorState) cardLocked(k CardKey, now time.Time) bool {
	f := s.cardFails[k]
	return f != nil && now.Before(f.lockedUntil)
}

func (s *doorState) onCard(o *out, in inCard) {
	r := s.readers[in.reader]
	if r == nil || r.phase == phVerifying || r.phase == phEntry {
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
		o.emit(Event{Event: EvCodeRequested, Reader: in.reader, Card: eventCard(in.card),
			UserID: u.UserID, ExternalID: u.ExternalID, Mode: string(s.mode)})
		s.feedback(o, in.reader, &patAwait)
	}
}

func (s *doorState) onKey(o *out, in inKey) {
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
			s.deny(o, in.reader, r.card, &r.user, ReasonCodeTimeout)
			s.endAttempt(o, in.reader)
			return
		}
		if keyDeadline.After(r.attemptEnd) {
			keyDeadline = r.attemptEnd
		}
		switch k {
		case '*':
			if len(r.buf) == 0 {
				// The user cancelled the attempt.
				s.deny(o, in.reader, r.card, &r.user, ReasonCodeAbandoned)
				s.endAttempt(o, in.reader)
				return
			}
			r.clearBuf()
			r.deadline = keyDeadline
		case '#':
			s.submitCardCode(o, in.reader)
		default:
			if len(r.buf) >= maxCodeDigits {
				s.deny(o, in.reader, r.card, &r.user, ReasonBadCode)
				s.endAttempt(o, in.reader)
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

func (s *doorState) submitCardCode(o *out, rdr string) {
	r := s.readers[rdr]
	switch {
	case s.mode == schedule.Locked:
		s.deny(o, rdr, r.card, &r.user, ReasonDoorLocked)
		s.endAttempt(o, rdr)
	case s.cardLocked(cardKey(r.card), o.now):
		// Locked out (by wrong codes on another reader of this door, say)
		// since the badge: the store is not asked, nothing is counted.
		s.deny(o, rdr, r.card, &r.user, ReasonLockedOut)
		s.endAttempt(o, rdr)
	case len(r.buf) == 0:
		s.deny(o, rdr, r.card, &r.user, ReasonBadCode)
		s.endAttempt(o, rdr)
	case equalsCardNumber(r.buf, r.card.CardNumber):
		// Never a downgrade to card only, even if the user chose it as code.
		s.wrongCode(o, rdr)
	default:
		o.acts = append(o.acts, actVerify{reader: rdr, card: cardKey(r.card), userID: r.user.UserID, code: bytes.Clone(r.buf), fallback: s.cfg.MFA.EntryCodeFallback})
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

func (s *doorState) wrongCode(o *out, rdr string) {
	r := s.readers[rdr]
	c, u := r.card, r.user
	s.deny(o, rdr, c, &u, ReasonWrongCode)
	s.endAttempt(o, rdr)
	k := cardKey(c)
	locked := s.fail(s.cardFailures(k), o.now)
	s.saveCard(o, k)
	if locked {
		o.emit(Event{Event: EvKeypadLockout, Reader: rdr, Card: eventCard(c), UserID: u.UserID, ExternalID: u.ExternalID,
			Duration: s.cfg.MFA.LockoutTime.String(), Mode: string(s.mode)})
	}
}

func (s *doorState) onVerified(o *out, in inVerified) {
	r := s.readers[in.reader]
	if r == nil || r.phase != phVerifying {
		return
	}
	if in.refused != "" {
		// The card deactivated or reassigned, or the user suspended, since
		// the badge: refused as if it had been then; not a wrong code, so
		// no lockout count.
		c, u := r.card, r.user
		s.deny(o, in.reader, c, &u, in.refused)
		s.endAttempt(o, in.reader)
		return
	}
	// The decision a fresh badge would make now: the user's dates,
	// suspension, groups and their schedules, the card, the lockout, as
	// they are at '#'. A refusal is not a wrong code: no lockout count.
	if reason := s.cardReason(in.reader, cardKey(r.card), in.now, o.now); reason != "" {
		c, u := r.card, r.user
		if in.now.found {
			u = in.now.user
		}
		s.deny(o, in.reader, c, &u, reason)
		s.endAttempt(o, in.reader)
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
}

func (s *doorState) submitEntry(o *out, rdr string) {
	r := s.readers[rdr]
	switch mode := s.readerMode(rdr); {
	case mode == schedule.Locked:
		s.deny(o, rdr, reader.Card{}, nil, ReasonDoorLocked)
	case mode == schedule.CardAndCode:
		s.deny(o, rdr, reader.Card{}, nil, ReasonCardRequired)
	case len(r.buf) == 0:
		s.deny(o, rdr, reader.Card{}, nil, ReasonBadCode)
	case s.readerLocked(rdr, o.now):
		s.deny(o, rdr, reader.Card{}, nil, ReasonLockedOut)
	default:
		r.phase = phEntry
		o.acts = append(o.acts, actLookupEntry{reader: rdr, code: bytes.Clone(r.buf)})
	}
	r.clearBuf()
	r.deadline = time.Time{}
}

func (s *doorState) readerLocked(rdr string, now time.Time) bool {
	f := s.readerFails[rdr]
	return f != nil && now.Before(f.lockedUntil)
}

func (s *doorState) onEntry(o *out, in inEntry) {
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
	case schedule.Locked:
		s.deny(o, in.reader, reader.Card{}, &u, ReasonDoorLocked)
	default:
		s.deny(o, in.reader, reader.Card{}, &u, ReasonCardRequired)
	}
}

// ---- lockout ----

func (s *doorState) cardFailures(k CardKey) *failures {
	f := s.cardFails[k]
	if f == nil {
		f = &failures{}
		s.cardFails[k] = f
	}
	return f
}

func (s *doorState) readerFailures(r string) *failures {
	f := s.readerFails[r]
	if f == nil {
		f = &failures{}
		s.readerFails[r] = f
	}
	return f
}

// fail records a wrong code at now and reports whether it starts a lockout.
func (s *doorState) fail(f *failures, now time.Time) bool {
	f.prune(now, s.cfg.MFA.LockoutWindow)
	f.times = append(f.times, now)
	if len(f.times) < s.cfg.MFA.MaxCodeAttempts {
		return false
	}
	f.times = f.times[:0]
	f.lockedUntil = now.Add(s.cfg.MFA.LockoutTime)
	return true
}

func (f *failures) prune(now time.Time, window time.Duration) {
	keep := f.times[:0]
	for _, t := range f.times {
		if now.Sub(t) < window {
			keep = append(keep, t)
		}
	}
	f.times = keep
}

// gcFailures drops counters with nothing left in the window and no
// lockout, so that the maps stay small (and the store's copies go).
func (s *doorState) gcFailures(o *out) {
	now := o.now
	s.lastFailuresGC = now
	for k, f := range s.cardFails {
		f.prune(now, s.cfg.MFA.LockoutWindow)
		if len(f.times) == 0 && !now.Before(f.lockedUntil) {
			delete(s.cardFails, k)
			s.saveCard(o, k)
		}
	}
	for k, f := range s.readerFails {
		f.prune(now, s.cfg.MFA.LockoutWindow)
		if len(f.times) == 0 && !now.Before(f.lockedUntil) {
			delete(s.readerFails, k)
			s.saveReader(o, k)
		}
	}
}

// resetReader clears reader rdr's entry-code count (a grant).
func (s *doorState) resetReader(o *out, rdr string) {
	if _, ok := s.readerFails[rdr]; ok {
		delete(s.readerFails, rdr)
		s.saveReader(o, rdr)
	}
}

// saveCard and saveReader hand a counter as it is now to the lockout
// store (gone from the map: a delete).
func (s *doorState) saveCard(o *out, k CardKey) {
	o.acts = append(o.acts, actLockout{s.lockoutRecord(Lockout{Card: k}, s.cardFails[k])})
}

func (s *doorState) saveReader(o *out, rdr string) {
	o.acts = append(o.acts, actLockout{s.lockoutRecord(Lockout{Reader: rdr}, s.readerFails[rdr])})
}

// lockoutRecord fills l from f (nil: l stays a delete). Expires is when
// the counter is of no more use: the lockout over and the last failure out
// of the window.
func (s *doorState) lockoutRecord(l Lockout, f *failures) Lockout {
	if f == nil {
		return l
	}
	l.Failures = slices.Clone(f.times)
	l.LockedUntil = f.lockedUntil
	l.Expires = f.lockedUntil
	if n := len(f.times); n > 0 {
		if e := f.times[n-1].Add(s.cfg.MFA.LockoutWindow); e.After(l.Expires) {
			l.Expires = e
		}
	}
	return l // a zero Expires (nothing counted, no lockout): a delete
}

// loadLockouts puts counters from the lockout store into a new state.
func (s *doorState) loadLockouts(ls []Lockout) {
	for _, l := range ls {
		f := &failures{times: slices.Clone(l.Failures), lockedUntil: l.LockedUntil}
		if l.Reader != "" {
			s.readerFails[l.Reader] = f
		} else {
			s.cardFails[l.Card] = f
		}
	}
}

// clearBuf wipes and empties the typed digits.
func (r *readerState) clearBuf() {
	wipe(r.buf)
	r.buf = r.buf[:0]
}

// wipe zeroes a secret in place.
func wipe(b []byte) { clear(b) }
