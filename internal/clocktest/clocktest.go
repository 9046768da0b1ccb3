// Package clocktest is the hand-moved clock of tests: a Now func for the
// Now seams of store, door and api that only moves when the test says.
// Unlike testing/synctest's bubble time, no timer follows it, so a test
// can put the wall clock past a deadline before any timer fires.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a time the test sets and moves; safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
