package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/apitest"
	"github.com/latchd/latch/store"
)

// fullDisk is the daemon's store with writes that fail with ENOSPC while
// full is set (a full SD card cannot be made in a test); each failed
// batch's events are sent on failed.
type fullDisk struct {
	*store.Store
	mu     sync.Mutex
	full   bool
	failed chan []store.Event
}

func (f *fullDisk) AppendEvents(evs []store.Event) error {
	f.mu.Lock()
	full := f.full
	f.mu.Unlock()
	if full {
		f.failed <- append([]store.Event(nil), evs...)
		return fmt.Errorf("store: append events: %w", syscall.ENOSPC)
	}
	return f.Store.AppendEvents(evs)
}

func (f *fullDisk) setFull(v bool) { f.mu.Lock(); f.full = v; f.mu.Unlock() }

// TestDaemonCountsLostEvents: latchd with its disk full: a grant's events
// are not stored; /metrics counts them in latch_events_dropped_total
// (write_failed), and when the disk is back the next badge's events are
// stored after an events_lost event with their count and kinds.
func TestDaemonCountsLostEvents(t *testing.T) {
	r := newSimRun(t, strings.Replace(simConfig, `"60s"`, `"1s"`, 1), true, true)
	cfg, st, d := r.cfg, r.st, r.d
	token, err := st.CreateToken("monitor", "viewer", store.Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	disk := &fullDisk{Store: st, failed: make(chan []store.Event, 64)}
	d.appender = disk
	client := apitest.UnixClient(cfg.API.Socket)
	var metricsText string
	var steps func(ctx context.Context, d *daemon) error
	var lostEv store.Event
	lostKinds := map[string]uint64{}
	var extraErr error
	d.extra = func(ctx context.Context, d *daemon) error { extraErr = steps(ctx, d); return extraErr }
	steps = func(ctx context.Context, d *daemon) error {
		disk.setFull(true)
		if err := r.badge(""); err != nil {
			return err
		}
		// The grant and the strike's release and lock (1 s) are lost.
		var lost uint64
		for lostKinds[door.EvStrikeLocked] == 0 {
			batch := <-disk.failed
			for _, e := range batch {
				if e.Event != door.EvEventsLost {
					lostKinds[e.Event]++
					lost++
				}
			}
		}
		// The writer counts a failed batch just after AppendEvents
		// returns, so the last count may land a moment after the batch
		// reached the test: ask until it shows (each ask is a real
		// request; nothing sleeps), and fail if it never does.
		want := fmt.Sprintf("latch_events_dropped_total{reason=\"write_failed\"} %d\n", lost)
		for try := 0; ; try++ {
			req, _ := http.NewRequest("GET", "http://latchd/metrics", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			metricsText = string(b)
			if strings.Contains(metricsText, want) {
				break
			}
			if try == 1000 {
				return fmt.Errorf("/metrics has no %q after %d requests:\n%s", want, try+1, metricsText)
			}
			runtime.Gosched()
		}
		// The disk is back: the next badge's events come after an events_lost.
		evs, cancel := d.store.Subscribe(64)
		defer cancel()
		disk.setFull(false)
		if err := r.badge(""); err != nil {
			return err
		}
		for e := range evs {
			if e.Event == door.EvEventsLost {
				lostEv = e
			}
			if e.Event == door.EvAccessGranted {
				return nil
			}
		}
		return errors.New("subscription ended")
	}
	if code := d.run(cfg); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if extraErr != nil {
		t.Fatal(extraErr)
	}
	want := uint64(0)
	for _, n := range lostKinds {
		want += n
	}
	if lostEv.Seq == 0 || lostEv.Count != want || lostEv.Kinds[door.EvAccessGranted] != 1 || lostEv.Kinds[door.EvStrikeLocked] != 1 ||
		lostEv.First == "" || lostEv.Last < lostEv.First {
		t.Errorf("events_lost %+v, want the %d lost (%v)", lostEv, want, lostKinds)
	}
}
