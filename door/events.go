package door

import (
	"context"
	"sync"

	"github.com/rs/zerolog"
)

// Appender stores events; *store.Store implements it. AppendEvents assigns
// each event's Seq in place.
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
type EventWriter struct {
	app    Appender
	stored func(Event)
	log    zerolog.Logger

	// MaxBatch bounds one AppendEvents call (default 256).
	MaxBatch int
	// MaxQueue bounds the in-memory queue (default 1<<20).
	MaxQueue int

	mu      sync.Mutex
	q       []Event
	dropped uint64
	wake    chan struct{}
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
	if w.MaxQueue > 0 && len(w.q) >= w.MaxQueue {
		w.q[0] = Event{}
		w.q = w.q[1:]
		w.dropped++
	}
	w.q = append(w.q, ev)
	w.mu.Unlock()
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
	return len(w.q)
}

// Run writes queued events until ctx ends, then writes what is still queued
// and returns.
func (w *EventWriter) Run(ctx context.Context) error {
	for {
		w.flush()
		select {
		case <-ctx.Done():
			w.flush()
			return nil
		case <-w.wake:
		}
	}
}

func (w *EventWriter) flush() {
	for {
		w.mu.Lock()
		n := min(len(w.q), max(w.MaxBatch, 1))
		if n == 0 {
			w.mu.Unlock()
			return
		}
		batch := make([]Event, n)
		copy(batch, w.q[:n])
		clear(w.q[:n])
		w.q = w.q[n:]
		if len(w.q) == 0 {
			w.q = nil // let the backing array go
		}
		w.mu.Unlock()
		if err := w.app.AppendEvents(batch); err != nil {
			w.log.Error().Err(err).Int("events", n).Msg("event write failed; events logged without seq")
			for i := range batch {
				batch[i].Seq = 0
			}
		}
		if w.stored != nil {
			for _, ev := range batch {
				w.stored(ev)
			}
		}
	}
}
