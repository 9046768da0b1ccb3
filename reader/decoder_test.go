package reader

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustDecoder(t testing.TB, cfg Config, opts ...Option) *Decoder {
	t.Helper()
	d, err := NewDecoder(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNewDecoderRefuses(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		err string
	}{
		{Config{Name: "r", Formats: []string{"h10302", "h10304"}}, "formats h10302 and h10304 are both 37 bits"},
		{Config{Name: "r", Formats: []string{"h10301", "raw26"}}, "both 26 bits"},
		{Config{Name: "r", Formats: []string{"h10306", "raw34"}}, "both 34 bits"},
		{Config{Name: "r", Formats: []string{"raw8"}, Keypad: Keypad8}, "keypad 8bit and format raw8 are both 8 bits"},
		{Config{Name: "r", Formats: []string{"raw26"}, Keypad: KeypadPIN}, "26bit_pin and format raw26"},
		{Config{Name: "r", Formats: []string{"h10399"}}, "unknown format"},
		{Config{Name: "r", Keypad: "9bit"}, "keypad mode"},
		{Config{Name: "r", Keypad: Keypad4, Star: 3}, "10–15"},
		{Config{Name: "r", MaxFrameGap: -1}, "negative"},
	} {
		_, err := NewDecoder(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "reader ") {
			t.Errorf("NewDecoder(%+v): %v; want error containing %q", tc.cfg, err, tc.err)
		}
	}
	if _, err := NewDecoder(Config{Formats: []string{"h10301"}, Keypad: KeypadPIN}); err != nil {
		t.Errorf("h10301 with 26bit_pin refused: %v", err)
	}
}

func TestDecodeBits(t *testing.T) {
	all := Config{Formats: []string{"h10301", "h10306", "corp1000_35", "h10304", "corp1000_48", "raw32", "raw56"}, Keypad: Keypad4}
	pin := Config{Formats: []string{"h10301"}, Keypad: KeypadPIN}
	pinOnly := Config{Keypad: KeypadPIN}
	h := FormatSpec{Format: H10301}
	enc := func(s FormatSpec, fc uint32, cn uint64) string { return mustEncode(t, s, fc, cn) }
	for _, tc := range []struct {
		name string
		cfg  Config
		bits string
		want Read
	}{
		{"h10301", all, card26, Read{Kind: KindCard, Card: Card{Format: H10301, FacilityCode: 212, CardNumber: 7041, Bits: card26}}},
		{"h10301 parity", all, "0" + card26[1:], Read{Kind: KindBad, Bad: BadParity}},
		{"key 5", all, "0101", Read{Kind: KindKeys, Keys: []byte("5")}},
		{"key 12", all, "1100", Read{Kind: KindBad, Bad: BadKeypad}},
		{"raw32", all, strings.Repeat("10", 16), Read{Kind: KindCard, Card: Card{Format: Raw, CardNumber: 0xAAAAAAAA, Bits: strings.Repeat("10", 16)}}},
		{"37 bits h10304", all, enc(FormatSpec{Format: H10304}, 7, 9), Read{Kind: KindCard, Card: Card{Format: H10304, FacilityCode: 7, CardNumber: 9, Bits: enc(FormatSpec{Format: H10304}, 7, 9)}}},
		{"unlisted length", all, strings.Repeat("1", 30), Read{Kind: KindBad, Bad: BadLength}},
		{"3 bits", all, "101", Read{Kind: KindBad, Bad: BadLength}},
		{"not bits", all, "10x1", Read{Kind: KindBad, Bad: BadLength}},
		{"8-bit with 4bit keypad", all, "11110000", Read{Kind: KindBad, Bad: BadLength}},
		{"pin 1234", pin, enc(h, 0, 1234), Read{Kind: KindKeys, Keys: []byte("1234#")}},
		{"pin error", pin, enc(h, 0, 65535), Read{Kind: KindBad, Bad: BadKeypad}},
		{"pin keypad card", pin, card26, Read{Kind: KindCard, Card: Card{Format: H10301, FacilityCode: 212, CardNumber: 7041, Bits: card26}}},
		{"pin keypad card parity", pin, "0" + card26[1:], Read{Kind: KindBad, Bad: BadParity}},
		{"pin only, card", pinOnly, card26, Read{Kind: KindBad, Bad: BadKeypad}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mustDecoder(t, tc.cfg).DecodeBits(tc.bits)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("DecodeBits(%s) (-want +got):\n%s", tc.bits, d)
			}
		})
	}
}

func TestDecoderEdges(t *testing.T) {
	epoch := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	d := mustDecoder(t, Config{Name: "front-in", Formats: []string{"h10301"}, Keypad: Keypad4}, WithEpoch(epoch))
	var reads []Read
	es := append(edges(card26, 0, 2*time.Millisecond, 1), edges("0101", 100*time.Millisecond, time.Millisecond, 27)...)
	for _, e := range es {
		reads = append(reads, d.Push(e)...)
	}
	dl, ok := d.Deadline()
	if !ok || dl != 106*time.Millisecond {
		t.Fatalf("deadline %v %v, want 106ms", dl, ok)
	}
	if r := d.Flush(dl - 1); r != nil {
		t.Fatalf("early flush: %+v", r)
	}
	reads = append(reads, d.Flush(dl)...)
	want := []Read{
		{Reader: "front-in", Kind: KindCard, Card: Card{Format: H10301, FacilityCode: 212, CardNumber: 7041, Bits: card26}, At: epoch.Add(53 * time.Millisecond)},
		{Reader: "front-in", Kind: KindKeys, Keys: []byte("5"), At: epoch.Add(106 * time.Millisecond)},
	}
	if diff := cmp.Diff(want, reads); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(card26, "h10301,raw32", "4bit")
	f.Add("0101", "", "4bit")
	f.Add("01011010", "h10304", "8bit")
	f.Add("00000000000000100110100101", "h10301", "26bit_pin")
	f.Fuzz(func(t *testing.T, bits, formats, keypad string) {
		var fs []string
		if formats != "" {
			fs = strings.Split(formats, ",")
		}
		d, err := NewDecoder(Config{Formats: fs, Keypad: KeypadMode(keypad)})
		if err != nil {
			return
		}
		r := d.DecodeBits(bits)
		switch r.Kind {
		case KindCard:
			if r.Card.Bits != bits {
				t.Fatalf("card bits %q from %q", r.Card.Bits, bits)
			}
		case KindKeys:
			if len(r.Keys) == 0 {
				t.Fatal("key read with no keys")
			}
			for _, k := range r.Keys {
				if !(k >= '0' && k <= '9') && k != '*' && k != '#' {
					t.Fatalf("key %q from %q", k, bits)
				}
			}
		case KindBad:
			if r.Bad == "" {
				t.Fatal("bad read with no reason")
			}
		default:
			t.Fatalf("kind %d", r.Kind)
		}
	})
}

// BenchmarkDecoder: frames per second through assembler, formats and
// keypad (26-bit cards at 2 ms, 80 ms apart).
func BenchmarkDecoder(b *testing.B) {
	d := mustDecoder(b, Config{Formats: []string{"h10301", "h10304", "corp1000_48"}, Keypad: Keypad8})
	cards := 0
	count := func(rs []Read) {
		for _, r := range rs {
			if r.Kind == KindCard {
				cards++
			}
		}
	}
	benchFrames(b, func(e Edge) { count(d.Push(e)) })
	count(d.Close())
	if cards != b.N {
		b.Fatalf("%d cards from %d frames", cards, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
