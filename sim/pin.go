package sim

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Change is one level change of a fake pin and when it happened.
type Change struct {
	At    time.Time
	Level gpio.Level
}

// OutPin is a fake output line (relay, LED, beeper). It implements
// periph's gpio.PinOut and records every level change with the time its
// clock gives, so tests and scenarios can check what the door drove and
// when. Like gpiocdev.Output it starts at an initial level and Halt
// returns to it. Safe for concurrent use.
type OutPin struct {
	name    string
	now     func() time.Time
	initial gpio.Level

	mu      sync.Mutex
	level   gpio.Level
	history []Change
	writes  int
}

var _ gpio.PinOut = (*OutPin)(nil)

// NewOutPin returns a fake output at initial level. now is the clock for
// the recorded times (nil: time.Now, which is virtual under synctest).
// The initial level is recorded as the first Change.
func NewOutPin(name string, initial gpio.Level, now func() time.Time) *OutPin {
	if now == nil {
		now = time.Now
	}
	return &OutPin{name: name, now: now, initial: initial, level: initial, history: []Change{{At: now(), Level: initial}}}
}

// String returns the name.
func (p *OutPin) String() string { return p.name }

// Name returns the name.
func (p *OutPin) Name() string { return p.name }

// Number returns -1: a fake has no GPIO number.
func (p *OutPin) Number() int { return -1 }

// Function returns "Out/High" or "Out/Low".
func (p *OutPin) Function() string { return "Out/" + p.Level().String() }

// Out sets the level; a change is recorded with its time.
func (p *OutPin) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes++
	if l != p.level {
		p.level = l
		p.history = append(p.history, Change{At: p.now(), Level: l})
	}
	return nil
}

// PWM is not supported.
func (p *OutPin) PWM(gpio.Duty, physic.Frequency) error {
	return fmt.Errorf("sim: %s: PWM not supported", p.name)
}

// Halt drives the initial level.
func (p *OutPin) Halt() error { return p.Out(p.initial) }

// Level returns the current level.
func (p *OutPin) Level() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// History returns every level change so far, the initial level first.
func (p *OutPin) History() []Change {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.history)
}

// Writes counts Out calls, changing the level or not.
func (p *OutPin) Writes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writes
}

// InPin is a fake input line (door position switch, exit button) that a
// test or scenario drives with Set. It implements periph's gpio.PinIn;
// edges are also delivered, with their time, on Edges for a select loop.
// Safe for concurrent use.
type InPin struct {
	name  string
	now   func() time.Time
	edges chan Change

	mu      sync.Mutex
	level   gpio.Level
	pull    gpio.Pull
	edge    gpio.Edge
	pending int           // edges not yet seen by WaitForEdge
	sub     bool          // Edges was called: deliver on the channel
	signal  chan struct{} // wakes WaitForEdge
	history []Change
}

var _ gpio.PinIn = (*InPin)(nil)

// EdgeBuffer is how many edges InPin.Edges holds; Set blocks when it is
// full, so a test never loses an edge silently.
const EdgeBuffer = 256

// NewInPin returns a fake input at level initial. now is the clock for
// edge times (nil: time.Now).
func NewInPin(name string, initial gpio.Level, now func() time.Time) *InPin {
	if now == nil {
		now = time.Now
	}
	return &InPin{name: name, now: now, level: initial, edge: gpio.BothEdges,
		edges: make(chan Change, EdgeBuffer), signal: make(chan struct{}, 1),
		history: []Change{{At: now(), Level: initial}}}
}

// Set drives the pin's level from outside (the door opening, a button
// pressed). A change sends an edge on Edges and wakes WaitForEdge when it
// matches the edge mode set with In.
func (p *InPin) Set(l gpio.Level) {
	p.mu.Lock()
	if l == p.level {
		p.mu.Unlock()
		return
	}
	p.level = l
	c := Change{At: p.now(), Level: l}
	p.history = append(p.history, c)
	match := p.edge == gpio.BothEdges || (p.edge == gpio.RisingEdge && l == gpio.High) || (p.edge == gpio.FallingEdge && l == gpio.Low)
	if match {
		p.pending++
		select {
		case p.signal <- struct{}{}:
		default:
		}
	}
	sub := p.sub
	p.mu.Unlock()
	if match && sub {
		p.edges <- c
	}
}

// Edges delivers every matching level change with its time, from the
// first call of Edges on. Set blocks while the channel is full
// (EdgeBuffer), so a reader must keep up.
func (p *InPin) Edges() <-chan Change {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sub = true
	return p.edges
}

// String returns the name.
func (p *InPin) String() string { return p.name }

// Name returns the name.
func (p *InPin) Name() string { return p.name }

// Number returns -1.
func (p *InPin) Number() int { return -1 }

// Function returns "In/High" or "In/Low".
func (p *InPin) Function() string { return "In/" + p.Read().String() }

// Halt does nothing: an input has no inert state.
func (p *InPin) Halt() error { return nil }

// In sets the pull (recorded only) and which edges are reported.
func (p *InPin) In(pull gpio.Pull, edge gpio.Edge) error {
	if edge != gpio.NoEdge && edge != gpio.RisingEdge && edge != gpio.FallingEdge && edge != gpio.BothEdges {
		return errors.New("sim: invalid edge")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pull, p.edge, p.pending = pull, edge, 0
	return nil
}

// Read returns the level.
func (p *InPin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// WaitForEdge waits up to timeout (negative: forever, as gpio.PinIn says)
// for an edge since the last call; edges that accumulated count as one.
func (p *InPin) WaitForEdge(timeout time.Duration) bool {
	var tc <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	for {
		p.mu.Lock()
		if p.pending > 0 {
			p.pending = 0
			p.mu.Unlock()
			return true
		}
		p.mu.Unlock()
		select {
		case <-p.signal:
		case <-tc:
			return false
		}
	}
}

// Pull returns the pull set with In.
func (p *InPin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

// DefaultPull returns gpio.Float.
func (p *InPin) DefaultPull() gpio.Pull { return gpio.Float }

// History returns every level change, the initial level first.
func (p *InPin) History() []Change {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.history)
}
