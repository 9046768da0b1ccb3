package readertest

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/latchd/latch/reader"
)

// WiegandConfig is the timing of a simulated Wiegand reader. Zero values
// take typical values from docs/wiring.md ("Wiegand on the wire").
type WiegandConfig struct {
	// PulseWidth is how long a data line stays low (typical 50 µs, spec
	// 20–100 µs). Only falling edges are reported, as latch requests them,
	// so the width only bounds the interval and places bounce glitches.
	PulseWidth time.Duration
	// Interval is the time from one falling edge to the next (typical
	// 1–2 ms, spec 200 µs–20 ms). Default 2 ms.
	Interval time.Duration
	// Jitter varies each interval uniformly by ±Jitter (0.3 = ±30 %).
	Jitter float64
	// GlitchEvery adds a stray falling edge on the other line
	// GlitchAfter after every GlitchEvery-th real edge (0 = never).
	GlitchEvery int
	GlitchAfter time.Duration // default 30 µs
	// Seed seeds the jitter; equal seeds give equal schedules.
	Seed uint64
}

// Typical Wiegand timing (docs/wiring.md).
const (
	DefaultPulseWidth  = 50 * time.Microsecond
	DefaultInterval    = 2 * time.Millisecond
	DefaultGlitchAfter = 30 * time.Microsecond
)

// WiegandReader is a simulated Wiegand reader: it turns frames into a
// schedule of falling edges on a virtual clock. Its cursor starts at 0;
// Wait moves it; each Send puts a frame's first edge at the cursor and
// leaves the cursor at the frame's last edge.
type WiegandReader struct {
	cfg    WiegandConfig
	rng    *rand.Rand
	cursor time.Duration
	last   time.Duration // last real edge; -1 before the first
	edges  []reader.Edge
	frames []SentFrame
	real   int // real edges sent, for GlitchEvery
}

// SentFrame records one frame the simulated reader sent.
type SentFrame struct {
	Bits        string
	First, Last time.Duration // first and last real edge
}

// NewWiegandReader checks cfg and returns a reader.
func NewWiegandReader(cfg WiegandConfig) (*WiegandReader, error) {
	if cfg.PulseWidth == 0 {
		cfg.PulseWidth = DefaultPulseWidth
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.GlitchAfter == 0 {
		cfg.GlitchAfter = DefaultGlitchAfter
	}
	switch {
	case cfg.PulseWidth < 0 || cfg.Interval < 0 || cfg.GlitchAfter < 0 || cfg.GlitchEvery < 0:
		return nil, errors.New("readertest: wiegand timing must not be negative")
	case cfg.Jitter < 0 || cfg.Jitter >= 1 || math.IsNaN(cfg.Jitter):
		return nil, fmt.Errorf("readertest: wiegand jitter %v: must be in [0, 1)", cfg.Jitter)
	case float64(cfg.Interval)*(1-cfg.Jitter) <= float64(cfg.PulseWidth):
		return nil, fmt.Errorf("readertest: wiegand interval %v with jitter %v is not longer than the pulse width %v: pulses would overlap", cfg.Interval, cfg.Jitter, cfg.PulseWidth)
	}
	return &WiegandReader{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed)), last: -1}, nil
}

// Now returns the cursor.
func (w *WiegandReader) Now() time.Duration { return w.cursor }

// Wait moves the cursor d later (silence on the lines).
func (w *WiegandReader) Wait(d time.Duration) { w.cursor += max(d, 0) }

// SendBits schedules a frame of '0'/'1' bits starting at the cursor.
func (w *WiegandReader) SendBits(bits string) error {
	if bits == "" {
		return errors.New("readertest: empty frame")
	}
	for i := range len(bits) {
		if bits[i] != '0' && bits[i] != '1' {
			return fmt.Errorf("readertest: frame bit %d is %q, want '0' or '1'", i+1, bits[i])
		}
	}
	if w.last >= 0 && w.cursor-w.last < w.cfg.PulseWidth {
		return fmt.Errorf("readertest: frame starts %v after the previous pulse, inside it (pulse width %v): Wait first", w.cursor-w.last, w.cfg.PulseWidth)
	}
	t := w.cursor
	f := SentFrame{Bits: bits, First: t}
	for i := range len(bits) {
		if i > 0 {
			j := 1.0
			if w.cfg.Jitter > 0 {
				j += (w.rng.Float64()*2 - 1) * w.cfg.Jitter
			}
			t += time.Duration(float64(w.cfg.Interval) * j)
		}
		line := reader.Line(bits[i] - '0')
		w.edges = append(w.edges, reader.Edge{Line: line, T: t})
		w.real++
		if n := w.cfg.GlitchEvery; n > 0 && w.real%n == 0 {
			w.edges = append(w.edges, reader.Edge{Line: 1 - line, T: t + w.cfg.GlitchAfter})
		}
	}
	f.Last = t
	w.last, w.cursor = t, t
	w.frames = append(w.frames, f)
	return nil
}

// SendCard schedules a card frame built with the format's Encode.
func (w *WiegandReader) SendCard(s reader.FormatSpec, facility uint32, card uint64) error {
	bits, err := s.Encode(facility, card)
	if err != nil {
		return fmt.Errorf("readertest: %w", err)
	}
	return w.SendBits(bits)
}

// SendKeys schedules key frames: for 4bit and 8bit one frame per key,
// keyGap apart (a person's typing, e.g. 300 ms); for 26bit_pin one frame
// with the PIN (keys are digits, optionally ending in '#').
func (w *WiegandReader) SendKeys(k reader.Keypad, keys []byte, keyGap time.Duration) error {
	if k.Mode == reader.KeypadPIN {
		bits, err := k.Encode(keys)
		if err != nil {
			return fmt.Errorf("readertest: %w", err)
		}
		return w.SendBits(bits)
	}
	for i, key := range keys {
		bits, err := k.Encode([]byte{key})
		if err != nil {
			return fmt.Errorf("readertest: key %d: %w", i+1, err)
		}
		if i > 0 {
			w.Wait(keyGap)
		}
		if err := w.SendBits(bits); err != nil {
			return err
		}
	}
	return nil
}

// Glitch schedules a stray falling edge on line at the cursor plus after
// (noise between or inside frames).
func (w *WiegandReader) Glitch(line reader.Line, after time.Duration) {
	w.edges = append(w.edges, reader.Edge{Line: line, T: w.cursor + after})
}

// Edges returns the schedule so far in time order, without sequence
// numbers (the kernel queue model numbers them).
func (w *WiegandReader) Edges() []reader.Edge {
	es := slices.Clone(w.edges)
	slices.SortStableFunc(es, func(a, b reader.Edge) int { return cmp.Compare(a.T, b.T) })
	return es
}

// Frames returns the frames sent so far.
func (w *WiegandReader) Frames() []SentFrame { return slices.Clone(w.frames) }
