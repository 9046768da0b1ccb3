//go:build !linux

package gpiocdev

import (
	"context"
	"time"

	"github.com/latchd/latch/reader"
	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// FlushSlack: see the Linux build.
const FlushSlack = 500 * time.Microsecond

// WiegandConfig: see the Linux build.
type WiegandConfig struct {
	Chip        string
	D0, D1      int
	Consumer    string
	EventBuffer int
}

// Wiegand: see the Linux build. Not available here.
type Wiegand struct{}

// OpenWiegand returns ErrUnsupported outside Linux.
func OpenWiegand(WiegandConfig, *reader.Decoder, zerolog.Logger) (*Wiegand, error) {
	return nil, ErrUnsupported
}

// Run returns ErrUnsupported.
func (*Wiegand) Run(context.Context, func(reader.Read)) error { return ErrUnsupported }

// Close does nothing.
func (*Wiegand) Close() error { return nil }

// Monotonic returns time since an arbitrary start outside Linux.
func Monotonic() time.Duration { return time.Since(start) }

var start = time.Now()

// Epoch returns the time Monotonic counts from.
func Epoch() time.Time { return start }

// Output: see the Linux build. Not available here.
type Output struct{}

var _ gpio.PinOut = (*Output)(nil)

// RequestOutput returns ErrUnsupported outside Linux.
func RequestOutput(string, int, string, gpio.Level) (*Output, error) { return nil, ErrUnsupported }

func (*Output) String() string                        { return "gpiocdev.Output(unsupported)" }
func (*Output) Name() string                          { return "" }
func (*Output) Number() int                           { return -1 }
func (*Output) Function() string                      { return "" }
func (*Output) Out(gpio.Level) error                  { return ErrUnsupported }
func (*Output) Level() gpio.Level                     { return gpio.Low }
func (*Output) PWM(gpio.Duty, physic.Frequency) error { return ErrUnsupported }
func (*Output) Halt() error                           { return ErrUnsupported }
func (*Output) Close() error                          { return nil }

// Input: see the Linux build. Not available here.
type Input struct{}

// RequestInput returns ErrUnsupported outside Linux.
func RequestInput(string, int, string, gpio.Pull) (*Input, error) { return nil, ErrUnsupported }

func (*Input) Read() (gpio.Level, error)                  { return gpio.Low, ErrUnsupported }
func (*Input) WaitEdge(time.Duration) (Edge, bool, error) { return Edge{}, false, ErrUnsupported }
func (*Input) Interrupt()                                 {}
func (*Input) Close() error                               { return nil }
