package quiet

import (
	"context"
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
}

// New returns an idle gate that adds tail to every hold (0: DefaultTail;
// negative: none).
func New(tail time.Duration) *Gate {
	if tail == 0 {
		tail = DefaultTail
	} else if tail < 0 {
		tail = 0
	}
	return &Gate{epoch: time.Now(), tail: tail}
}

// Busy holds the gate for d from now (negative: none) and its tail after
// that; a hold never shortens one already in place.
func (g *Gate) Busy(d time.Duration) {
	if g == nil {
		return
	}
	end := int64(time.Since(g.epoch) + max(d, 0) + g.tail)
	for {
		cur := g.until.Load()
		if cur >= end || g.until.CompareAndSwap(cur, end) {
			return
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
