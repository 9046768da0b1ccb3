package readertest

import (
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
	written []gpio.Level // every Out, changing the level or not
	fail    error        // Out's answer (SetFail)
	notify  chan<- Change
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

// Out sets the level; a change is recorded with its time. Every write is
// sent to the Notify channel. After SetFail(err) it records the write,
// keeps the level and returns err (a line that no longer obeys).
func (p *OutPin) Out(l gpio.Level) error {
	p.mu.Lock()
	c := Change{At: p.now(), Level: l}
	p.written = append(p.written, l)
	err := p.fail
	if err == nil && l != p.level {
		p.level = l
		p.history = append(p.history, c)
	}
	notify := p.notify
	p.mu.Unlock()
	if notify != nil && err == nil {
		notify <- c
	}
	return err
}

// SetFail makes every later Out fail with err (nil: work again).
func (p *OutPin) SetFail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = err
}

// Notify sends every later write that succeeds on ch, with its time,
// changing the level or not (nil: stop). Out blocks until ch takes it.
func (p *OutPin) Notify(ch chan<- Change) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notify = ch
}

// Written returns every level given to Out, in order, changing the level
// or not (the initial level is not one of them).
func (p *OutPin) Written() []gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.written)
}

// PWM is not supported.
func (p *OutPin) PWM(gpio.Duty, physic.Frequency) error {
	return fmt.Errorf("readertest: %s: PWM not supported", p.name)
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

// Levels returns the level of every change, the initial level first.
func (p *OutPin) Levels() []gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]gpio.Level, len(p.history))
	for i, c := range p.history {
		out[i] = c.Level
	}
	return out
}

// Writes counts Out calls, changing the level or not.
func (p *OutPin) Writes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.written)
}
