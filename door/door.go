package door

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// Credentials is what the door needs of the store: the fast-path lookups of
// the store (go doc ./store), each one read transaction. *store.Store implements it.
type Credentials interface {
	// LookupCard returns the card's user and whether the card is active;
	// ErrNotFound for an unknown card.
	LookupCard(k CardKey) (u UserView, cardActive bool, err error)
	// VerifyCardCode checks code, typed after card k badged user userID,
	// against the user's MFA codes, or their entry code when they have none
	// and entryFallback is set. ErrCardChanged: the card is no longer the
	// user's or no longer active.
	VerifyCardCode(k CardKey, userID string, code []byte, entryFallback bool) (bool, error)
	// LookupEntryCode returns the user whose entry code code is; ErrNotFound.
	LookupEntryCode(code []byte) (UserView, error)
}

// Emitter takes events. Emit must not block: the door calls it from its
// decision loop (EventWriter is the implementation for latchd).
type Emitter interface {
	Emit(Event)
}

// Status is a door's state as other goroutines may see it.
type Status struct {
	Door           string
	Mode           schedule.Mode // the effective mode now
	Override       schedule.Mode // set by Override; "" = none
	ClockPlausible bool          // false: Mode is the fail-secure mode
	// Next is when the schedule changes the mode next, NextMode what to;
	// zero when no change is known (clock not set, or none within 8 days).
	// An override holds regardless of Next.
	Next           time.Time
	NextMode       schedule.Mode
	StrikeReleased bool
	DoorOpen       bool
}

// Door runs one door. Create it with New, run it with Run, and defer Halt.
type Door struct {
	cfg    *config
	creds  Credentials
	events Emitter
	log    zerolog.Logger
	now    func() time.Time
	obs    Observer // nil = none

	// frameAt is when the frame being handled was complete (its Read.At),
	// for the observer's latency; zero outside a frame's handling. Only
	// the goroutine that steps the door touches it.
	frameAt time.Time

	in      chan any
	done    chan struct{}
	running atomic.Bool
	halted  atomic.Bool
	status  atomic.Pointer[Status]

	// processed, when set (tests and benchmarks only), is called by Run
	// after each queued input has been handled.
	processed func()

	// lockouts persists the lockout counters; nil = in memory only.
	// async: Run's writer goroutine writes them (a Stepper alone writes
	// them at the end of each step).
	lockouts *lockoutWriter
	async    bool
}

// inputBuffer is how many inputs may queue before Submit waits: a burst of
// 26bit_pin keys plus sensor changes fits easily.
const inputBuffer = 64

// New checks cfg and returns a door whose strike is already driven locked
// and whose feedback lines are off. events may be nil (events dropped).
func New(cfg Config, creds Credentials, events Emitter) (*Door, error) {
	c, err := resolveConfig(cfg)
	if err != nil {
		return nil, err
	}
	if creds == nil {
		return nil, fmt.Errorf("door: %s: credentials: must not be nil", c.Name)
	}
	d := &Door{
		cfg:    c,
		creds:  creds,
		events: events,
		log:    cfg.Logger.With().Str("component", "door").Str("door", c.Name).Logger(),
		now:    cfg.Now,
		obs:    cfg.Observer,
		in:     make(chan any, inputBuffer),
		done:   make(chan struct{}),
	}
	if d.now == nil {
		d.now = time.Now
	}
	if cfg.Lockouts != nil {
		d.lockouts = newLockoutWriter(cfg.Lockouts, c.Name, d.log)
	}
	if err := c.Relay.Out(!c.RelayActive); err != nil {
		return nil, fmt.Errorf("door: %s: relay: %w", c.Name, err)
	}
	for name := range c.readers {
		d.setFeedback(name, false, false, false)
	}
	d.status.Store(&Status{Door: c.Name})
	return d, nil
}

// Name is the door's name.
func (d *Door) Name() string { return d.cfg.Name }

// Submit hands the door a reader's frame. It waits while the input queue is
// full and returns at once after Run has ended. Keys are secrets.
func (d *Door) Submit(r reader.Read) { d.send(r) }

// DoorSensor reports the raw (not debounced) door position switch: open or
// closed.
func (d *Door) DoorSensor(open bool) { d.send(inDPS{open: open}) }

// ExitButton reports the raw request-to-exit level: pressed or released.
func (d *Door) ExitButton(pressed bool) { d.send(inREX{pressed: pressed}) }

// Override holds the door in mode m regardless of its schedule until it is
// cleared with schedule.Unknown. The change is a mode_changed event with
// cause "override".
func (d *Door) Override(m schedule.Mode) error {
	if m != schedule.Unknown {
		if _, err := schedule.ParseMode(string(m)); err != nil {
			return fmt.Errorf("door: override: %w", err)
		}
		if m == schedule.CardAndCode && !d.hasKeypad() {
			return fmt.Errorf("door: override: card_and_code needs a reader with a keypad on door %s", d.cfg.Name)
		}
	}
	d.send(inOverride{mode: m})
	return nil
}

func (d *Door) hasKeypad() bool {
	for _, r := range d.cfg.readers {
		if r.Keypad {
			return true
		}
	}
	return false
}

