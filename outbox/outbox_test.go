package outbox

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/store"
	"github.com/latchd/latch/store/storetest"
)

// recorder is a destination that hands every batch to the test, and
// acknowledges what the test answers.
type recorder struct {
	name    string
	batches chan []store.Event
	answers chan answer
	dropped []uint64
	mu      sync.Mutex
}

type answer struct {
	acked uint64
	err   error
	drop  []uint64
}

func newRecorder(name string) *recorder {
	return &recorder{name: name, batches: make(chan []store.Event), answers: make(chan answer)}
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Deliver(ctx context.Context, batch []store.Event) (uint64, error) {
	select {
	case r.batches <- append([]store.Event(nil), batch...):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	select {
	case a := <-r.answers:
		r.mu.Lock()
		r.dropped = append(r.dropped, a.drop...)
		r.mu.Unlock()
		return a.acked, a.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (r *recorder) TakeDropped() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := r.dropped
	r.dropped = nil
	return d
}

// next is the next batch the destination is handed.
func (r *recorder) next(t *testing.T) []store.Event {
	t.Helper()
	select {
	case b := <-r.batches:
		return b
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no batch delivered", r.name)
		return nil
	}
}

// ackAll acknowledges batch entirely.
func (r *recorder) ackAll(batch []store.Event) {
	r.answers <- answer{acked: batch[len(batch)-1].Seq}
}

func seqs(b []store.Event) []uint64 {
	out := make([]uint64, len(b))
	for i, e := range b {
		out[i] = e.Seq
	}
	return out
}

func appendN(t *testing.T, st *store.Store, n int) {
	t.Helper()
	evs := make([]store.Event, n)
	for i := range evs {
		evs[i] = store.Event{Event: door.EvREX, Door: "front"}
	}
	if err := st.AppendEvents(evs); err != nil {
		t.Fatal(err)
	}
}

// start runs ob until the test ends.
func start(t *testing.T, ob *Outbox) (stop func()) {
	if err := ob.Init(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ob.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// manualClock is After for tests: every wait is handed to the test, which
// ends it.
type manualClock struct{ waits chan chan time.Time }

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.waits <- ch
	return ch
}

func TestDeliversInOrderFromTheEnd(t *testing.T) {
	st := storetest.Temp(t)
	appendN(t, st, 3) // before the destination existed: not delivered
	r := newRecorder("r")
	ob := New(st, Options{Batch: 4})
	ob.Add(r)
	start(t, ob)
	appendN(t, st, 6)
	var got []uint64
	for len(got) < 6 {
		b := r.next(t)
		if len(b) > 4 {
			t.Fatalf("batch of %d events, Batch is 4", len(b))
		}
		got = append(got, seqs(b)...)
		r.ackAll(b)
	}
	want := []uint64{4, 5, 6, 7, 8, 9}
	if len(got) != len(want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delivered %v, want %v", got, want)
		}
	}
	waitCursor(t, st, "r", 9)
	s := ob.Stats()[0]
	if s.Delivered != 6 || s.Backlog != 0 || s.Cursor != 9 {
		t.Errorf("stats %+v, want 6 delivered, no backlog, cursor 9", s)
	}
}

// waitCursor waits for the stored cursor of name to reach seq (the outbox
// saves it just after Deliver returns).
func waitCursor(t *testing.T, st *store.Store, name string, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _, err := st.Cursor(name)
		if err != nil {
			t.Fatal(err)
		}
		if got == seq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor %s = %d, want %d", name, got, seq)
		}
		time.Sleep(time.Millisecond) // polling the database the outbox writes
	}
}

// TestResumesAfterRestart: what was not acknowledged is delivered again,
// what was is not.
func TestResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	st := storetest.Open(t, dir)
	r := newRecorder("r")
	ob := New(st, Options{})
	ob.Add(r)
	stop := start(t, ob)
	appendN(t, st, 5)
	b := r.next(t)
	if len(b) != 5 {
		t.Fatalf("first batch %v, want the 5 events", seqs(b))
	}
	r.answers <- answer{acked: 3, err: errors.New("connection lost")} // 4 and 5 were not acknowledged
	waitCursor(t, st, "r", 3)
	stop()

	r2 := newRecorder("r")
	ob2 := New(st, Options{})
	ob2.Add(r2)
	start(t, ob2)
	b = r2.next(t)
	if got := seqs(b); len(got) != 2 || got[0] != 4 || got[1] != 5 {
		t.Fatalf("after restart delivered %v, want [4 5]", got)
	}
	r2.ackAll(b)
	waitCursor(t, st, "r", 5)
}

