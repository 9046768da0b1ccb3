package door

import (
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// maxCodeDigits is the longest code (docs/door.md: 4–16 digits).
const maxCodeDigits = 16

// ---- inputs ----

// input is what the door's state steps on. Inputs come from the door's
// users (Submit, DoorSensor, ExitButton, the Controller's commands and
// inputs: ops.go), from its timer
// (inTick), and from the store's answers to step's queries (answer). An
// input that comes of a reader's frame carries the frame's completion time
// at (zero when unknown), and so do the store's answers to it: the
// observer's latency runs from it.
type input interface{ isInput() }

// inStart starts the door: evaluates the mode and emits mode_changed(start).
type inStart struct{}

// inStop stops the door: the strike locks.
type inStop struct{}

// inTick: the timer fired; every deadline <= now is handled.
type inTick struct{}

// inCard is a card read; step asks the store about it (actLookupCard).
type inCard struct {
	reader string
	card   reader.Card
	at     time.Time
}

// cardLookup is the store's answer on a card.
type cardLookup struct {
	user   UserView
	found  bool // the card is known (false on a store error: refused as unknown_card)
	active bool // the card is active
}

// inCardAnswer is the answer to actLookupCard: err is a store error other
// than not found (refused as unknown_card, and logged).
type inCardAnswer struct {
	reader string
	card   reader.Card
	at     time.Time
	cardLookup
	err error
}

// inBad is a bad frame.
type inBad struct {
	reader string
	reason reader.BadReason
	at     time.Time
}

// inKey is one key: '0'–'9', '*' or '#'.
type inKey struct {
	reader string
	key    byte
	at     time.Time
}

// inVerified is the answer to actVerify: ok is false on a store error
// (err); refused is a denial reason when the card or its user changed
// meanwhile (see verifyRefusal); now is the card looked up again at '#'
// (lookupErr a store error of that lookup), on which the door decides as
// on a fresh badge.
type inVerified struct {
	reader    string
	userID    string
	at        time.Time
	ok        bool
	duress    bool // ok, and the code was the user's duress code
	refused   string
	now       cardLookup
	lookupErr error
	err       error
}

// inEntry is the answer to actLookupEntry: found is false when the code is
// no one's or on a store error (err).
type inEntry struct {
	reader string
	at     time.Time
	user   UserView
	found  bool
	duress bool // found, and the code was the user's duress code
	err    error
}

// inDPS is a raw (not yet debounced) door position switch level.
type inDPS struct{ open bool }

// inREX is a raw exit button level.
type inREX struct{ pressed bool }

func (inStart) isInput()      {}
func (inStop) isInput()       {}
func (inTick) isInput()       {}
func (inCard) isInput()       {}
func (inCardAnswer) isInput() {}
func (inBad) isInput()        {}
func (inKey) isInput()        {}
func (inVerified) isInput()   {}
func (inEntry) isInput()      {}
func (inDPS) isInput()        {}
func (inREX) isInput()        {}

// framed is an input that comes of a reader's frame, directly or as the
// store's answer to a query it caused: frameAt is the frame's completion
// time (zero when unknown).
type framed interface{ frameAt() time.Time }

func (i inCard) frameAt() time.Time       { return i.at }
func (i inCardAnswer) frameAt() time.Time { return i.at }
func (i inBad) frameAt() time.Time        { return i.at }
func (i inKey) frameAt() time.Time        { return i.at }
func (i inVerified) frameAt() time.Time   { return i.at }
func (i inEntry) frameAt() time.Time      { return i.at }

// frame calls f with the inputs of a reader's frame: a card, a bad frame,
// or one input per key, each with the frame's completion time.
func frame(r reader.Read, f func(input)) {
	switch r.Kind {
	case reader.KindCard:
		f(inCard{reader: r.Reader, card: r.Card, at: r.At})
	case reader.KindKeys:
		for _, k := range r.Keys {
			f(inKey{reader: r.Reader, key: k, at: r.At})
		}
	case reader.KindBad:
		f(inBad{reader: r.Reader, reason: r.Bad, at: r.At})
	}
}

// ---- actions ----

// action is what step decides; Door.apply carries actions out in a fixed
// order (relay first) and steps the answers of the store queries
// (actLookupCard, actVerify, actLookupEntry) in turn.
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

// actDecision is an access decision, for the Observer: result is
// ResultGranted or ResultDenied, why the method or the reason, at the
// completion time of the frame that decided (zero: none, as for a code
// timeout; measured from the step).
type actDecision struct {
	result, why string
	at          time.Time
}

// actBadRead is a bad frame of one of the door's readers, for the Observer.
type actBadRead struct{ reason reader.BadReason }

// actLookupCard asks the store about card, read at reader; answered with
// inCardAnswer.
type actLookupCard struct {
	reader string
	card   reader.Card
	at     time.Time
}

// actVerify asks the store whether code is a second factor of userID,
// who badged card (looked up again too); answered with inVerified. code is
// a secret.
type actVerify struct {
	reader   string
	card     CardKey
	userID   string
	code     []byte
	fallback bool
	at       time.Time
}

// actLookupEntry asks the store whose entry code code is; answered with
// inEntry. code is a secret.
type actLookupEntry struct {
	reader string
	code   []byte
	at     time.Time
}

// actDuress hands a duress event to the controller's duress latch
// (Config.Duress), after the step's decision, feedback and events.
type actDuress struct{ ev Event }

// actLockout hands a changed lockout counter to the lockout store, after
// the step's other actions (a zero Expires: the counter is gone).
type actLockout struct{ l Lockout }

// actLog writes a log line (never with a secret); empty fields are left out.
type actLog struct {
	level                  zerolog.Level
	msg                    string
	reader, userID, reason string
	err                    error
}

func (actRelay) isAction()       {}
func (actFeedback) isAction()    {}
func (actEmit) isAction()        {}
func (actDecision) isAction()    {}
func (actBadRead) isAction()     {}
func (actLookupCard) isAction()  {}
func (actVerify) isAction()      {}
func (actLookupEntry) isAction() {}
func (actLog) isAction()         {}
func (actLockout) isAction()     {}
func (actDuress) isAction()      {}

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

// state is everything the door knows. Run (or a Stepper) alone owns it,
// and step changes it in place (see doc.go).
type state struct {
	cfg     *config
	started bool
	stopped bool

	schedMode schedule.Mode // Unknown while the clock is not plausible
	schedSrc  schedule.Source
	mode      schedule.Mode // effective mode (ops.eff.Mode once started)
	ops
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
	readerNames    []string // the readers in config order, so that a step's actions are deterministic
	cardFails      map[CardKey]*failures
	readerFails    map[string]*failures
	lastFailuresGC time.Time

	// actBuf is Door.apply's action buffer, kept between steps.
	actBuf []action
}

func newState(c *config) *state {
	s := &state{
		cfg:         c,
		readers:     map[string]*readerState{},
		cardFails:   map[CardKey]*failures{},
		readerFails: map[string]*failures{},
	}
	for _, r := range c.Readers {
		s.readers[r.Name] = &readerState{}
		s.readerNames = append(s.readerNames, r.Name)
	}
	s.initOps()
	return s
}

// out collects the actions of one step: now is the step's time, at the
// completion time of the frame the input came of (zero: none).
type out struct {
	s    *state
	now  time.Time
	at   time.Time
	acts []action
}

func (o *out) do(a action) { o.acts = append(o.acts, a) }

func (o *out) emit(ev Event) {
	ev.Time = o.now
	ev.Door = o.s.cfg.Name
	o.do(actEmit{ev})
}

// decide emits an access decision's event and its actDecision.
func (o *out) decide(ev Event) {
	o.emit(ev)
	d := actDecision{result: ResultGranted, why: ev.Method, at: o.at}
	if ev.Event == EvAccessDenied {
		d.result, d.why = ResultDenied, ev.Reason
	}
	o.do(d)
}

func (o *out) log(level zerolog.Level, msg string, l actLog) {
	l.level, l.msg = level, msg
	o.do(l)
}

// clearBuf wipes and empties the typed digits.
func (r *readerState) clearBuf() {
	wipe(r.buf)
	r.buf = r.buf[:0]
}

// wipe zeroes a secret in place.
func wipe(b []byte) { clear(b) }
