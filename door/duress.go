package door

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/reader"
)

// The duress latch (docs/operations.md, "Duress codes"). A duress code
// grants exactly as the code it stands in for (the door's decision, relay,
// feedback and access_granted are the same); the door then signals the
// controller's one Duress, which drives the optional duress output line
// active and stores a duress event together with the output's state, so
// that the line comes back active after a restart. Only Clear (the API's
// DELETE /v1/duress) ends it.

// DuressStore keeps the duress output's state with its events, each change
// in one transaction with its event. *store.Store implements it.
type DuressStore interface {
	DuressState() (DuressState, error)
	// RecordDuress appends ev and marks the output active.
	RecordDuress(ev Event) error
	// ClearDuress, when the output is active, marks it inactive and
	// appends ev; it reports whether it was active.
	ClearDuress(ev Event) (bool, error)
}

// DuressConfig configures NewDuress.
type DuressConfig struct {
	// Output is the duress output line; nil = none (the state and events
	// are kept all the same).
	Output gpio.PinOut
	// Active is the level that signals duress (config duress_output_active;
	// default high).
	Active gpio.Level
	Store  DuressStore
	// Stored, when set, is told of each duress and duress_cleared event
	// once it is stored (latchd logs it). Called without a lock held.
	Stored func(Event)
	Now    func() time.Time // nil = time.Now
	Logger zerolog.Logger
	// After, when set, is called at each signal (EventWriter.Barrier of
	// the doors' event writer); Run's writer waits for the channel it
	// returns (at most AfterWait) before it stores that duress event, so
	// that the event follows the grant it comes with. Without it (the
	// scenario runner, whose events are stored as they are emitted) the
	// event is stored at once.
	After func() <-chan struct{}
}

// AfterWait bounds the wait for DuressConfig.After's channel: an event
// writer that is stuck must not hold the duress event back.
const AfterWait = 2 * time.Second

// pendingDuress is a signalled duress event not stored yet.
type pendingDuress struct {
	ev    Event
	after <-chan struct{} // nil = none
}

// Duress is the controller's duress latch, shared by its doors
// (Config.Duress). Its methods are safe for concurrent use.
type Duress struct {
	cfg   DuressConfig
	log   zerolog.Logger
	async atomic.Bool // Run is writing: signal queues

	// mu guards the line and the queue: the door's signal takes it only
	// for a pin write and an append, never for a store write.
	mu      sync.Mutex
	active  bool
	since   time.Time
	pending []pendingDuress // duress events signalled and not yet stored
	kick    chan struct{}

	// wmu serialises the store writes (Run's and Clear's), so that Clear
	// stores the duress events signalled before it first.
	wmu sync.Mutex
}

// maxDuressPending bounds the duress events kept while the store fails.
const maxDuressPending = 1024

// NewDuress reads the stored state and drives the output to it: a duress
// that was not cleared before a restart is active again at once.
func NewDuress(c DuressConfig) (*Duress, error) {
	if c.Store == nil {
		return nil, errors.New("door: duress: store: must not be nil")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	d := &Duress{cfg: c, log: c.Logger.With().Str("component", "duress").Logger(), kick: make(chan struct{}, 1)}
	st, err := c.Store.DuressState()
	if err != nil {
		return nil, fmt.Errorf("door: duress: %w", err)
	}
	d.active, d.since = st.Active, st.Since
	if err := d.drive(d.active); err != nil {
		return nil, fmt.Errorf("door: duress: output: %w", err)
	}
	if d.active {
		d.log.Warn().Time("since", d.since).Msg("duress output active (not cleared before the restart)")
	}
	return d, nil
}

// drive sets the output line (mu held, or before d is shared).
func (d *Duress) drive(on bool) error {
	if d.cfg.Output == nil {
		return nil
	}
	lvl := !d.cfg.Active
	if on {
		lvl = d.cfg.Active
	}
	return d.cfg.Output.Out(lvl)
}

// State is the latch's state now (signals not yet stored included).
func (d *Duress) State() DuressState {
	d.mu.Lock()
	defer d.mu.Unlock()
	return DuressState{Active: d.active, Since: d.since}
}

// signal is the door's part, from its loop after the decision: the line
// goes active now; the event is stored by Run, or here when Run is not
// running (a Stepper's door: the scenario runner).
func (d *Duress) signal(ev Event) {
	d.mu.Lock()
	if !d.active {
		d.active, d.since = true, ev.Time
	}
	if err := d.drive(true); err != nil {
		d.log.Error().Err(err).Msg("duress output write failed")
	}
	if len(d.pending) >= maxDuressPending {
		d.log.Error().Str("door", d.pending[0].ev.Door).Msg("duress event dropped: the store has been failing")
		d.pending = d.pending[1:]
	}
	async := d.async.Load()
	p := pendingDuress{ev: ev}
	if d.cfg.After != nil && async {
		p.after = d.cfg.After() // only Run's writer waits: never the door
	}
	d.pending = append(d.pending, p)
	d.mu.Unlock()
	if async {
		select {
		case d.kick <- struct{}{}:
		default:
		}
		return
	}
	d.flush()
}

// Run stores signalled duress events off the doors' decision paths until
// ctx ends, then stores what is left.
func (d *Duress) Run(ctx context.Context) {
	d.async.Store(true)
	defer d.async.Store(false)
	for {
		select {
		case <-d.kick:
			d.flush()
		case <-ctx.Done():
			d.flush()
			return
		}
	}
}

// flush stores the pending duress events, oldest first. On a store error
// the rest stay queued for the next signal, Clear or the end of Run.
func (d *Duress) flush() error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	return d.flushLocked()
}

