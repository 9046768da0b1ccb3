package reader

import (
	"strings"
	"time"
)

// Line is one of a Wiegand reader's two data lines.
type Line uint8

// The two Wiegand data lines. A low pulse on D0 sends a 0, on D1 a 1.
const (
	D0 Line = 0
	D1 Line = 1
)

// String returns "D0" or "D1".
func (l Line) String() string {
	if l == D1 {
		return "D1"
	}
	return "D0"
}

// Edge is one falling edge on D0 or D1.
type Edge struct {
	Line Line
	// T is when the edge happened, on the producer's monotonic clock as an
	// offset from that clock's zero. For GPIO capture it is the kernel's
	// CLOCK_MONOTONIC timestamp_ns, taken in the hard-IRQ handler.
	T time.Duration
	// Seq is the kernel's sequence number for the line request (starting at
	// 1 and counting every edge on D0 and D1). 0 means "not sequenced": no
	// gap check for that edge.
	Seq uint32
}

// Frame is what the Assembler makes of the edges between two silences.
type Frame struct {
	// Bits holds the accepted edges as '0' (D0) and '1' (D1), first bit
	// first. It holds at most MaxBits bits; N counts them all.
	Bits string
	N    int // number of accepted edges (bits), may exceed MaxBits
	// First and Last are the timestamps of the first and last accepted edge.
	First, Last time.Duration
	// End is when the frame was complete: Last plus the end-of-frame
	// silence that closed it.
	End time.Duration
	// Interval is the largest interval between two accepted edges (0 for a
	// one-bit frame).
	Interval time.Duration
	Glitches int  // edges dropped as glitches
	Overflow bool // a sequence-number gap touched this frame
	// Bad is set when the frame is unusable whatever the format:
	// BadOverflow, BadGlitch or BadLength; "" otherwise.
	Bad BadReason
}

// Limits of frame assembly.
const (
	// MinBits and MaxBits bound a usable frame: the shortest Wiegand
	// frame is a 4-bit key press; nothing in use is longer than 128 bits.
	MinBits = 4
	MaxBits = 128
	// DefaultGlitch is the shortest real interval between two pulses:
	// Wiegand's minimum pulse interval is 200 µs (docs/wiring.md, "Wiegand on
	// the wire"); anything closer is noise.
	DefaultGlitch = 200 * time.Microsecond
	// DefaultMaxFrameGap caps the end-of-frame silence. The Wiegand spec's
	// longest pulse interval is 20 ms (docs/wiring.md) and docs/formats.md ("Frames on the wire") asks
	// for no lost frame with ±30 % jitter per bit, so an interval may reach
	// 20 ms × 1.3 = 26 ms; the cap must be above that, or such a frame is
	// split. The 25 ms first planned is not; 30 ms is. Readers with a shorter
	// interval never wait this long: their silence is GapFactor intervals.
	DefaultMaxFrameGap = 30 * time.Millisecond
	// DefaultGapFactor: a frame ends after a silence of this many times
	// the largest interval seen inside it. With ±30 % jitter per bit the
	// largest interval is at most 1.3/0.7 ≈ 1.9 times the smallest, so 3
	// leaves margin and keeps end-of-frame latency under 4 intervals.
	DefaultGapFactor = 3
	// A frame as long as the longest the reader is configured for
	// (AssemblerConfig.Longest) cannot become valid with one more bit, so
	// it ends after LimitGapHalves/2 = 1.5 of its largest interval instead
	// of GapFactor: the next bit of a longer frame would come 1 interval
	// after the last, and a 26-bit frame at 2 ms is granted 53 ms after its
	// first edge instead of 56 (docs/formats.md, "Frames on the wire").
	LimitGapHalves = 3
)

// AssemblerConfig tunes an Assembler. Zero values take the defaults.
type AssemblerConfig struct {
	MaxFrameGap time.Duration // default DefaultMaxFrameGap
	Glitch      time.Duration // default DefaultGlitch
	GapFactor   int           // default DefaultGapFactor
	// Longest is the length in bits of the longest frame the reader can
	// use (its longest card format or keypad frame). A frame that reaches
	// it ends after 1.5 intervals (LimitGapHalves). 0 = unknown: every
	// frame waits GapFactor intervals.
	Longest int
}

func (c AssemblerConfig) withDefaults() AssemblerConfig {
	if c.MaxFrameGap <= 0 {
		c.MaxFrameGap = DefaultMaxFrameGap
	}
	if c.Glitch <= 0 {
		c.Glitch = DefaultGlitch
	}
	if c.GapFactor <= 0 {
		c.GapFactor = DefaultGapFactor
	}
	return c
}

