package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/host/v3"
	"periph.io/x/host/v3/gpioioctl"

	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/reader/gpiocdev"
)

// lineRef is where a named pin lives: a GPIO character device and a line
// offset on it.
type lineRef struct {
	chip   string // /dev/gpiochipN
	offset int
}

// gpioHW is the Pi's GPIO: periph names the lines (host.Init registers every
// line of every /dev/gpiochip* by its name, "GPIO17" on a Pi), and
// reader/gpiocdev requests them with the GPIO v2 uAPI, which gives what
// periph does not: kernel-timestamped edges for Wiegand, and outputs with an
// initial value, so the strike relay is at its inactive level from the first
// instant (docs/wiring.md, "Linux GPIO").
type gpioHW struct {
	crashReporter
	log   zerolog.Logger
	lines map[string]lineRef

	mu      sync.Mutex
	outputs []*gpiocdev.Output
}

func newGPIOHW(log zerolog.Logger) (*gpioHW, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("latchd: periph host init: %w", err)
	}
	h := &gpioHW{log: log, lines: map[string]lineRef{}}
	for _, chip := range gpioioctl.Chips {
		for _, l := range chip.Lines() {
			name := l.Name()
			// periph prefixes a name that another driver registered first
			// with the chip's name; the config uses the bare name.
			name = strings.TrimPrefix(name, chip.Name()+"-")
			if name == "" {
				continue
			}
			if _, dup := h.lines[name]; !dup {
				h.lines[name] = lineRef{chip: chip.Path(), offset: l.Number()}
			}
		}
	}
	if len(h.lines) == 0 {
		return nil, errors.New("latchd: no named GPIO lines found (is this a Raspberry Pi, and is latchd in group gpio?)")
	}
	return h, nil
}

func (h *gpioHW) Epoch() time.Time { return gpiocdev.Epoch() }

func (h *gpioHW) line(pin string) (lineRef, error) {
	ref, ok := h.lines[pin]
	if !ok {
		return lineRef{}, fmt.Errorf("latchd: pin %s: no GPIO line of that name on this machine", pin)
	}
	return ref, nil
}

// request asks the kernel for pin's line with req, as label: an unknown pin
// is an error naming it, a refused request one naming the line and the pin.
func request[L any](h *gpioHW, pin, label string, req func(lineRef) (L, error)) (L, error) {
	var none L
	ref, err := h.line(pin)
	if err != nil {
		return none, err
	}
	l, err := req(ref)
	if err != nil {
		return none, fmt.Errorf("latchd: %s (%s): %w", label, pin, err)
	}
	return l, nil
}

func (h *gpioHW) Output(pin string, initial gpio.Level, label string) (gpio.PinOut, error) {
	o, err := request(h, pin, label, func(ref lineRef) (*gpiocdev.Output, error) {
		return gpiocdev.RequestOutput(ref.chip, ref.offset, label, initial)
	})
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.outputs = append(h.outputs, o)
	h.mu.Unlock()
	return o, nil
}

func (h *gpioHW) Release(p gpio.PinOut) error {
	o, ok := p.(*gpiocdev.Output)
	if !ok {
		return nil
	}
	h.mu.Lock()
	for i, x := range h.outputs {
		if x == o {
			h.outputs = append(h.outputs[:i], h.outputs[i+1:]...)
			break
		}
	}
	h.mu.Unlock()
	return o.Close()
}

func (h *gpioHW) Reader(ctx context.Context, rc config.Reader, dec *reader.Decoder, emit func(reader.Read)) (func(), error) {
	d0, err := h.line(rc.D0)
	if err != nil {
		return nil, err
	}
	d1, err := h.line(rc.D1)
	if err != nil {
		return nil, err
	}
	if d0.chip != d1.chip {
		return nil, fmt.Errorf("latchd: reader %s: d0 %s and d1 %s are on different GPIO chips", rc.Name, rc.D0, rc.D1)
	}
	w, err := gpiocdev.OpenWiegand(gpiocdev.WiegandConfig{Chip: d0.chip, D0: d0.offset, D1: d1.offset, Consumer: "latch " + rc.Name}, dec, h.log)
	if err != nil {
		return nil, fmt.Errorf("latchd: reader %s: %w", rc.Name, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer h.recoverTo("reader " + rc.Name)
		// Run returns only when stopped (ctx ends) or when the lines fail:
		// a reader that can no longer be read is fatal (crash-only).
		if err := w.Run(ctx, emit); ctx.Err() == nil {
			if err == nil {
				err = errors.New("capture ended")
			}
			h.log.Error().Err(err).Str("reader", rc.Name).Msg("wiegand capture failed; the reader is dead")
			h.lineDied("reader "+rc.Name, err)
		}
	}()
	return func() {
		cancel()
		_ = w.Close()
		<-done
	}, nil
}

func (h *gpioHW) Input(ctx context.Context, pin, label string, pull gpio.Pull, fn func(gpio.Level)) (func(), error) {
	in, err := request(h, pin, label, func(ref lineRef) (*gpiocdev.Input, error) {
		return gpiocdev.RequestInput(ref.chip, ref.offset, label, pull)
	})
	if err != nil {
		return nil, err
	}
	lvl, err := in.Read()
	if err != nil {
		in.Close()
		return nil, err
	}
	fn(lvl)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer h.recoverTo(label)
		for ctx.Err() == nil {
			e, ok, err := in.WaitEdge(time.Second)
			if err != nil {
				// Not stopped (stop cancels ctx before it interrupts):
				// an input that can no longer be read is fatal.
				if ctx.Err() == nil {
					h.log.Error().Err(err).Str("pin", pin).Str("line", label).Msg("input watch failed; the line is dead")
					h.lineDied(label, err)
				}
				return
			}
			if ok {
				fn(gpio.Level(e.Rising))
			}
		}
	}()
	return func() {
		cancel()
		in.Interrupt()
		<-done
		_ = in.Close()
	}, nil
}

func (h *gpioHW) Close() error {
	h.mu.Lock()
	outs := h.outputs
	h.outputs = nil
	h.mu.Unlock()
	var errs []error
	for _, o := range outs {
		// Halt drives each output to its initial (inactive) level: the strike locked.
		errs = append(errs, o.Halt(), o.Close())
	}
	return errors.Join(errs...)
}
