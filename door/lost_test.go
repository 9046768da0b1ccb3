package door

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/latchd/latch/store"
)

// fullDisk is a real store whose writes fail with ENOSPC while full is
// set, as bbolt's do when the SD card is full (the fault-injection seam: a
// full filesystem cannot be made in a test).
type fullDisk struct {
	*store.Store
	full atomic.Bool
}

func (f *fullDisk) AppendEvents(evs []Event) error {
	if f.full.Load() {
		return fmt.Errorf("store: append events: write latch.db: %w", syscall.ENOSPC)
	}
	return f.Store.AppendEvents(evs)
}

// TestEventsLostAreCounted: with the disk full, every event not stored is
// counted (OnLost, write_failed) and, when the disk is back, the first
// batch stored is preceded by an events_lost event with the count, the
// first and last time and the kinds; the events after it are stored as
// usual. Dropping from a full queue counts as well (queue_full).
func TestEventsLostAreCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := tempStore(t)
		disk := &fullDisk{Store: st}
		var mu sync.Mutex
		lost := map[string]int{}
		var logged []Event
		w := NewEventWriter(disk, func(e Event) { mu.Lock(); logged = append(logged, e); mu.Unlock() }, zerolog.Nop())
		w.OnLost = func(reason string, n int) { mu.Lock(); lost[reason] += n; mu.Unlock() }
		w.MaxBatch = 100
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()

		start := time.Now() // the bubble's clock: 2000-01-01 UTC
		disk.full.Store(true)
		const n = 3000
		for i := range n {
			kind := EvDoorOpened
			if i%3 == 0 {
				kind = EvAccessGranted
			}
			w.Emit(Event{Time: start.Add(time.Duration(i) * time.Second), Event: kind, Door: "front"})
			if i%500 == 0 {
				synctest.Wait() // let the writer fail a few batches on the way
			}
		}
		synctest.Wait()
		mu.Lock()
		if lost[LostWriteFailed] != n || w.Lost() != n {
			t.Errorf("counted lost %v (Lost %d), want %d write_failed", lost, w.Lost(), n)
		}
		mu.Unlock()
		if evs, _ := st.Events(store.EventQuery{Limit: 10}); len(evs) != 0 {
			t.Fatalf("stored %d events on a full disk", len(evs))
		}

		// The disk is back: the next event is stored after an events_lost.
		disk.full.Store(false)
		time.Sleep(time.Hour)
		w.Emit(Event{Time: time.Now(), Event: EvDoorClosed, Door: "front"})
		synctest.Wait()
		evs, err := st.Events(store.EventQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		want := []Event{
			{Seq: 1, Time: time.Now().UTC(), Event: EvEventsLost, Count: n,
				First: "2000-01-01T00:00:00.000Z", Last: "2000-01-01T00:49:59.000Z",
				Kinds: map[string]uint64{EvAccessGranted: n / 3, EvDoorOpened: n - n/3}},
			{Seq: 2, Time: time.Now().UTC(), Event: EvDoorClosed, Door: "front"},
		}
		if d := cmp.Diff(want, evs); d != "" {
			t.Errorf("stored after the disk came back (-want +got):\n%s", d)
		}
		mu.Lock()
		if len(logged) != n+2 || logged[n].Event != EvEventsLost || logged[n].Seq != 1 {
			t.Errorf("logged %d events (the %d lost ones without seq, then events_lost and door_closed); event %d: %+v", len(logged), n, n, logged[min(n, len(logged)-1)])
		}
		mu.Unlock()

		// Nothing lost since: no second events_lost.
		w.Emit(Event{Time: time.Now(), Event: EvREX, Door: "front"})
		synctest.Wait()
		if evs, _ := st.Events(store.EventQuery{After: 2}); len(evs) != 1 || evs[0].Event != EvREX {
			t.Errorf("after: %+v, want only the rex", evs)
		}

		// A full queue loses the oldest: counted as queue_full, said when stored.
		w.MaxQueue = 2
		disk.full.Store(true)
		cancel()
		<-done
		for i := range 5 {
			w.Emit(Event{Time: start.Add(time.Duration(i) * time.Minute), Event: EvREX, Door: "front"})
		}
		mu.Lock()
		if lost[LostQueueFull] != 3 {
			t.Errorf("queue_full lost %d, want 3", lost[LostQueueFull])
		}
		mu.Unlock()
		disk.full.Store(false)
		ctx, cancel = context.WithCancel(t.Context())
		go func() { done <- w.Run(ctx) }()
		synctest.Wait()
		cancel()
		<-done
		evs, _ = st.Events(store.EventQuery{After: 3})
		if len(evs) != 3 || evs[0].Event != EvEventsLost || evs[0].Count != 3 || evs[0].First != "2000-01-01T00:00:00.000Z" || evs[0].Last != "2000-01-01T00:02:00.000Z" {
			t.Errorf("after the queue overflow: %+v, want events_lost (3, 00:00–00:02) then the 2 kept", evs)
		}
	})
}

// TestEventsLostSaidAtStop: events lost with nothing after them are said
// at the writer's last flush when the disk is back by then.
func TestEventsLostSaidAtStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := tempStore(t)
		disk := &fullDisk{Store: st}
		disk.full.Store(true)
		w := NewEventWriter(disk, nil, zerolog.Nop())
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()
		w.Emit(Event{Time: time.Now(), Event: EvREX, Door: "front"})
		synctest.Wait()
		disk.full.Store(false)
		cancel()
		<-done
		evs, _ := st.Events(store.EventQuery{})
		if len(evs) != 1 || evs[0].Event != EvEventsLost || evs[0].Count != 1 || evs[0].Kinds[EvREX] != 1 {
			t.Errorf("stored %+v, want one events_lost for the rex", evs)
		}
	})
}
