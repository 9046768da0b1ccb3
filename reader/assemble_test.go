package reader

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// edges turns bits into edges every iv starting at t0, seqnos from seq.
func edges(bits string, t0, iv time.Duration, seq uint32) []Edge {
	var es []Edge
	for i := range len(bits) {
		es = append(es, Edge{Line: Line(bits[i] - '0'), T: t0 + time.Duration(i)*iv, Seq: seq + uint32(i)})
	}
	return es
}

// run pushes all edges, flushing at each deadline that passes before the
// next edge (as the capture loop does), and closes at the end by time.
func run(a *Assembler, es []Edge) []Frame {
	var out []Frame
	for _, e := range es {
		if d, ok := a.Deadline(); ok && d <= e.T {
			out = append(out, a.Flush(d)...)
		}
		out = append(out, a.Push(e)...)
	}
	if d, ok := a.Deadline(); ok {
		if f := a.Flush(d - 1); f != nil {
			panic("flushed before the deadline")
		}
		out = append(out, a.Flush(d)...)
	}
	return out
}

const card26 = "11101010000011011100000010"

func TestAssembler(t *testing.T) {
	ms := time.Millisecond
	us := time.Microsecond
	cat := func(ess ...[]Edge) []Edge {
		var r []Edge
		for _, es := range ess {
			r = append(r, es...)
		}
		return r
	}
	withGlitch := edges(card26, 0, 2*ms, 1)
	// a glitch 30 µs after bit 5, on the other line
	glitched := append(append(append([]Edge{}, withGlitch[:5]...), Edge{Line: 1 - withGlitch[4].Line, T: withGlitch[4].T + 30*us, Seq: 6}), withGlitch[5:]...)
	for i := 6; i < len(glitched); i++ {
		glitched[i].Seq++
	}
	gap := edges(card26, 0, 2*ms, 1)
	gap = append(gap[:10], gap[11:]...) // edge with seq 11 lost
	long := strings.Repeat("1", 130)

	type want struct {
		Bits     string
		N        int
		Bad      BadReason
		Glitches int
		End      time.Duration
	}
	for _, tc := range []struct {
		name string
		cfg  AssemblerConfig
		in   []Edge
		want []want
	}{
		{"one frame 2ms", AssemblerConfig{}, edges(card26, 0, 2*ms, 1),
			[]want{{Bits: card26, N: 26, End: 25*2*ms + 3*2*ms}}},
		{"slow reader capped", AssemblerConfig{}, edges("1010", 0, 20*ms, 1),
			[]want{{Bits: "1010", N: 4, End: 60*ms + 30*ms}}},
		// 20 ms +30 % jitter: every interval 26 ms, above a 25 ms
		// (which split this frame) and under the 30 ms default cap.
		{"20ms reader at +30% jitter, default cap", AssemblerConfig{}, edges(card26, 0, 26*ms, 1),
			[]want{{Bits: card26, N: 26, End: 25*26*ms + 30*ms}}},
		{"first interval 26ms after a one-bit start", AssemblerConfig{}, cat(edges("1", 0, 0, 1), edges("010", 26*ms, 14*ms, 2)),
			[]want{{Bits: "1010", N: 4, End: 54*ms + 30*ms}}},
		{"two frames 30ms apart, 20ms reader", AssemblerConfig{}, cat(edges("1010", 0, 20*ms, 1), edges("0110", 90*ms, 20*ms, 5)),
			[]want{{Bits: "1010", N: 4, End: 90 * ms}, {Bits: "0110", N: 4, End: 150*ms + 30*ms}}},
		{"two frames 10ms apart, 1ms reader", AssemblerConfig{}, cat(edges("1010", 0, ms, 1), edges("0110", 13*ms, ms, 5)),
			[]want{{Bits: "1010", N: 4, End: 6 * ms}, {Bits: "0110", N: 4, End: 19 * ms}}},
		{"glitch 30us after a real edge", AssemblerConfig{}, glitched,
			[]want{{Bits: card26, N: 26, Glitches: 1, End: 56 * ms}}},
		{"seq gap", AssemblerConfig{}, gap,
			[]want{{Bits: card26[:10] + card26[11:], N: 25, Bad: BadOverflow, End: 62 * ms}}},
		{"first seq not 1", AssemblerConfig{}, edges("1010", 0, ms, 3),
			[]want{{Bits: "1010", N: 4, Bad: BadOverflow, End: 6 * ms}}},
		{"unsequenced", AssemblerConfig{}, edges("1010", 0, ms, 0)[:1],
			[]want{{Bits: "1", N: 1, Bad: BadLength, End: 30 * ms}}},
		{"3 bits", AssemblerConfig{}, edges("101", 0, ms, 1),
			[]want{{Bits: "101", N: 3, Bad: BadLength, End: 5 * ms}}},
		{"noise burst", AssemblerConfig{}, []Edge{{T: 0, Seq: 1}, {T: 10 * us, Seq: 2}, {Line: 1, T: 50 * us, Seq: 3}},
			[]want{{Bits: "0", N: 1, Bad: BadGlitch, Glitches: 2, End: 30 * ms}}},
		{"130 bits", AssemblerConfig{}, edges(long, 0, ms, 1),
			[]want{{Bits: long[:128], N: 130, Bad: BadLength, End: 129*ms + 3*ms}}},
		{"gap factor 4, max 40ms", AssemblerConfig{GapFactor: 4, MaxFrameGap: 40 * ms}, edges("1010", 0, 5*ms, 1),
			[]want{{Bits: "1010", N: 4, End: 15*ms + 20*ms}}},
		// Longest: a frame of the longest usable length ends after 1.5
		// intervals; shorter frames still wait 3.
		{"longest 26: 26-bit frame 1.5 intervals", AssemblerConfig{Longest: 26}, edges(card26, 0, 2*ms, 1),
			[]want{{Bits: card26, N: 26, End: 50*ms + 3*ms}}},
		{"longest 26: 4-bit key 3 intervals", AssemblerConfig{Longest: 26}, edges("1010", 0, 2*ms, 1),
			[]want{{Bits: "1010", N: 4, End: 6*ms + 6*ms}}},
		{"longest 34: 26-bit frame 3 intervals", AssemblerConfig{Longest: 34}, edges(card26, 0, 2*ms, 1),
			[]want{{Bits: card26, N: 26, End: 50*ms + 6*ms}}},
		// A longer frame than any format is not cut at the longest length:
		// its next bit comes 1 interval later, inside the 1.5.
		{"longest 26: 34-bit frame not split", AssemblerConfig{Longest: 26}, edges(card26+"01100110", 0, 2*ms, 1),
			[]want{{Bits: card26 + "01100110", N: 34, End: 66*ms + 3*ms}}},
		// ±30 % jitter inside the frame: 1.5 × the largest (2.6 ms) holds the
		// 26th bit's frame open past a last interval of 1.4 ms.
		{"longest 26: jittered frame whole", AssemblerConfig{Longest: 26}, cat(edges(card26[:13], 0, 2600*us, 1), edges(card26[13:], 12*2600*us+1400*us, 1400*us, 14)),
			[]want{{Bits: card26, N: 26, End: 12*2600*us + 13*1400*us + 3900*us}}},
		{"longest 26: 20ms reader capped", AssemblerConfig{Longest: 26, MaxFrameGap: 25 * ms}, edges(card26, 0, 20*ms, 1),
			[]want{{Bits: card26, N: 26, End: 25*20*ms + 25*ms}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := run(NewAssembler(tc.cfg), tc.in)
			var got []want
			for _, f := range fs {
				got = append(got, want{Bits: f.Bits, N: f.N, Bad: f.Bad, Glitches: f.Glitches, End: f.End})
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("frames (-want +got):\n%s", d)
			}
		})
	}
}

