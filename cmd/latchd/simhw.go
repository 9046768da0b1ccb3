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
	"github.com/latchd/latch/reader/readertest"
)

// simHW is the simulated hardware of latchd --sim: outputs are
// readertest.OutPins that record every level, inputs are levels the sim
// commands set, and each reader is a readertest.Line (a Wiegand reader of
// typical timing and the kernel's queue) read by reader.Capture, the capture
// loop of the Pi, on the real clock.
type simHW struct {
	crashReporter
	log   zerolog.Logger
	epoch time.Time

	mu      sync.Mutex
	outputs map[string]*readertest.OutPin // by pin
	labels  map[string]string             // pin → label ("relay front")
	inputs  map[string]*simInput          // by pin
	readers map[string]*simReaderHW
	sent    time.Time // when the last frame was handed to a reader
}

// send puts a frame on a simulated reader's lines. A real reader sends one
// frame at a time: a frame asked for while the previous one is still on the
// wire starts after it, with a silence that ends the previous frame for sure.
func (r *simReaderHW) send(bits string) error {
	r.hw.mu.Lock()
	r.hw.sent = time.Now()
	r.hw.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	last, err := r.line.SendBits(bits, max(r.line.Now(), r.next))
	if err != nil {
		return err
	}
	r.next = last + 2*max(r.rc.MaxFrameGap, reader.DefaultMaxFrameGap)
	return nil
}

// settle waits until frames handed to the readers are surely on the wire and
// decoded: a frame waits at most one frame gap behind the previous one, lasts
// at most 128 intervals, and ends after at most twice the frame gap.
func (h *simHW) settle(ctx context.Context) {
	h.mu.Lock()
	since := time.Since(h.sent)
	h.mu.Unlock()
	const budget = 128*readertest.DefaultInterval + 4*2*reader.DefaultMaxFrameGap + 100*time.Millisecond
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
	line   *readertest.Line
	pin    []byte // 26bit_pin buffer; used by the command goroutine only

	mu   sync.Mutex
	next time.Duration // when the next frame may start
}

func newSimHW(log zerolog.Logger) *simHW {
	return &simHW{log: log, epoch: time.Now(), outputs: map[string]*readertest.OutPin{}, labels: map[string]string{},
		inputs: map[string]*simInput{}, readers: map[string]*simReaderHW{}}
}

func (h *simHW) Epoch() time.Time { return h.epoch }

func (h *simHW) Output(pin string, initial gpio.Level, label string) (gpio.PinOut, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := readertest.NewOutPin(pin, initial, nil)
	h.outputs[pin] = p
	h.labels[pin] = label
	return &loggedPin{OutPin: p, label: label, log: h.log}, nil
}

// loggedPin logs the simulated outputs' changes at debug level
// (--log-level debug shows the reader's LEDs and beeper).
type loggedPin struct {
	*readertest.OutPin
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

// withInput runs change on the input on pin that the daemon watches, with
// h.mu held, then, unlocked, the call change returns (the daemon's
// callback, which takes h.mu itself).
func (h *simHW) withInput(pin string, change func(in *simInput) (then func())) error {
	h.mu.Lock()
	in, ok := h.inputs[pin]
	if !ok || in.fn == nil {
		h.mu.Unlock()
		return fmt.Errorf("no input on %s", pin)
	}
	then := change(in)
	h.mu.Unlock()
	then()
	return nil
}

// set drives an input line (the door opening, the button pressed).
func (h *simHW) set(pin string, l gpio.Level) error {
	return h.withInput(pin, func(in *simInput) func() {
		in.level = l
		fn := in.fn
		return func() { fn(l) }
	})
}

func (h *simHW) Reader(ctx context.Context, rc config.Reader, dec *reader.Decoder, emit func(reader.Read)) (func(), error) {
	r := &simReaderHW{hw: h, rc: rc, keypad: dec.Keypad(), line: readertest.NewTimedLine(readertest.LineConfig{}, h.epoch)}
	h.mu.Lock()
	h.readers[rc.Name] = r
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer h.recoverTo("reader " + rc.Name)
		// As on the Pi: a capture that fails (not stopped) is a dead reader.
		if err := reader.Capture(ctx, r.line, dec, 0, emit); ctx.Err() == nil {
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

// failReader makes a reader's capture fail with err, as a Wiegand capture
// on the Pi does when its line request breaks (the fault seam of the
// crash-only tests and of the --sim debug-fail command).
func (h *simHW) failReader(name string, err error) error {
	r, err2 := h.reader(name)
	if err2 != nil {
		return err2
	}
	r.line.Fail(err)
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
