package outbox

import (
	"sync"
	"time"
)

// The outbox's rate budget (docs/integrations.md, "Performance"): all
// destinations together are handed at most Options.Rate events a second.
// Delivery on a local network is CPU work end to end — encoding, the
// system calls, the broker's or receiver's own work — and a destination
// that drains a backlog as fast as it can keeps a core busy, and two keep
// two: a door deciding then waits for the operating system to give its
// thread a core, and its decision p99 rises several times over. Within the
// budget, a core stays free for the door. A door writes a few events a
// second, so live events never meet the bound (Batch of them go at once);
// only a backlog drains at Rate.

// paceStep is the time one paced batch is worth: while the budget binds,
// a destination gets batches of Rate × paceStep events (at least one),
// so that the work comes in short steps spread over each second rather
// than in bursts of Batch.
const paceStep = 10 * time.Millisecond

// budget is a token bucket kept as the time at which the events handed so
// far are paid for (tat, the generic cell rate algorithm): handing n events
// moves it n × every later; a destination waits for whatever of it lies
// more than burst in the future.
type budget struct {
	every time.Duration // the time one event is worth: 1 s / Rate
	burst time.Duration // every × Batch: that many go without waiting

	mu  sync.Mutex
	tat time.Time
}

// newBudget is the budget of rate events a second with a burst of burst
// events; nil (no bound) for rate <= 0.
func newBudget(rate float64, burst int) *budget {
	if rate <= 0 {
		return nil
	}
	every := max(time.Duration(float64(time.Second)/rate), 1)
	return &budget{every: every, burst: every * time.Duration(burst)}
}

// step is how many events one batch holds while the budget binds:
// paceStep's worth, at least one and at most batch.
func (b *budget) step(batch int) int {
	if b == nil {
		return batch
	}
	return min(batch, max(1, int(paceStep/b.every)))
}

// take hands n events at now and returns how long the destination waits
// before delivering them (0: at once).
func (b *budget) take(now time.Time, n int) time.Duration {
	if b == nil || n <= 0 {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tat.Before(now) {
		b.tat = now
	}
	b.tat = b.tat.Add(time.Duration(n) * b.every)
	return max(b.tat.Sub(now)-b.burst, 0)
}