// TestAssemblerGapBetweenFrames: a seqno gap whose lost edges fall
// between two frames still open marks both, since they may have ended the
// first or started the second. (A consumer that flushed the first frame
// at its deadline had an empty queue then, so the loss came later and
// the first frame stays good.)
func TestAssemblerGapBetweenFrames(t *testing.T) {
	es := append(edges("1010", 0, time.Millisecond, 1), edges("0110", 50*time.Millisecond, time.Millisecond, 7)...)
	a := NewAssembler(AssemblerConfig{})
	var fs []Frame
	for _, e := range es { // a stalled consumer: no flush in between
		fs = append(fs, a.Push(e)...)
	}
	fs = append(fs, a.Close()...)
	if len(fs) != 2 || fs[0].Bad != BadOverflow || fs[1].Bad != BadOverflow {
		t.Fatalf("stalled: got %+v, want two overflowed frames", fs)
	}
	fs = run(NewAssembler(AssemblerConfig{}), es)
	if len(fs) != 2 || fs[0].Bad != "" || fs[1].Bad != BadOverflow {
		t.Fatalf("flushed at deadline: got %+v, want good then overflowed", fs)
	}
}

func TestAssemblerDeadline(t *testing.T) {
	a := NewAssembler(AssemblerConfig{})
	if _, ok := a.Deadline(); ok {
		t.Fatal("deadline with no frame open")
	}
	if f := a.Flush(time.Hour); f != nil {
		t.Fatalf("Flush with no frame: %+v", f)
	}
	a.Push(Edge{T: time.Second, Seq: 1})
	if d, ok := a.Deadline(); !ok || d != time.Second+DefaultMaxFrameGap {
		t.Fatalf("deadline after one edge: %v %v", d, ok)
	}
	a.Push(Edge{T: time.Second + 2*time.Millisecond, Seq: 2})
	if d, _ := a.Deadline(); d != time.Second+8*time.Millisecond {
		t.Fatalf("deadline after two edges 2ms apart: %v", d)
	}
	if f := a.Close(); len(f) != 1 || f[0].N != 2 {
		t.Fatalf("Close: %+v", f)
	}
	if f := a.Close(); f != nil {
		t.Fatalf("second Close: %+v", f)
	}
}

