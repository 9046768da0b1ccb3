package quiet

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"testing/synctest"
	"time"
)

// waited runs Wait in the bubble and returns how long it took and what it
// returned.
func waited(ctx context.Context, g *Gate, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	ok := g.Wait(ctx, limit)
	return time.Since(start), ok
}

func TestNilGateIsNeverBusy(t *testing.T) {
	var g *Gate
	g.Busy(time.Hour)
	if !g.Idle() {
		t.Fatal("a nil gate is busy")
	}
	if !g.Wait(context.Background(), -1) {
		t.Fatal("Wait on a nil gate with a live context returned false")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if g.Wait(ctx, -1) {
		t.Fatal("Wait with an ended context returned true")
	}
}

func TestWaitEndsWithTheHoldAndItsTail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(0)
		if !g.Idle() {
			t.Fatal("a new gate is busy")
		}
		if d, ok := waited(t.Context(), g, -1); d != 0 || !ok {
			t.Fatalf("Wait on an idle gate took %v (ok %v)", d, ok)
		}
		g.Busy(10 * time.Millisecond)
		if g.Idle() {
			t.Fatal("a held gate is idle")
		}
		g.Busy(time.Millisecond) // shorter: keeps the longer hold
		if d, ok := waited(t.Context(), g, -1); d != 10*time.Millisecond+DefaultTail || !ok {
			t.Fatalf("Wait took %v (ok %v), want the hold plus DefaultTail, %v", d, ok, 10*time.Millisecond+DefaultTail)
		}
		if !g.Idle() {
			t.Fatal("the gate is busy after the hold")
		}
	})
}

func TestWaitFollowsAHoldExtendedWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(-1) // no tail
		g.Busy(10 * time.Millisecond)
		go func() {
			// a frame's next edges, each extending its silence
			for range 3 {
				time.Sleep(5 * time.Millisecond)
				g.Busy(10 * time.Millisecond)
			}
		}()
		if d, _ := waited(t.Context(), g, -1); d != 25*time.Millisecond {
			t.Fatalf("Wait took %v, want 25ms (the last edge at 15ms, held 10ms)", d)
		}
	})
}

func TestWaitStopsAtItsLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(0)
		g.Busy(time.Hour)
		if d, ok := waited(t.Context(), g, 100*time.Millisecond); d != 100*time.Millisecond || !ok {
			t.Fatalf("Wait took %v (ok %v), want its limit of 100ms", d, ok)
		}
		if d, ok := waited(t.Context(), g, 0); d != 0 || !ok {
			t.Fatalf("Wait with limit 0 took %v (ok %v)", d, ok)
		}
	})
}

func TestWaitEndsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(0)
		g.Busy(time.Hour)
		ctx, cancel := context.WithTimeout(t.Context(), 7*time.Millisecond)
		defer cancel()
		if d, ok := waited(ctx, g, -1); d != 7*time.Millisecond || ok {
			t.Fatalf("Wait took %v (ok %v), want false after the context's 7ms", d, ok)
		}
	})
}

func TestBusyFromManyGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(-1)
		done := make(chan struct{})
		for i := range 8 {
			go func() {
				g.Busy(time.Duration(i+1) * time.Millisecond)
				done <- struct{}{}
			}()
		}
		for range 8 {
			<-done
		}
		if d, _ := waited(t.Context(), g, -1); d != 8*time.Millisecond {
			t.Fatalf("Wait took %v, want the longest hold, 8ms", d)
		}
	})
}

// TestExpectCollectsAtAFramesFirstEdge: Expect on an idle gate (a frame's
// first edge) starts one garbage collection when one is due; Expect while
// the gate is held (the frame's next edges) and Busy (a door read) start
// none; once the hold is over the next frame starts another; while one
// runs, a new frame does not start a second; with none due, none.
func TestExpectCollectsAtAFramesFirstEdge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := New(-1)
		started := make(chan struct{}, 4)
		release := make(chan struct{})
		due := true
		g.due = func() bool { return due }
		g.collect = func() {
			started <- struct{}{}
			<-release
		}
		collections := func() int {
			synctest.Wait()
			return len(started)
		}
		g.Busy(time.Millisecond) // a door read on an idle gate
		if n := collections(); n != 0 {
			t.Fatalf("Busy started %d collections", n)
		}
		time.Sleep(time.Millisecond)
		g.Expect(10 * time.Millisecond) // first edge
		g.Expect(10 * time.Millisecond) // next edge
		if n := collections(); n != 1 {
			t.Fatalf("a frame started %d collections, want 1", n)
		}
		time.Sleep(20 * time.Millisecond)
		g.Expect(10 * time.Millisecond) // the next frame, the first still collecting
		if n := collections(); n != 1 {
			t.Fatalf("%d collections with one running, want 1", n)
		}
		close(release)
		synctest.Wait()
		time.Sleep(20 * time.Millisecond)
		g.Expect(10 * time.Millisecond)
		if n := collections(); n != 2 {
			t.Fatalf("the frame after the collection ended started %d in all, want 2", n)
		}
		// None due: a frame starts none.
		due = false
		time.Sleep(20 * time.Millisecond)
		g.Expect(10 * time.Millisecond)
		if n := collections(); n != 2 {
			t.Fatalf("a frame with no collection due started one (%d in all)", n)
		}
		var none *Gate
		none.Expect(time.Hour) // a nil gate: nothing
	})
}

// TestGCDue: right after a collection none is due; allocating, one is
// said to be due before the runtime starts it.
func TestGCDue(t *testing.T) {
	cycles := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	runtime.GC()
	if gcDue() {
		t.Fatal("a collection is due right after one")
	}
	before := cycles()
	var keep [][]byte
	for i := 0; !gcDue(); i++ {
		if cycles() != before {
			t.Fatalf("the runtime collected after %d KiB before gcDue said one was due", 64*i)
		}
		keep = append(keep, make([]byte, 64<<10))
	}
	runtime.KeepAlive(keep)
}
