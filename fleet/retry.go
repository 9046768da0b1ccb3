package fleet

import (
	"context"
	"time"
)

// backoff is the pause of a loop that runs a NATS task again after it
// stopped (sync, lockdown watch, event ingest): a second, doubled after
// each wait up to max, a second again after a reconnect or progress.
type backoff struct {
	pause, max time.Duration
}

func newBackoff(limit time.Duration) backoff { return backoff{pause: time.Second, max: limit} }

// reset starts the pause again at a second.
func (b *backoff) reset() { b.pause = time.Second }

// wait waits the pause, or until reconnect fires (nil: never), which
// resets it; false when ctx ended first.
func (b *backoff) wait(ctx context.Context, reconnect <-chan struct{}) bool {
	select {
	case <-ctx.Done():
		return false
	case <-reconnect:
		b.reset()
	case <-time.After(b.pause):
		b.pause = min(2*b.pause, b.max)
	}
	return true
}

// distinctErr keeps a retry loop to one log line per distinct error, not
// one per retry.
type distinctErr struct{ last string }

// isNew reports whether err is to be logged: not nil and not the last one
// logged.
func (d *distinctErr) isNew(err error) bool {
	if err == nil || err.Error() == d.last {
		return false
	}
	d.last = err.Error()
	return true
}
