package sim

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/store"
)

// Stepper is a door driven synchronously on the scenario's virtual clock
// (the door's Now): no goroutine and no real timer; every input and tick is
// carried out before the call returns.
type Stepper interface {
	Start()
	Submit(r reader.Read)
	DoorSensor(open bool)
	ExitButton(pressed bool)
	// Deadline is the next instant the door needs a Tick; zero = none.
	Deadline() time.Time
	Tick()
	Stop()
	Halt() error
	// Target is the door as the command API (door.Controller) drives it.
	Target() door.Target
}

// Outputs are a door's simulated output lines.
type Outputs struct {
	Relay gpio.PinOut
}

// emitFunc adapts a function to door.Emitter.
type emitFunc func(store.Event)

func (f emitFunc) Emit(ev door.Event) { f(ev) }

// steppedDoor is a door run by its stepper.
type steppedDoor struct {
	*door.Stepper
	d *door.Door
}

func (s steppedDoor) Halt() error { return s.d.Halt() }

func (s steppedDoor) Target() door.Target { return s.Stepper }

// stepperFunc builds door name of cfg as a Stepper on the scenario's clock
// and outputs, its events going to emit.
type stepperFunc func(cfg *config.Config, name string, st *store.Store, out Outputs, emit func(store.Event),
	now func() time.Time, log zerolog.Logger) (Stepper, error)

// newStepper builds door name of cfg as a Stepper whose events go to emit.
func newStepper(cfg *config.Config, name string, st *store.Store, out Outputs, emit func(store.Event),
	now func() time.Time, log zerolog.Logger) (Stepper, error) {
	d, err := newDoor(cfg, name, st, out, emit, now, log)
	if err != nil {
		return nil, err
	}
	return steppedDoor{Stepper: d.Stepper(), d: d}, nil
}

// newDoor builds door name of cfg on the scenario's clock and outputs.
func newDoor(cfg *config.Config, name string, st *store.Store, out Outputs, emit func(store.Event),
	now func() time.Time, log zerolog.Logger) (*door.Door, error) {
	dc := cfg.DoorConfig(name, out.Relay, nil)
	dc.Now = now
	dc.Logger = log
	// As in latchd: lockout counters and the operating state (override,
	// lockdown, toggles) live in the database, so a restart line keeps them.
	dc.Lockouts = st
	dc.State = st
	d, err := door.New(dc, st, emitFunc(emit))
	if err != nil {
		return nil, fmt.Errorf("sim: scenario: %w", err)
	}
	return d, nil
}
