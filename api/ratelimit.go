package api

import (
	"sync"
	"time"
)

// limiter is a token bucket per peer for failed authentications. A peer
// starts with burst tokens; each failure takes one; tokens come back at one
// per refill. A peer whose bucket is empty is refused before its token is
// even checked, so guessing gains nothing.
type limiter struct {
	burst  float64
	refill time.Duration
	now    func() time.Time
	max    int // peers tracked; beyond it, full buckets are dropped first

	mu    sync.Mutex
	peers map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, refill time.Duration, now func() time.Time) *limiter {
	return &limiter{burst: float64(burst), refill: refill, now: now, max: 10000, peers: map[string]*bucket{}}
}

// levelLocked brings b's tokens up to now.
func (l *limiter) levelLocked(b *bucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 && l.refill > 0 {
		b.tokens += float64(d) / float64(l.refill)
		if b.tokens > l.burst {
			b.tokens = l.burst
		}
	}
	b.at = now
}

// allow reports whether peer may try to authenticate now, and if not, how
// long until it may.
func (l *limiter) allow(peer string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.peers[peer]
	if !ok {
		return true, 0
	}
	l.levelLocked(b, l.now())
	if b.tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.refill))
}

// fail takes one token from peer's bucket.
func (l *limiter) fail(peer string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.peers[peer]
	if !ok {
		if len(l.peers) >= l.max {
			l.pruneLocked(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.peers[peer] = b
	}
	l.levelLocked(b, now)
	b.tokens--
	if b.tokens < 0 {
		b.tokens = 0
	}
}

// pruneLocked forgets peers whose buckets have refilled; if none has, it
// forgets an arbitrary half so memory stays bounded under a spray of peers.
func (l *limiter) pruneLocked(now time.Time) {
	for p, b := range l.peers {
		l.levelLocked(b, now)
		if b.tokens >= l.burst {
			delete(l.peers, p)
		}
	}
	if len(l.peers) < l.max {
		return
	}
	n := len(l.peers) / 2
	for p := range l.peers {
		if n == 0 {
			break
		}
		delete(l.peers, p)
		n--
	}
}