func (d *Duress) flushLocked() error {
	for {
		d.mu.Lock()
		if len(d.pending) == 0 {
			d.mu.Unlock()
			return nil
		}
		p := d.pending[0]
		d.mu.Unlock()
		if p.after != nil {
			t := time.NewTimer(AfterWait)
			select {
			case <-p.after:
			case <-t.C:
				d.log.Warn().Str("door", p.ev.Door).Msg("the event writer is late; duress event stored without waiting for it")
			}
			t.Stop()
		}
		ev := p.ev
		if err := d.cfg.Store.RecordDuress(ev); err != nil {
			d.log.Error().Err(err).Str("door", ev.Door).Msg("storing a duress event failed; kept to try again")
			return err
		}
		d.mu.Lock()
		d.pending = d.pending[1:]
		d.mu.Unlock()
		if d.cfg.Stored != nil {
			d.cfg.Stored(ev)
		}
	}
}

// ErrDuressPending is Clear's error when duress events signalled before it
// could not be stored: the output stays active.
var ErrDuressPending = errors.New("door: duress: earlier duress events are not stored yet; not cleared")

// Clear ends the duress state: the duress events signalled so far are
// stored first, then the output's state is cleared with a duress_cleared
// event naming actor and role (one transaction), and the line goes
// inactive, unless a new duress was signalled meanwhile. It reports
// whether the output was active; clearing an inactive output changes and
// records nothing.
func (d *Duress) Clear(actor, role string) (bool, error) {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.flushLocked(); err != nil {
		return false, fmt.Errorf("%w: %w", ErrDuressPending, err)
	}
	ev := Event{Time: d.cfg.Now(), Event: EvDuressCleared, Actor: actor, Role: role}
	was, err := d.cfg.Store.ClearDuress(ev)
	if err != nil {
		return false, err
	}
	d.mu.Lock()
	if len(d.pending) == 0 {
		d.active, d.since = false, time.Time{}
		if err := d.drive(false); err != nil {
			d.log.Error().Err(err).Msg("duress output write failed")
		}
	}
	d.mu.Unlock()
	if was {
		d.log.Info().Str("actor", actor).Msg("duress output cleared")
		if d.cfg.Stored != nil {
			d.cfg.Stored(ev)
		}
	}
	return was, nil
}

// duress records, after the decision on a duress code at reader rdr, the
// duress event of user u (card c when one was badged). Nothing the door
// shows changes: the event goes to the latch, never to the reader.
func (s *state) duress(o *out, rdr string, c reader.Card, u *UserView) {
	ev := Event{Time: o.now, Event: EvDuress, Door: s.cfg.Name, Reader: rdr, UserID: u.UserID, ExternalID: u.ExternalID}
	if c.Format != "" {
		ev.Card = eventCard(c)
	}
	if s.cfg.Duress == nil {
		o.do(actEmit{ev})
		return
	}
	o.do(actDuress{ev})
}
