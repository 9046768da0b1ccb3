//go:build linux

package gpiocdev

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchd/latch/reader"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// TestWiegandPipe feeds raw gpio_v2_line_event records through a pipe
// into the capture loop. The fake clock stands far after the events, so
// each frame's deadline has passed when the loop finds the pipe empty.
func TestWiegandPipe(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[1])
	dec, err := reader.NewDecoder(reader.Config{Name: "front-in", Formats: []string{"h10301"}, Keypad: reader.Keypad4})
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWiegand(p[0], 17, 27, dec, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Duration { return time.Hour }

	const card = "11101010000011011100000010" // h10301 212/7041
	var buf []byte
	seq := uint32(0)
	add := func(bits string, t0 time.Duration) {
		for i := range len(bits) {
			seq++
			off := uint32(17)
			if bits[i] == '1' {
				off = 27
			}
			buf = appendEvent(buf, lineEvent{TimestampNs: uint64(t0 + time.Duration(i)*2*time.Millisecond), ID: eventFallingEdge, Offset: off, Seqno: seq})
		}
	}
	add(card, time.Second)
	add("0101", 2*time.Second)
	add(card, 3*time.Second)
	write := func() {
		t.Helper()
		if _, err := unix.Write(p[1], buf); err != nil {
			t.Fatal(err)
		}
		buf = buf[:0]
	}
	write()

	reads := make(chan reader.Read, 16)
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { errc <- w.Run(ctx, func(r reader.Read) { reads <- r }) }()
	var got []reader.Read
	next := func() {
		r := <-reads
		r.At = time.Time{}
		got = append(got, r)
	}
	next()
	next()
	next()
	// The loop found the pipe empty and closed frame 3. Now a frame with
	// its 10th edge lost in the kernel queue: an overflow, not a card.
	add(card, 5*time.Second)
	buf = append(buf[:9*eventSize], buf[10*eventSize:]...)
	write()
	next()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	c := reader.Card{Format: reader.H10301, FacilityCode: 212, CardNumber: 7041, Bits: card}
	want := []reader.Read{
		{Reader: "front-in", Kind: reader.KindCard, Card: c},
		{Reader: "front-in", Kind: reader.KindKeys, Keys: []byte("5")},
		{Reader: "front-in", Kind: reader.KindCard, Card: c},
		{Reader: "front-in", Kind: reader.KindBad, Bad: reader.BadOverflow},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("reads (-want +got):\n%s", d)
	}
	// Run again after a cancelled Run: it must wait, not return at once.
	add("0110", 6*time.Second)
	write()
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { errc <- w.Run(ctx2, func(r reader.Read) { reads <- r }) }()
	if r := <-reads; r.Kind != reader.KindKeys || string(r.Keys) != "6" {
		t.Errorf("second Run: %+v", r)
	}
	cancel2()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("second Run: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Run(context.Background(), nil); err == nil {
		t.Fatal("Run after Close: no error")
	}
}

// TestWiegandPartialRecord: a read that is not whole records is an error,
// not a guess.
func TestWiegandPartialRecord(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[1])
	dec, _ := reader.NewDecoder(reader.Config{Formats: []string{"h10301"}})
	w, err := newWiegand(p[0], 1, 2, dec, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := unix.Write(p[1], make([]byte, 20)); err != nil {
		t.Fatal(err)
	}
	if err := w.Run(context.Background(), func(reader.Read) {}); !errors.Is(err, errShortEvent) {
		t.Fatalf("Run: %v, want errShortEvent", err)
	}
}

func TestEpoch(t *testing.T) {
	// A timestamp taken now maps back to about now.
	at := Epoch().Add(Monotonic())
	if d := time.Since(at); d < 0 || d > time.Second {
		t.Fatalf("Epoch()+Monotonic() is %v from now", d)
	}
}

// TestInputDeadLine: an input whose line fd reaches end of file (here a
// pipe whose writer is gone, as a line request that vanished) makes
// WaitEdge fail with io.EOF instead of answering "no edge" at once for
// ever: the watch reports the line dead rather than spinning.
func TestInputDeadLine(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	wp, err := newWakePipe()
	if err != nil {
		t.Fatal(err)
	}
	in := &Input{name: "dps front", fd: p[0], wake: wp, buf: make([]byte, 16*eventSize)}
	defer in.Close()
	if _, ok, err := in.WaitEdge(0); ok || err != nil {
		t.Fatalf("idle line: ok %v, err %v; want a timeout", ok, err)
	}
	unix.Close(p[1])
	_, ok, err := in.WaitEdge(time.Second)
	if ok || !errors.Is(err, io.EOF) {
		t.Errorf("dead line: ok %v, err %v; want io.EOF", ok, err)
	}
}