// TestFailureBacksOffAndRetriesTheRest: after an error the outbox waits,
// then hands only what was not acknowledged.
func TestFailureBacksOffAndRetriesTheRest(t *testing.T) {
	st := storetest.Temp(t)
	clk := &manualClock{waits: make(chan chan time.Time)}
	var backoffs []int
	r := newRecorder("r")
	ob := New(st, Options{After: clk.After, Backoff: func(n int) time.Duration { backoffs = append(backoffs, n); return time.Duration(n) * time.Second }})
	ob.Add(r)
	start(t, ob)
	appendN(t, st, 4)
	b := r.next(t)
	r.answers <- answer{acked: b[1].Seq, err: errors.New("broker down")}
	w := <-clk.waits // the backoff: nothing is delivered until it ends
	select {
	case b := <-r.batches:
		t.Fatalf("delivered %v during the backoff", seqs(b))
	default:
	}
	w <- time.Time{}
	b = r.next(t)
	if got := seqs(b); len(got) != 2 || got[0] != 3 {
		t.Fatalf("retry delivered %v, want [3 4]", got)
	}
	r.answers <- answer{err: errors.New("still down")}
	(<-clk.waits) <- time.Time{}
	b = r.next(t)
	r.ackAll(b)
	waitCursor(t, st, "r", 4)
	if len(backoffs) != 2 || backoffs[0] != 1 || backoffs[1] != 2 {
		t.Errorf("backoff steps %v, want [1 2]", backoffs)
	}
	if s := ob.Stats()[0]; s.Failures != 2 || s.Delivered != 4 {
		t.Errorf("stats %+v, want 2 failures, 4 delivered", s)
	}
}

// TestSlowDestinationSlowsOnlyItself: a destination that never answers
// holds up neither the store nor the other destination.
func TestSlowDestinationSlowsOnlyItself(t *testing.T) {
	st := storetest.Temp(t)
	slow, fast := newRecorder("slow"), newRecorder("fast")
	ob := New(st, Options{Batch: 10})
	ob.Add(slow)
	ob.Add(fast)
	start(t, ob)
	appendN(t, st, 1)
	slow.next(t) // and never answered
	var got int
	for i := 0; i < 50; i++ {
		appendN(t, st, 10) // AppendEvents returns: the store never waits
	}
	for got < 501 {
		b := fast.next(t)
		got += len(b)
		fast.ackAll(b)
	}
	waitCursor(t, st, "fast", 501)
	st2 := ob.Stats()
	if st2[0].Backlog != 501 || st2[1].Backlog != 0 {
		t.Errorf("backlogs slow %d fast %d, want 501 and 0", st2[0].Backlog, st2[1].Backlog)
	}
}

// emitLog records the events an outbox emits (Options.Emit).
type emitLog struct {
	mu  sync.Mutex
	evs []store.Event
}

func (l *emitLog) emit(e store.Event) { l.mu.Lock(); l.evs = append(l.evs, e); l.mu.Unlock() }

// events is a copy of what was emitted so far.
func (l *emitLog) events() []store.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.evs)
}

