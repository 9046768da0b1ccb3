package outbox

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/quiet"
	"github.com/latchd/latch/store"
)

// A Destination receives events from the outbox. The MQTT client, each
// webhook and the fleet's event upload are one each.
type Destination interface {
	// Name identifies the destination's cursor in the store: stable across
	// restarts and unique ("mqtt", "webhook:soc", "fleet"). At most 128
	// bytes.
	Name() string
	// Deliver hands the destination a batch of events: in seq order, every
	// one after the last it acknowledged (some may be repeats after a
	// restart: deliver them again, with the same DeliveryID). It returns
	// acked, the seq of the last event such that it and every event before
	// it in the batch were acknowledged (0 or below batch[0].Seq: none).
	// A destination that filters events acknowledges the ones it skips.
	// An error says the rest was not acknowledged: the outbox moves the
	// cursor to acked, waits (Backoff) and hands the rest again. Deliver
	// must return when ctx ends and must not keep batch after it returns.
	Deliver(ctx context.Context, batch []store.Event) (acked uint64, err error)
}

// A Dropper is a Destination that may give up on events (a webhook whose
// receiver failed them for 24 h). Such an event is acknowledged (the
// cursor moves past it) but never delivered; after each Deliver the outbox
// asks for the seqs of the events given up on in that call, counts them
// and says so in a delivery_dropped event (reason door.DropExpired).
type Dropper interface {
	TakeDropped() []uint64
}

// A Backoffer is a Destination with its own wait after its n-th Deliver
// error in a row (n from 1; a webhook: 1 s doubling to 10 min, with
// jitter); other destinations wait Options.Backoff.
type Backoffer interface {
	Backoff(n int) time.Duration
}

// A Rater is a Destination with a rate budget of its own, Rate events a
// second beyond a burst of Batch (<= 0: no bound), in place of the one
// Options.Rate gives the other destinations together: the fleet's event
// upload, whose backlog after an outage must drain fast
// (docs/fleet.md). Its events do not count against the shared budget.
type Rater interface {
	Rate() float64
}

// Log is what the outbox reads and where it keeps its cursors;
// *store.Store implements it.
type Log interface {
	Events(q store.EventQuery) ([]store.Event, error)
	EventBounds() (first, last uint64, err error)
	Cursor(dest string) (seq uint64, ok bool, err error)
	SetCursor(dest string, seq uint64) error
	Subscribe(buffer int) (<-chan store.Event, func())
}

// DeliveryID is the stable id of an event at every destination,
// "<controller>:<seq>": the same event delivered twice has the same id.
func DeliveryID(controller string, seq uint64) string {
	return controller + ":" + strconv.FormatUint(seq, 10)
}

// Options configures an Outbox. Zero values mean the defaults.
type Options struct {
	// Batch bounds the events one Deliver gets, and so the memory of each
	// destination (default 100).
	Batch int
	// Emit stores the outbox's own delivery_dropped events (latchd: the
	// door's EventWriter); nil = they are counted only.
	Emit func(store.Event)
	// Backoff is the wait after the n-th Deliver error in a row (n from
	// 1); nil = 1 s doubling to 1 min.
	Backoff func(n int) time.Duration
	// After is the clock of the waits; nil = time.After.
	After func(time.Duration) <-chan time.Time
	// Now stamps delivery_dropped events and times SaveEvery; nil =
	// time.Now.
	Now func() time.Time
	// SaveEvery bounds how often a destination that is catching up on a
	// backlog writes its cursor to the database (default 1 s): each write
	// is a disk sync that the event writer waits behind. A destination
	// that has caught up, a failed delivery and the end of Run always
	// write it. A crash repeats at most what was acknowledged since.
	SaveEvery time.Duration
	// Rate bounds the events a second handed to all destinations
	// together, but for a Rater (default DefaultRate; negative: no
	// bound). Batch events go
	// at once; beyond that a destination gets batches of 10 ms' worth of
	// the budget, each when it is due, so that draining a backlog leaves
	// the door a core (budget.go, docs/integrations.md "Performance").
	Rate float64
	// Gate is the doors' gate (package quiet): before each Deliver a
	// destination waits until no door is busy (a frame arriving, a
	// decision), for at most GateLimit, so that delivery's CPU work does
	// not meet a decision. nil = never wait.
	Gate *quiet.Gate
	Log  zerolog.Logger
}

// Defaults of Options.
const (
	DefaultBatch     = 100
	DefaultSaveEvery = time.Second
	DefaultRate      = 1000
	// GateLimit bounds one wait on Options.Gate: a door that is never
	// idle (a reader whose lines chatter) slows delivery, never stops it.
	// A frame of 64 bits at 20 ms a bit, the slowest Wiegand timing, ends
	// within it.
	GateLimit = 1500 * time.Millisecond
)

