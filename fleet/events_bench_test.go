package fleet

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/latchd/latch/store"
)

// BenchmarkEventDrain: a controller whose log holds a backlog (NATS was
// down while its doors went on) uploads it once it connects: the time from
// the start of its upload until the stream acknowledged the last event,
// through the outbox as latchd runs it. drain-events/s is the figure of
// docs/fleet.md; site-events/s is the same backlog until a manager (in
// the same process, reading the stream meanwhile) appended it to its log.
// LATCH_FLEET_EVENTS sets the backlog (default 50,000).
func BenchmarkEventDrain(b *testing.B) {
	n := 50000
	if v, err := strconv.Atoi(os.Getenv("LATCH_FLEET_EVENTS")); err == nil && v > 0 {
		n = v
	}
	s, mst, _, _ := managed(b)
	var drain, site time.Duration
	var total uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cst := storeIn(b, b.TempDir(), s.key)
		if err := InitUploadCursor(cst); err != nil {
			b.Fatal(err)
		}
		appendBacklog(b, cst, n)
		total += uint64(n)
		b.StartTimer()
		t0 := time.Now()
		u := s.upload(cst, fmt.Sprintf("ctl%d", i))
		waitFor(b, "the drain", func() bool { return u.stat().Cursor == uint64(n) })
		drain += time.Since(t0)
		waitFor(b, "the manager", func() bool { p, _ := mst.SiteEventsSeq(); return p == total })
		site += time.Since(t0)
		b.StopTimer()
		u.stop()
		cst.Close()
	}
	b.ReportMetric(float64(total)/drain.Seconds(), "drain-events/s")
	b.ReportMetric(float64(total)/site.Seconds(), "site-events/s")
}

// appendBacklog appends n events to st, 1000 a transaction.
func appendBacklog(b testing.TB, st *store.Store, n int) {
	for left := n; left > 0; left -= 1000 {
		appendN(b, st, min(left, 1000))
	}
}
