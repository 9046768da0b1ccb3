package outbox

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/latchd/latch/quiet"
	"github.com/latchd/latch/store"
	"github.com/latchd/latch/store/storetest"
)

func TestBudgetTake(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	b := newBudget(1000, 100) // 1 ms an event, 100 at once
	if w := b.take(t0, 100); w != 0 {
		t.Fatalf("a burst of 100 waits %s, want 0", w)
	}
	if w := b.take(t0, 10); w != 10*time.Millisecond {
		t.Fatalf("10 more at once wait %s, want 10ms", w)
	}
	if w := b.take(t0.Add(5*time.Millisecond), 10); w != 15*time.Millisecond {
		t.Fatalf("10 more 5 ms later wait %s, want 15ms", w)
	}
	// A second of nothing pays everything back: a burst goes at once.
	if w := b.take(t0.Add(2*time.Second), 100); w != 0 {
		t.Fatalf("a burst after a quiet second waits %s", w)
	}
	if got := b.step(100); got != 10 {
		t.Errorf("step at 1000/s = %d, want 10 (10 ms worth)", got)
	}
	if got := newBudget(50, 100).step(100); got != 1 {
		t.Errorf("step at 50/s = %d, want at least 1", got)
	}
	if got := newBudget(1e6, 100).step(100); got != 100 {
		t.Errorf("step at 1e6/s = %d, want at most Batch", got)
	}
	var none *budget = newBudget(-1, 100)
	if none != nil || none.take(t0, 1e6) != 0 || none.step(100) != 100 {
		t.Error("a negative rate must be no bound")
	}
}

// virtualClock is Now and After for tests: the test sees every wait,
// moves the clock by it and ends it.
type virtualClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan virtualWait
}

type virtualWait struct {
	d  time.Duration
	ch chan time.Time
}

func newVirtualClock() *virtualClock {
	return &virtualClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), waits: make(chan virtualWait)}
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.waits <- virtualWait{d, ch}
	return ch
}

// pass ends w after moving the clock by its duration.
func (c *virtualClock) pass(w virtualWait) {
	c.mu.Lock()
	c.now = c.now.Add(w.d)
	now := c.now
	c.mu.Unlock()
	w.ch <- now
}

// paced starts an outbox of Batch 20 and Rate 1000 on a test store and the
// virtual clock, with dests, and appends a backlog of 100 events to the
// store; it returns the store, the clock and the clock's time then.
func paced(t *testing.T, dests ...Destination) (*store.Store, *virtualClock, time.Time) {
	st := storetest.Temp(t)
	clk := newVirtualClock()
	ob := New(st, Options{Batch: 20, Rate: 1000, Now: clk.Now, After: clk.After})
	for _, d := range dests {
		ob.Add(d)
	}
	start(t, ob)
	t0 := clk.Now()
	appendN(t, st, 100)
	return st, clk, t0
}

// TestRateBoundsABacklog: a backlog is handed in a burst of Batch, then
// in steps of 10 ms of the budget, each when it is due; nothing is lost
// or reordered; once caught up, new events go at once again.
func TestRateBoundsABacklog(t *testing.T) {
	r := newRecorder("r")
	st, clk, t0 := paced(t, r)
	var got []uint64
	var sizes []int
	waited := time.Duration(0)
	for len(got) < 100 {
		select {
		case w := <-clk.waits:
			waited += w.d
			clk.pass(w)
		case b := <-r.batches:
			// The budget: never more than the burst plus what the
			// time that passed pays for.
			if max := 20 + int(clk.Now().Sub(t0)/time.Millisecond); len(got)+len(b) > max {
				t.Fatalf("%d events handed %s after the start, the budget allows %d", len(got)+len(b), clk.Now().Sub(t0), max)
			}
			got = append(got, seqs(b)...)
			sizes = append(sizes, len(b))
			r.answers <- answer{acked: b[len(b)-1].Seq}
		case <-time.After(10 * time.Second):
			t.Fatalf("stuck after %d events", len(got))
		}
	}
	for i, s := range got {
		if s != uint64(i+1) {
			t.Fatalf("delivered %v, want 1–100 in order", got)
		}
	}
	// 20 at once, then 80 at 1 ms each.
	if waited != 80*time.Millisecond {
		t.Errorf("waited %s in all, want 80ms", waited)
	}
	if sizes[0] != 20 || sizes[1] != 20 {
		t.Errorf("batches %v: want the burst of 20, then the read of 20 that met the budget", sizes)
	}
	for _, n := range sizes[2:] {
		if n != 10 {
			t.Errorf("batches %v: paced batches must be 10 ms worth (10)", sizes)
			break
		}
	}
	waitCursor(t, st, "r", 100)
	// A quiet second later the burst is available again: a live event
	// goes at once, and so do 20.
	clk.mu.Lock()
	clk.now = clk.now.Add(time.Second)
	clk.mu.Unlock()
	appendN(t, st, 20)
	n := 0
	for n < 20 {
		select {
		case w := <-clk.waits:
			t.Fatalf("a live burst of 20 waited %s for the budget", w.d)
		case b := <-r.batches:
			n += len(b)
			r.ackAll(b)
		case <-time.After(10 * time.Second):
			t.Fatal("live events not delivered")
		}
	}
	waitCursor(t, st, "r", 120)
}

