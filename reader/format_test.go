package reader

import (
	"errors"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
)

// Vectors: the two published h10301 examples (docs/wiring.md: Civintec CN56
// manual, and 227/57600), plus vectors computed by an independent script
// from the parity rules of docs/formats.md (field extremes and a mixed value).
var vectors = []struct {
	f    Format
	fc   uint32
	cn   uint64
	bits string
}{
	{H10301, 212, 7041, "11101010000011011100000010"},
	{H10301, 227, 57600, "01110001111100001000000000"},
	{H10301, 0, 0, "00000000000000000000000001"},
	{H10301, 255, 65535, "01111111111111111111111111"},
	{H10301, 1, 1, "10000000100000000000000010"},
	{H10306, 0, 0, "0000000000000000000000000000000001"},
	{H10306, 65535, 65535, "0111111111111111111111111111111111"},
	{H10306, 4660, 22136, "1000100100011010001010110011110001"},
	{Corp1000x35, 0, 0, "00000000000000000000000000000000001"},
	{Corp1000x35, 4095, 1048575, "10111111111111111111111111111111110"},
	{Corp1000x35, 2748, 703710, "01101010111100101010111100110111100"},
	{H10302, 0, 0, "0000000000000000000000000000000000001"},
	{H10302, 0, 34359738367, "0111111111111111111111111111111111111"},
	{H10302, 0, 12345678901, "1010110111111101110000011100001101010"},
	{H10304, 0, 0, "0000000000000000000000000000000000001"},
	{H10304, 65535, 524287, "0111111111111111111111111111111111111"},
	{H10304, 4660, 300000, "0000100100011010010010010011111000000"},
	{Corp1000x48, 0, 0, "000000000000000000000000000000000000000000000001"},
	{Corp1000x48, 4194303, 8388607, "101111111111111111111111111111111111111111111111"},
	{Corp1000x48, 1193046, 7654321, "010100100011010001010110111010011001011101100010"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		s := FormatSpec{Format: v.f}
		got, err := s.Encode(v.fc, v.cn)
		if err != nil || got != v.bits {
			t.Errorf("Encode(%s, %d, %d) = %q, %v; want %q", v.f, v.fc, v.cn, got, err, v.bits)
		}
		c, err := s.Decode(v.bits)
		want := Card{Format: v.f, FacilityCode: v.fc, CardNumber: v.cn, Bits: v.bits}
		if err != nil || c != want {
			t.Errorf("Decode(%s, %s) = %+v, %v; want %+v", v.f, v.bits, c, err, want)
		}
	}
}

// c1k48Masks packs a corp1000_48 frame the way Proxmark3's Pack_C1k48s
// does, with 32-bit masks over a 16-bit "mid" and 32-bit "bot" word: an
// independent cross-check of the positional parity rules.
func c1k48Masks(fc uint32, cn uint64) string {
	var mid, bot uint32
	bot |= uint32(cn&0x7FFFFF) << 1
	bot |= (fc & 0xFF) << 24
	mid |= (fc & 0x3FFF00) >> 8
	even := func(v uint32) uint32 { return uint32(bits.OnesCount32(v) & 1) }
	odd := func(v uint32) uint32 { return even(v) ^ 1 }
	mid |= even(mid&0x1B6D^bot&0xB6DB6DB6) << 14
	bot |= odd(mid&0x36DB ^ bot&0x6DB6DB6C)
	mid |= odd(mid&0x7FFF^bot) << 15
	var b strings.Builder
	for i := 15; i >= 0; i-- {
		b.WriteByte('0' + byte(mid>>uint(i)&1))
	}
	for i := 31; i >= 0; i-- {
		b.WriteByte('0' + byte(bot>>uint(i)&1))
	}
	return b.String()
}

func TestCorp1000x48MatchesMasks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := FormatSpec{Format: Corp1000x48}
	for range 2000 {
		fc, cn := r.Uint32N(1<<22), r.Uint64N(1<<23)
		got, err := s.Encode(fc, cn)
		if want := c1k48Masks(fc, cn); err != nil || got != want {
			t.Fatalf("Encode(%d, %d) = %s, %v; masks give %s", fc, cn, got, err, want)
		}
	}
}

func allSpecs() []FormatSpec {
	return append(Formats(),
		FormatSpec{Format: Raw, Bits: 32}, FormatSpec{Format: Raw, Bits: 32, Order: LSB},
		FormatSpec{Format: Raw, Bits: 56, Order: LSB}, FormatSpec{Format: Raw, Bits: 64},
		FormatSpec{Format: Raw, Bits: 7})
}

