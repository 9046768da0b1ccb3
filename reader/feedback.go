package reader

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3/gpio"
)

// Feedback drives a reader's green LED, red LED and beeper. They are
// inputs on the reader, usually active low (pull to ground to light or
// sound; docs/wiring.md, "Reader feedback"), so the active level is
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

// FeedbackPins names a reader's feedback lines as the config file does
// (led_green, led_red, beeper: pin names, "" = not wired) and the level that
// lights or sounds them (feedback_active). Open turns it into the Feedback
// that drives them.
type FeedbackPins struct {
	Green, Red, Beeper string
	Active             gpio.Level
}

// FeedbackLine is one wired feedback line: its config key and pin name.
type FeedbackLine struct{ Key, Pin string }

// Lines lists the wired lines: green LED, red LED, beeper.
func (p FeedbackPins) Lines() []FeedbackLine {
	var out []FeedbackLine
	for _, l := range []FeedbackLine{{"led_green", p.Green}, {"led_red", p.Red}, {"beeper", p.Beeper}} {
		if l.Pin != "" {
			out = append(out, l)
		}
	}
	return out
}

// Open returns the Feedback on p's lines: out requests each wired line as an
// output at its off level.
func (p FeedbackPins) Open(out func(l FeedbackLine, off gpio.Level) (gpio.PinOut, error)) (Feedback, error) {
	f := Feedback{Active: p.Active}
	dst := map[string]*gpio.PinOut{"led_green": &f.Green, "led_red": &f.Red, "beeper": &f.Beeper}
	for _, l := range p.Lines() {
		pin, err := out(l, !p.Active)
		if err != nil {
			return Feedback{}, err
		}
		*dst[l.Key] = pin
	}
	return f, nil
}
