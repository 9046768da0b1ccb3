package sim

import (
	"errors"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

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
}

// Outputs are a door's simulated output lines.
type Outputs struct {
	Relay gpio.PinOut
}

// ErrNoStepper: the door package has no synchronous stepper, so a door
// cannot run on a virtual clock (door.Run waits on a real timer).
var ErrNoStepper = errors.New("sim: scenario: this build's door package has no synchronous stepper " +
	"(door.(*Door).Stepper, see sim/testdata/door_stepper.go.txt); latchd scenario needs it for its virtual clock")

// newStepper builds door name of cfg as a Stepper whose events go to emit.
// scenario_stepper.go sets it when the door package has a stepper.
var newStepper = func(cfg *config.Config, name string, st *store.Store, out Outputs, emit func(store.Event),
	now func() time.Time, log zerolog.Logger) (Stepper, error) {
	return nil, ErrNoStepper
}
