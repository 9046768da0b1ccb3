//go:build linux

package gpiocdev

import (
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Output is one output line requested with an initial value. It
// implements periph's gpio.PinOut.
type Output struct {
	name   string
	offset int
	safe   gpio.Level // the initial level; Halt returns to it

	mu     sync.Mutex
	fd     int
	level  gpio.Level // kept in software: reading an output back is not reliable
	closed bool
}

var _ gpio.PinOut = (*Output)(nil)

// RequestOutput requests line offset on chip as an output driven to
// initial from the first instant: the level is part of the line request
// (GPIO_V2_LINE_FLAG_OUTPUT with a GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES
// attribute), so no glitch reaches a relay between "becomes an output"
// and "gets its level". Use the relay's inactive level as initial; Halt
// drives the line back to it. name labels the line (gpioinfo consumer and
// String).
func RequestOutput(chip string, offset int, name string, initial gpio.Level) (*Output, error) {
	if offset < 0 {
		return nil, fmt.Errorf("gpiocdev: output %q: line offset %d", name, offset)
	}
	req, err := newRequest(consumerOf(name), []uint32{uint32(offset)}, flagOutput, 0)
	if err != nil {
		return nil, err
	}
	req.setOutputValues(levelBit(initial), 1)
	fd, err := requestLines(chip, req)
	if err != nil {
		return nil, err
	}
	return &Output{name: name, offset: offset, safe: initial, fd: fd, level: initial}, nil
}

func consumerOf(name string) string {
	if name == "" {
		return "latch"
	}
	return "latch-" + name
}

func levelBit(l gpio.Level) uint64 {
	if l == gpio.High {
		return 1
	}
	return 0
}

// String returns the name and line offset.
func (o *Output) String() string { return fmt.Sprintf("%s(line %d)", o.name, o.offset) }

// Name returns the name given at request time.
func (o *Output) Name() string { return o.name }

// Number returns the chip line offset.
func (o *Output) Number() int { return o.offset }

// Function returns "Out/High" or "Out/Low" (deprecated in periph, kept for pin.Pin).
func (o *Output) Function() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return "Out/" + o.level.String()
}

// Out drives the line to l.
func (o *Output) Out(l gpio.Level) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return fmt.Errorf("gpiocdev: %s: out on a closed line", o)
	}
	if err := setValues(o.fd, &lineValues{Bits: levelBit(l), Mask: 1}); err != nil {
		return fmt.Errorf("gpiocdev: %s: %w", o, err)
	}
	o.level = l
	return nil
}

// Level returns the level last driven (kept in software).
func (o *Output) Level() gpio.Level {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.level
}

// PWM is not supported on a character-device line.
func (o *Output) PWM(gpio.Duty, physic.Frequency) error {
	return fmt.Errorf("gpiocdev: %s: PWM not supported", o)
}

// Halt drives the line back to its initial (safe) level.
func (o *Output) Halt() error { return o.Out(o.safe) }

// Close releases the line. The kernel then leaves its level to the
// driver; call Halt first for a defined state.
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	return unix.Close(o.fd)
}

// Input is one input line with both edges reported with kernel
// timestamps, for a door position switch or an exit button.
type Input struct {
	name   string
	offset int
	fd     int
	wake   wakePipe
	buf    []byte
	pend   []lineEvent

	mu     sync.Mutex
	closed bool
}

// RequestInput requests line offset on chip as an input with both edges
// and the given bias (gpio.PullNoChange leaves the bias alone). No kernel
// debounce: debounce contacts in software on the timestamps.
func RequestInput(chip string, offset int, name string, pull gpio.Pull) (*Input, error) {
	if offset < 0 {
		return nil, fmt.Errorf("gpiocdev: input %q: line offset %d", name, offset)
	}
	flags := flagInput | flagEdgeRising | flagEdgeFalling
	switch pull {
	case gpio.PullUp:
		flags |= flagBiasPullUp
	case gpio.PullDown:
		flags |= flagBiasPullDown
	case gpio.Float:
		flags |= flagBiasDisabled
	}
	req, err := newRequest(consumerOf(name), []uint32{uint32(offset)}, flags, 0)
	if err != nil {
		return nil, err
	}
	fd, err := requestLines(chip, req)
	if err != nil {
		return nil, err
	}
	wp, err := newWakePipe()
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &Input{name: name, offset: offset, fd: fd, wake: wp, buf: make([]byte, 16*eventSize)}, nil
}

// Read returns the line's current level.
func (in *Input) Read() (gpio.Level, error) {
	v := lineValues{Mask: 1}
	if err := getValues(in.fd, &v); err != nil {
		return gpio.Low, fmt.Errorf("gpiocdev: %s: %w", in.name, err)
	}
	return v.Bits&1 == 1, nil
}

// WaitEdge returns the next edge, waiting up to timeout (negative: no
// limit). ok is false on timeout. Interrupt it with Close. Not safe for
// concurrent use by several goroutines.
func (in *Input) WaitEdge(timeout time.Duration) (e Edge, ok bool, err error) {
	if len(in.pend) == 0 {
		ready, err := in.wake.wait(in.fd, timeout)
		if err != nil || !ready {
			return Edge{}, false, err
		}
		n, err := unix.Read(in.fd, in.buf)
		if err == unix.EINTR || err == unix.EAGAIN {
			return Edge{}, false, nil // nothing after all: the caller waits again
		}
		if err != nil {
			return Edge{}, false, fmt.Errorf("gpiocdev: %s: read events: %w", in.name, err)
		}
		if n == 0 {
			// End of file: the line is gone. Reported, not retried (a
			// caller that waited again would spin on it for ever).
			return Edge{}, false, fmt.Errorf("gpiocdev: %s: read events: %w", in.name, io.EOF)
		}
		if in.pend, err = parseEvents(in.buf[:n], in.pend[:0]); err != nil {
			return Edge{}, false, err
		}
		if len(in.pend) == 0 {
			return Edge{}, false, nil
		}
	}
	ev := in.pend[0]
	in.pend = in.pend[1:]
	return Edge{Rising: ev.ID == eventRisingEdge, T: time.Duration(ev.TimestampNs), Seq: ev.Seqno}, true, nil
}

// Interrupt makes a running or later WaitEdge return errClosed.
func (in *Input) Interrupt() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.closed {
		in.closed = true
		in.wake.wake()
	}
}

// Close releases the line. Call it once no WaitEdge is running (use
// Interrupt first from another goroutine).
func (in *Input) Close() error {
	in.Interrupt()
	in.wake.close()
	if err := unix.Close(in.fd); err != nil {
		return fmt.Errorf("gpiocdev: %s: close: %w", in.name, err)
	}
	return nil
}