// TestRetentionLossCounted: events retention removed before the
// destination acknowledged them are counted and said in a
// delivery_dropped event.
func TestRetentionLossCounted(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key"), EventRetention: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.SetCursor("r", 0); err != nil { // a destination that has all the history to get
		t.Fatal(err)
	}
	appendN(t, st, 12) // 1–7 are gone
	var log emitLog
	r := newRecorder("r")
	ob := New(st, Options{Emit: log.emit})
	ob.Add(r)
	start(t, ob)
	b := r.next(t)
	if got := seqs(b); len(got) != 5 || got[0] != 8 {
		t.Fatalf("delivered %v, want 8–12", got)
	}
	r.ackAll(b)
	waitCursor(t, st, "r", 12)
	if s := ob.Stats()[0]; s.Dropped[door.DropRetention] != 7 {
		t.Errorf("dropped %v, want 7 by retention", s.Dropped)
	}
	emitted := log.events()
	if len(emitted) != 1 {
		t.Fatalf("emitted %v, want one delivery_dropped", emitted)
	}
	e := emitted[0]
	if e.Event != door.EvDeliveryDropped || e.Destination != "r" || e.Reason != door.DropRetention || e.Count != 7 || e.FirstSeq != 1 || e.LastSeq != 7 {
		t.Errorf("event %+v", e)
	}
}

// TestDropperCounted: events a destination gave up on are counted.
func TestDropperCounted(t *testing.T) {
	st := storetest.Temp(t)
	var log emitLog
	r := newRecorder("r")
	ob := New(st, Options{Emit: log.emit})
	ob.Add(r)
	start(t, ob)
	appendN(t, st, 3)
	b := r.next(t)
	r.answers <- answer{acked: b[2].Seq, drop: []uint64{b[0].Seq, b[1].Seq}}
	waitCursor(t, st, "r", b[2].Seq)
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := len(log.events())
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	emitted := log.events()
	if len(emitted) != 1 || emitted[0].Reason != door.DropExpired || emitted[0].Count != 2 || emitted[0].FirstSeq != b[0].Seq {
		t.Fatalf("emitted %+v, want one delivery_dropped expired of 2", emitted)
	}
	if s := ob.Stats()[0]; s.Dropped[door.DropExpired] != 2 {
		t.Errorf("dropped %v", s.Dropped)
	}
}

func TestDuplicateName(t *testing.T) {
	st := storetest.Temp(t)
	ob := New(st, Options{})
	ob.Add(newRecorder("x"))
	ob.Add(newRecorder("x"))
	if err := ob.Init(); err == nil {
		t.Fatal("two destinations named x accepted")
	}
}

func TestDeliveryID(t *testing.T) {
	if got := DeliveryID("hq", 42); got != "hq:42" {
		t.Fatalf("DeliveryID = %q", got)
	}
}

func TestDefaultBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 6: 32 * time.Second, 7: time.Minute, 100: time.Minute} {
		if got := DefaultBackoff(n); got != want {
			t.Errorf("DefaultBackoff(%d) = %s, want %s", n, got, want)
		}
	}
}

// TestCursorWritesBounded: while a destination works through a backlog,
// its cursor is written at most every SaveEvery (here the clock stands
// still: only once it has caught up).
func TestCursorWritesBounded(t *testing.T) {
	st := storetest.Temp(t)
	r := newRecorder("r")
	fixed := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ob := New(st, Options{Batch: 2, Now: func() time.Time { return fixed }})
	ob.Add(r)
	start(t, ob)
	appendN(t, st, 6)
	b := r.next(t)
	if len(b) != 2 {
		t.Fatalf("batch %v", seqs(b))
	}
	r.ackAll(b)
	b = r.next(t) // the first ack is handled by now
	if c, _, _ := st.Cursor("r"); c != 0 {
		t.Errorf("cursor written at %d in the middle of a backlog, before SaveEvery", c)
	}
	r.ackAll(b)
	b = r.next(t)
	r.ackAll(b)
	waitCursor(t, st, "r", 6) // caught up: written
}
