package reader

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors of Decode and Encode; callers branch on them to tell a
// bad read's reason. Errors returned wrap one of them.
var (
	// ErrParity: a parity bit of the frame is wrong.
	ErrParity = errors.New("reader: parity error")
	// ErrLength: the frame's length is not the format's, or no configured
	// format has this length.
	ErrLength = errors.New("reader: wrong frame length")
	// ErrBits: the bit string holds a character other than '0' and '1'.
	ErrBits = errors.New("reader: bits must be '0' or '1'")
	// ErrUnknownFormat: the format name is not one latch knows.
	ErrUnknownFormat = errors.New("reader: unknown format")
	// ErrRange: a facility code or card number does not fit its field.
	ErrRange = errors.New("reader: value out of range")
)

// ByteOrder is how a raw card serial number's bytes are sent.
type ByteOrder string

// Byte orders of raw frames.
const (
	MSB ByteOrder = "msb" // most significant byte first (the default)
	LSB ByteOrder = "lsb" // least significant byte first, bits within a byte msb first
)

// Raw frame lengths latch accepts: a card number is a uint64, and a
// frame shorter than MinBits is never a card.
const (
	MinRawBits = MinBits
	MaxRawBits = 64
)

// FormatSpec is one accepted card format. Bits and Order matter for Raw
// only: a raw frame of Bits bits is the card serial number, sent in Order.
type FormatSpec struct {
	Format Format
	Bits   int       // raw only: frame length, MinRawBits–MaxRawBits
	Order  ByteOrder // raw only: "" means MSB
}

// ParseFormatSpec parses a format as the config and latchctl spell it:
// a format name ("h10301", …) or "raw" followed by its length ("raw32",
// "raw56"). order applies to raw formats ("" = msb).
func ParseFormatSpec(name string, order ByteOrder) (FormatSpec, error) {
	if _, ok := layouts[Format(name)]; ok {
		return FormatSpec{Format: Format(name)}, nil
	}
	if rest, ok := strings.CutPrefix(name, string(Raw)); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || rest == "" || rest[0] == '+' || rest[0] == '-' {
			return FormatSpec{}, fmt.Errorf("%w %q: a raw format is \"raw\" and its length in bits, e.g. \"raw32\"", ErrUnknownFormat, name)
		}
		s := FormatSpec{Format: Raw, Bits: n, Order: order}
		if err := s.Validate(); err != nil {
			return FormatSpec{}, err
		}
		return s, nil
	}
	return FormatSpec{}, fmt.Errorf("%w %q (known: %s, rawN)", ErrUnknownFormat, name, strings.Join(formatNames(), ", "))
}

// String returns the spec as ParseFormatSpec reads it.
func (s FormatSpec) String() string {
	if s.Format == Raw {
		return string(Raw) + strconv.Itoa(s.Bits)
	}
	return string(s.Format)
}

// Validate checks the spec.
func (s FormatSpec) Validate() error {
	if s.Format != Raw {
		if _, ok := layouts[s.Format]; !ok {
			return fmt.Errorf("%w %q", ErrUnknownFormat, s.Format)
		}
		return nil
	}
	if s.Bits < MinRawBits || s.Bits > MaxRawBits {
		return fmt.Errorf("reader: raw format length %d: must be %d–%d bits", s.Bits, MinRawBits, MaxRawBits)
	}
	switch s.Order {
	case "", MSB:
	case LSB:
		if s.Bits%8 != 0 {
			return fmt.Errorf("reader: raw format length %d: byte order lsb needs whole bytes (a multiple of 8 bits)", s.Bits)
		}
	default:
		return fmt.Errorf("reader: raw byte order %q: must be \"msb\" or \"lsb\"", s.Order)
	}
	return nil
}

// Len returns the frame length of the format in bits (0 for an invalid spec).
func (s FormatSpec) Len() int {
	if s.Format == Raw {
		return s.Bits
	}
	return layouts[s.Format].n
}

