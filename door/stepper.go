package door

import (
	"time"

	"github.com/latchd/latch/reader"
)

// Stepper drives a door synchronously, without a goroutine or a timer:
// every input and tick is carried out before the call returns, at the time
// the door's Config.Now gives. Run is a Stepper plus one timer; a virtual
// clock (latchd scenario) uses a Stepper directly: it advances its clock to
// Deadline and calls Tick. Use either Run or a Stepper on a door, never
// both; a Stepper is not safe for concurrent use.
type Stepper struct {
	d *Door
	s *state
}

// Stepper returns a stepper for d, with the lockout counters of the
// door's LockoutStore, the operating state of its StateStore and the
// input levels given to Preset. Call Start first.
func (d *Door) Stepper() *Stepper {
	s := newState(d.cfg)
	if d.lockouts != nil {
		d.lockouts.load(s, d.now())
	}
	if d.cfg.State != nil {
		ds, err := d.cfg.State.LoadDoorState(d.cfg.Name)
		if err != nil {
			logStateErr(d.log, err)
		} else {
			s.loadState(ds)
		}
	}
	for name, active := range d.presets {
		s.presetInput(name, active)
	}
	return &Stepper{d: d, s: s}
}

// Start evaluates the mode (mode_changed with cause start).
func (st *Stepper) Start() { st.apply(inStart{}) }

// Submit hands the door a reader's frame (as Door.Submit).
func (st *Stepper) Submit(r reader.Read) { frame(r, st.apply) }

// DoorSensor reports the raw door position switch (as Door.DoorSensor).
func (st *Stepper) DoorSensor(open bool) { st.apply(inDPS{open: open}) }

// ExitButton reports the raw exit button (as Door.ExitButton).
func (st *Stepper) ExitButton(pressed bool) { st.apply(inREX{pressed: pressed}) }

// Deadline is the next instant the door needs a Tick; zero when none.
func (st *Stepper) Deadline() time.Time { return st.s.nextDeadline() }

// Tick handles every deadline up to now.
func (st *Stepper) Tick() { st.apply(inTick{}) }

// Stop stops the door as Run does when its context ends: strike locked.
func (st *Stepper) Stop() {
	st.apply(inStop{})
	st.d.relay(false)
}

// apply steps one input at the door's clock and carries it out.
func (st *Stepper) apply(in input) { st.d.apply(st.s, in, st.d.now()) }

// Input reports an [[input]]'s raw level (as Door.Input).
func (st *Stepper) Input(name string, active bool) { st.apply(inInput{name: name, active: active}) }

// deliver steps a command at once: its reply is ready when it returns.
func (st *Stepper) deliver(in input) { st.apply(in) }

func (st *Stepper) door() *Door { return st.d }

// Preset gives an input's level as read before the door starts (as
// Door.Preset); call it before Start.
func (st *Stepper) Preset(name string, active bool) { st.s.presetInput(name, active) }
