package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/store"
)

// Wiegand timing of the simulated reader. hardware.md "Wiegand on the wire":
// pulses 20–100 µs (typical 50 µs), 200 µs–20 ms apart (typical 1–2 ms).
// The decoder counts falling edges, so only the interval shapes a frame.
const (
	PulseWidth    = 50 * time.Microsecond
	PulseInterval = 2 * time.Millisecond
	// KeyInterval is the time between two keys of one keys line (a brisk typist).
	KeyInterval = 250 * time.Millisecond
	// REXPress is how long rex holds the exit button down past the debounce.
	REXPress = 200 * time.Millisecond
)

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
	stepper func(cfg *config.Config, name string, st *store.Store, out Outputs, emit func(store.Event),
		now func() time.Time, log zerolog.Logger) (Stepper, error)
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
	e := &engine{clk: drv.clock(start), epoch: start, out: opts.Out, log: opts.Log, file: s.File, newStepper: drv.stepper}
	st, err := store.Open(store.Options{
		Path:           filepath.Join(dir, "latch.db"),
		KeyFile:        filepath.Join(dir, "device.key"),
		EventRetention: cfg.Controller.EventRetention,
		Logger:         opts.Log,
		Now:            e.Now,
	})
	if err != nil {
		return fmt.Errorf("sim: scenario: %w", err)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
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
// edges queued on the simulated reader lines, the readers' decoders and the
// doors, stepped in time order.
type engine struct {
	clk        clock
	newStepper func(cfg *config.Config, name string, st *store.Store, out Outputs, emit func(store.Event),
		now func() time.Time, log zerolog.Logger) (Stepper, error)
	epoch time.Time // edge timestamp 0 of every decoder
	file  string
	out   io.Writer
	log   zerolog.Logger
	store *store.Store

	doors   []*simDoor
	byDoor  map[string]*simDoor
	readers []*simReader
	byName  map[string]*simReader

	queue   []queued // future edges, sorted by at then n
	counter int
	printed uint64 // highest event seq written to out
	stopped bool   // the doors were stopped
}

// Now is the virtual clock.
func (e *engine) Now() time.Time { return e.clk.Now() }

type queued struct {
	at time.Time
	n  int
	r  *simReader
	ln reader.Line
}

// simReader is one [[reader]]: its decoder and what the keypad buffers.
type simReader struct {
	cfg    config.Reader
	dec    *reader.Decoder
	keypad reader.Keypad
	door   *simDoor
	pin    []byte // 26bit_pin: digits typed so far (a secret)
}

// simDoor is one door with its simulated outputs.
type simDoor struct {
	cfg   config.Door
	door  Stepper
	relay *OutPin
}

func (e *engine) fail(line int, format string, args ...any) error {
	return &ScriptError{File: e.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// build makes the doors and readers of cfg.
func (e *engine) build(cfg *config.Config) error {
	e.byDoor = map[string]*simDoor{}
	e.byName = map[string]*simReader{}
	for _, dc := range cfg.Doors {
		// The relay starts at its inactive level: the strike locked.
		d := &simDoor{cfg: dc, relay: NewOutPin(dc.Relay, !dc.RelayActive, e.Now)}
		step, err := e.newStepper(cfg, dc.Name, e.store, Outputs{Relay: d.relay}, e.emit, e.Now, e.log)
		if err != nil {
			return err
		}
		d.door = step
		e.doors = append(e.doors, d)
		e.byDoor[dc.Name] = d
	}
	for _, rc := range cfg.Readers {
		dec, err := reader.NewDecoder(rc.Config, reader.WithEpoch(e.epoch), reader.WithLogger(e.log))
		if err != nil {
			return fmt.Errorf("sim: scenario: reader %s: %w", rc.Name, err)
		}
		r := &simReader{cfg: rc, dec: dec, keypad: dec.Keypad(), door: e.byDoor[rc.Door]}
		e.readers = append(e.readers, r)
		e.byName[rc.Name] = r
	}
	return nil
}

func (e *engine) startDoors() {
	for _, d := range e.doors {
		d.door.Start()
	}
	e.clk.Settle()
}

func (e *engine) stopDoors() {
	e.stopped = true
	for _, d := range e.doors {
		d.door.Stop()
	}
}

func (e *engine) halt() {
	for _, d := range e.doors {
		_ = d.door.Halt()
	}
}

// emit stores a door event at once (the scenario has no disk to wait for and
// wants the store's sequence numbers in order).
func (e *engine) emit(ev store.Event) {
	if err := e.store.AppendEvents([]store.Event{ev}); err != nil {
		e.log.Error().Err(err).Str("event", ev.Event).Msg("scenario: storing an event failed")
	}
}

// print writes every stored event not yet written.
func (e *engine) print() error {
	for {
		evs, err := e.store.Events(store.EventQuery{After: e.printed, Limit: 1000})
		if err != nil {
			return fmt.Errorf("sim: scenario: events: %w", err)
		}
		if len(evs) == 0 {
			return nil
		}
		for _, ev := range evs {
			b, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("sim: scenario: %w", err)
			}
			if _, err := e.out.Write(append(b, '\n')); err != nil {
				return fmt.Errorf("sim: scenario: write: %w", err)
			}
			e.printed = ev.Seq
		}
	}
}

// maxStepsPerInstant guards against a door whose deadline does not move.
const maxStepsPerInstant = 10000

// advance runs the simulation up to and including to, handling door
// deadlines, end-of-frame silences and queued edges in time order. At one
// instant door deadlines go first, then frame ends, then edges.
func (e *engine) advance(to time.Time) error {
	same := 0
	last := e.Now()
	for {
		next, act := e.next()
		if act == nil || next.After(to) {
			break
		}
		if next.After(e.Now()) {
			e.clk.MoveTo(next)
		}
		if now := e.Now(); now.Equal(last) {
			if same++; same > maxStepsPerInstant {
				return fmt.Errorf("sim: scenario: no progress at %s", now.Format(time.RFC3339Nano))
			}
		} else {
			same, last = 0, now
		}
		act()
		e.clk.Settle()
	}
	if to.After(e.Now()) {
		e.clk.MoveTo(to)
	}
	return nil
}

// next returns the earliest pending action.
func (e *engine) next() (time.Time, func()) {
	var at time.Time
	var act func()
	consider := func(t time.Time, f func()) {
		if act == nil || t.Before(at) {
			at, act = t, f
		}
	}
	for _, d := range e.doors {
		if dl := d.door.Deadline(); !dl.IsZero() {
			d := d
			consider(dl, func() { d.door.Tick() })
		}
	}
	for _, r := range e.readers {
		if dl, ok := r.dec.Deadline(); ok {
			r := r
			consider(e.epoch.Add(dl), func() { e.deliver(r, r.dec.Flush(e.Now().Sub(e.epoch))) })
		}
	}
	if len(e.queue) > 0 {
		q := e.queue[0]
		consider(q.at, func() {
			e.queue = e.queue[1:]
			e.deliver(q.r, q.r.dec.Push(reader.Edge{Line: q.ln, T: q.at.Sub(e.epoch)}))
		})
	}
	return at, act
}

func (e *engine) deliver(r *simReader, reads []reader.Read) {
	for _, rd := range reads {
		if r.door != nil {
			r.door.door.Submit(rd)
		}
	}
}

// pulse queues a frame's falling edges from at on, PulseInterval apart, and
// returns when its last edge falls.
func (e *engine) pulse(r *simReader, bits string, at time.Time) time.Time {
	t := at
	for i := 0; i < len(bits); i++ {
		t = at.Add(time.Duration(i) * PulseInterval)
		ln := reader.D0
		if bits[i] == '1' {
			ln = reader.D1
		}
		e.counter++
		e.queue = append(e.queue, queued{at: t, n: e.counter, r: r, ln: ln})
	}
	sort.SliceStable(e.queue, func(i, j int) bool {
		if !e.queue[i].at.Equal(e.queue[j].at) {
			return e.queue[i].at.Before(e.queue[j].at)
		}
		return e.queue[i].n < e.queue[j].n
	})
	return t
}

// settle runs until every queued edge is delivered and every open frame closed.
func (e *engine) settle() error {
	for {
		if len(e.queue) > 0 {
			if err := e.advance(e.queue[len(e.queue)-1].at); err != nil {
				return err
			}
			continue
		}
		var last time.Time
		for _, r := range e.readers {
			if dl, ok := r.dec.Deadline(); ok && e.epoch.Add(dl).After(last) {
				last = e.epoch.Add(dl)
			}
		}
		if last.IsZero() {
			return nil
		}
		if err := e.advance(last); err != nil {
			return err
		}
	}
}

func (e *engine) reader(line int, name string) (*simReader, error) {
	if name == "" {
		if len(e.readers) == 0 {
			return nil, e.fail(line, "the config has no [[reader]]")
		}
		return e.readers[0], nil
	}
	r, ok := e.byName[name]
	if !ok {
		return nil, e.fail(line, "no reader %q in the config", name)
	}
	return r, nil
}

func (e *engine) doorNamed(line int, name string) (*simDoor, error) {
	if name == "" {
		if len(e.doors) == 0 {
			return nil, e.fail(line, "the config has no [[door]]")
		}
		return e.doors[0], nil
	}
	d, ok := e.byDoor[name]
	if !ok {
		return nil, e.fail(line, "no door %q in the config", name)
	}
	return d, nil
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

// do carries out one step.
func (e *engine) do(st Step) error {
	if ok, err := Setup(e.store, st); ok {
		if err != nil {
			return e.fail(st.Line, "%s", err)
		}
		return nil
	}
	switch st.Kind {
	case StepBadge:
		r, err := e.reader(st.Line, st.Reader)
		if err != nil {
			return err
		}
		spec, err := reader.ParseFormatSpec(string(st.Format), "")
		if err != nil {
			return e.fail(st.Line, "badge: %v", err)
		}
		bits, err := spec.Encode(st.FacilityCode, st.CardNumber)
		if err != nil {
			return e.fail(st.Line, "badge: %v", err)
		}
		e.pulse(r, bits, e.Now())
		return e.settle()
	case StepBadgeRaw:
		r, err := e.reader(st.Line, st.Reader)
		if err != nil {
			return err
		}
		e.pulse(r, st.Bits, e.Now())
		return e.settle()
	case StepKeys:
		r, err := e.reader(st.Line, st.Reader)
		if err != nil {
			return err
		}
		if r.keypad.Mode == reader.KeypadNone {
			return e.fail(st.Line, "keys: reader %q has no keypad", r.cfg.Name)
		}
		return e.keys(r, st.Keys)
	case StepWait:
		return e.advance(e.Now().Add(st.Wait))
	case StepOpen, StepClose:
		d, err := e.doorNamed(st.Line, st.Door)
		if err != nil {
			return err
		}
		if d.cfg.DPS == "" {
			return e.fail(st.Line, "%s: door %q has no door position switch (dps)", st.Kind, d.cfg.Name)
		}
		d.door.DoorSensor(st.Kind == StepOpen)
		e.clk.Settle()
		return e.advance(e.Now().Add(d.cfg.Debounce))
	case StepREX:
		d, err := e.doorNamed(st.Line, st.Door)
		if err != nil {
			return err
		}
		if d.cfg.REX == "" {
			return e.fail(st.Line, "rex: door %q has no exit button (rex)", d.cfg.Name)
		}
		d.door.ExitButton(true)
		e.clk.Settle()
		if err := e.advance(e.Now().Add(d.cfg.Debounce + REXPress)); err != nil {
			return err
		}
		d.door.ExitButton(false)
		e.clk.Settle()
		return e.advance(e.Now().Add(d.cfg.Debounce))
	}
	return e.fail(st.Line, "%s may only come before every other command", st.Kind)
}

// keys presses keys KeyInterval apart as the reader's keypad sends them:
// one frame per key (4bit, 8bit), or the buffered PIN as one frame on '#'
// (26bit_pin; '*' clears the buffer, a PIN the keypad cannot send goes out
// as its error frame).
func (e *engine) keys(r *simReader, keys []byte) error {
	at := e.Now()
	for i, k := range keys {
		t := at.Add(time.Duration(i) * KeyInterval)
		if err := e.advance(t); err != nil {
			return err
		}
		bits, send, err := KeyFrame(r.keypad, &r.pin, k)
		if err != nil {
			return fmt.Errorf("sim: scenario: keypad: %w", err)
		}
		if !send {
			continue
		}
		e.pulse(r, bits, e.Now())
		if err := e.settle(); err != nil {
			return err
		}
	}
	return nil
}
