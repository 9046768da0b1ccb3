package reader

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3/gpio"
)

// Feedback drives a reader's green LED, red LED and beeper. They are
// inputs on the reader, usually active low (pull to ground to light or
// sound; hardware.md, "Reader feedback"), so the active level is
// configurable. Nil lines are skipped.
type Feedback struct {
	Green, Red, Beeper gpio.PinOut
	// Active is the level that lights an LED or sounds the beeper
	// (config feedback_active: "low" → gpio.Low).
	Active gpio.Level
}

// Set turns each line on or off. Every line is driven even if one fails;
// the errors are joined.
func (f Feedback) Set(green, red, beep bool) error {
	var errs []error
	for _, l := range []struct {
		p  gpio.PinOut
		on bool
	}{{f.Green, green}, {f.Red, red}, {f.Beeper, beep}} {
		if l.p == nil {
			continue
		}
		lvl := f.Active
		if !l.on {
			lvl = !f.Active
		}
		if err := l.p.Out(lvl); err != nil {
			errs = append(errs, fmt.Errorf("reader: feedback %s: %w", l.p, err))
		}
	}
	return errors.Join(errs...)
}

// Off turns every line off (inactive level): the inert state.
func (f Feedback) Off() error { return f.Set(false, false, false) }
