//go:build doorstepper

package sim

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/store"
)

// emitFunc adapts a function to door.Emitter.
type emitFunc func(store.Event)

func (f emitFunc) Emit(ev door.Event) { f(ev) }

// steppedDoor is a door.Door run by its door.Stepper.
type steppedDoor struct {
	*door.Stepper
	d *door.Door
}

func (s steppedDoor) Halt() error { return s.d.Halt() }

func init() {
	newStepper = func(cfg *config.Config, name string, st *store.Store, out Outputs, emit func(store.Event),
		now func() time.Time, log zerolog.Logger) (Stepper, error) {
		dc := cfg.DoorConfig(name, out.Relay, nil)
		dc.Now = now
		dc.Logger = log
		d, err := door.New(dc, st, emitFunc(emit))
		if err != nil {
			return nil, fmt.Errorf("sim: scenario: %w", err)
		}
		return steppedDoor{Stepper: d.Stepper(), d: d}, nil
	}
}