// Stat is one destination's figures (the metrics).
type Stat struct {
	Name      string
	Cursor    uint64            // the last seq it acknowledged
	Delivered uint64            // events acknowledged since the start (repeats included)
	Backlog   uint64            // events in the log after its cursor (filtered ones too)
	Dropped   map[string]uint64 // events it will never receive since the start, by door.DropReasons
	Failures  uint64            // Deliver errors since the start
}

// Outbox runs its destinations.
type Outbox struct {
	log    Log
	opts   Options
	dests  []*dest
	inited bool
	budget *budget    // nil: no bound
	mu     sync.Mutex // guards the counters of dests
}

type dest struct {
	d      Destination
	wake   chan struct{}
	budget *budget // the outbox's shared one, or a Rater's own; nil: no bound

	cursor    uint64
	delivered uint64
	dropped   map[string]uint64
	failures  uint64
}

// New returns an outbox reading log.
func New(log Log, opts Options) *Outbox {
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SaveEvery <= 0 {
		opts.SaveEvery = DefaultSaveEvery
	}
	if opts.Rate == 0 {
		opts.Rate = DefaultRate
	}
	opts.Log = opts.Log.With().Str("component", "outbox").Logger()
	return &Outbox{log: log, opts: opts, budget: newBudget(opts.Rate, opts.Batch)}
}

// DefaultBackoff waits 1 s after the first error, doubling to 1 min.
func DefaultBackoff(n int) time.Duration {
	d := time.Second
	for i := 1; i < n && d < time.Minute; i++ {
		d *= 2
	}
	return min(d, time.Minute)
}

// Add adds a destination; call it before Run.
func (o *Outbox) Add(d Destination) {
	b := o.budget
	if r, ok := d.(Rater); ok {
		b = newBudget(r.Rate(), o.opts.Batch)
	}
	o.dests = append(o.dests, &dest{d: d, wake: make(chan struct{}, 1), budget: b, dropped: map[string]uint64{}})
}

// Init checks the destinations' names and puts the cursor of every
// destination that never had one at the end of the log: call it before the
// doors start, so that a new destination gets every event from then on.
// Run calls it when it was not called.
func (o *Outbox) Init() error {
	if o.inited {
		return nil
	}
	names := map[string]bool{}
	for _, d := range o.dests {
		n := d.d.Name()
		if names[n] {
			return fmt.Errorf("outbox: destination %q is added twice", n)
		}
		names[n] = true
		seq, ok, err := o.log.Cursor(n)
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		if !ok {
			_, last, err := o.log.EventBounds()
			if err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			if err := o.log.SetCursor(n, last); err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			seq = last
			o.opts.Log.Info().Str("destination", n).Uint64("seq", last).Msg("new destination starts at the end of the event log")
		}
		o.mu.Lock()
		d.cursor = seq
		o.mu.Unlock()
	}
	o.inited = true
	return nil
}

// Run delivers until ctx ends, then returns once every destination's
// Deliver has returned.
func (o *Outbox) Run(ctx context.Context) error {
	if len(o.dests) == 0 {
		return nil
	}
	if err := o.Init(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { o.follow(ctx) })
	for _, d := range o.dests {
		wg.Go(func() { o.run(ctx, d) })
	}
	wg.Wait()
	return nil
}

// follow wakes every destination when the store publishes events. A
// subscription the store cut off (its buffer overflowed: we only wake,
// so that means a burst) is taken again; every destination is woken then,
// and reads the log.
func (o *Outbox) follow(ctx context.Context) {
	for ctx.Err() == nil {
		ch, cancel := o.log.Subscribe(1024)
		o.wakeAll()
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case _, ok := <-ch:
				if !ok {
					break loop
				}
				o.wakeAll()
			}
		}
		cancel()
	}
}

