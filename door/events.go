package door

import (
	"context"
	"sync"
	"time"

	"github.com/latchd/latch/store"
	"github.com/rs/zerolog"
)

// Appender stores events; *store.Store implements it. AppendEvents assigns
// each event's Seq in place. It must not keep evs after it returns: the
// writer reuses the slice for its next batch.
type Appender interface {
	AppendEvents(evs []Event) error
}

// EventWriter decouples the door from the event log's disk writes: Emit
// queues an event in memory and returns at once; Run writes queued events in
// batches with one AppendEvents each and hands every event, with its Seq, to
// the stored callback (latchd logs it there). An event whose write failed is
// still handed on, with Seq 0, so that it reaches the log.
//
// The queue is bounded only by MaxQueue (default 1<<20 events, a few
// hundred MiB at worst); beyond it the oldest queued event is dropped and
// counted (Dropped), so that a dead disk cannot exhaust memory.
//
// No event goes missing unsaid: every event not stored (its write failed,
// or it was dropped from a full queue) is counted through OnLost and
// remembered (how many, the first and last time, how many of each kind);
// the next write that succeeds stores an events_lost event saying so
// first, in the same AppendEvents as the batch it precedes.
type EventWriter struct {
	app    Appender
	stored func(Event)
	log    zerolog.Logger

	// MaxBatch bounds one AppendEvents call (default 256).
	MaxBatch int
	// MaxQueue bounds the in-memory queue (default 1<<20).
	MaxQueue int
	// OnLost, when set, hears of n events lost for reason (LostWriteFailed,
	// LostQueueFull): latchd counts them in latch_events_dropped_total.
	// Set it before Run; it is called without the writer's lock held.
	OnLost func(reason string, n int)
	// Now is the clock of the events_lost event; nil = time.Now.
	Now func() time.Time

	mu sync.Mutex
	// q[head:] are the queued events. The backing array is kept from one
	// flush to the next (head goes back to 0 when the queue empties), so
	// a steady trickle of events allocates nothing; it is let go only when
	// a backlog grew it past keepQueue.
	q       []Event
	head    int
	batch   []Event // flush's buffer, reused; only flush touches it
	dropped uint64
	lost    lostEvents // lost and not yet said so in a stored events_lost
	// lostTotal counts every event lost since the start (Lost).
	lostTotal uint64
	wake      chan struct{}
	// emitted counts Emit calls, handed the events since handed to the
	// Appender or dropped; barriers wait for handed to reach their mark.
	emitted, handed uint64
	barriers        []barrier
}

// barrier is a Barrier's channel and the emitted count it waits for.
type barrier struct {
	mark uint64
	ch   chan struct{}
}

// Barrier returns a channel that is closed once every event emitted before
// the call has been handed to the Appender (stored, or its write failed and
// it was counted lost) or dropped from a full queue. The duress latch
// stores its event after it, so that a duress event follows its grant.
func (w *EventWriter) Barrier() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := make(chan struct{})
	if w.handed >= w.emitted {
		close(ch)
		return ch
	}
	w.barriers = append(w.barriers, barrier{mark: w.emitted, ch: ch})
	return ch
}

// passed counts n events handed on and closes the barriers reached (mu held).
func (w *EventWriter) passed(n int) {
	w.handed += uint64(n)
	kept := w.barriers[:0]
	for _, b := range w.barriers {
		if b.mark <= w.handed {
			close(b.ch)
		} else {
			kept = append(kept, b)
		}
	}
	clear(w.barriers[len(kept):])
	w.barriers = kept
}

// keepQueue is the largest queue capacity (in events) the writer keeps
// once the queue is empty; a larger backing array (a backlog while the disk
// was slow) is let go.
const keepQueue = 1024

// lostEvents sums up events that were never stored.
type lostEvents struct {
	count       uint64
	first, last time.Time
	kinds       map[string]uint64
}

func (l *lostEvents) add(ev Event) {
	if ev.Event == EvEventsLost { // a summary that was not stored: its events are still in l
		return
	}
	l.count++
	if !ev.Time.IsZero() {
		if l.first.IsZero() || ev.Time.Before(l.first) {
			l.first = ev.Time
		}
		if ev.Time.After(l.last) {
			l.last = ev.Time
		}
	}
	if l.kinds == nil {
		l.kinds = map[string]uint64{}
	}
	l.kinds[ev.Event]++
}

func (l *lostEvents) merge(o lostEvents) {
	if o.count == 0 {
		return
	}
	l.count += o.count
	if !o.first.IsZero() && (l.first.IsZero() || o.first.Before(l.first)) {
		l.first = o.first
	}
	if o.last.After(l.last) {
		l.last = o.last
	}
	if l.kinds == nil {
		l.kinds = map[string]uint64{}
	}
	for k, n := range o.kinds {
		l.kinds[k] += n
	}
}

