package readertest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchd/latch/reader"
)

const (
	us = time.Microsecond
	ms = time.Millisecond
)

var robustCfg = reader.Config{
	Name:    "sim",
	Formats: []string{"h10301", "h10306", "corp1000_35", "h10304", "corp1000_48"},
	Keypad:  reader.Keypad8,
}

// sendMix sends one card of each configured format and a key, frameGap
// apart, and returns the reads a perfect decoder yields.
func sendMix(t testing.TB, w *WiegandReader, rng *rand.Rand, frameGap time.Duration) []reader.Read {
	t.Helper()
	var want []reader.Read
	for i, name := range robustCfg.Formats {
		s, err := reader.ParseFormatSpec(name, "")
		if err != nil {
			t.Fatal(err)
		}
		maxFC, maxCN := s.FieldLimits()
		fc := rng.Uint32N(maxFC + 1)
		cn := rng.Uint64N(maxCN + 1)
		if i > 0 {
			w.Wait(frameGap)
		}
		if err := w.SendCard(s, fc, cn); err != nil {
			t.Fatal(err)
		}
		bits, _ := s.Encode(fc, cn)
		want = append(want, reader.Read{Reader: "sim", Kind: reader.KindCard, Card: reader.Card{Format: s.Format, FacilityCode: fc, CardNumber: cn, Bits: bits}})
	}
	w.Wait(frameGap)
	if err := w.SendKeys(reader.Keypad{Mode: reader.Keypad8}, []byte("7#"), frameGap); err != nil {
		t.Fatal(err)
	}
	want = append(want,
		reader.Read{Reader: "sim", Kind: reader.KindKeys, Keys: []byte("7")},
		reader.Read{Reader: "sim", Kind: reader.KindKeys, Keys: []byte("#")})
	return want
}

func reads(outs []Out) []reader.Read {
	var rs []reader.Read
	for _, o := range outs {
		r := o.Read
		r.At = time.Time{}
		rs = append(rs, r)
	}
	return rs
}

// TestRobustness runs every format and a key through the simulated
// reader and kernel queue over the timing range of issue 2: pulse widths
// 20–200 µs, intervals 0.2–20 ms, ±30 % jitter, a glitch edge 30 µs after
// every 7th real edge, frames 30 ms apart, and a 40 ms consumer stall
// during the 48-bit frame. Every frame must come out once, whole and
// right, with the reader's default max_frame_gap (a 20 ms reader at
// +30 % sends intervals up to 26 ms: the target of docs/formats.md ("Frames on the wire"), which the
// 30 ms default meets and the 25 ms first planned did not). Combinations that
// cannot exist are skipped: a pulse as long as the interval, and a
// jittered interval under the 200 µs glitch limit (out of spec).
func TestRobustness(t *testing.T) {
	n := 0
	jittered := 0 // runs with an interval over 25 ms
	for _, wc := range timingRange() {
		t.Run(timingName(wc), func(t *testing.T) {
			n++
			w, rng := seededReader(t, wc, uint64(n), 9)
			want := sendMix(t, w, rng, 30*ms)
			if longest := maxInterval(w.Edges(), w.Frames()); longest > 25*ms {
				jittered++ // a frame a 25 ms cap would split
			}
			// Stall the consumer 40 ms inside the 48-bit frame.
			if d := cmp.Diff(want, decodeStalled(t, robustCfg, w, 4)); d != "" {
				t.Errorf("reads (-want +got):\n%s", d)
			}
		})
	}
	if n < 60 {
		t.Fatalf("only %d combinations ran", n)
	}
	if jittered == 0 {
		t.Error("no run had an interval over 25 ms: 20 ms ±30 % jitter is not covered")
	}
}

// timingRange is the robustness tests' timing range (issue 2): pulse
// widths 20–200 µs, intervals 0.2–20 ms, no jitter and ±30 %, no glitch
// and a glitch edge after every 7th real edge. Combinations that cannot
// exist are left out: a pulse as long as the interval, and a jittered
// interval under the 200 µs glitch limit (out of spec).
func timingRange() []WiegandConfig {
	var out []WiegandConfig
	for _, width := range []time.Duration{20 * us, 50 * us, 100 * us, 200 * us} {
		for _, iv := range []time.Duration{200 * us, 300 * us, 500 * us, ms, 2 * ms, 5 * ms, 10 * ms, 20 * ms} {
			for _, jitter := range []float64{0, 0.3} {
				minIv := time.Duration(float64(iv) * (1 - jitter))
				if minIv <= width || minIv < reader.DefaultGlitch {
					continue
				}
				for _, glitch := range []int{0, 7} {
					out = append(out, WiegandConfig{PulseWidth: width, Interval: iv, Jitter: jitter, GlitchEvery: glitch})
				}
			}
		}
	}
	return out
}

// timingName names a combination of timingRange in a subtest.
func timingName(wc WiegandConfig) string {
	return fmt.Sprintf("w%v/iv%v/j%.1f/g%d", wc.PulseWidth, wc.Interval, wc.Jitter, wc.GlitchEvery)
}

