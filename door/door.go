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

// Emitter takes events. Emit must not block: the door calls it from its
// decision loop (EventWriter is the implementation for latchd).
type Emitter interface {
	Emit(Event)
}

// Status is a door's state as other goroutines may see it.
type Status struct {
	Door string
	Mode schedule.Mode // the effective mode now
	// Level is the precedence level Mode comes from, LevelEnd when that
	// level ends on its own (zero: it does not, or not known).
	Level    Level
	LevelEnd time.Time
	// Override is the override's mode ("" = none), OverrideUntil its end,
	// OverrideBy who set it.
	Override      schedule.Mode
	OverrideUntil time.Time
	OverrideBy    Actor
	// Lockdown: the door is locked down (by a command, LockdownBy, or an
	// input); Emergency: an emergency_release input holds it unlocked.
	Lockdown   bool
	LockdownBy Actor
	Emergency  bool
	// DoubleBadge: toggled unlocked by a double badge; FirstPersonIn: the
	// first-person-in window in force was opened.
	DoubleBadge    bool
	FirstPersonIn  bool
	ClockPlausible bool // false: Mode is the fail-secure mode
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

	in      chan input
	done    chan struct{}
	running atomic.Bool
	halted  atomic.Bool
	status  atomic.Pointer[Status]

	// processed, when set (tests and benchmarks only), is called by Run
	// after each queued input has been handled; trace, when set (the test
	// driver), is told of every action apply carries out, in its order.
	processed func()
	trace     func(action)
	// unkeptStack, when set (benchmarks only), leaves out Run's stack
	// reserve (decisionStack), to show what it is for.
	unkeptStack bool

	// lockouts persists the lockout counters; nil = in memory only.
	// async: Run's writer goroutine writes them (a Stepper alone writes
	// them at the end of each step).
	lockouts *lockoutWriter
	async    bool

	// presets are the inputs' levels as read before the door starts
	// (Preset); Stepper puts them into the new state.
	presets map[string]bool
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
		in:     make(chan input, inputBuffer),
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
func (d *Door) Submit(r reader.Read) { frame(r, d.send) }

// DoorSensor reports the raw (not debounced) door position switch: open or
// closed.
func (d *Door) DoorSensor(open bool) { d.send(inDPS{open: open}) }

// ExitButton reports the raw request-to-exit level: pressed or released.
func (d *Door) ExitButton(pressed bool) { d.send(inREX{pressed: pressed}) }

func (d *Door) send(v input) {
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
func (d *Door) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("door: Run called twice")
	}
	defer close(d.done)
	if d.unkeptStack {
		return d.run(ctx)
	}
	return d.runOnReserve(ctx)
}

// runOnReserve is run below a frame of decisionStackSize bytes: the stack
// a decision needs stays the goroutine's while the loop waits.
//
//go:noinline
func (d *Door) runOnReserve(ctx context.Context) error {
	var reserve decisionStack
	keepStack(&reserve)
	return d.run(ctx)
}

func (d *Door) run(ctx context.Context) (err error) {
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
		case in := <-d.in:
			// A deadline already due (the timer has fired or is about to,
			// and select chose the input) is handled first, as the scenario
			// runner does: an input is never stepped against a past
			// deadline (a strike still released, a stale key buffer).
			if dl := st.Deadline(); !dl.IsZero() && !d.now().Before(dl) {
				st.Tick()
			}
			st.apply(in)
			if d.processed != nil {
				d.processed()
			}
		}
	}
}

// apply steps s with in at now and carries out the actions: the relay
// first, then (in step's order) the feedback lines, events, decisions for
// the observer, logs and store queries, whose answers are stepped in turn
// after the step's lockout counters are queued.
func (d *Door) apply(s *state, in input, now time.Time) {
	acts := s.stepInto(s.actBuf[:0], in, now)
	decided := false
	for _, a := range acts {
		switch a := a.(type) {
		case actRelay:
			d.relay(a.release)
			if d.trace != nil {
				d.trace(a)
			}
		case actDecision:
			decided = true
		}
	}
	// The observer's clock reading: after the relay command, before the
	// feedback lines and events.
	var decidedAt time.Time
	if decided && d.obs != nil {
		decidedAt = d.now()
	}
	var follow []input
	var lockouts []Lockout
	var replies []actReply
	for _, a := range acts {
		switch a := a.(type) {
		case actRelay:
			continue
		case actLockout:
			lockouts = append(lockouts, a.l)
			continue
		case actReply:
			replies = append(replies, a)
			continue
		}
		if d.trace != nil {
			d.trace(a)
		}
		switch a := a.(type) {
		case actFeedback:
			d.setFeedback(a.reader, a.green, a.red, a.beeper)
		case actEmit:
			if d.events != nil {
				d.events.Emit(a.ev)
			}
		case actDecision:
			d.observe(a, decidedAt, now)
		case actBadRead:
			if d.obs != nil {
				d.obs.ObserveBadRead(string(a.reason))
			}
		case actLog:
			d.logLine(a)
		case actDuress:
			d.cfg.Duress.signal(a.ev)
		default:
			if q := answer(d.creds, a); q != nil {
				follow = append(follow, q)
			}
		}
	}
	// Done with acts: keep its array for the next step (the nested
	// applies of follow below reuse it), without the events it held.
	clear(acts)
	if cap(acts) <= 64 {
		s.actBuf = acts[:0]
	}
	d.publish(s)
	for _, r := range replies {
		r.ch <- r.err // buffered: a command's reply channel has room for its answer
	}
	if d.trace != nil {
		for _, l := range lockouts {
			d.trace(actLockout{l})
		}
	}
	if len(lockouts) > 0 && d.lockouts != nil {
		// After the relay, feedback and events: never before a decision.
		d.lockouts.put(lockouts)
		if !d.async {
			d.lockouts.flush()
		}
	}
	for _, in := range follow {
		d.apply(s, in, d.now())
	}
}