func FuzzAssembler(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 200, 1, 0, 0, 7, 1, 9})
	f.Add([]byte(card26))
	f.Fuzz(func(t *testing.T, data []byte) {
		a := NewAssembler(AssemblerConfig{})
		var tm time.Duration
		var seq uint32
		bits := 0
		frames := 0
		// Each input byte is one edge: bit 0 the line, bit 1 a seqno skip,
		// bits 2–7 the interval in 100 µs steps (0 = a glitch).
		for _, b := range data {
			tm += time.Duration(b>>2) * 100 * time.Microsecond
			seq++
			if b&2 != 0 {
				seq++
			}
			for _, fr := range a.Push(Edge{Line: Line(b & 1), T: tm, Seq: seq}) {
				frames++
				bits += fr.N + fr.Glitches
				if len(fr.Bits) != min(fr.N, MaxBits) || fr.End < fr.Last || (fr.Bad == "" && (fr.N < MinBits || fr.N > MaxBits || fr.Overflow)) {
					t.Fatalf("bad frame %+v", fr)
				}
			}
		}
		for _, fr := range a.Close() {
			frames++
			bits += fr.N + fr.Glitches
		}
		if bits != len(data) {
			t.Fatalf("%d edges in, %d accounted for in %d frames", len(data), bits, frames)
		}
	})
}

// benchFrames hands push the edges of one 26-bit frame (2 ms bit interval)
// per round of b.Loop, the frames 80 ms apart, the edges numbered in turn.
func benchFrames(b *testing.B, push func(Edge)) {
	es := edges(card26, 0, 2*time.Millisecond, 1)
	var base time.Duration
	var seq uint32
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range es {
			seq++
			push(Edge{Line: e.Line, T: base + e.T, Seq: seq})
		}
		base += 80 * time.Millisecond
	}
}

func BenchmarkAssembler(b *testing.B) {
	a := NewAssembler(AssemblerConfig{})
	frames := 0
	benchFrames(b, func(e Edge) { frames += len(a.Push(e)) })
	frames += len(a.Close())
	if frames != b.N {
		b.Fatalf("%d frames from %d", frames, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
