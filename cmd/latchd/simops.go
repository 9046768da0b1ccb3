package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/sim"
)

// simOp carries out the operating lines in latchd --sim (docs/operations.md):
// unlock, override and lockdown through the site's command API as actor
// "scenario"; input drives the [[input]]'s simulated line (debounced by the
// doors as on a Pi); restart stops every door and input and starts them
// again on the same database and config (the real clock runs on; a
// DOWNTIME waits that long in between). handled is false for other lines.
func simOp(ctx context.Context, s *site, hw *simHW, st sim.Step) (handled bool, err error) {
	switch {
	case sim.IsCommand(st):
		ctl := s.controller()
		if ctl == nil {
			return true, fmt.Errorf("%s: no doors running", st.Kind)
		}
		return true, sim.Command(ctx, ctl, st, sim.CommandActor)
	case st.Kind == sim.StepInput:
		return true, simInputLine(s.config(), hw, st)
	case st.Kind == sim.StepRestart:
		cfg := s.config()
		s.stopAll()
		if st.Duration > 0 {
			t := time.NewTimer(st.Duration)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
		return true, s.start(ctx, cfg)
	}
	return false, nil
}

// simInputLine drives the simulated line of the [[input]] an input line names.
func simInputLine(cfg *config.Config, hw *simHW, st sim.Step) error {
	i := slices.IndexFunc(cfg.Inputs, func(in config.Input) bool { return in.Name == st.Input })
	if i < 0 {
		return fmt.Errorf("no input %q in the config", st.Input)
	}
	in := cfg.Inputs[i]
	lvl := in.Active
	if !st.Active {
		lvl = !lvl
	}
	return hw.set(in.Pin, lvl)
}
