package door

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/internal/benchlat"
)

// blockedAppender never finishes a write: a disk that hangs.
type blockedAppender struct{ release chan struct{} }

func (a blockedAppender) AppendEvents([]Event) error { <-a.release; return nil }

// BenchmarkInputToRelay measures a fire alarm's edge (an emergency_release
// input going active, given to Door.Input as the GPIO watch does) to the
// relay command, through the door's loop, with 1 M users in the real bbolt
// store that also keeps the door's state and lockouts. The input's debounce
// is off (Debounce -1), so the figure is the door's own latency; a site adds
// its debounce (default 50 ms) on purpose. store=blocked runs with an event
// log whose writes never finish: the relay must not wait on the store.
// Reports p50-ns and p99-ns.
func BenchmarkInputToRelay(b *testing.B) {
	for _, mode := range []string{"ok", "blocked"} {
		b.Run(fmt.Sprintf("users=1000000/store=%s", mode), func(b *testing.B) {
			benchInput(b, 1000000, mode == "blocked")
		})
	}
}

func benchInput(b *testing.B, n int, blocked bool) {
	s := warmStore(b, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ew *EventWriter
	if blocked {
		ba := blockedAppender{release: make(chan struct{})}
		defer close(ba.release)
		ew = NewEventWriter(ba, nil, zerolog.Nop())
	} else {
		ew = NewEventWriter(s, nil, zerolog.Nop())
	}
	go ew.Run(ctx)

	c, writes := benchConfig()
	c.Inputs = []InputConfig{{Name: "fire", Action: InputEmergencyRelease}}
	c.State, c.Lockouts = s, s
	d, err := New(c, s, ew)
	if err != nil {
		b.Fatal(err)
	}
	handled := make(chan struct{}, 64)
	d.processed = func() { handled <- struct{}{} }
	defer runBenchDoor(b, ctx, cancel, d, writes)()
	lat := make([]time.Duration, 0, 4096)
	b.ResetTimer()
	for b.Loop() {
		at := time.Now()
		d.Input("fire", true)
		lat = append(lat, waitRelay(b, writes, gpio.High).Sub(at))
		<-handled
		d.Input("fire", false)
		waitRelay(b, writes, gpio.Low)
		<-handled
	}
	b.StopTimer()
	benchlat.Report(b, lat)
}