// FieldLimits returns the largest facility code and card number the
// format holds (facility 0 for formats without one).
func (s FormatSpec) FieldLimits() (facility uint32, card uint64) {
	if s.Format == Raw {
		if s.Bits >= 64 {
			return 0, ^uint64(0)
		}
		return 0, 1<<uint(max(s.Bits, 0)) - 1
	}
	l := layouts[s.Format]
	return uint32(1<<uint(l.fcLen) - 1), 1<<uint(l.cnLen) - 1
}

// Encode builds the frame for a facility code and card number, parity
// included, as a '0'/'1' string, first bit first.
func (s FormatSpec) Encode(facility uint32, card uint64) (string, error) {
	if err := s.Validate(); err != nil {
		return "", err
	}
	maxFC, maxCN := s.FieldLimits()
	if facility > maxFC {
		return "", fmt.Errorf("%w: facility code %d does not fit %s (max %d)", ErrRange, facility, s, maxFC)
	}
	if card > maxCN {
		return "", fmt.Errorf("%w: card number %d does not fit %s (max %d)", ErrRange, card, s, maxCN)
	}
	if s.Format == Raw {
		v := card
		if s.Order == LSB {
			v = swapBytes(v, s.Bits/8)
		}
		b := make([]byte, s.Bits)
		putField(b, 1, s.Bits, v)
		return string(b), nil
	}
	l := layouts[s.Format]
	b := make([]byte, l.n)
	for i := range b {
		b[i] = '0'
	}
	if l.fcLen > 0 {
		putField(b, l.fcStart, l.fcLen, uint64(facility))
	}
	putField(b, l.cnStart, l.cnLen, card)
	for _, p := range l.parity { // in order: later parity bits cover earlier ones
		b[p.pos-1] = '0'
		if p.compute(b) {
			b[p.pos-1] = '1'
		}
	}
	return string(b), nil
}

// Decode reads a frame in this format. A frame of another length wraps
// ErrLength; a wrong parity bit wraps ErrParity (naming the bit).
func (s FormatSpec) Decode(bits string) (Card, error) {
	if err := checkBits(bits); err != nil {
		return Card{}, err
	}
	if err := s.Validate(); err != nil {
		return Card{}, err
	}
	if len(bits) != s.Len() {
		return Card{}, fmt.Errorf("%w: %s has %d bits, the frame %d", ErrLength, s, s.Len(), len(bits))
	}
	b := []byte(bits)
	if s.Format == Raw {
		v := getField(b, 1, s.Bits)
		if s.Order == LSB {
			v = swapBytes(v, s.Bits/8)
		}
		return Card{Format: Raw, CardNumber: v, Bits: bits}, nil
	}
	l := layouts[s.Format]
	for _, p := range l.parity {
		if p.compute(b) != (b[p.pos-1] == '1') {
			return Card{}, fmt.Errorf("%w: %s bit %d", ErrParity, s.Format, p.pos)
		}
	}
	c := Card{Format: s.Format, CardNumber: getField(b, l.cnStart, l.cnLen), Bits: bits}
	if l.fcLen > 0 {
		c.FacilityCode = uint32(getField(b, l.fcStart, l.fcLen))
	}
	return c, nil
}

func checkBits(bits string) error {
	for i := 0; i < len(bits); i++ {
		if bits[i] != '0' && bits[i] != '1' {
			return fmt.Errorf("%w: character %d is %q", ErrBits, i+1, bits[i])
		}
	}
	return nil
}

// putField writes v's low n bits msb first at 1-based position start.
func putField(b []byte, start, n int, v uint64) {
	for i := 0; i < n; i++ {
		b[start-1+i] = '0' + byte(v>>uint(n-1-i)&1)
	}
}

// getField reads n bits msb first from 1-based position start.
func getField(b []byte, start, n int) uint64 {
	var v uint64
	for i := 0; i < n; i++ {
		v = v<<1 | uint64(b[start-1+i]-'0')
	}
	return v
}

