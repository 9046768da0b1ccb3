package reader_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/latchd/latch/quiet"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/reader/readertest"
)

const card = "11101010000011011100000010" // h10301 212/7041

// TestCaptureTimedLine runs the capture loop on a fake line on the time
// package's clock (as latchd --sim does), in a bubble: a card's 26 edges
// 2 ms apart end at 50 ms and the frame comes out its 3 ms silence later
// (26 bits is the reader's longest frame: 1.5 intervals, not 3);
// a key sent a second later comes out after its own silence; the loop
// then waits with no deadline until it is stopped, and returns ctx.Err().
func TestCaptureTimedLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		l := readertest.NewTimedLine(readertest.LineConfig{}, start)
		dec, err := reader.NewDecoder(reader.Config{Name: "r", Formats: []string{"h10301"}, Keypad: reader.Keypad4}, reader.WithEpoch(start))
		if err != nil {
			t.Fatal(err)
		}
		reads := make(chan reader.Read, 4)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- reader.Capture(ctx, l, dec, 0, func(r reader.Read) { reads <- r }) }()
		if _, err := l.SendBits(card, 0); err != nil {
			t.Fatal(err)
		}
		r := <-reads
		if r.Kind != reader.KindCard || r.Card.CardNumber != 7041 || time.Since(start) != 53*time.Millisecond || !r.At.Equal(start.Add(53*time.Millisecond)) {
			t.Errorf("card %+v at %v, want 7041 at 53ms", r, time.Since(start))
		}
		if _, err := l.SendBits("0101", time.Second); err != nil {
			t.Fatal(err)
		}
		r = <-reads
		if string(r.Keys) != "5" || time.Since(start) != time.Second+12*time.Millisecond {
			t.Errorf("key %+v at %v, want 5 at 1.012s", r, time.Since(start))
		}
		synctest.Wait()
		if _, ok := l.Wake(); ok {
			t.Error("the loop has a deadline with no frame open")
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Capture = %v, want context.Canceled", err)
		}
	})
}

// TestCaptureHoldsTheGate: from a frame's first edge until the gate's tail
// after its Read, the decoder's gate is busy, so background work waiting on
// it starts again only after the decision's time: a card sent at 10 ms is
// read at 63 ms (its last edge at 60 ms, 3 ms of silence). Its 25th edge,
// at 58 ms, held the gate for a frame that could still grow (3 intervals,
// to 64 ms) and the gate's tail, so a waiter that came during the frame
// returns at 67 ms. Before the first edge and after the hold the gate is
// idle.
func TestCaptureHoldsTheGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		g := quiet.New(0)
		l := readertest.NewTimedLine(readertest.LineConfig{}, start)
		dec, err := reader.NewDecoder(reader.Config{Name: "r", Formats: []string{"h10301"}}, reader.WithEpoch(start), reader.WithGate(g))
		if err != nil {
			t.Fatal(err)
		}
		read := make(chan time.Duration, 1)
		busyAtRead := make(chan bool, 1)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- reader.Capture(ctx, l, dec, 0, func(reader.Read) {
				busyAtRead <- !g.Idle()
				read <- time.Since(start)
			})
		}()
		if _, err := l.SendBits(card, 10*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(9 * time.Millisecond)
		if !g.Idle() {
			t.Fatal("the gate is busy before the frame's first edge")
		}
		time.Sleep(2 * time.Millisecond) // 11 ms: the frame is arriving
		if g.Idle() {
			t.Fatal("the gate is idle while a frame arrives")
		}
		if !g.Wait(ctx, -1) {
			t.Fatal("Wait ended with its context")
		}
		if at := time.Since(start); at != 67*time.Millisecond {
			t.Errorf("the waiter went on at %v, want 67ms (the 25th edge's hold and the gate's tail)", at)
		}
		if at := <-read; at != 63*time.Millisecond {
			t.Errorf("the card was read at %v, want 63ms", at)
		}
		if !<-busyAtRead {
			t.Error("the gate was idle when the Read was emitted")
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Capture = %v, want context.Canceled", err)
		}
	})
}

// TestCaptureDeadLine: a line that fails ends the capture with its error
// (latchd makes that fatal: the reader is dead), mid-frame or idle, and a
// frame cut by it is not reported.
func TestCaptureDeadLine(t *testing.T) {
	var now time.Duration
	l := readertest.NewLine(readertest.LineConfig{}, func() time.Duration { return now })
	dec, _ := reader.NewDecoder(reader.Config{Formats: []string{"h10301"}})
	var got []reader.Read
	stop := l.Start(dec, func(r reader.Read) { got = append(got, r) })
	l.Send(reader.Edge{Line: reader.D1, T: 0}, reader.Edge{Line: reader.D0, T: time.Millisecond})
	for i := 0; i < 2; i++ {
		now, _ = l.Wake()
		l.Step()
	}
	l.Fail(syscall.EIO)
	l.Step()
	if err := stop(); !errors.Is(err, syscall.EIO) {
		t.Errorf("capture ended with %v, want EIO", err)
	}
	if len(got) != 0 {
		t.Errorf("reads %+v from a dead line", got)
	}
}

// TestCaptureSlack: the loop closes a frame only slack after its deadline
// (edges stamped before it may still be on their way), and the Read's At
// stays the frame's end.
func TestCaptureSlack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		l := readertest.NewTimedLine(readertest.LineConfig{}, start)
		dec, _ := reader.NewDecoder(reader.Config{Formats: []string{"h10301"}}, reader.WithEpoch(start))
		reads := make(chan reader.Read, 1)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go func() { _ = reader.Capture(ctx, l, dec, time.Millisecond, func(r reader.Read) { reads <- r }) }()
		if _, err := l.SendBits(card, 0); err != nil {
			t.Fatal(err)
		}
		r := <-reads
		if time.Since(start) != 54*time.Millisecond || !r.At.Equal(start.Add(53*time.Millisecond)) {
			t.Errorf("read at %v with At %v, want at 54ms with At 53ms", time.Since(start), r.At.Sub(start))
		}
	})
}
