package reader

import (
	"context"
	"time"
)

// Lines is a reader's D0/D1 line pair as the capture loop sees it: the
// kernel's event queue of a GPIO line request (reader/gpiocdev) or a fake
// (reader/readertest, which latchd --sim and the scenario runner use too).
type Lines interface {
	// Now is the clock of the edge timestamps (CLOCK_MONOTONIC for the
	// kernel's events).
	Now() time.Duration
	// Wait returns the edges queued since the last call, in time order,
	// waiting up to timeout for one (negative: no limit). idle is true when
	// the timeout passed with the queue empty. An error means the lines can
	// no longer be read (or ctx ended): the capture stops.
	Wait(ctx context.Context, timeout time.Duration) (edges []Edge, idle bool, err error)
}

// Capture is the capture loop of one reader, the only one in latch: it
// feeds the edges of l into dec and calls emit with every Read, until ctx
// ends (ctx.Err()) or l fails (its error). It wakes at the decoder's
// deadline plus slack and closes the frame only when the queue is empty
// then (Decoder.Flush's rule), so a frame is reported its end-of-frame
// silence plus slack after its last edge. slack covers edges stamped just
// before the deadline that reach the queue just after it (gpiocdev's
// FlushSlack); a fake that queues edges at their own time needs none.
// emit runs on Capture's goroutine. While a frame is open, Capture holds
// the decoder's gate (WithGate) until its deadline plus slack, and for the
// gate's tail after each Read it emits.
func Capture(ctx context.Context, l Lines, dec *Decoder, slack time.Duration, emit func(Read)) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		timeout := time.Duration(-1)
		if dl, ok := dec.Deadline(); ok {
			timeout = max(dl+slack-l.Now(), 0)
		}
		edges, idle, err := l.Wait(ctx, timeout)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if idle {
			// The queue was empty at the deadline: the frame is complete.
			for _, r := range dec.Flush(l.Now() - slack) {
				dec.gate.Busy(0) // the decision's time (the gate's tail)
				emit(r)
			}
			continue
		}
		for _, e := range edges {
			for _, r := range dec.Push(e) {
				dec.gate.Busy(0)
				emit(r)
			}
		}
		// A frame is arriving: background work keeps off the CPU until it
		// can have ended and been decided (package quiet).
		if dl, ok := dec.Deadline(); ok {
			dec.gate.Busy(dl + slack - l.Now())
		}
	}
}