func (o *Outbox) wakeAll() {
	for _, d := range o.dests {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

// run is one destination's loop: read a batch after the cursor, deliver
// it, move the cursor to what was acknowledged; wait for new events when
// there are none, and back off after an error.
func (o *Outbox) run(ctx context.Context, d *dest) {
	name := d.d.Name()
	log := o.opts.Log.With().Str("destination", name).Logger()
	backoff := o.opts.Backoff
	if b, ok := d.d.(Backoffer); ok {
		backoff = b.Backoff
	}
	fails := 0
	o.mu.Lock()
	cursor := d.cursor
	o.mu.Unlock()
	saved, lastSave := cursor, o.opts.Now()
	// The events read at a time: Batch, or the budget's step when it
	// binds. A batch shorter than that means the destination caught up.
	limit := o.opts.Batch
	save := func() {
		if cursor == saved {
			return
		}
		if err := o.log.SetCursor(name, cursor); err != nil {
			// The destination has them; a restart may deliver them again.
			log.Error().Err(err).Msg("saving the cursor")
			return
		}
		saved, lastSave = cursor, o.opts.Now()
	}
	defer save()
	for ctx.Err() == nil {
		batch, err := o.log.Events(store.EventQuery{After: cursor, Limit: limit})
		if err != nil {
			log.Error().Err(err).Msg("reading the event log")
			fails++
			if !o.wait(ctx, backoff(fails)) {
				return
			}
			continue
		}
		if len(batch) == 0 {
			save()
			limit = o.opts.Batch // caught up: the next burst goes in one batch
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
			}
			continue
		}
		// A gap before the batch: retention removed events the
		// destination had not acknowledged.
		if first := batch[0].Seq; first > cursor+1 {
			o.dropped(d, door.DropRetention, cursor+1, first-1, first-1-cursor)
			log.Warn().Uint64("first_seq", cursor+1).Uint64("last_seq", first-1).Msg("events removed by retention before this destination acknowledged them")
			cursor = first - 1
			save()
		}
		// The budget: a backlog drains at Rate, in steps; a destination
		// that caught up gets the next burst in one batch again.
		caughtUp := len(batch) < limit
		if w := d.budget.take(o.opts.Now(), len(batch)); w > 0 {
			limit = d.budget.step(o.opts.Batch)
			if !o.wait(ctx, w) {
				return
			}
		} else if caughtUp {
			limit = o.opts.Batch
		}
		// The doors first: the batch waits while one is busy.
		if !o.opts.Gate.Wait(ctx, GateLimit) {
			return
		}
		acked, derr := d.d.Deliver(ctx, batch)
		if dr, ok := d.d.(Dropper); ok {
			if seqs := dr.TakeDropped(); len(seqs) > 0 {
				o.dropped(d, door.DropExpired, seqs[0], seqs[len(seqs)-1], uint64(len(seqs)))
			}
		}
		last := batch[len(batch)-1].Seq
		acked = min(acked, last)
		if derr == nil && acked < last {
			derr = fmt.Errorf("acknowledged up to seq %d of a batch ending at %d, and said no error", acked, last)
		}
		if acked > cursor {
			n := uint64(0)
			for _, e := range batch {
				if e.Seq <= acked {
					n++
				}
			}
			cursor = acked
			o.mu.Lock()
			d.cursor = acked
			d.delivered += n
			o.mu.Unlock()
			// Caught up (a short batch), or long enough since the last
			// write: write the cursor.
			if caughtUp || o.opts.Now().Sub(lastSave) >= o.opts.SaveEvery {
				save()
			}
		}
		if derr != nil {
			save()
			if ctx.Err() != nil {
				return
			}
			fails++
			o.mu.Lock()
			d.failures++
			o.mu.Unlock()
			wait := backoff(fails)
			log.Warn().Err(derr).Uint64("acked", acked).Dur("retry_in", wait).Msg("delivery failed")
			if !o.wait(ctx, wait) {
				return
			}
			continue
		}
		fails = 0
	}
}

func (o *Outbox) wait(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-o.opts.After(d):
		return true
	}
}

// dropped counts n events d will never receive and says so in a
// delivery_dropped event.
func (o *Outbox) dropped(d *dest, reason string, first, last, n uint64) {
	o.mu.Lock()
	d.dropped[reason] += n
	o.mu.Unlock()
	if o.opts.Emit != nil {
		o.opts.Emit(store.Event{Time: o.opts.Now(), Event: door.EvDeliveryDropped, Destination: d.d.Name(),
			Reason: reason, Count: n, FirstSeq: first, LastSeq: last})
	}
}

// Stats returns every destination's figures, in the order they were added.
func (o *Outbox) Stats() []Stat {
	_, last, err := o.log.EventBounds()
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Stat, 0, len(o.dests))
	for _, d := range o.dests {
		s := Stat{Name: d.d.Name(), Cursor: d.cursor, Delivered: d.delivered, Failures: d.failures, Dropped: map[string]uint64{}}
		for _, r := range door.DropReasons() {
			s.Dropped[r] = d.dropped[r]
		}
		if err == nil && last > d.cursor {
			s.Backlog = last - d.cursor
		}
		out = append(out, s)
	}
	return out
}