// seededReader is the simulated reader of one timing combination, seeded
// with seed, and the random source of what the test sends through it
// (stream keeps the tests' sources apart).
func seededReader(t *testing.T, wc WiegandConfig, seed, stream uint64) (*WiegandReader, *rand.Rand) {
	t.Helper()
	wc.Seed = seed
	w, err := NewWiegandReader(wc)
	if err != nil {
		t.Fatal(err)
	}
	return w, rand.New(rand.NewPCG(seed, stream))
}

// decodeStalled runs w's edges through the simulated kernel queue and a
// decoder of cfg, the consumer stalled for 40 ms in the middle of the
// frame'th frame, and returns the reads; a dropped edge fails the test.
func decodeStalled(t *testing.T, cfg reader.Config, w *WiegandReader, frame int) []reader.Read {
	t.Helper()
	f := w.Frames()[frame]
	mid := (f.First + f.Last) / 2
	dec, err := reader.NewDecoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outs, st := Run(LineConfig{Stalls: []Stall{{mid - 20*ms, mid + 20*ms}}}, dec, w.Edges())
	if st.Dropped != 0 {
		t.Fatalf("queue dropped %d edges", st.Dropped)
	}
	return reads(outs)
}

// maxInterval is the longest interval between two real edges of one frame.
func maxInterval(es []reader.Edge, fs []SentFrame) time.Duration {
	var longest time.Duration
	for _, f := range fs {
		prev := time.Duration(-1)
		for _, e := range es {
			if e.T < f.First || e.T > f.Last {
				continue
			}
			if prev >= 0 && e.T-prev >= reader.DefaultGlitch {
				longest = max(longest, e.T-prev)
			}
			if prev < 0 || e.T-prev >= reader.DefaultGlitch {
				prev = e.T
			}
		}
	}
	return longest
}

// TestOverflow: a consumer stalled long enough for the kernel queue to
// drop edges yields a bad read, never a card.
func TestOverflow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		queue int
		stall time.Duration
	}{
		{"default 32-event queue, 48-bit frame, 80 ms stall", 32, 80 * ms},
		{"16-event queue, 26-bit frame", 16, 45 * ms},
		{"stall across two frames", 32, 200 * ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := NewWiegandReader(WiegandConfig{Interval: 2 * ms})
			s48 := reader.FormatSpec{Format: reader.Corp1000x48}
			s26 := reader.FormatSpec{Format: reader.H10301}
			if err := w.SendCard(s26, 1, 2); err != nil {
				t.Fatal(err)
			}
			w.Wait(30 * ms)
			if err := w.SendCard(s48, 3, 4); err != nil {
				t.Fatal(err)
			}
			w.Wait(30 * ms)
			if err := w.SendCard(s26, 5, 6); err != nil {
				t.Fatal(err)
			}
			fr := w.Frames()
			dec, _ := reader.NewDecoder(robustCfg)
			start := fr[1].First
			if tc.queue == 16 {
				start = fr[2].First
			}
			outs, st := Run(LineConfig{QueueSize: tc.queue, Stalls: []Stall{{start, start + tc.stall}}}, dec, w.Edges())
			if st.Dropped == 0 {
				t.Fatalf("nothing dropped (max queue %d)", st.MaxQ)
			}
			bad := 0
			for _, o := range outs {
				switch o.Read.Kind {
				case reader.KindBad:
					bad++
					if o.Read.Bad != reader.BadOverflow {
						t.Errorf("bad read %q, want overflow", o.Read.Bad)
					}
				case reader.KindCard:
					c := o.Read.Card
					if !slices.ContainsFunc(fr, func(f SentFrame) bool { return f.Bits == c.Bits }) {
						t.Errorf("card %+v was never sent", c)
					}
				default:
					t.Errorf("unexpected read %+v", o.Read)
				}
			}
			if bad == 0 {
				t.Errorf("no overflow read; reads %+v", reads(outs))
			}
		})
	}
}

// TestOverflowNeverWrongCard drops edges at random through a small queue
// and random stalls; whatever comes out must be a bad read or a card that
// was really sent.
func TestOverflowNeverWrongCard(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	s := reader.FormatSpec{Format: reader.H10301}
	for round := range 200 {
		w, _ := NewWiegandReader(WiegandConfig{Interval: time.Duration(300+rng.IntN(3000)) * us, Jitter: 0.3, Seed: uint64(round)})
		sent := map[string]bool{}
		for i := range 6 {
			if i > 0 {
				w.Wait(time.Duration(30+rng.IntN(40)) * ms)
			}
			fc, cn := rng.Uint32N(256), rng.Uint64N(65536)
			b, _ := s.Encode(fc, cn)
			sent[b] = true
			if err := w.SendBits(b); err != nil {
				t.Fatal(err)
			}
		}
		var stalls []Stall
		for range 3 {
			from := time.Duration(rng.Int64N(int64(w.Now())))
			stalls = append(stalls, Stall{from, from + time.Duration(rng.IntN(120))*ms})
		}
		dec, _ := reader.NewDecoder(robustCfg)
		outs, _ := Run(LineConfig{QueueSize: 8 + rng.IntN(24), Stalls: stalls}, dec, w.Edges())
		for _, o := range outs {
			if o.Read.Kind == reader.KindCard && !sent[o.Read.Card.Bits] {
				t.Fatalf("round %d: card %+v never sent", round, o.Read.Card)
			}
		}
	}
}

