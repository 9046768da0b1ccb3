package door

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/internal/benchlat"
	"github.com/latchd/latch/reader"
)

// BenchmarkDecisionAfterCollection: a card grant on a door that has
// waited 40 ms (as a door waits between badges), through Submit and the
// loop with the real store and event writer (1,000 users), with a garbage
// collection at the start of each wait (gc=before) or none (gc=none); and
// with Run's stack reserve (stack=kept, what latchd runs) or without it
// (stack=unkept): a collection halves the stack of the waiting door
// goroutine and the decision after it grows the stack back. The
// difference between gc=before and gc=none is what a collection during
// the wait costs the next decision (docs/door.md, "A decision after a
// garbage collection"). It reports p50-ns and p99-ns.
func BenchmarkDecisionAfterCollection(b *testing.B) {
	for _, stack := range []string{"kept", "unkept"} {
		for _, gc := range []string{"none", "before"} {
			b.Run(fmt.Sprintf("stack=%s/gc=%s", stack, gc), func(b *testing.B) {
				s := warmStore(b, 1000)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				ew := NewEventWriter(s, nil, zerolog.Nop())
				go ew.Run(ctx)
				c, writes := benchConfig()
				d, err := New(c, s, ew)
				if err != nil {
					b.Fatal(err)
				}
				d.unkeptStack = stack == "unkept"
				defer runBenchDoor(b, ctx, cancel, d, writes)()
				lat := make([]time.Duration, 0, 1024)
				for i := 0; b.Loop(); i++ {
					if gc == "before" {
						runtime.GC()
					}
					time.Sleep(40 * time.Millisecond) // the door's wait between badges: the benchmark's subject
					at := time.Now()
					d.Submit(reader.Read{Reader: "in", Kind: reader.KindCard, Card: benchCard(1 + i%999), At: at})
					lat = append(lat, waitRelay(b, writes, gpio.High).Sub(at))
					d.DoorSensor(true) // relock on open
					waitRelay(b, writes, gpio.Low)
					d.DoorSensor(false)
				}
				b.StopTimer()
				benchlat.Report(b, lat)
			})
		}
	}
}
