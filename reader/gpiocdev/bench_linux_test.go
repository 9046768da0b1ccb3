//go:build linux

package gpiocdev

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/latchd/latch/reader"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// BenchmarkCaptureLatency measures the whole capture loop on this
// machine's clock: events for one h10301 frame go into a pipe, stamped so
// that the last edge is "now"; the time from that last edge to the Read
// leaving Run is the end-of-frame latency a card holder sees (silence
// rule + FlushSlack + ppoll wake-up).
func BenchmarkCaptureLatency(b *testing.B) {
	for _, iv := range []time.Duration{2 * time.Millisecond, 20 * time.Millisecond} {
		b.Run("reader="+iv.String(), func(b *testing.B) { benchCapture(b, iv) })
	}
}

func benchCapture(b *testing.B, iv time.Duration) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		b.Fatal(err)
	}
	defer unix.Close(p[1])
	dec, err := reader.NewDecoder(reader.Config{Formats: []string{"h10301"}})
	if err != nil {
		b.Fatal(err)
	}
	w, err := newWiegand(p[0], 0, 1, dec, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	type emitted struct {
		r  reader.Read
		at time.Duration
	}
	out := make(chan emitted, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx, func(r reader.Read) { out <- emitted{r, Monotonic()} })

	const card = "11101010000011011100000010"
	var seq uint32
	lat := make([]time.Duration, 0, b.N)
	buf := make([]byte, 0, len(card)*eventSize)
	for b.Loop() {
		last := Monotonic()
		buf = buf[:0]
		for i := range len(card) {
			seq++
			ts := last - time.Duration(len(card)-1-i)*iv
			buf = appendEvent(buf, lineEvent{TimestampNs: uint64(ts), ID: eventFallingEdge, Offset: uint32(card[i] - '0'), Seqno: seq})
		}
		if _, err := unix.Write(p[1], buf); err != nil {
			b.Fatal(err)
		}
		e := <-out
		if e.r.Kind != reader.KindCard {
			b.Fatalf("read %+v", e.r)
		}
		lat = append(lat, e.at-last)
	}
	slices.Sort(lat)
	ms := float64(time.Millisecond)
	b.ReportMetric(float64(lat[len(lat)/2])/ms, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100])/ms, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/ms, "max-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100])/float64(iv), "p99-intervals")
}
