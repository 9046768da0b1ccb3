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

// Stepper is a door driven synchronously on the scenario's virtual clock:
// no goroutine and no real timer, every input and tick carried out before
// the call returns, at the time the caller gives.
type Stepper interface {
	Start(now time.Time)
	Submit(now time.Time, r reader.Read)
	DoorSensor(now time.Time, open bool)
	ExitButton(now time.Time, pressed bool)
	// Deadline is the next instant the door needs a Tick; zero = none.
	Deadline() time.Time
	Tick(now time.Time)
	Stop(now time.Time)
	Halt()
}

// Outputs are a door's simulated output lines.
type Outputs struct {
	Relay gpio.PinOut
}

// ErrNoStepper: the door package has no synchronous stepper, so a door
// cannot run on a virtual clock (door.Run waits on a real timer).
var ErrNoStepper = errors.New("sim: scenario: the door package does not yet export a synchronous stepper " +
	"(Start/Submit/DoorSensor/ExitButton/Deadline/Tick/Stop at a given time); latchd scenario needs one for its virtual clock")

// newStepper builds door name of cfg as a Stepper whose events go to emit.
var newStepper = func(cfg *config.Config, name string, st *store.Store, out Outputs, emit func(store.Event),
	now func() time.Time, log zerolog.Logger) (Stepper, error) {
	return nil, ErrNoStepper
}
