package sim

import (
	"errors"
	"fmt"
	"reflect"
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
	stepCore
	Halt() error
}

// stepCore is the method set of door's synchronous stepper
// (sim/testdata/door_stepper.go.txt).
type stepCore interface {
	Start()
	Submit(r reader.Read)
	DoorSensor(open bool)
	ExitButton(pressed bool)
	// Deadline is the next instant the door needs a Tick; zero = none.
	Deadline() time.Time
	Tick()
	Stop()
}

// Outputs are a door's simulated output lines.
type Outputs struct {
	Relay gpio.PinOut
}

// ErrNoStepper: the door package has no synchronous stepper, so a door
// cannot run on a virtual clock (door.Run waits on a real timer).
var ErrNoStepper = errors.New("sim: scenario: this build's door package has no synchronous stepper " +
	"((*door.Door).Stepper, see sim/testdata/door_stepper.go.txt); latchd scenario needs it for its virtual clock")

// emitFunc adapts a function to door.Emitter.
type emitFunc func(store.Event)

func (f emitFunc) Emit(ev door.Event) { f(ev) }

// steppedDoor is a door run by its stepper.
type steppedDoor struct {
	stepCore
	d *door.Door
}

func (s steppedDoor) Halt() error { return s.d.Halt() }

// newStepper builds door name of cfg as a Stepper whose events go to emit.
//
// The door package's stepper, (*door.Door).Stepper(), is looked up at run
// time: it is not in the door package yet (sim/testdata/door_stepper.go.txt
// is the file it needs), and this way latchd scenario works as soon as it
// is, with no other change. Once it is there for good, call d.Stepper()
// directly.
func newStepper(cfg *config.Config, name string, st *store.Store, out Outputs, emit func(store.Event),
	now func() time.Time, log zerolog.Logger) (Stepper, error) {
	dc := cfg.DoorConfig(name, out.Relay, nil)
	dc.Now = now
	dc.Logger = log
	d, err := door.New(dc, st, emitFunc(emit))
	if err != nil {
		return nil, fmt.Errorf("sim: scenario: %w", err)
	}
	m := reflect.ValueOf(d).MethodByName("Stepper")
	if !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 1 {
		return nil, ErrNoStepper
	}
	core, ok := m.Call(nil)[0].Interface().(stepCore)
	if !ok {
		return nil, ErrNoStepper
	}
	return steppedDoor{stepCore: core, d: d}, nil
}