// event is the events_lost event for l, at now.
func (l *lostEvents) event(now time.Time) Event {
	ev := Event{Time: now, Event: EvEventsLost, Count: l.count, Kinds: l.kinds}
	if !l.first.IsZero() {
		ev.First = l.first.UTC().Format(store.TimeFormat)
		ev.Last = l.last.UTC().Format(store.TimeFormat)
	}
	return ev
}

// NewEventWriter returns a writer into app; stored may be nil.
func NewEventWriter(app Appender, stored func(Event), log zerolog.Logger) *EventWriter {
	return &EventWriter{
		app:      app,
		stored:   stored,
		log:      log.With().Str("component", "events").Logger(),
		MaxBatch: 256,
		MaxQueue: 1 << 20,
		wake:     make(chan struct{}, 1),
	}
}

// Emit queues ev. It never blocks on I/O.
func (w *EventWriter) Emit(ev Event) {
	w.mu.Lock()
	full := w.MaxQueue > 0 && len(w.q)-w.head >= w.MaxQueue
	if full {
		w.lost.add(w.q[w.head])
		w.lostTotal++
		w.q[w.head] = Event{}
		w.head++
		w.dropped++
		w.passed(1)
	}
	w.emitted++
	if w.head > 0 && len(w.q) == cap(w.q) {
		// Full array with dropped or written events at its front: move
		// the queue down instead of growing (amortised: at least half of
		// it is free when head is past the middle, else append doubles).
		if w.head >= len(w.q)/2 {
			n := copy(w.q, w.q[w.head:])
			clear(w.q[n:])
			w.q = w.q[:n]
			w.head = 0
		}
	}
	w.q = append(w.q, ev)
	w.mu.Unlock()
	if full && w.OnLost != nil {
		w.OnLost(LostQueueFull, 1)
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Dropped is how many events were dropped because the queue was full.
func (w *EventWriter) Dropped() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

// Pending is how many events are queued and not yet written.
func (w *EventWriter) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.q) - w.head
}

// Run writes queued events until ctx ends, then writes what is still queued
// and returns.
func (w *EventWriter) Run(ctx context.Context) error {
	for {
		w.flush(false)
		select {
		case <-ctx.Done():
			// The last flush also tries an events_lost left unsaid, with
			// no event behind it: the disk may be back by now.
			w.flush(true)
			return nil
		case <-w.wake:
		}
	}
}

// Lost is how many events were never stored: their write failed or they
// were dropped from a full queue (Dropped counts those alone).
func (w *EventWriter) Lost() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lostTotal
}

func (w *EventWriter) flush(final bool) {
	for {
		w.mu.Lock()
		n := min(len(w.q)-w.head, max(w.MaxBatch, 1))
		lost := w.lost
		if n == 0 && (!final || lost.count == 0) {
			w.mu.Unlock()
			return
		}
		w.lost = lostEvents{}
		batch := w.batch[:0]
		if cap(batch) < n+1 {
			batch = make([]Event, 0, max(w.MaxBatch, 1)+1)
		}
		if lost.count > 0 {
			// Said first: the lost events happened before this batch's.
			batch = append(batch, lost.event(w.now()))
		}
		batch = append(batch, w.q[w.head:w.head+n]...)
		clear(w.q[w.head : w.head+n])
		w.head += n
		if w.head == len(w.q) {
			w.q, w.head = w.q[:0], 0
			if cap(w.q) > keepQueue {
				w.q = nil // a backlog's array: let it go
			}
		}
		w.mu.Unlock()
		err := w.app.AppendEvents(batch)
		w.mu.Lock()
		w.passed(n)
		w.mu.Unlock()
		if err != nil {
			w.log.Error().Err(err).Int("events", n).Msg("event write failed; events logged without seq")
			for i := range batch {
				batch[i].Seq = 0
				lost.add(batch[i])
			}
			w.mu.Lock()
			w.lostTotal += uint64(n)
			w.lost.merge(lost)
			w.mu.Unlock()
			if n > 0 && w.OnLost != nil {
				w.OnLost(LostWriteFailed, n)
			}
			if lost.count > 0 && n == 0 {
				return // only the summary, and it failed: try again with the next event
			}
		} else if lost.count > 0 {
			w.log.Warn().Uint64("lost", lost.count).Msg("events stored again; the lost ones are counted in an events_lost event")
		}
		if w.stored != nil {
			for _, ev := range batch {
				if ev.Event == EvEventsLost && ev.Seq == 0 {
					continue // not stored: still pending, said with a later batch
				}
				w.stored(ev)
			}
		}
		// The batch's events are handed on by value: drop their references
		// and keep the buffer (a large one only if batches are large).
		clear(batch)
		if cap(batch) <= 2*(max(w.MaxBatch, 1)+1) {
			w.batch = batch[:0]
		} else {
			w.batch = nil
		}
	}
}

func (w *EventWriter) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}
