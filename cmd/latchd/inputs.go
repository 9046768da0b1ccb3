package main

import (
	"context"
	"reflect"
	"slices"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/config"
)

// The [[input]] lines and the door command API of the running site
// (docs/operations.md). An input is watched once, whatever the doors it
// acts on: each edge goes to every running door that lists it, which
// debounces it like its DPS. A door that starts is given the inputs'
// current levels first (Door.Preset), so a restart inside an emergency
// comes back released without a lock-then-release.

// inputRun is one watched input.
type inputRun struct {
	cfg    config.Input
	active bool // its level now (the last edge)
	stop   func()
}

// startInputs watches every [[input]] of cfg. The watch reports the line's
// level at once, so the levels are known before any door starts.
func (s *site) startInputs(ctx context.Context, cfg *config.Config) error {
	for _, in := range cfg.Inputs {
		ir := &inputRun{cfg: in}
		s.mu.Lock()
		s.inputs[in.Name] = ir
		s.mu.Unlock()
		active := in.Active
		name := in.Name
		// A dry contact: pulled to its inactive level, so an open contact
		// reads inactive.
		stop, err := s.hw.Input(ctx, in.Pin, "input "+name, pullTo(!active), func(l gpio.Level) { s.onInput(name, l == active) })
		if err != nil {
			s.stopInputs()
			return err
		}
		s.mu.Lock()
		ir.stop = stop
		s.mu.Unlock()
	}
	return nil
}

// onInput records an input's level and hands it to every running door
// that lists it (under s.mu, so that a door starting now gets it either
// as its preset or as an edge, never neither).
func (s *site) onInput(name string, active bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ir, ok := s.inputs[name]
	if !ok {
		return
	}
	ir.active = active
	for _, run := range s.doors {
		if slices.Contains(ir.cfg.Doors, run.name) {
			run.d.Input(name, active)
		}
	}
}

// stopInputs ends every input watch.
func (s *site) stopInputs() {
	s.mu.Lock()
	ins := s.inputs
	s.inputs = map[string]*inputRun{}
	s.mu.Unlock()
	for _, ir := range ins {
		if ir.stop != nil {
			ir.stop()
		}
	}
}

// presetInputs gives door d (not yet running) the levels of its inputs;
// s.mu is held.
func (s *site) presetInputs(d *door.Door, c door.Config) {
	for _, in := range c.Inputs {
		if ir, ok := s.inputs[in.Name]; ok {
			d.Preset(in.Name, ir.active)
		}
	}
}

// inputsUnchanged reports whether a reload leaves the [[input]]s as they are.
func inputsUnchanged(old, next *config.Config) bool {
	strip := func(ins []config.Input) []config.Input {
		out := slices.Clone(ins)
		for i := range out {
			out[i].Line = 0
		}
		return out
	}
	return reflect.DeepEqual(strip(old.Inputs), strip(next.Inputs))
}

// rebuildController makes the command API over the running doors, in
// config order (after a start or a reload).
func (s *site) rebuildController() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ts []door.Target
	for _, d := range s.cfg.Doors {
		if run, ok := s.doors[d.Name]; ok {
			ts = append(ts, run.d)
		}
	}
	ctl, err := door.NewController(ts...)
	if err != nil { // names are unique in a checked config
		s.log.Error().Err(err).Msg("door commands unavailable")
		s.ctl.Store(nil)
		return
	}
	s.ctl.Store(ctl)
}

// controller is the command API over the running doors; nil before start.
func (s *site) controller() *door.Controller { return s.ctl.Load() }
