package fleet

import (
	"context"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/reader/readertest"
)

// decisions hands the benchmark each decision's latency as the door
// measured it (its Observer).
type decisions chan time.Duration

func (o decisions) ObserveDecision(d time.Duration, _, _ string) { o <- d }
func (o decisions) ObserveBadRead(string)                        {}

// BenchmarkDecisionWhileUploading: a controller's door decides a card
// every 5 ms (an unknown card: the lookup and the decision, measured by
// the door itself from the frame to the decision), in alternating phases
// of 200: the upload stopped ("idle"), then uploading a fresh backlog of
// 30,000 events to the site's stream. p99-ns-idle, p99-ns-uploading and their ratio are the
// figure of docs/fleet.md; upload-events/s is the drain meanwhile.
func BenchmarkDecisionWhileUploading(b *testing.B) {
	const phase, pace, backlog = 200, 5 * time.Millisecond, 30000
	// The server runs as its own process when Debian's nats-server is
	// installed, as on a site (it and the manager are other machines'
	// load there); the manager only makes the stream and stops.
	s := newSite(b, serverURL(b))
	mst := storeIn(b, b.TempDir(), s.key)
	mgr := s.member(mst, "mgr", true, nil, nil)
	js := jsOf(b, s.url)
	waitFor(b, "the stream", func() bool { _, err := js.Stream(context.Background(), "latch_hq_events"); return err == nil })
	mgr.Close()
	mst.Close()
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
	cur := &idle // the phase's
	obs := make(decisions, 1)
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
				cur = &busy
				up, upStart = s.upload(cst, "ctl1"), time.Now()
			case up != nil:
				uploaded += up.stat().Delivered
				upTime += time.Since(upStart)
				up.stop()
				up = nil
				cur = &idle
			}
		}
		<-tick.C
		d.Submit(reader.Read{Reader: "in", Kind: reader.KindCard, Card: reader.Card{Format: reader.H10301, FacilityCode: 9, CardNumber: uint64(i + 1)}, At: time.Now()})
		select {
		case l := <-obs:
			*cur = append(*cur, l)
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

// serverURL starts nats-server (Debian's program) with JetStream on a
// free loopback port, or, when it is not installed, the in-process one.
func serverURL(b *testing.B) string {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		b.Log("nats-server is not installed: the server runs in this process")
		return runServer(b, "", 0).ClientURL()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-sd", b.TempDir())
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	waitFor(b, "nats-server", func() bool {
		nc, err := nats.Connect(url)
		if err == nil {
			nc.Close()
		}
		return err == nil
	})
	return url
}
