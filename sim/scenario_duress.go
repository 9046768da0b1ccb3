package sim

import (
	"fmt"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/reader/readertest"
)

// buildDuress makes the scenario's duress latch (docs/operations.md,
// "Duress codes") on the scenario's store and clock, with a recording
// line for [controller] duress_output when the config has one. The doors
// are stepped, so the latch stores each duress event in the step that
// signals it, right after that step's events.
func (e *engine) buildDuress(cfg *config.Config) error {
	var out gpio.PinOut
	if pin := cfg.Controller.DuressOutput; pin != "" {
		// The line is the hardware's: a restart line keeps it (and its
		// history), as it keeps the relays.
		if e.duressOut == nil {
			e.duressOut = readertest.NewOutPin(pin, !cfg.Controller.DuressActive, e.Now)
		}
		out = e.duressOut
	}
	l, err := door.NewDuress(door.DuressConfig{Output: out, Active: cfg.Controller.DuressActive, Store: e.store, Now: e.Now, Logger: e.log})
	if err != nil {
		return fmt.Errorf("sim: scenario: %w", err)
	}
	e.duress = l
	return nil
}

// reportLines hands RunOptions.Lines the history of every output line.
func (e *engine) reportLines(f func(pin, what string, history []readertest.Change)) {
	for _, d := range e.doors {
		f(d.cfg.Relay, "relay "+d.cfg.Name, d.relay.History())
	}
	if e.duressOut != nil {
		f(e.duressOut.Name(), "duress_output", e.duressOut.History())
	}
}