// TestRoundTrip encodes and decodes random values across each field's
// full range, the extremes included.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range allSpecs() {
		maxFC, maxCN := s.FieldLimits()
		try := func(fc uint32, cn uint64) {
			b := mustEncode(t, s, fc, cn)
			c, err := s.Decode(b)
			if err != nil || c.FacilityCode != fc || c.CardNumber != cn || c.Format != s.Format || len(b) != s.Len() {
				t.Fatalf("%s: Decode(Encode(%d, %d)=%s) = %+v, %v", s, fc, cn, b, c, err)
			}
		}
		try(0, 0)
		try(maxFC, maxCN)
		for range 3000 {
			var fc uint32
			if maxFC > 0 {
				fc = r.Uint32N(maxFC + 1)
			}
			cn := r.Uint64()
			if maxCN != ^uint64(0) {
				cn = r.Uint64N(maxCN + 1)
			}
			try(fc, cn)
		}
		// maxFC is at most 2^22-1: maxFC+1 never wraps. A format without a
		// facility field (maxFC 0) refuses facility 1 too.
		if _, err := s.Encode(maxFC+1, 0); !errors.Is(err, ErrRange) {
			t.Errorf("%s: facility %d: err %v, want ErrRange", s, maxFC+1, err)
		}
		if maxCN != ^uint64(0) {
			if _, err := s.Encode(0, maxCN+1); !errors.Is(err, ErrRange) {
				t.Errorf("%s: card %d: err %v, want ErrRange", s, maxCN+1, err)
			}
		}
	}
}

func TestRawByteOrder(t *testing.T) {
	msb := FormatSpec{Format: Raw, Bits: 32}
	lsb := FormatSpec{Format: Raw, Bits: 32, Order: LSB}
	const frame = "00010010001101000101011001111000" // 0x12345678 on the wire
	for _, tc := range []struct {
		s    FormatSpec
		want uint64
	}{{msb, 0x12345678}, {lsb, 0x78563412}} {
		c, err := tc.s.Decode(frame)
		if err != nil || c.CardNumber != tc.want {
			t.Errorf("%s order %q: %#x, %v; want %#x", tc.s, tc.s.Order, c.CardNumber, err, tc.want)
		}
	}
}

// TestSingleBitFlips flips every bit of valid frames: each flip must give
// a parity error. No flip of these formats can give another valid frame
// of the same format, because every bit is covered by some parity bit.
func TestSingleBitFlips(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range Formats() {
		maxFC, maxCN := s.FieldLimits()
		for range 50 {
			var fc uint32
			if maxFC > 0 {
				fc = r.Uint32N(maxFC + 1)
			}
			b := mustEncode(t, s, fc, r.Uint64N(maxCN+1))
			for i, flipped := range flips(b) {
				if c, err := s.Decode(flipped); !errors.Is(err, ErrParity) {
					t.Fatalf("%s: flip bit %d of %s: got %+v, %v; want parity error", s, i+1, b, c, err)
				}
			}
		}
	}
}

func TestParseFormatSpec(t *testing.T) {
	for _, tc := range []struct {
		in    string
		order ByteOrder
		want  FormatSpec
		err   string
	}{
		{in: "h10301", want: FormatSpec{Format: H10301}},
		{in: "corp1000_48", want: FormatSpec{Format: Corp1000x48}},
		{in: "raw32", want: FormatSpec{Format: Raw, Bits: 32}},
		{in: "raw56", order: LSB, want: FormatSpec{Format: Raw, Bits: 56, Order: LSB}},
		{in: "raw", err: "unknown format"},
		{in: "raw+32", err: "unknown format"},
		{in: "raw3", err: "must be 4–64 bits"},
		{in: "raw65", err: "must be 4–64 bits"},
		{in: "raw30", order: LSB, err: "multiple of 8"},
		{in: "raw32", order: "middle", err: "\"msb\" or \"lsb\""},
		{in: "h10303", err: "unknown format \"h10303\""},
	} {
		got, err := ParseFormatSpec(tc.in, tc.order)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseFormatSpec(%q): err %v, want containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseFormatSpec(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	s := FormatSpec{Format: H10301}
	for _, tc := range []struct {
		bits string
		err  error
	}{
		{"1110101000001101110000001", ErrLength},
		{"111010100000110111000000100", ErrLength},
		{"1110101000001101110000001x", ErrBits},
		{"01101010000011011100000010", ErrParity},
		{"11101010000011011100000011", ErrParity},
	} {
		if _, err := s.Decode(tc.bits); !errors.Is(err, tc.err) {
			t.Errorf("Decode(%q): %v, want %v", tc.bits, err, tc.err)
		}
	}
}

func FuzzFormatDecode(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.bits, string(v.f))
	}
	f.Add("0101", "raw4")
	f.Add("", "raw64")
	f.Add("2", "h10301")
	f.Fuzz(func(t *testing.T, bits, name string) {
		s, err := ParseFormatSpec(name, MSB)
		if err != nil {
			return
		}
		c, err := s.Decode(bits)
		if err != nil {
			return
		}
		// A frame that decodes must encode back to itself.
		b, err := s.Encode(c.FacilityCode, c.CardNumber)
		if err != nil || b != bits {
			t.Fatalf("%s: Decode(%q) = %+v but Encode gives %q, %v", s, bits, c, b, err)
		}
	})
}
