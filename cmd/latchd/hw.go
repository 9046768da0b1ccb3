package main

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/reader"
)

// hardware is what the daemon runs on: the Pi's GPIO (gpioHW) or the
// simulator (simHW). Pins are addressed by their config names.
type hardware interface {
	// Epoch is the time that edge timestamp 0 stands for.
	Epoch() time.Time
	// Output requests an output line driven to initial from its first
	// instant (for the relay: its inactive level, the strike locked).
	Output(pin string, initial gpio.Level, label string) (gpio.PinOut, error)
	// Release frees an output's line, leaving it at the level last driven
	// (call Halt first for the initial level).
	Release(p gpio.PinOut) error
	// Reader captures a reader's D0/D1 edges into dec and calls emit with
	// every Read until stop is called.
	Reader(ctx context.Context, rc config.Reader, dec *reader.Decoder, emit func(reader.Read)) (stop func(), err error)
	// Input calls fn with the raw level of an input line at once and on
	// every change until stop is called.
	Input(ctx context.Context, pin, label string, pull gpio.Pull, fn func(gpio.Level)) (stop func(), err error)
	// Close halts every output still held and releases the lines.
	Close() error
	// reportCrashes sends panics of the hardware's goroutines to fatal.
	reportCrashes(fatal chan<- error)
}

// Both run the same site, door loops and decoders: only these lines differ.
var (
	_ hardware = (*gpioHW)(nil)
	_ hardware = (*simHW)(nil)
)

// crashReporter turns a panic in a hardware goroutine into a fatal error
// for the daemon (crash-only: every strike is driven locked, then exit).
type crashReporter struct {
	fatal chan<- error // set by the daemon before the first Reader or Input
}

// recoverTo is deferred first thing in a hardware goroutine.
func (c *crashReporter) recoverTo(what string) {
	if r := recover(); r != nil {
		if c.fatal == nil {
			panic(r)
		}
		c.fatal <- fmt.Errorf("latchd: panic in %s: %s", what, panicText(r))
	}
}

func (c *crashReporter) reportCrashes(fatal chan<- error) { c.fatal = fatal }