// swapBytes reverses the order of the low n bytes of v.
func swapBytes(v uint64, n int) uint64 {
	var r uint64
	for i := 0; i < n; i++ {
		r = r<<8 | v&0xff
		v >>= 8
	}
	return r
}

// parityBit is one parity bit of a layout: the bit at pos makes the
// count of ones over itself and the covered positions even or odd.
type parityBit struct {
	pos  int   // 1-based
	odd  bool  // odd parity (else even)
	over []int // 1-based positions covered
}

// compute returns the value the parity bit must have given the covered bits.
func (p parityBit) compute(b []byte) bool {
	ones := 0
	for _, q := range p.over {
		if b[q-1] == '1' {
			ones++
		}
	}
	return (ones%2 == 1) != p.odd // even: set when ones is odd; odd: set when ones is even
}

// layout is a fixed card format: fields and parity bits, 1-based
// positions, bit 1 first on the wire. Source: docs/formats.md's format table
// (Proxmark3 wiegand_formats.c Pack_* functions).
type layout struct {
	n              int
	fcStart, fcLen int // fcLen 0: no facility field
	cnStart, cnLen int
	parity         []parityBit // in the order they must be computed
}

// span returns the positions from..to, leaving out those for which skip
// is true.
func span(from, to int, skip func(int) bool) []int {
	var r []int
	for p := from; p <= to; p++ {
		if skip == nil || !skip(p) {
			r = append(r, p)
		}
	}
	return r
}

// leadTrail is the parity of the HID formats: bit 1 even over bits
// 2..evenTo, bit n odd over bits oddFrom..n-1.
func leadTrail(n, evenTo, oddFrom int) []parityBit {
	return []parityBit{{pos: 1, over: span(2, evenTo, nil)}, {pos: n, odd: true, over: span(oddFrom, n-1, nil)}}
}

func mod3(r int) func(int) bool { return func(p int) bool { return p%3 == r } }

// corp1000 is the parity of the Corp 1000 formats, in the order it must be
// computed: bit 2 even over bits from..n-1 and bit n odd over bits
// from-1..n-2, each leaving out every third bit (from+2, from+5, … and
// from+1, from+4, …), then bit 1 odd over bits 2..n.
func corp1000(n, from int) []parityBit {
	return []parityBit{
		{pos: 2, over: span(from, n-1, mod3((from+2)%3))},
		{pos: n, odd: true, over: span(from-1, n-2, mod3((from+1)%3))},
		{pos: 1, odd: true, over: span(2, n, nil)},
	}
}

var layouts = map[Format]layout{
	H10301:      {n: 26, fcStart: 2, fcLen: 8, cnStart: 10, cnLen: 16, parity: leadTrail(26, 13, 14)},
	H10306:      {n: 34, fcStart: 2, fcLen: 16, cnStart: 18, cnLen: 16, parity: leadTrail(34, 17, 18)},
	Corp1000x35: {n: 35, fcStart: 3, fcLen: 12, cnStart: 15, cnLen: 20, parity: corp1000(35, 3)},
	H10302:      {n: 37, cnStart: 2, cnLen: 35, parity: leadTrail(37, 19, 19)},
	H10304:      {n: 37, fcStart: 2, fcLen: 16, cnStart: 18, cnLen: 19, parity: leadTrail(37, 19, 19)},
	Corp1000x48: {n: 48, fcStart: 3, fcLen: 22, cnStart: 25, cnLen: 23, parity: corp1000(48, 4)},
}

// formatNames lists the fixed formats, in the order of the hardware table.
func formatNames() []string {
	return []string{string(H10301), string(H10306), string(Corp1000x35), string(H10302), string(H10304), string(Corp1000x48)}
}

// Formats returns every fixed-layout format latch knows (Raw excluded).
func Formats() []FormatSpec {
	var r []FormatSpec
	for _, n := range formatNames() {
		r = append(r, FormatSpec{Format: Format(n)})
	}
	return r
}