func TestWiegandReaderSchedule(t *testing.T) {
	w, err := NewWiegandReader(WiegandConfig{Interval: ms, GlitchEvery: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SendBits("101"); err != nil {
		t.Fatal(err)
	}
	if err := w.SendBits("1"); err == nil {
		t.Error("frame inside the previous pulse: no error")
	}
	w.Wait(10 * ms)
	if err := w.SendBits("0"); err != nil {
		t.Fatal(err)
	}
	want := []reader.Edge{
		{Line: 1, T: 0}, {Line: 0, T: ms}, {Line: 1, T: ms + 30*us}, {Line: 1, T: 2 * ms}, {Line: 0, T: 12 * ms}, {Line: 1, T: 12*ms + 30*us},
	}
	if d := cmp.Diff(want, w.Edges()); d != "" {
		t.Errorf("edges (-want +got):\n%s", d)
	}
	for _, bad := range []WiegandConfig{{Jitter: 1}, {Interval: 40 * us, PulseWidth: 50 * us}, {Interval: -1}} {
		if _, err := NewWiegandReader(bad); err == nil {
			t.Errorf("NewWiegandReader(%+v): no error", bad)
		}
	}
	if err := w.SendBits("10x"); err == nil {
		t.Error("bad bit: no error")
	}
}

// benchLatency measures end of frame latency: from a frame's last edge to
// its Read leaving the decoder, on the virtual clock (the decoder's rule;
// on a Pi, gpiocdev adds FlushSlack and the wake-up time).
func benchLatency(b *testing.B, iv time.Duration, jitter float64) {
	w, _ := NewWiegandReader(WiegandConfig{Interval: iv, Jitter: jitter, Seed: 1})
	s := reader.FormatSpec{Format: reader.H10301}
	for i := range b.N {
		if i > 0 {
			w.Wait(100 * ms)
		}
		if err := w.SendCard(s, uint32(i%256), uint64(i%65536)); err != nil {
			b.Fatal(err)
		}
	}
	dec, _ := reader.NewDecoder(reader.Config{Formats: []string{"h10301"}})
	b.ResetTimer()
	outs, _ := Run(LineConfig{}, dec, w.Edges())
	b.StopTimer()
	fr := w.Frames()
	if len(outs) != len(fr) {
		b.Fatalf("%d reads for %d frames", len(outs), len(fr))
	}
	lat := make([]time.Duration, len(outs))
	for i, o := range outs {
		if o.Read.Kind != reader.KindCard {
			b.Fatalf("frame %d: %+v", i, o.Read)
		}
		lat[i] = o.Emitted - fr[i].Last
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	b.ReportMetric(float64(pct(0.5))/float64(ms), "p50-ms")
	b.ReportMetric(float64(pct(0.99))/float64(ms), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(ms), "max-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(iv), "max-intervals")
}

func BenchmarkEndOfFrameLatency(b *testing.B) {
	for _, tc := range []struct {
		iv     time.Duration
		jitter float64
	}{{2 * ms, 0}, {2 * ms, 0.3}, {20 * ms, 0}, {20 * ms, 0.3}} {
		b.Run(fmt.Sprintf("reader=%v/jitter=%.1f", tc.iv, tc.jitter), func(b *testing.B) { benchLatency(b, tc.iv, tc.jitter) })
	}
}

// TestRobustnessLongest runs the same timing range through a reader whose
// only format is h10301 (26 bits is its longest frame, so each card ends
// after 1.5 intervals, docs/formats.md, "Frames on the wire"), with a key-less mix
// of cards 30 ms apart, glitches and a 40 ms stall inside the third card:
// every card comes out once, whole and right.
func TestRobustnessLongest(t *testing.T) {
	cfg := reader.Config{Name: "sim", Formats: []string{"h10301"}}
	s := reader.FormatSpec{Format: reader.H10301}
	n := 0
	for _, wc := range timingRange() {
		t.Run(timingName(wc), func(t *testing.T) {
			n++
			w, rng := seededReader(t, wc, uint64(n), 11)
			var want []reader.Read
			for i := range 5 {
				if i > 0 {
					w.Wait(30 * ms)
				}
				fc, cn := rng.Uint32N(256), rng.Uint64N(65536)
				if err := w.SendCard(s, fc, cn); err != nil {
					t.Fatal(err)
				}
				bits, _ := s.Encode(fc, cn)
				want = append(want, reader.Read{Reader: "sim", Kind: reader.KindCard, Card: reader.Card{Format: s.Format, FacilityCode: fc, CardNumber: cn, Bits: bits}})
			}
			if d := cmp.Diff(want, decodeStalled(t, cfg, w, 2)); d != "" {
				t.Errorf("reads (-want +got):\n%s", d)
			}
		})
	}
	if n < 60 {
		t.Fatalf("only %d combinations ran", n)
	}
}
