//go:build linux

package gpiocdev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/latchd/latch/reader"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// errClosed: Close was called.
var errClosed = errors.New("gpiocdev: closed")

// Wiegand captures a reader's D0 and D1 lines and decodes their frames.
type Wiegand struct {
	fd     int
	d0, d1 uint32
	dec    *reader.Decoder
	log    zerolog.Logger
	now    func() time.Duration // CLOCK_MONOTONIC
	slack  time.Duration
	wake   wakePipe
	buf    []byte        // one read of events; used by Run's goroutine only
	evs    []lineEvent   // parsed events of buf
	edges  []reader.Edge // the edges of evs

	mu      sync.Mutex
	running bool
	closed  bool
	done    chan struct{} // closed when Run returns
}

// FlushSlack is how long after a frame's deadline Run waits before
// closing the frame. The kernel stamps an edge in the hard-IRQ handler
// but queues it from the IRQ thread, so an edge stamped just before the
// deadline may reach the queue a little after it.
const FlushSlack = 500 * time.Microsecond

// WiegandConfig says which lines a reader is on.
type WiegandConfig struct {
	Chip     string // "gpiochip0", "/dev/gpiochip0" or "0"
	D0, D1   int    // line offsets on the chip (BCM GPIO numbers on a Pi)
	Consumer string // label shown by gpioinfo; default "latch"
	// EventBuffer is the kernel event queue size for D0+D1; values under
	// MinEventBuffer are raised to it.
	EventBuffer int
}

// OpenWiegand requests D0 and D1 as inputs, falling edge only (with both
// edges the kernel reads the level late and may misreport a 50 µs pulse;
// docs/wiring.md), with no debounce (kernel debounce swallows 50 µs pulses)
// and an event buffer of at least MinEventBuffer. Decoded reads go to
// Run's callback. The decoder should use reader.WithEpoch(Epoch()).
func OpenWiegand(cfg WiegandConfig, dec *reader.Decoder, log zerolog.Logger) (*Wiegand, error) {
	if cfg.D0 < 0 || cfg.D1 < 0 || cfg.D0 == cfg.D1 {
		return nil, fmt.Errorf("gpiocdev: wiegand lines d0=%d d1=%d: need two distinct lines", cfg.D0, cfg.D1)
	}
	if cfg.Consumer == "" {
		cfg.Consumer = "latch"
	}
	buf := max(cfg.EventBuffer, MinEventBuffer)
	req, err := newRequest(cfg.Consumer, []uint32{uint32(cfg.D0), uint32(cfg.D1)}, flagInput|flagEdgeFalling, uint32(buf))
	if err != nil {
		return nil, err
	}
	fd, err := requestLines(cfg.Chip, req)
	if err != nil {
		return nil, err
	}
	w, err := newWiegand(fd, uint32(cfg.D0), uint32(cfg.D1), dec, log)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return w, nil
}

// newWiegand wraps an fd that yields gpio_v2_line_event records (a line
// request, or a pipe in tests).
func newWiegand(fd int, d0, d1 uint32, dec *reader.Decoder, log zerolog.Logger) (*Wiegand, error) {
	wp, err := newWakePipe()
	if err != nil {
		return nil, err
	}
	return &Wiegand{fd: fd, d0: d0, d1: d1, dec: dec, log: log.With().Str("component", "wiegand").Str("reader", dec.Name()).Logger(),
		now: Monotonic, slack: FlushSlack, wake: wp, buf: make([]byte, 64*eventSize)}, nil
}

// Run reads edges and calls emit for every frame's Read until ctx is
// done, Close is called, or the line fails. It wakes on the decoder's
// deadline, so a frame is reported its end-of-frame silence (plus
// FlushSlack) after its last edge. emit is called on Run's goroutine and
// must not be nil. Run may be called again after it returned (not twice
// at once, not after Close).
func (w *Wiegand) Run(ctx context.Context, emit func(reader.Read)) error {
	w.mu.Lock()
	if w.closed || w.running {
		w.mu.Unlock()
		return fmt.Errorf("gpiocdev: Run on a closed or running capture: %w", errClosed)
	}
	w.running = true
	w.done = make(chan struct{})
	w.wake.drain() // a wake-up left by an earlier Run's cancellation
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.running = false
		close(w.done)
		w.mu.Unlock()
	}()
	stop := context.AfterFunc(ctx, w.wake.wake)
	defer stop()
	return reader.Capture(ctx, cdevLines{w}, w.dec, w.slack, emit)
}

// cdevLines is the line request as reader.Capture's Lines: ppoll on the
// line fd and the wake pipe, then every gpio_v2_line_event read at once.
type cdevLines struct{ w *Wiegand }

func (l cdevLines) Now() time.Duration { return l.w.now() }

// Wait ignores ctx: Run's AfterFunc wakes the pipe when ctx ends.
func (l cdevLines) Wait(_ context.Context, timeout time.Duration) ([]reader.Edge, bool, error) {
	w := l.w
	ready, err := w.wake.wait(w.fd, timeout)
	if err != nil {
		return nil, false, err
	}
	if !ready {
		return nil, true, nil
	}
	n, err := unix.Read(w.fd, w.buf)
	if err == unix.EINTR || err == unix.EAGAIN {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("gpiocdev: read events: %w", err)
	}
	if n == 0 {
		return nil, false, fmt.Errorf("gpiocdev: read events: %w", io.EOF)
	}
	if w.evs, err = parseEvents(w.buf[:n], w.evs[:0]); err != nil {
		return nil, false, err
	}
	w.edges = w.edges[:0]
	for _, ev := range w.evs {
		if ev.ID != eventFallingEdge {
			// Not requested; ignore rather than invent a bit.
			w.log.Warn().Uint32("id", ev.ID).Uint32("line", ev.Offset).Msg("unexpected event ignored")
			continue
		}
		var line reader.Line
		switch ev.Offset {
		case w.d0:
			line = reader.D0
		case w.d1:
			line = reader.D1
		default:
			w.log.Warn().Uint32("line", ev.Offset).Msg("event from an unrequested line ignored")
			continue
		}
		w.edges = append(w.edges, reader.Edge{Line: line, T: time.Duration(ev.TimestampNs), Seq: ev.Seqno})
	}
	return w.edges, false, nil
}

// Close interrupts Run, waits for it to return, and releases the lines.
// It is safe to call more than once.
func (w *Wiegand) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	running, done := w.running, w.done
	w.mu.Unlock()
	w.wake.wake()
	if running {
		<-done
	}
	w.wake.close()
	if err := unix.Close(w.fd); err != nil {
		return fmt.Errorf("gpiocdev: close lines: %w", err)
	}
	return nil
}