func (d *Door) logLine(a actLog) {
	e := d.log.WithLevel(a.level)
	if a.err != nil {
		e = e.Err(a.err)
	}
	for _, f := range [...]struct{ k, v string }{{"reader", a.reader}, {"user_id", a.userID}, {"reason", a.reason}} {
		if f.v != "" {
			e = e.Str(f.k, f.v)
		}
	}
	e.Msg(a.msg)
}

// observe reports one decision to the observer: latency from the frame's
// completion (or, without a frame, from the step's time stepNow) to at.
func (d *Door) observe(a actDecision, at, stepNow time.Time) {
	if d.obs == nil {
		return
	}
	from := a.at
	if from.IsZero() {
		from = stepNow
	}
	d.obs.ObserveDecision(max(at.Sub(from), 0), a.result, a.why)
}

func (d *Door) publish(s *state) {
	st := Status{
		Door:           d.cfg.Name,
		Mode:           s.mode,
		Level:          s.eff.Level,
		LevelEnd:       s.levelEnd(),
		Override:       s.ovrMode,
		OverrideUntil:  s.ovrUntil,
		Lockdown:       s.lockedDown(),
		Emergency:      len(s.emergency) > 0,
		DoubleBadge:    !s.dblUntil.IsZero(),
		FirstPersonIn:  !s.fpiUntil.IsZero(),
		ClockPlausible: s.schedMode != schedule.Unknown,
		Next:           s.nextChange,
		NextMode:       s.nextMode,
		StrikeReleased: s.released,
		DoorOpen:       s.open,
	}
	if s.ovr != nil {
		st.OverrideBy = Actor{Name: s.ovr.Actor, Role: s.ovr.Role}
	}
	if s.lockdown != nil {
		st.LockdownBy = Actor{Name: s.lockdown.Actor, Role: s.lockdown.Role}
	}
	// A new snapshot only when something changed: most steps change
	// nothing the status shows, and they allocate nothing here.
	if old := d.status.Load(); old == nil || *old != st {
		d.status.Store(&st)
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

// Preset gives an input's level as read before the door starts (a
// restart inside an emergency comes back released, never locked first and
// released after a debounce). Call it before Run or Stepper; later levels
// go through Input.
func (d *Door) Preset(name string, active bool) {
	if d.presets == nil {
		d.presets = map[string]bool{}
	}
	d.presets[name] = active
}

// Input reports an [[input]]'s raw (not debounced) level: active or not.
// Inputs the door does not list are ignored. The Controller calls it for
// every door an input names.
func (d *Door) Input(name string, active bool) { d.send(inInput{name: name, active: active}) }

// deliver queues a command for Run.
func (d *Door) deliver(in input) { d.send(in) }

func (d *Door) door() *Door { return d }

// decisionStackSize is the part of the door goroutine's stack that Run
// keeps in use while it waits (runOnReserve). A garbage collection halves
// the stack of a waiting goroutine that uses under a quarter of it, and
// the next decision then grows it again inside the decision, copying the
// stack to new memory once for every doubling. With the reserve in use at
// the wait, the stack is shrunk only from above 128 KiB, far more than a
// decision's depth (the loop, step, the store's bbolt lookup, the relay)
// on top of the reserve: after the first decision the stack stays as it is
// (docs/door.md, "A decision after a garbage collection").
const decisionStackSize = 32 << 10

type decisionStack [decisionStackSize]byte

// keepStack uses s, so that the compiler keeps it in its caller's frame
// (s does not escape: the array stays on the stack).
//
//go:noinline
func keepStack(s *decisionStack) { s[0] = 1 }
