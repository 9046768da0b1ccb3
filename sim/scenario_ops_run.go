package sim

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/store"
)

// buildDoors makes a stepper for every door (on their existing relay
// lines), gives them the inputs' levels, and the command API over them.
func (e *engine) buildDoors() error {
	var ts []door.Target
	for _, d := range e.doors {
		step, err := e.newStepper(e.cfg, d.cfg.Name, e.store, Outputs{Relay: d.relay}, e.emit, e.Now, e.log)
		if err != nil {
			return err
		}
		d.door = step
		t := step.Target()
		for _, in := range e.cfg.Inputs {
			if slices.Contains(in.Doors, d.cfg.Name) {
				t.Preset(in.Name, e.inputs[in.Name])
			}
		}
		ts = append(ts, t)
	}
	ctl, err := door.NewController(ts...)
	if err != nil {
		return fmt.Errorf("sim: scenario: %w", err)
	}
	e.ctl = ctl
	return nil
}

// doOp carries out an operating line; handled is false for any other.
func (e *engine) doOp(st Step) (handled bool, err error) {
	switch {
	case IsCommand(st):
		if cerr := Command(context.Background(), e.ctl, st, CommandActor); cerr != nil {
			// A refusal is the door's answer, not a broken script.
			if e.stderr != nil {
				fmt.Fprintln(e.stderr, (&ScriptError{File: e.file, Line: st.Line, Msg: cerr.Error()}).Error())
			}
		}
		e.clk.Settle()
		return true, nil
	case st.Kind == StepInput:
		in := slices.IndexFunc(e.cfg.Inputs, func(c config.Input) bool { return c.Name == st.Input })
		if in < 0 {
			return true, e.fail(st.Line, "no input %q in the config", st.Input)
		}
		e.inputs[st.Input] = st.Active
		if err := e.ctl.Input(st.Input, st.Active); err != nil {
			return true, e.fail(st.Line, "input: %v", err)
		}
		e.clk.Settle()
		return true, e.advance(e.Now().Add(e.inputDebounce(st.Input)))
	case st.Kind == StepRestart:
		return true, e.restart(st.Line, st.Duration)
	}
	return false, nil
}

// inputDebounce is the longest debounce of the doors input name acts on.
func (e *engine) inputDebounce(name string) (deb time.Duration) {
	for _, in := range e.cfg.Inputs {
		if in.Name != name {
			continue
		}
		for _, d := range e.doors {
			if slices.Contains(in.Doors, d.cfg.Name) && d.cfg.Debounce > deb {
				deb = d.cfg.Debounce
			}
		}
	}
	return deb
}

// restart stops the doors and the store as a crash would — the events of
// the stopping doors are lost, every strike is driven locked (a dead
// process holds no relay), the database is closed — and starts them again
// on the same database and config, after down (latchd down that long). The
// virtual clock runs on; the relay
// lines and the readers' lines are the hardware's, and stay.
func (e *engine) restart(line int, down time.Duration) error {
	e.crashing = true
	for _, d := range e.doors {
		d.door.Stop()
		_ = d.door.Halt()
	}
	e.crashing = false
	if err := e.print(); err != nil {
		return err
	}
	if err := e.store.Close(); err != nil {
		return e.fail(line, "restart: closing the database: %v", err)
	}
	if down > 0 {
		// latchd is down: no door runs, the clock goes on.
		if err := e.advance(e.Now().Add(down)); err != nil {
			return err
		}
	}
	st, err := store.Open(e.storeOpts)
	if err != nil {
		return e.fail(line, "restart: opening the database: %v", err)
	}
	e.store = st
	if err := e.buildDoors(); err != nil {
		return err
	}
	for _, d := range e.doors {
		d.door.Start()
	}
	e.clk.Settle()
	return nil
}
