package outbox

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/latchd/latch/quiet"
	"github.com/latchd/latch/store/storetest"
)

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
