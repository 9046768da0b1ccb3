package quiet

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// DefaultTail is how long a gate stays busy after the time given to Busy:
// a decision takes well under a millisecond (docs/door.md); the rest is
// margin for the goroutine hand-offs between the capture loop, the door
// and the event writer.
const DefaultTail = 3 * time.Millisecond

// Gate says whether the door is busy; safe from any goroutine.
type Gate struct {
	epoch time.Time     // the zero of until (a monotonic reading)
	tail  time.Duration // added to every hold
	until atomic.Int64  // busy until this long after epoch (ns)
	// collecting: Expect's garbage collection is running; collect is
	// runtime.GC and due gcDue (tests put probes in their place).
	collecting atomic.Bool
	collect    func()
	due        func() bool
}

// New returns an idle gate that adds tail to every hold (0: DefaultTail;
// negative: none).
func New(tail time.Duration) *Gate {
	if tail == 0 {
		tail = DefaultTail
	} else if tail < 0 {
		tail = 0
	}
	return &Gate{epoch: time.Now(), tail: tail, collect: runtime.GC, due: gcDue}
}

// Busy holds the gate for d from now (negative: none) and its tail after
// that; a hold never shortens one already in place.
func (g *Gate) Busy(d time.Duration) { g.hold(d) }

// Expect is Busy for a decision that is coming: a reader's capture loop
// calls it for a frame that is arriving, which the door decides d from
// now at the earliest. When it finds the gate idle (the frame's first
// edge) and a garbage collection is due soon (gcDue), it also starts that
// collection in the background (at most one at a time): the collection
// the background work's garbage would otherwise start at whatever instant
// runs now, while the frame is still arriving, and is over before the
// decision (a card's frame takes tens of milliseconds, a collection of
// latchd's heap a few). When none is due, the little the door allocates
// while the background work waits does not make one due.
func (g *Gate) Expect(d time.Duration) {
	if g.hold(d) && g.due() && g.collecting.CompareAndSwap(false, true) {
		go func() {
			defer g.collecting.Store(false)
			g.collect()
		}()
	}
}

// gcDue reports whether the heap has grown more than half of the way from
// what the last collection left to the size at which the runtime starts
// the next one (runtime/metrics).
func gcDue() bool {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	for _, x := range s {
		if x.Value.Kind() != metrics.KindUint64 {
			return true // a runtime without them: collect
		}
	}
	goal, live, now := s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()
	return goal <= live || now >= live+(goal-live)/2
}

// hold holds the gate for d and the tail and reports whether it was idle.
func (g *Gate) hold(d time.Duration) (wasIdle bool) {
	if g == nil {
		return false
	}
	now := int64(time.Since(g.epoch))
	end := now + int64(max(d, 0)+g.tail)
	for {
		cur := g.until.Load()
		if cur >= end {
			return false
		}
		if g.until.CompareAndSwap(cur, end) {
			return cur <= now
		}
	}
}

// Idle reports whether the gate is not held now.
func (g *Gate) Idle() bool { return g.left() <= 0 }

// left is how long the current hold lasts from now (<= 0: none).
func (g *Gate) left() time.Duration {
	if g == nil {
		return 0
	}
	return time.Duration(g.until.Load()) - time.Since(g.epoch)
}

// Wait returns when the gate is idle, or once limit has passed (negative:
// no limit), or when ctx ends; it reports whether ctx was still live.
// A hold that is extended while Wait waits is waited for too.
func (g *Gate) Wait(ctx context.Context, limit time.Duration) bool {
	left := g.left()
	if left <= 0 {
		return ctx.Err() == nil
	}
	start := time.Now()
	var t *time.Timer
	for left > 0 {
		if limit >= 0 {
			rest := limit - time.Since(start)
			if rest <= 0 {
				break
			}
			left = min(left, rest)
		}
		if t == nil {
			t = time.NewTimer(left)
			defer t.Stop()
		} else {
			t.Reset(left)
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		left = g.left()
	}
	return ctx.Err() == nil
}
