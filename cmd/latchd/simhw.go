package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/sim"
)

// simHW is the simulated hardware of latchd --sim: outputs are sim.OutPins
// that record every level, inputs are levels the sim commands set, and each
// reader turns frames into Wiegand edge trains (sim.WiegandReader, typical
// timing) decoded by the real reader.Decoder on the real clock.
type simHW struct {
	crashReporter
	log   zerolog.Logger
	epoch time.Time

	mu      sync.Mutex
	outputs map[string]*sim.OutPin // by pin
	labels  map[string]string      // pin → label ("relay front")
	inputs  map[string]*simInput   // by pin
	readers map[string]*simReaderHW
	sent    time.Time // when the last frame was handed to a reader
}

// send hands a frame to a simulated reader.
func (r *simReaderHW) send(bits string) {
	r.hw.mu.Lock()
	r.hw.sent = time.Now()
	r.hw.mu.Unlock()
	r.frames <- bits
}

// settle waits until frames handed to the readers are surely on the wire and
// decoded: a frame waits at most one frame gap behind the previous one, lasts
// at most 128 intervals, and ends after at most twice the frame gap.
func (h *simHW) settle(ctx context.Context) {
	h.mu.Lock()
	since := time.Since(h.sent)
	h.mu.Unlock()
	const budget = 128*sim.DefaultInterval + 4*2*reader.DefaultMaxFrameGap + 100*time.Millisecond
	if since >= budget {
		return
	}
	t := time.NewTimer(budget - since)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

type simInput struct {
	level gpio.Level
	fn    func(gpio.Level)
	label string // "dps front", as the daemon requested it
}

type simReaderHW struct {
	hw     *simHW
	rc     config.Reader
	keypad reader.Keypad
	frames chan string
	fail   chan error // failReader: the capture fails with this error
	pin    []byte     // 26bit_pin buffer; used by the command goroutine only
}

func newSimHW(log zerolog.Logger) *simHW {
	return &simHW{log: log, epoch: time.Now(), outputs: map[string]*sim.OutPin{}, labels: map[string]string{},
		inputs: map[string]*simInput{}, readers: map[string]*simReaderHW{}}
}

func (h *simHW) Epoch() time.Time { return h.epoch }

func (h *simHW) Output(pin string, initial gpio.Level, label string) (gpio.PinOut, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := sim.NewOutPin(pin, initial, nil)
	h.outputs[pin] = p
	h.labels[pin] = label
	return &loggedPin{OutPin: p, label: label, log: h.log}, nil
}

// loggedPin logs the simulated outputs' changes at debug level
// (--log-level debug shows the reader's LEDs and beeper).
type loggedPin struct {
	*sim.OutPin
	label string
	log   zerolog.Logger
}

func (p *loggedPin) Out(l gpio.Level) error {
	if l != p.OutPin.Level() {
		p.log.Debug().Str("component", "sim").Str("line", p.label).Str("to", l.String()).Msg("output changed")
	}
	return p.OutPin.Out(l)
}

func (h *simHW) Release(p gpio.PinOut) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.outputs, p.Name())
	return nil
}

// setInitial sets the level an input starts at (before Input is called).
func (h *simHW) setInitial(pin string, l gpio.Level) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inputs[pin] = &simInput{level: l}
}

func (h *simHW) Input(ctx context.Context, pin, label string, pull gpio.Pull, fn func(gpio.Level)) (func(), error) {
	h.mu.Lock()
	in, ok := h.inputs[pin]
	if !ok {
		in = &simInput{level: pull == gpio.PullUp}
		h.inputs[pin] = in
	}
	in.fn = fn
	in.label = label
	lvl := in.level
	h.mu.Unlock()
	fn(lvl)
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.inputs[pin] == in {
			in.fn = nil
		}
	}, nil
}

// set drives an input line (the door opening, the button pressed).
func (h *simHW) set(pin string, l gpio.Level) error {
	h.mu.Lock()
	in, ok := h.inputs[pin]
	if !ok || in.fn == nil {
		h.mu.Unlock()
		return fmt.Errorf("no input on %s", pin)
	}
	in.level = l
	fn := in.fn
	h.mu.Unlock()
	fn(l)
	return nil
}

