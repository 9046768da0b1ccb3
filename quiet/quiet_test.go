package quiet

import (
	"context"
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
