package sim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/reader/readertest"
	"github.com/latchd/latch/store"
)

// This file sets a scenario up: its options, config and clock, the fresh
// database, the doors and readers, and the setup lines (user, card, entry,
// mfa). scenario_run.go steps it.

// Actor is who the scenario's setup lines (user, card, entry, mfa) act as in
// the audit events they make.
var Actor = store.Actor{Name: "scenario", Role: "access_system_admin"}

// RunOptions configure RunScript.
type RunOptions struct {
	// Config is the config file used when the script has no config line
	// (latchd's --config flag). A script's relative config path is resolved
	// against the script's folder.
	Config string
	// Out gets every event as one JSON line, nothing else.
	Out io.Writer
	// Log gets diagnostics (never codes or keys). Zero value: none.
	Log zerolog.Logger
	// Dir holds the fresh database and device key; "" = a temporary
	// folder removed at the end.
	Dir string
	// Now is the start time when the script has no clock line; nil = time.Now.
	Now func() time.Time
	// Stderr gets the door commands a door refuses (an unlock during a
	// lockdown), as FILE:LINE: message; the script goes on. nil = none.
	Stderr io.Writer
}

// RunScript runs s on a virtual clock against a fresh database and writes the
// events to opts.Out as JSON lines.
func RunScript(s *Script, opts RunOptions) error {
	return runScript(s, opts, driver{
		clock:   func(start time.Time) clock { return &stepClock{t: start} },
		stepper: newStepper,
	})
}

// clock is the scenario's virtual time.
type clock interface {
	Now() time.Time
	// MoveTo advances the clock to t (not before Now); the doors have
	// acted on every deadline up to t when it returns.
	MoveTo(t time.Time)
	// Settle returns when the doors have acted on every input given so far.
	Settle()
}

// stepClock is the virtual clock of stepped doors: the engine ticks them at
// their deadlines itself.
type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time     { return c.t }
func (c *stepClock) MoveTo(t time.Time) { c.t = t }
func (c *stepClock) Settle()            {}

// driver says how doors run: stepped by the engine (latchd scenario), or
// their own loops in a synctest bubble (a test of the same engine).
type driver struct {
	clock   func(start time.Time) clock
	stepper stepperFunc
}

func runScript(s *Script, opts RunOptions, drv driver) (err error) {
	cfgPath := opts.Config
	cfgLine := 0 // the script's config line; 0 = --config
	steps := s.Steps
	start := time.Time{}
	for len(steps) > 0 && (steps[0].Kind == StepConfig || steps[0].Kind == StepClock) {
		st := steps[0]
		steps = steps[1:]
		if st.Kind == StepConfig {
			cfgPath, cfgLine = st.Path, st.Line
			if !filepath.IsAbs(cfgPath) {
				cfgPath = filepath.Join(filepath.Dir(s.File), cfgPath)
			}
		} else {
			start = st.Time
		}
	}
	if cfgPath == "" {
		return &ScriptError{File: s.File, Line: 1, Msg: "no config: add a line \"config PATH\" or pass --config"}
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		var ce *config.Error
		if cfgLine > 0 && !errors.As(err, &ce) {
			// The file named on the line cannot be read: FILE:LINE. (A
			// broken config names its own file, line and key instead.)
			return &ScriptError{File: s.File, Line: cfgLine, Msg: err.Error()}
		}
		return err
	}
	if start.IsZero() {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		start = now().Truncate(time.Millisecond)
	}
	start = start.Round(0) // wall clock only: virtual time has no monotonic reading

	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "latch-scenario-"); err != nil {
			return fmt.Errorf("sim: scenario: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	e := &engine{clk: drv.clock(start), epoch: start, out: opts.Out, log: opts.Log, file: s.File, newStepper: drv.stepper,
		stderr: opts.Stderr, cfg: cfg, inputs: map[string]bool{}}
	e.storeOpts = store.Options{
		Path:           filepath.Join(dir, "latch.db"),
		KeyFile:        filepath.Join(dir, "device.key"),
		EventRetention: cfg.Controller.EventRetention,
		Logger:         opts.Log,
		Now:            e.Now,
	}
	st, err := store.Open(e.storeOpts)
	if err != nil {
		return fmt.Errorf("sim: scenario: %w", err)
	}
	defer func() {
		// The store of the last restart.
		if cerr := e.store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("sim: scenario: %w", cerr)
		}
	}()
	e.store = st
	if err := e.build(cfg); err != nil {
		return err
	}
	defer func() {
		if !e.stopped {
			e.stopDoors()
		}
		e.halt()
	}()
	e.startDoors()
	if err := e.print(); err != nil {
		return err
	}
	for _, step := range steps {
		if err := e.do(step); err != nil {
			return err
		}
		if err := e.print(); err != nil {
			return err
		}
	}
	e.stopDoors()
	return e.print()
}

