package readertest

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchd/latch/reader"
)

// Stall is an interval of line time in which the capture goroutine does
// not read (a GC pause, a busy CPU).
type Stall struct{ From, To time.Duration }

// LineConfig models the kernel's event queue of a D0+D1 line request and
// the capture goroutine's scheduling.
type LineConfig struct {
	// QueueSize is the kernel event buffer (event_buffer_size). When it is
	// full the kernel drops the oldest event (gpiolib-cdev's kfifo_skip),
	// and sequence numbers show the gap. Default 256.
	QueueSize int
	// ReadDelay is how long after an edge a running consumer reads it
	// (wake-up latency). Default 0.
	ReadDelay time.Duration
	// Stalls are times in which the consumer does not run.
	Stalls []Stall
}

// Stats counts what happened in the kernel queue.
type Stats struct {
	Edges   int // edges the lines saw
	Dropped int // edges the queue dropped
	MaxQ    int // largest queue length
}

const never = time.Duration(math.MaxInt64)

// Line is a fake Wiegand D0/D1 line pair with the kernel's event queue: a
// reader.Lines for reader.Capture. Edges are scheduled with Send or
// SendBits at their own times and enter the queue when the line's clock
// reaches them (sequence numbers from 1; a full queue drops the oldest).
//
// A timed line (NewTimedLine) runs on the time package's clock — real in
// latchd --sim, virtual in a testing/synctest bubble — and Wait sleeps by
// itself. A stepped line (NewLine) runs on its owner's virtual clock: Wait
// parks until the owner, having moved the clock to Wake, calls Step, which
// returns once the capture loop has acted and parked again. The scenario
// runner steps its readers' lines so; Run steps one line alone.
type Line struct {
	cfg   LineConfig
	now   func() time.Duration
	timed bool

	mu      sync.Mutex
	sched   []reader.Edge // future edges, in time order
	queue   []reader.Edge // the kernel queue
	since   time.Duration // when the queue became non-empty
	seq     uint32
	st      Stats
	fail    error
	waiting bool          // a Wait is parked
	until   time.Duration // its timeout's end; never when unbounded
	out     []reader.Edge // the last batch handed out

	wake chan struct{} // cap 1: the parked Wait checks again
	park chan struct{} // cap 1: a Wait parked or returned an error
	done chan struct{} // closed when Start's capture returned
}

// NewLine returns a stepped line on the clock now.
func NewLine(cfg LineConfig, now func() time.Duration) *Line {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 256
	}
	return &Line{cfg: cfg, now: now, wake: make(chan struct{}, 1), park: make(chan struct{}, 1), done: make(chan struct{})}
}

// NewTimedLine returns a line on the time package's clock; edge time 0 is
// epoch.
func NewTimedLine(cfg LineConfig, epoch time.Time) *Line {
	l := NewLine(cfg, func() time.Duration { return time.Since(epoch) })
	l.timed = true
	return l
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Now is the line's clock.
func (l *Line) Now() time.Duration { return l.now() }

// Send schedules edges (their T is line time; Seq is assigned when they
// enter the queue). Edges of equal time keep their order.
func (l *Line) Send(edges ...reader.Edge) {
	l.mu.Lock()
	l.sched = append(l.sched, edges...)
	slices.SortStableFunc(l.sched, func(a, b reader.Edge) int { return cmp.Compare(a.T, b.T) })
	l.mu.Unlock()
	if l.timed {
		signal(l.wake)
	}
}

// SendBits schedules a frame of '0'/'1' bits from line time at on, with a
// reader's typical timing (a WiegandReader of the default config), and
// returns the time of its last edge.
func (l *Line) SendBits(bits string, at time.Duration) (time.Duration, error) {
	w, err := NewWiegandReader(WiegandConfig{})
	if err != nil {
		return 0, err
	}
	w.Wait(at)
	if err := w.SendBits(bits); err != nil {
		return 0, err
	}
	l.Send(w.Edges()...)
	return w.Now(), nil
}

// Fail makes the running or next Wait return err: the line is dead. A
// stepped line acts on it at the next Step.
func (l *Line) Fail(err error) {
	l.mu.Lock()
	l.fail = err
	l.mu.Unlock()
	if l.timed {
		signal(l.wake)
	}
}

// Stats returns the queue's counts so far.
func (l *Line) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st
}

// ready returns the first instant from t on outside every stall.
func (l *Line) ready(t time.Duration) time.Duration {
	for moved := true; moved; {
		moved = false
		for _, s := range l.cfg.Stalls {
			if t >= s.From && t < s.To {
				t, moved = s.To, true
			}
		}
	}
	return t
}