func (h *simHW) Reader(ctx context.Context, rc config.Reader, dec *reader.Decoder, emit func(reader.Read)) (func(), error) {
	r := &simReaderHW{hw: h, rc: rc, keypad: dec.Keypad(), frames: make(chan string, 64), fail: make(chan error, 1)}
	h.mu.Lock()
	h.readers[rc.Name] = r
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer h.recoverTo("reader " + rc.Name)
		// As on the Pi: a capture that fails (not stopped) is a dead reader.
		if err := h.capture(ctx, r, dec, emit); err != nil && ctx.Err() == nil {
			h.log.Error().Err(err).Str("reader", rc.Name).Msg("wiegand capture failed; the reader is dead")
			h.lineDied("reader "+rc.Name, err)
		}
	}()
	return func() {
		cancel()
		<-done
		h.mu.Lock()
		if h.readers[rc.Name] == r {
			delete(h.readers, rc.Name)
		}
		h.mu.Unlock()
	}, nil
}

// capture plays the part of reader/gpiocdev's capture loop: each frame's
// edges (from now on, the typical 2 ms apart) go into the decoder, which is
// flushed at its deadline on the real clock. It returns nil when ctx ends,
// or the error given to failReader (the simulated line failing).
func (h *simHW) capture(ctx context.Context, r *simReaderHW, dec *reader.Decoder, emit func(reader.Read)) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// A real reader sends one frame at a time: a frame asked for while the
	// previous one is still on the wire starts after it, with a silence
	// that ends the previous frame for sure.
	gap := 2 * max(r.rc.MaxFrameGap, reader.DefaultMaxFrameGap)
	next := time.Duration(0)
	for {
		timer.Stop()
		if dl, ok := dec.Deadline(); ok {
			timer.Reset(max(time.Until(h.epoch.Add(dl)), 0))
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-r.fail:
			return err
		case bits := <-r.frames:
			w, err := sim.NewWiegandReader(sim.WiegandConfig{})
			if err != nil {
				h.log.Error().Err(err).Msg("sim reader")
				continue
			}
			w.Wait(max(time.Since(h.epoch), next))
			if err := w.SendBits(bits); err != nil {
				h.log.Error().Err(err).Msg("sim reader")
				continue
			}
			next = w.Now() + gap
			for _, e := range w.Edges() {
				for _, rd := range dec.Push(e) {
					emit(rd)
				}
			}
		case <-timer.C:
			for _, rd := range dec.Flush(time.Since(h.epoch)) {
				emit(rd)
			}
		}
	}
}

// failReader makes a reader's capture fail with err, as a Wiegand capture
// on the Pi does when its line request breaks (the fault seam of the
// crash-only tests and of the --sim debug-fail command).
func (h *simHW) failReader(name string, err error) error {
	r, err2 := h.reader(name)
	if err2 != nil {
		return err2
	}
	select {
	case r.fail <- err:
	default: // already failing
	}
	return nil
}

// failInput makes an input's watch fail with err, as the Pi's watch does
// when its line request breaks: the line stops reporting and is dead.
func (h *simHW) failInput(pin string, err error) error {
	h.mu.Lock()
	in, ok := h.inputs[pin]
	if !ok || in.fn == nil {
		h.mu.Unlock()
		return fmt.Errorf("no input on %s", pin)
	}
	in.fn = nil
	label := in.label
	h.mu.Unlock()
	h.log.Error().Err(err).Str("pin", pin).Str("line", label).Msg("input watch failed; the line is dead")
	h.lineDied(label, err)
	return nil
}

func (h *simHW) reader(name string) (*simReaderHW, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if name == "" {
		var first *simReaderHW
		for _, r := range h.readers {
			if first == nil || r.rc.Line < first.rc.Line {
				first = r
			}
		}
		if first == nil {
			return nil, fmt.Errorf("no reader running")
		}
		return first, nil
	}
	r, ok := h.readers[name]
	if !ok {
		return nil, fmt.Errorf("no reader %q", name)
	}
	return r, nil
}

// finals reports each output's final level, for the exit report.
func (h *simHW) finals() map[string]gpio.Level {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]gpio.Level{}
	for pin, p := range h.outputs {
		out[h.labels[pin]] = p.Level()
	}
	return out
}

func (h *simHW) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.outputs {
		_ = p.Halt()
	}
	return nil
}