// engine is the scenario's discrete-event simulation: the virtual clock, the
// readers' fake lines (readertest, each read by reader.Capture, the capture
// loop of the Pi) and the doors, stepped in time order.
type engine struct {
	clk        clock
	newStepper stepperFunc
	epoch      time.Time // edge timestamp 0 of every decoder
	file       string
	out        io.Writer
	log        zerolog.Logger
	store      *store.Store

	doors   []*simDoor
	byDoor  map[string]*simDoor
	readers []*simReader
	byName  map[string]*simReader

	printed uint64 // highest event seq written to out
	stopped bool   // the doors were stopped

	// Operating doors (scenario_ops_run.go).
	cfg       *config.Config
	storeOpts store.Options
	ctl       *door.Controller
	inputs    map[string]bool // each [[input]]'s level as the last input line set it
	crashing  bool            // a restart is under way: events of the stopping doors are lost
	stderr    io.Writer
}

// Now is the virtual clock.
func (e *engine) Now() time.Time { return e.clk.Now() }

// simReader is one [[reader]]: its lines, stepped by the engine, with
// reader.Capture decoding them, and what the keypad buffers.
type simReader struct {
	cfg    config.Reader
	dec    *reader.Decoder
	line   *readertest.Line
	stop   func() error // ends the capture
	keypad reader.Keypad
	door   *simDoor
	pin    []byte // 26bit_pin: digits typed so far (a secret)
}

// simDoor is one door with its simulated outputs.
type simDoor struct {
	cfg   config.Door
	door  Stepper
	relay *readertest.OutPin
}

// build makes the doors and readers of cfg.
func (e *engine) build(cfg *config.Config) error {
	e.byDoor = map[string]*simDoor{}
	e.byName = map[string]*simReader{}
	for _, dc := range cfg.Doors {
		// The relay starts at its inactive level: the strike locked.
		d := &simDoor{cfg: dc, relay: readertest.NewOutPin(dc.Relay, !dc.RelayActive, e.Now)}
		e.doors = append(e.doors, d)
		e.byDoor[dc.Name] = d
	}
	if err := e.buildDoors(); err != nil {
		return err
	}
	for _, rc := range cfg.Readers {
		dec, err := reader.NewDecoder(rc.Config, reader.WithEpoch(e.epoch), reader.WithLogger(e.log))
		if err != nil {
			return fmt.Errorf("sim: scenario: reader %s: %w", rc.Name, err)
		}
		r := &simReader{cfg: rc, dec: dec, keypad: dec.Keypad(), door: e.byDoor[rc.Door],
			line: readertest.NewLine(readertest.LineConfig{}, func() time.Duration { return e.Now().Sub(e.epoch) })}
		e.readers = append(e.readers, r)
		e.byName[rc.Name] = r
	}
	return nil
}

// Setup carries out a setup line — user, card, entry or mfa — on st, as
// latchd scenario and latchd --sim both do; users are found by their
// external_id. Its errors never contain the code. ok is false for any other
// kind of step (nothing is done).
func Setup(st *store.Store, s Step) (ok bool, err error) {
	user := func() (string, error) {
		u, err := st.UserByExternalID(s.Name)
		if errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("no user %q: add a line \"user %s\" first", s.Name, s.Name)
		}
		return u.UserID, err
	}
	// refused turns a store refusal into a message without the code.
	refused := func(err error) error {
		var ve *store.ValidationError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ve):
			return fmt.Errorf("%s: %s: %s", s.Kind, ve.Field, ve.Rule)
		case errors.Is(err, store.ErrConflict):
			return fmt.Errorf("%s: already used by another user", s.Kind)
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("%s: not found", s.Kind)
		}
		return fmt.Errorf("%s: %w", s.Kind, err)
	}
	switch s.Kind {
	case StepUser:
		if _, err := st.UserByExternalID(s.Name); err == nil {
			return true, fmt.Errorf("user %q already exists", s.Name)
		}
		_, err := st.CreateUser(store.UserFields{ExternalID: s.Name, FirstName: s.Name, Groups: s.Groups,
			Start: s.Start, End: s.End, Suspended: s.Suspended}, Actor)
		return true, refused(err)
	case StepCard, StepEntry, StepMFA:
		id, err := user()
		if err != nil {
			return true, err
		}
		switch s.Kind {
		case StepCard:
			err = st.AddCard(id, store.Card{Format: string(s.Format), FacilityCode: s.FacilityCode, CardNumber: s.CardNumber, Active: !s.Inactive}, Actor)
		case StepEntry:
			err = st.SetEntryCode(id, s.Code, Actor)
		default:
			_, err = st.AddMFACode(id, s.Code, Actor)
		}
		return true, refused(err)
	}
	return false, nil
}
