package main

import (
	"context"
	"fmt"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/config"
)

// The controller's duress latch (docs/operations.md, "Duress codes"): one
// for all doors, made before the doors start, kept across reloads (its
// [controller] keys need a restart), with its writer goroutine stopped
// with the event writer, before the database closes.

// openDuress requests the duress output line of cfg (when one is set) at
// the level of the stored state — active when a duress was not cleared
// before the restart, so a restart never pulses it — then makes the
// latch, which drives it to that state.
func (s *site) openDuress(cfg *config.Config) error {
	c := cfg.Controller
	var out gpio.PinOut
	if c.DuressOutput != "" {
		st, err := s.store.DuressState()
		if err != nil {
			return fmt.Errorf("latchd: %w", err)
		}
		initial := !c.DuressActive
		if st.Active {
			initial = c.DuressActive
		}
		p, err := s.output(c.DuressOutput, initial, "duress output")
		if err != nil {
			return err
		}
		out = p
	}
	dc := door.DuressConfig{Output: out, Active: c.DuressActive, Store: s.store, Logger: s.log}
	if s.ew != nil {
		// The duress event is stored once the doors' event writer has
		// stored the grant it comes with, so it follows it in seq order.
		dc.After = s.ew.Barrier
	}
	l, err := door.NewDuress(dc)
	if err != nil {
		return fmt.Errorf("latchd: %w", err)
	}
	s.duress, s.duressPin, s.duressOut = l, c.DuressOutput, out
	return nil
}

// releaseDuress lets go of the duress output line at the level last
// driven, before the hardware's Close halts the other outputs to their
// inactive levels: an uncleared duress stays signalled while latchd is
// down (its next start drives the line from the stored state anyway).
// Call it after the latch's writer has ended.
func (s *site) releaseDuress() {
	if s == nil || s.duressOut == nil {
		return
	}
	if err := s.hw.Release(s.duressOut); err != nil {
		s.log.Warn().Err(err).Str("pin", s.duressPin).Msg("releasing the duress output failed")
	}
	delete(s.outputs, s.duressPin)
	s.duressOut = nil
}

// runDuress runs the latch's writer until ctx ends (waitDuress waits for
// its last writes).
func (s *site) runDuress(ctx context.Context) {
	s.duressDone = make(chan struct{})
	s.guard("duress", func() {
		defer close(s.duressDone)
		s.duress.Run(ctx)
	})
}

func (s *site) waitDuress() {
	if s.duressDone != nil {
		<-s.duressDone
	}
}

// duressPinTaken refuses a reload whose file gives the running duress
// output's pin (kept until a restart) to a door's relay or a reader's
// feedback line: the line would be driven as both.
func (s *site) duressPinTaken(next *config.Config) error {
	if s.duressPin == "" {
		return nil
	}
	for _, d := range next.Doors {
		if d.Relay == s.duressPin {
			return fmt.Errorf("pin %s is still the duress output until a restart, door %s cannot take it as relay", s.duressPin, d.Name)
		}
	}
	for _, r := range next.Readers {
		for _, l := range r.Feedback.Lines() {
			if l.Pin == s.duressPin {
				return fmt.Errorf("pin %s is still the duress output until a restart, reader %s cannot take it as %s", s.duressPin, r.Name, l.Key)
			}
		}
	}
	return nil
}

// duressChanged reports whether a reload changes the duress output's
// keys (they need a restart: the latch and its line are kept).
func duressChanged(old, next *config.Config) bool {
	return old.Controller.DuressOutput != next.Controller.DuressOutput ||
		old.Controller.DuressActive != next.Controller.DuressActive
}