// TestRateIsShared: two destinations draining a backlog share one
// budget: together they never get more than it allows.
func TestRateIsShared(t *testing.T) {
	a, b := newRecorder("a"), newRecorder("b")
	_, clk, t0 := paced(t, a, b)
	got := map[string][]uint64{}
	total := 0
	for total < 200 {
		var batch []store.Event
		var r *recorder
		select {
		case w := <-clk.waits:
			clk.pass(w)
			continue
		case batch = <-a.batches:
			r = a
		case batch = <-b.batches:
			r = b
		case <-time.After(10 * time.Second):
			t.Fatalf("stuck after %d events", total)
		}
		total += len(batch)
		if max := 20 + int(clk.Now().Sub(t0)/time.Millisecond); total > max {
			t.Fatalf("%d events handed to both %s after the start, the shared budget allows %d", total, clk.Now().Sub(t0), max)
		}
		got[r.name] = append(got[r.name], seqs(batch)...)
		r.ackAll(batch)
	}
	for _, name := range []string{"a", "b"} {
		if s := got[name]; len(s) != 100 || s[0] != 1 || s[99] != 100 {
			t.Errorf("%s got %d events, want 1–100", name, len(s))
		}
	}
	if el := clk.Now().Sub(t0); el < 180*time.Millisecond {
		t.Errorf("200 events with a burst of 20 at 1000/s took %s, want at least 180ms", el)
	}
}

// rated is a recorder with a budget of its own (a Rater).
type rated struct {
	*recorder
	rate float64
}

func (r rated) Rate() float64 { return r.rate }

// TestRaterHasItsOwnBudget: a Rater drains at its own rate (here none),
// whatever the shared budget; the others still share theirs.
func TestRaterHasItsOwnBudget(t *testing.T) {
	fast := rated{newRecorder("fast"), -1}
	plain := newRecorder("plain")
	st, clk, t0 := paced(t, fast, plain)
	// No wait is let end: the Rater gets all 100 with the clock standing
	// still, while plain has its burst and then waits.
	gotFast, gotPlain := 0, 0
	for gotFast < 100 {
		select {
		case b := <-fast.batches:
			gotFast += len(b)
			fast.ackAll(b)
		case b := <-plain.batches:
			gotPlain += len(b)
			plain.ackAll(b)
		case <-time.After(10 * time.Second):
			t.Fatalf("the Rater got %d events with the clock still: its budget is not its own", gotFast)
		}
	}
	if gotPlain > 20 {
		t.Fatalf("plain got %d events with the clock still, its budget allows 20", gotPlain)
	}
	for gotPlain < 100 {
		select {
		case w := <-clk.waits:
			clk.pass(w)
		case b := <-plain.batches:
			gotPlain += len(b)
			if max := 20 + int(clk.Now().Sub(t0)/time.Millisecond); gotPlain > max {
				t.Fatalf("plain got %d events %s after the start, the budget allows %d", gotPlain, clk.Now().Sub(t0), max)
			}
			plain.ackAll(b)
		case <-time.After(10 * time.Second):
			t.Fatalf("plain stuck at %d", gotPlain)
		}
	}
	waitCursor(t, st, "fast", 100)
	waitCursor(t, st, "plain", 100)
}

// TestDeliveryWaitsForTheDoors: a batch is not handed to a destination
// while the doors' gate is held (a frame arriving, a decision); it goes as
// soon as the hold ends, and after GateLimit when the hold never ends (a
// chattering reader slows delivery, never stops it). Nothing is lost: the
// events still go in order. The bubble's clock is the gate's.
func TestDeliveryWaitsForTheDoors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := storetest.Temp(t)
		g := quiet.New(-1) // no tail: the holds below are the whole wait
		r := newRecorder("r")
		ob := New(st, Options{Gate: g})
		ob.Add(r)
		stop := start(t, ob)
		defer stop()

		t0 := time.Now()
		g.Busy(50 * time.Millisecond)
		appendN(t, st, 3)
		b := r.next(t)
		if d := time.Since(t0); d != 50*time.Millisecond {
			t.Errorf("the batch went %v after the hold began, want when it ended (50ms)", d)
		}
		if got := seqs(b); len(got) != 3 || got[0] != 1 || got[2] != 3 {
			t.Fatalf("delivered %v, want 1–3", got)
		}
		r.ackAll(b)

		// An idle gate: at once.
		synctest.Wait()
		t1 := time.Now()
		appendN(t, st, 1)
		b = r.next(t)
		if d := time.Since(t1); d != 0 {
			t.Errorf("with the doors idle the batch waited %v", d)
		}
		r.ackAll(b)

		// A hold that never ends: GateLimit.
		synctest.Wait()
		t2 := time.Now()
		g.Busy(time.Hour)
		appendN(t, st, 1)
		b = r.next(t)
		if d := time.Since(t2); d != GateLimit {
			t.Errorf("under an endless hold the batch waited %v, want GateLimit (%v)", d, GateLimit)
		}
		if got := seqs(b); len(got) != 1 || got[0] != 5 {
			t.Fatalf("delivered %v, want 5", got)
		}
		r.ackAll(b)
	})
}
