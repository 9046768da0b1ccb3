package door

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// blockingAppender blocks every AppendEvents until released, then assigns
// sequence numbers.
type blockingAppender struct {
	release chan struct{}
	mu      sync.Mutex
	seq     uint64
	batches []int
	fail    bool
}

func (a *blockingAppender) AppendEvents(evs []Event) error {
	<-a.release
	a.mu.Lock()
	defer a.mu.Unlock()
	a.batches = append(a.batches, len(evs))
	if a.fail {
		return errors.New("store: disk full")
	}
	for i := range evs {
		a.seq++
		evs[i].Seq = a.seq
	}
	return nil
}

func TestEventWriterNeverBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app := &blockingAppender{release: make(chan struct{})}
		var mu sync.Mutex
		var stored []Event
		w := NewEventWriter(app, func(e Event) { mu.Lock(); stored = append(stored, e); mu.Unlock() }, zerolog.Nop())
		w.MaxBatch = 100
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()
		// The disk is stuck: Emit still returns at once, every time.
		for i := range 1000 {
			w.Emit(Event{Event: EvREX, Door: "front", Reason: string(rune('a' + i%26))})
		}
		synctest.Wait()
		if p := w.Pending(); p < 1000-w.MaxBatch { // at most one batch is in the stuck write
			t.Errorf("pending = %d, want >= %d", p, 1000-w.MaxBatch)
		}
		close(app.release)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if len(stored) != 1000 {
			t.Fatalf("stored %d events, want 1000", len(stored))
		}
		for i, e := range stored {
			if e.Seq != uint64(i+1) {
				t.Fatalf("event %d has seq %d", i, e.Seq)
			}
		}
		for _, n := range app.batches {
			if n > 100 {
				t.Errorf("batch of %d > MaxBatch", n)
			}
		}
	})
}

func TestEventWriterFailureStillLogs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app := &blockingAppender{release: make(chan struct{}), fail: true}
		close(app.release)
		var got []Event
		w := NewEventWriter(app, func(e Event) { got = append(got, e) }, zerolog.Nop())
		ctx, cancel := context.WithCancel(t.Context())
		w.Emit(Event{Event: EvDoorOpened, Seq: 7})
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()
		synctest.Wait()
		cancel()
		<-done
		if diff := cmp.Diff([]Event{{Event: EvDoorOpened}}, got); diff != "" {
			t.Errorf("stored (-want +got):\n%s", diff)
		}
	})
}

func TestEventWriterBounded(t *testing.T) {
	app := &blockingAppender{release: make(chan struct{})}
	w := NewEventWriter(app, nil, zerolog.Nop())
	w.MaxQueue = 10
	for i := range 25 {
		w.Emit(Event{Event: EvREX, Seq: uint64(i)})
	}
	if w.Pending() != 10 || w.Dropped() != 15 {
		t.Errorf("pending %d dropped %d", w.Pending(), w.Dropped())
	}
	// The oldest were dropped: what is left is events 15–24, in order.
	for i, e := range w.q[w.head:] {
		if e.Seq != uint64(15+i) {
			t.Fatalf("queued event %d is #%d, want #%d", i, e.Seq, 15+i)
		}
	}
}

// TestRelayDoesNotWaitForEvents: with the event store stuck, a grant still
// releases the strike.
func TestRelayDoesNotWaitForEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app := &blockingAppender{release: make(chan struct{})}
		w := NewEventWriter(app, nil, zerolog.Nop())
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go w.Run(ctx)
		c, p := testConfig(schedule.AccessControlled)
		c.Now = clockAt(t0)
		d := newDoor(t, c, testCreds(), w)
		go d.Run(ctx)
		d.Submit(reader.Read{Reader: "in", Kind: reader.KindCard, Card: card(100)})
		synctest.Wait()
		if n := len(p.relay.Written()); n < 3 || p.relay.Level() != gpio.High {
			t.Errorf("relay %v: not released while the event store is stuck", p.relay.Written())
		}
		cancel()
		close(app.release)
		time.Sleep(time.Millisecond)
		synctest.Wait()
	})
}

// nopAppender stores nothing and numbers the events.
type nopAppender struct{ seq uint64 }

func (a *nopAppender) AppendEvents(evs []Event) error {
	for i := range evs {
		a.seq++
		evs[i].Seq = a.seq
	}
	return nil
}

// TestEventWriterSteadyStateAllocs: once warmed up, queueing an event and
// flushing it allocates nothing in the writer (the queue's and the batch's
// arrays are kept), in a trickle and in batches; a backlog's large array is
// let go when the queue empties.
func TestEventWriterSteadyStateAllocs(t *testing.T) {
	w := NewEventWriter(&nopAppender{}, func(Event) {}, zerolog.Nop())
	ev := Event{Event: EvAccessGranted, Door: "front", Reader: "in", UserID: "u0000000000000001"}
	for _, per := range []int{1, 3, 300} {
		for range 3 { // warm up: the arrays reach their size
			for range per {
				w.Emit(ev)
			}
			w.flush(false)
		}
		if a := testing.AllocsPerRun(100, func() {
			for range per {
				w.Emit(ev)
			}
			w.flush(false)
		}); a != 0 {
			t.Errorf("%d events per flush: %.1f allocs per round, want 0", per, a)
		}
	}
	for range 5000 {
		w.Emit(ev)
	}
	w.flush(false)
	if w.Pending() != 0 || cap(w.q) != 0 {
		t.Errorf("after a 5000-event backlog: pending %d, queue capacity %d kept, want 0 and 0", w.Pending(), cap(w.q))
	}
}

// TestEventWriterDropsWrapAround: at MaxQueue the oldest go, and the kept
// array is reused (moved down) without losing order.
func TestEventWriterDropsWrapAround(t *testing.T) {
	w := NewEventWriter(&nopAppender{}, nil, zerolog.Nop())
	w.MaxQueue = 8
	for i := range 100 {
		w.Emit(Event{Event: EvREX, Count: uint64(i)})
	}
	if w.Pending() != 8 || w.Dropped() != 92 || cap(w.q) > 32 {
		t.Fatalf("pending %d dropped %d cap %d, want 8, 92, ≤ 32", w.Pending(), w.Dropped(), cap(w.q))
	}
	for i, e := range w.q[w.head:] {
		if e.Count != uint64(92+i) {
			t.Fatalf("queued event %d is #%d, want #%d", i, e.Count, 92+i)
		}
	}
}
