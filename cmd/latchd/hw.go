package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
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
	// reportCrashes sends panics of the hardware's goroutines, and every
	// capture or watch that fails (a *lineError), to fatal.
	reportCrashes(fatal chan<- error)
	// deadLines names the lines whose capture or watch failed.
	deadLines() []string
}

// Both run the same site, door loops and decoders: only these lines differ.
var (
	_ hardware = (*gpioHW)(nil)
	_ hardware = (*simHW)(nil)
)

// crashReporter turns a panic in a hardware goroutine, or a reader's
// capture or an input's watch that fails, into a fatal error for the
// daemon (crash-only: every strike is driven locked, then exit non-zero,
// and systemd restarts latchd). A dead line is also recorded at once, so
// that the health check fails (the watchdog keep-alives stop, /v1/health
// and /metrics name the line) even before the daemon's main loop hears of it.
type crashReporter struct {
	fatal chan<- error // set by the daemon before the first Reader or Input

	mu   sync.Mutex
	dead []string // lines whose capture or watch failed, in order
}

// lineError is a reader's capture or an input's watch that failed on its
// own (not stopped): the line is dead and the controller can no longer
// read it.
type lineError struct {
	Line string // "reader r1", "dps front", "rex front"
	Err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("latchd: %s: line dead: %v", e.Line, e.Err) }
func (e *lineError) Unwrap() error { return e.Err }

// recoverTo is deferred first thing in a hardware goroutine.
func (c *crashReporter) recoverTo(what string) {
	if r := recover(); r != nil {
		if c.fatal == nil {
			panic(r)
		}
		c.report(fmt.Errorf("latchd: panic in %s: %s", what, panicText(r)))
	}
}

// lineDied records line as dead and reports it to the daemon.
func (c *crashReporter) lineDied(line string, err error) {
	c.mu.Lock()
	c.dead = append(c.dead, line)
	c.mu.Unlock()
	c.report(&lineError{Line: line, Err: err})
}

// report hands err to the daemon without blocking: the daemon acts on the
// first fatal error; when the channel is full it is already stopping, and
// a capture goroutine must not hang its stop on it.
func (c *crashReporter) report(err error) {
	if c.fatal == nil {
		return
	}
	select {
	case c.fatal <- err:
	default:
	}
}

// deadLines returns the lines that failed since the start.
func (c *crashReporter) deadLines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.dead)
}

func (c *crashReporter) reportCrashes(fatal chan<- error) { c.fatal = fatal }