// Assembler turns a stream of edges into frames. It is pure and
// clock-free: it never reads a clock and never sleeps. The caller pushes
// edges in the order the kernel delivered them, asks Deadline when the open
// frame will be complete if no edge comes, and calls Flush once that time
// has passed (and no edge is still queued).
//
// The end of a frame is a silence longer than GapFactor times the largest
// interval seen inside the frame, capped by MaxFrameGap; a frame with one
// bit waits MaxFrameGap. A frame of Longest bits or more waits 1.5 of its
// largest interval (capped too), since no further bit can make it usable. An edge closer than Glitch to the previous
// accepted edge is dropped as a glitch. A gap in sequence numbers marks
// the open frame and the next one as overflowed, because the lost edges
// may belong to either.
//
// An Assembler is not safe for concurrent use.
type Assembler struct {
	cfg AssemblerConfig

	open    bool
	bits    strings.Builder
	cur     Frame
	lastSeq uint32 // 0 = none seen
}

// NewAssembler returns an Assembler with cfg's zero values defaulted.
func NewAssembler(cfg AssemblerConfig) *Assembler {
	return &Assembler{cfg: cfg.withDefaults()}
}

// Config returns the configuration in use, defaults filled in.
func (a *Assembler) Config() AssemblerConfig { return a.cfg }

// silence is the end-of-frame silence for the open frame.
func (a *Assembler) silence() time.Duration {
	if a.cur.N < 2 {
		return a.cfg.MaxFrameGap
	}
	// Guard the multiplication against overflow for absurd intervals.
	if a.cur.Interval > a.cfg.MaxFrameGap/time.Duration(a.cfg.GapFactor) {
		return a.cfg.MaxFrameGap
	}
	s := time.Duration(a.cfg.GapFactor) * a.cur.Interval
	if a.cfg.Longest > 0 && a.cur.N >= a.cfg.Longest {
		s = min(s, a.cur.Interval*LimitGapHalves/2)
	}
	return s
}

// Deadline reports when the open frame is complete if no further edge
// arrives: the timestamp of its last edge plus the end-of-frame silence.
// ok is false when no frame is open.
func (a *Assembler) Deadline() (t time.Duration, ok bool) {
	if !a.open {
		return 0, false
	}
	return a.cur.Last + a.silence(), true
}

// Flush closes the open frame if now is at or past its deadline and
// returns it. The caller must have pushed every edge that happened before
// now (for GPIO capture: the kernel queue is empty), or a frame may be cut.
func (a *Assembler) Flush(now time.Duration) []Frame {
	d, ok := a.Deadline()
	if !ok || now < d {
		return nil
	}
	return []Frame{a.close()}
}

// Close closes the open frame whatever the time, e.g. at shutdown. It
// returns nil when no frame is open.
func (a *Assembler) Close() []Frame {
	if !a.open {
		return nil
	}
	return []Frame{a.close()}
}

func (a *Assembler) close() Frame {
	f := a.cur
	f.End = f.Last + a.silence()
	f.Bits = a.bits.String()
	switch {
	case f.Overflow:
		f.Bad = BadOverflow
	case f.N < MinBits && f.Glitches > 0:
		f.Bad = BadGlitch
	case f.N < MinBits || f.N > MaxBits:
		f.Bad = BadLength
	}
	a.open = false
	a.cur = Frame{}
	a.bits.Reset()
	return f
}

// Push adds one edge and returns the frame it closed, if any (an edge
// after the open frame's deadline closes that frame and starts a new one).
func (a *Assembler) Push(e Edge) []Frame {
	var out []Frame
	gap := false
	if e.Seq != 0 {
		if a.lastSeq != 0 && e.Seq != a.lastSeq+1 {
			gap = true
		} else if a.lastSeq == 0 && e.Seq != 1 {
			// The kernel numbers a request's events from 1: a first
			// event above 1 means the oldest ones were dropped.
			gap = true
		}
		a.lastSeq = e.Seq
	}
	if gap && a.open {
		// Lost edges lie between the last edge pushed and this one: they
		// may end the open frame or start the next, so both are marked.
		a.cur.Overflow = true
	}
	if a.open {
		if d, _ := a.Deadline(); e.T >= d {
			out = append(out, a.close())
		}
	}
	if !a.open {
		a.open = true
		a.cur = Frame{First: e.T, Last: e.T, N: 1, Overflow: gap}
		a.bits.WriteByte('0' + byte(e.Line&1))
		return out
	}
	iv := e.T - a.cur.Last
	if iv < a.cfg.Glitch { // also catches timestamps out of order
		a.cur.Glitches++
		return out
	}
	if iv > a.cur.Interval {
		a.cur.Interval = iv
	}
	a.cur.Last = e.T
	a.cur.N++
	if a.cur.N <= MaxBits {
		a.bits.WriteByte('0' + byte(e.Line&1))
	}
	return out
}