// transfer moves the edges due at now into the queue.
func (l *Line) transfer(now time.Duration) {
	for len(l.sched) > 0 && l.sched[0].T <= now {
		e := l.sched[0]
		l.sched = l.sched[1:]
		l.seq++
		l.st.Edges++
		e.Seq = l.seq
		if len(l.queue) == 0 {
			l.since = e.T
		}
		if len(l.queue) == l.cfg.QueueSize {
			l.queue = l.queue[1:]
			l.st.Dropped++
		}
		l.queue = append(l.queue, e)
		l.st.MaxQ = max(l.st.MaxQ, len(l.queue))
	}
}

// consumerAt is when a parked consumer acts: it reads a non-empty queue
// ReadDelay after it filled, or times out; never outside a stall.
func (l *Line) consumerAt() time.Duration {
	switch {
	case len(l.queue) > 0:
		return l.ready(l.since + l.cfg.ReadDelay)
	case l.until != never:
		return l.ready(l.until)
	}
	return never
}

// wakeAt is the line's next instant: an edge entering the queue or the
// parked consumer acting.
func (l *Line) wakeAt() time.Duration {
	t := never
	if len(l.sched) > 0 {
		t = l.sched[0].T
	}
	if l.waiting {
		t = min(t, l.consumerAt())
	}
	return t
}

// Wake returns when the line next needs a Step; ok is false when nothing
// is scheduled and the capture loop waits without a deadline (no open
// frame).
func (l *Line) Wake() (t time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t = l.wakeAt()
	return t, t != never
}

// Wait implements reader.Lines.
func (l *Line) Wait(ctx context.Context, timeout time.Duration) ([]reader.Edge, bool, error) {
	l.mu.Lock()
	now := l.now()
	l.until = never
	if timeout >= 0 {
		l.until = now + timeout
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		l.transfer(now)
		switch {
		case l.fail != nil:
			err := l.fail
			l.waiting = false
			l.mu.Unlock()
			signal(l.park)
			return nil, false, err
		case len(l.queue) > 0 && l.consumerAt() <= now:
			l.out = append(l.out[:0], l.queue...)
			l.queue = l.queue[:0]
			l.waiting = false
			l.mu.Unlock()
			return l.out, false, nil
		case len(l.queue) == 0 && l.until != never && l.ready(l.until) <= now:
			l.waiting = false
			l.mu.Unlock()
			return nil, true, nil
		}
		l.waiting = true
		var tc <-chan time.Time
		if l.timed {
			if t := l.wakeAt(); t != never {
				if timer == nil {
					timer = time.NewTimer(t - now)
				} else {
					timer.Reset(t - now)
				}
				tc = timer.C
			}
		}
		l.mu.Unlock()
		signal(l.park)
		select {
		case <-ctx.Done():
			l.mu.Lock()
			l.waiting = false
			l.mu.Unlock()
			signal(l.park)
			return nil, false, ctx.Err()
		case <-l.wake:
		case <-tc:
		}
		l.mu.Lock()
		now = l.now()
	}
}

// Start runs reader.Capture on a stepped line in a goroutine and returns
// once the loop is parked; stop ends it and returns its error (nil when
// stopped).
func (l *Line) Start(dec *reader.Decoder, emit func(reader.Read)) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	var err error
	go func() {
		defer close(l.done)
		err = reader.Capture(ctx, l, dec, 0, emit)
	}()
	select {
	case <-l.park:
	case <-l.done:
	}
	return func() error {
		cancel()
		<-l.done
		if err == context.Canceled {
			return nil
		}
		return err
	}
}

// Step lets a stepped line act at the owner's clock: due edges enter the
// queue, and a parked capture loop that can act (edges to read, its
// timeout passed, the line failed) does, then parks again. Call it with
// the clock at Wake (or after Fail).
func (l *Line) Step() {
	l.mu.Lock()
	w := l.waiting
	if !w {
		l.transfer(l.now())
	}
	l.mu.Unlock()
	if !w {
		return
	}
	signal(l.wake)
	select {
	case <-l.park:
	case <-l.done:
	}
}

// Out is one Read the capture produced, with the line time it came out of
// the decoder.
type Out struct {
	Read    reader.Read
	Emitted time.Duration
}

// Run feeds edges (line time; Seq is assigned here, from 1) through a
// stepped line of cfg into dec by reader.Capture — the capture loop of the
// Pi — on a virtual clock, and returns every Read with its time, once
// every edge is consumed and the last frame is closed.
func Run(cfg LineConfig, dec *reader.Decoder, edges []reader.Edge) ([]Out, Stats) {
	var clock atomic.Int64
	l := NewLine(cfg, func() time.Duration { return time.Duration(clock.Load()) })
	l.Send(edges...)
	var outs []Out
	stop := l.Start(dec, func(r reader.Read) { outs = append(outs, Out{Read: r, Emitted: l.Now()}) })
	for {
		t, ok := l.Wake()
		if !ok {
			break
		}
		clock.Store(int64(max(t, l.Now())))
		l.Step()
	}
	_ = stop()
	return outs, l.Stats()
}