func (d *Door) send(v any) {
	select {
	case d.in <- v:
	case <-d.done:
	}
}

// Status is the door's state as of its last step; safe from any goroutine.
func (d *Door) Status() Status { return *d.status.Load() }

// Halt drives the strike locked and the feedback lines off, and keeps them
// so: after Halt the door never releases the strike again. It is safe from
// any goroutine and meant to be deferred by whoever starts the door, so that
// a panic or a fatal error leaves the door locked.
func (d *Door) Halt() error {
	d.halted.Store(true)
	err := d.cfg.Relay.Out(!d.cfg.RelayActive)
	for name := range d.cfg.readers {
		d.setFeedback(name, false, false, false)
	}
	if err != nil {
		return fmt.Errorf("door: %s: halt: relay: %w", d.cfg.Name, err)
	}
	return nil
}

// Run is the door's loop: it alone owns the door's state, reads inputs, one
// timer and ctx, and carries out what step decides. It returns nil when ctx
// ends, with the strike locked; on a panic it locks the strike and panics on.
func (d *Door) Run(ctx context.Context) (err error) {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("door: Run called twice")
	}
	defer close(d.done)
	writerPanic := make(chan any, 1)
	if d.lockouts != nil {
		d.async = true
		stop, written := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(written)
			defer func() {
				// A panic of the writer (a store bug) is Run's panic: the
				// strike locks and whoever runs the door sees it.
				if r := recover(); r != nil {
					writerPanic <- r
				}
			}()
			d.lockouts.run(stop)
		}()
		// After the strike is locked (and on a panic too): what is
		// still queued is written before Run returns.
		defer func() {
			close(stop)
			<-written
		}()
	}
	defer func() {
		if r := recover(); r != nil {
			d.Halt()
			panic(r)
		}
	}()
	st := d.Stepper()
	st.Start()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		timer.Stop()
		if dl := st.Deadline(); !dl.IsZero() {
			timer.Reset(max(dl.Sub(d.now()), 0))
		}
		select {
		case <-ctx.Done():
			st.Stop()
			return nil
		case r := <-writerPanic:
			panic(r)
		case <-timer.C:
			st.Tick()
		case v := <-d.in:
			// A deadline already due (the timer has fired or is about to,
			// and select chose the input) is handled first, as the scenario
			// runner does: an input is never stepped against a past
			// deadline (a strike still released, a stale key buffer).
			if dl := st.Deadline(); !dl.IsZero() && !d.now().Before(dl) {
				st.Tick()
			}
			st.queued(v)
			if d.processed != nil {
				d.processed()
			}
		}
	}
}

// input turns a queued input into steps; card lookups happen here, before
// the step, so that step stays pure.
func (d *Door) input(s state, v any) state {
	switch v := v.(type) {
	case reader.Read:
		// The frame's completion time, for the observer's latency. A
		// frame without one (tests) is measured from the step that decided.
		d.frameAt = v.At
		defer func() { d.frameAt = time.Time{} }()
		switch v.Kind {
		case reader.KindCard:
			if _, ok := d.cfg.readers[v.Reader]; !ok {
				d.log.Warn().Str("reader", v.Reader).Msg("read from a reader not on this door ignored")
				return s
			}
			in := inCard{reader: v.Reader, card: v.Card, cardLookup: d.lookupCard(v.Reader, cardKey(v.Card))}
			return d.apply(s, in, d.now())
		case reader.KindKeys:
			for _, k := range v.Keys {
				s = d.apply(s, inKey{reader: v.Reader, key: k}, d.now())
			}
			return s
		case reader.KindBad:
			s = d.apply(s, inBad{reader: v.Reader, reason: v.Bad}, d.now())
			if _, ok := d.cfg.readers[v.Reader]; ok && d.obs != nil {
				d.obs.ObserveBadRead(string(v.Bad))
			}
			return s
		}
		return s
	case input:
		return d.apply(s, v, d.now())
	}
	return s
}

