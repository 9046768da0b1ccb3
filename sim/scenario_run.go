package sim

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/store"
)

// Timing of the scenario's people; the readers' Wiegand timing is
// readertest's (typical 50 µs pulses, 2 ms apart).
const (
	// KeyInterval is the time between two keys of one keys line (a brisk typist).
	KeyInterval = 250 * time.Millisecond
	// REXPress is how long rex holds the exit button down past the debounce.
	REXPress = 200 * time.Millisecond
)

func (e *engine) fail(line int, format string, args ...any) error {
	return &ScriptError{File: e.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// startDoors starts the doors, then the readers' captures, which hand
// their reads to the doors.
func (e *engine) startDoors() {
	for _, d := range e.doors {
		d.door.Start()
	}
	e.clk.Settle()
	for _, r := range e.readers {
		r.stop = r.line.Start(r.dec, func(rd reader.Read) {
			if r.door != nil {
				r.door.door.Submit(rd)
			}
		})
	}
}

func (e *engine) stopDoors() {
	e.stopped = true
	for _, r := range e.readers {
		if r.stop != nil {
			if err := r.stop(); err != nil {
				e.log.Error().Err(err).Str("reader", r.cfg.Name).Msg("scenario: capture failed")
			}
		}
	}
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
	if e.crashing {
		return // lost in the crash
	}
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
// deadlines and the readers' lines (edges entering the queue, the capture
// loop reading them or closing a frame) in time order. At one instant door
// deadlines go first, then the lines in config order.
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
		if t, ok := r.line.Wake(); ok {
			consider(e.epoch.Add(t), r.line.Step)
		}
	}
	return at, act
}

// pulse sends a frame on r's lines from now on.
func (e *engine) pulse(r *simReader, bits string) error {
	_, err := r.line.SendBits(bits, e.Now().Sub(e.epoch))
	return err
}

// settle runs until every edge sent is read and every open frame closed.
func (e *engine) settle() error {
	for {
		var first time.Duration
		found := false
		for _, r := range e.readers {
			if t, ok := r.line.Wake(); ok && (!found || t < first) {
				first, found = t, true
			}
		}
		if !found {
			return nil
		}
		if err := e.advance(e.epoch.Add(first)); err != nil {
			return err
		}
	}
}

func (e *engine) reader(line int, name string) (*simReader, error) {
	return pickNamed(e, line, "reader", e.readers, e.byName, name)
}

func (e *engine) doorNamed(line int, name string) (*simDoor, error) {
	return pickNamed(e, line, "door", e.doors, e.byDoor, name)
}

// pickNamed finds the config's [[kind]] called name; an empty name means
// the first one.
func pickNamed[T any](e *engine, line int, kind string, all []T, byName map[string]T, name string) (T, error) {
	var zero T
	if name == "" {
		if len(all) == 0 {
			return zero, e.fail(line, "the config has no [[%s]]", kind)
		}
		return all[0], nil
	}
	v, ok := byName[name]
	if !ok {
		return zero, e.fail(line, "no %s %q in the config", kind, name)
	}
	return v, nil
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
	case StepBadge, StepBadgeRaw:
		r, err := e.reader(st.Line, st.Reader)
		if err != nil {
			return err
		}
		bits := st.Bits
		if st.Kind == StepBadge {
			if bits, err = cardBits(st); err != nil {
				return e.fail(st.Line, "badge: %v", err)
			}
		}
		if err := e.pulse(r, bits); err != nil {
			return e.fail(st.Line, "%s: %v", st.Kind, err)
		}
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
	if handled, err := e.doOp(st); handled {
		return err
	}
	return e.fail(st.Line, "%s may only come before every other command", st.Kind)
}

// cardBits is the frame a badge step's card sends.
func cardBits(st Step) (string, error) {
	spec, err := reader.ParseFormatSpec(string(st.Format), "")
	if err != nil {
		return "", err
	}
	return spec.Encode(st.FacilityCode, st.CardNumber)
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
		if err := e.pulse(r, bits); err != nil {
			return fmt.Errorf("sim: scenario: keypad: %w", err)
		}
		if err := e.settle(); err != nil {
			return err
		}
	}
	return nil
}
