package fleet

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/reader/readertest"
)

// denials records the door's own decision latencies (its Observer) into
// the phase's slice and signals each decision.
type denials struct {
	mu      sync.Mutex
	into    *[]time.Duration
	decided chan struct{}
}

func (o *denials) ObserveDecision(d time.Duration, _, _ string) {
	o.mu.Lock()
	*o.into = append(*o.into, d)
	o.mu.Unlock()
	o.decided <- struct{}{}
}

func (o *denials) ObserveBadRead(string) {}

func (o *denials) phase(p *[]time.Duration) {
	o.mu.Lock()
	o.into = p
	o.mu.Unlock()
}

// BenchmarkDecisionWhileUploading: a controller's door decides a card
// every 5 ms (an unknown card: the lookup and the decision, measured by
// the door itself from the frame to the decision), in alternating phases
// of 200: the upload stopped ("idle"), then uploading a fresh backlog of
// 30,000 events to the site's stream (one in-process server, a manager
// reading it). p99-ns-idle, p99-ns-uploading and their ratio are the
// figure of docs/fleet.md; upload-events/s is the drain meanwhile.
func BenchmarkDecisionWhileUploading(b *testing.B) {
	const phase, pace, backlog = 200, 5 * time.Millisecond, 30000
	s, _, _, _ := managed(b)
	cst := storeIn(b, b.TempDir(), s.key)
	b.Cleanup(func() { cst.Close() })
	if err := InitUploadCursor(cst); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ew := door.NewEventWriter(cst, nil, zerolog.Nop())
	ewDone := make(chan struct{})
	go func() { defer close(ewDone); ew.Run(ctx) }()
	var idle, busy []time.Duration
	obs := &denials{into: &idle, decided: make(chan struct{}, 1)}
	c := door.DefaultConfig()
	c.Name, c.Relay, c.Debounce, c.Observer = "front", readertest.NewOutPin("relay", gpio.Low, nil), -1, obs
	c.Readers = []door.ReaderConfig{{Name: "in"}}
	d, err := door.New(c, cst, ew)
	if err != nil {
		b.Fatal(err)
	}
	dDone := make(chan struct{})
	go func() { defer close(dDone); d.Run(ctx) }()
	defer func() { cancel(); <-dDone; <-ewDone }()

	var up *uploading
	var uploaded uint64
	var upTime time.Duration
	var upStart time.Time
	tick := time.NewTicker(pace)
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%phase == 0 {
			switch {
			case (i/phase)%2 == 1:
				b.StopTimer()
				appendBacklog(b, cst, backlog)
				b.StartTimer()
				obs.phase(&busy)
				up, upStart = s.upload(cst, "ctl1"), time.Now()
			case up != nil:
				uploaded += up.stat().Delivered
				upTime += time.Since(upStart)
				up.stop()
				up = nil
				obs.phase(&idle)
			}
		}
		<-tick.C
		d.Submit(reader.Read{Reader: "in", Kind: reader.KindCard, Card: reader.Card{Format: reader.H10301, FacilityCode: 9, CardNumber: uint64(i + 1)}, At: time.Now()})
		select {
		case <-obs.decided:
		case <-time.After(5 * time.Second):
			b.Fatal("no decision")
		}
	}
	b.StopTimer()
	if up != nil {
		uploaded += up.stat().Delivered
		upTime += time.Since(upStart)
		up.stop()
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(idle) == 0 || len(busy) == 0 {
		b.Logf("run at least %d decisions for both phases", 2*phase)
		return
	}
	slices.Sort(idle)
	slices.Sort(busy)
	pi, pb := idle[len(idle)*99/100], busy[len(busy)*99/100]
	b.ReportMetric(float64(pi.Nanoseconds()), "p99-ns-idle")
	b.ReportMetric(float64(pb.Nanoseconds()), "p99-ns-uploading")
	b.ReportMetric(float64(pb)/float64(pi), "p99-ratio")
	b.ReportMetric(float64(uploaded)/upTime.Seconds(), "upload-events/s")
}