// apply steps s and carries out the actions: the relay first, then the
// feedback lines, events and store queries (whose answers are stepped in
// turn).
func (d *Door) apply(s state, in input, now time.Time) state {
	s, acts := step(s, in, now)
	decided := false
	for _, a := range acts {
		if r, ok := a.(actRelay); ok {
			d.relay(r.release)
		} else if d.obs != nil && !decided {
			e, ok := a.(actEmit)
			decided = ok && isDecision(e.ev.Event)
		}
	}
	// The observer's clock reading: after the relay command, before the
	// feedback lines and events.
	var decidedAt time.Time
	if decided {
		decidedAt = d.now()
	}
	var follow []input
	var lockouts []Lockout
	for _, a := range acts {
		switch a := a.(type) {
		case actLockout:
			lockouts = append(lockouts, a.l)
		case actFeedback:
			d.setFeedback(a.reader, a.green, a.red, a.beeper)
		case actEmit:
			if d.events != nil {
				d.events.Emit(a.ev)
			}
			if decided && isDecision(a.ev.Event) {
				d.observe(&a.ev, decidedAt, now)
			}
		case actLog:
			d.log.Warn().Msg(a.msg)
		case actVerify:
			follow = append(follow, answerVerify(d.creds, a, d.lookupCard, func(refused string, err error) {
				switch {
				case refused != "":
					d.log.Info().Str("reader", a.reader).Str("user_id", a.userID).Str("reason", refused).Msg("the card or its user changed while the code was typed; refused")
				case err != nil:
					d.log.Error().Err(err).Str("reader", a.reader).Str("user_id", a.userID).Msg("second factor check failed; refused as wrong_code")
				}
			}))
		case actLookupEntry:
			u, err := d.creds.LookupEntryCode(a.code)
			wipe(a.code)
			if err != nil && !errors.Is(err, ErrNotFound) {
				d.log.Error().Err(err).Str("reader", a.reader).Msg("entry code lookup failed; refused as unknown_code")
			}
			follow = append(follow, inEntry{reader: a.reader, user: u, found: err == nil})
		}
	}
	d.publish(&s)
	if len(lockouts) > 0 && d.lockouts != nil {
		// After the relay, feedback and events: never before a decision.
		d.lockouts.put(lockouts)
		if !d.async {
			d.lockouts.flush()
		}
	}
	for _, in := range follow {
		s = d.apply(s, in, d.now())
	}
	return s
}

func isDecision(ev string) bool { return ev == EvAccessGranted || ev == EvAccessDenied }

// observe reports one decision to the observer: latency from the frame's
// completion (or, without a frame, from the step's time stepNow) to at.
func (d *Door) observe(ev *Event, at, stepNow time.Time) {
	from := d.frameAt
	if from.IsZero() {
		from = stepNow
	}
	lat := max(at.Sub(from), 0)
	if ev.Event == EvAccessGranted {
		d.obs.ObserveDecision(lat, ResultGranted, ev.Method)
		return
	}
	d.obs.ObserveDecision(lat, ResultDenied, ev.Reason)
}

func (d *Door) publish(s *state) {
	st := &Status{
		Door:           d.cfg.Name,
		Mode:           s.mode,
		Override:       s.override,
		ClockPlausible: s.schedMode != schedule.Unknown,
		Next:           s.nextChange,
		NextMode:       s.nextMode,
		StrikeReleased: s.released,
		DoorOpen:       s.open,
	}
	if old := d.status.Load(); old == nil || *old != *st {
		d.status.Store(st)
	}
}

// relay drives the strike; once halted it only ever locks.
func (d *Door) relay(release bool) {
	if release && d.halted.Load() {
		return
	}
	lvl := !d.cfg.RelayActive
	if release {
		lvl = d.cfg.RelayActive
	}
	if err := d.cfg.Relay.Out(lvl); err != nil {
		d.log.Error().Err(err).Bool("release", release).Msg("relay write failed")
	}
	if release && d.halted.Load() { // Halt ran while we released: it wins
		_ = d.cfg.Relay.Out(!d.cfg.RelayActive)
	}
}

func (d *Door) setFeedback(rdr string, g, r, b bool) {
	rc := d.cfg.readers[rdr]
	if rc == nil {
		return
	}
	if d.halted.Load() {
		g, r, b = false, false, false
	}
	// reader.Feedback drives every wired line even if one fails.
	if err := rc.Feedback.Set(g, r, b); err != nil {
		d.log.Error().Err(err).Str("reader", rdr).Msg("feedback write failed")
	}
}

// lookupCard asks the store for card k read at reader rdr; a store error is
// logged and answers "not found" (refused as unknown_card).
func (d *Door) lookupCard(rdr string, k CardKey) cardLookup {
	c, err := lookupCard(d.creds, k)
	if err != nil && !errors.Is(err, ErrNotFound) {
		d.log.Error().Err(err).Str("reader", rdr).Msg("card lookup failed; refused as unknown_card")
	}
	return c
}

func lookupCard(creds Credentials, k CardKey) (cardLookup, error) {
	u, active, err := creds.LookupCard(k)
	if err != nil {
		return cardLookup{}, err
	}
	return cardLookup{user: u, found: true, active: active}, nil
}

// answerVerify carries out actVerify: the card is looked up again (the
// door decides on it as on a fresh badge), then the code is checked; the
// code is wiped. report hears a refusal or a store error of the check.
func answerVerify(creds Credentials, a actVerify, lookup func(rdr string, k CardKey) cardLookup, report func(refused string, err error)) inVerified {
	now := lookup(a.reader, a.card)
	ok, err := creds.VerifyCardCode(a.card, a.userID, a.code, a.fallback)
	wipe(a.code)
	refused := verifyRefusal(err)
	if report != nil && (refused != "" || err != nil) {
		report(refused, err)
	}
	return inVerified{reader: a.reader, ok: ok && err == nil, refused: refused, now: now}
}

// verifyRefusal is the denial reason for VerifyCardCode's err when the
// card or its user changed between the badge and the code, else "".
func verifyRefusal(err error) string {
	switch {
	case errors.Is(err, ErrCardChanged):
		return ReasonCardInactive
	case errors.Is(err, ErrUserSuspended):
		return ReasonUserInactive
	}
	return ""
}
