package reader

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/quiet"
)

// Config is one reader's decoding configuration, as cmd/latchd fills it
// from a [[reader]] table of the config file.
type Config struct {
	Name string // reader name; copied into every Read
	// Formats lists the accepted card formats as the config spells them
	// ("h10301", "raw32", …); at most one per bit length.
	Formats      []string
	RawByteOrder ByteOrder // "msb" (default) or "lsb", for raw formats
	Keypad       KeypadMode
	// Star and Hash are the 4-bit values of '*' and '#' (0 = 10 and 11).
	Star, Hash  uint8
	MaxFrameGap time.Duration // 0 = DefaultMaxFrameGap
	// GapFactor and Glitch tune the assembler; 0 takes the defaults.
	GapFactor int
	Glitch    time.Duration
}

// Decoder turns edges into Reads: an Assembler, the reader's card formats
// and its keypad. It is clock-free like the Assembler; Epoch maps edge
// timestamps to Read.At. A Decoder is not safe for concurrent use.
type Decoder struct {
	name    string
	asm     *Assembler
	byLen   map[int]FormatSpec
	keypad  Keypad
	epoch   time.Time
	log     zerolog.Logger
	formats []FormatSpec
	gate    *quiet.Gate // held by Capture while a frame arrives; nil = none
}

// Option configures a Decoder.
type Option func(*Decoder)

// WithLogger sets the logger (default zerolog.Nop()). Keys are never logged.
func WithLogger(l zerolog.Logger) Option { return func(d *Decoder) { d.log = l } }

// WithEpoch sets the time that edge timestamp 0 stands for; Read.At is
// Epoch plus the frame's End. The zero Epoch leaves At as time.Time{}
// plus End, which is still ordered but not wall-clock time.
func WithEpoch(t time.Time) Option { return func(d *Decoder) { d.epoch = t } }

// WithGate sets the gate that Capture holds busy from a frame's first
// edge until the frame has been decided (package quiet): background work
// (the outbox, the store's warm-up) waits on it, so that the door decides
// on an idle CPU. Default none.
func WithGate(g *quiet.Gate) Option { return func(d *Decoder) { d.gate = g } }

// NewDecoder checks cfg and returns a Decoder for it. The error names the
// rule a bad config breaks (unknown format, two formats of one length, …).
func NewDecoder(cfg Config, opts ...Option) (*Decoder, error) {
	d := &Decoder{name: cfg.Name, byLen: map[int]FormatSpec{}, log: zerolog.Nop()}
	for _, o := range opts {
		o(d)
	}
	// Own errors start "reader: " or `reader "name": `; wrapped errors
	// already carry "reader: ".
	prefix, wrapPrefix := "reader: ", ""
	if cfg.Name != "" {
		prefix = fmt.Sprintf("reader %q: ", cfg.Name)
		wrapPrefix = prefix
	}
	d.keypad = Keypad{Mode: cfg.Keypad, Star: cfg.Star, Hash: cfg.Hash}
	if err := d.keypad.Validate(); err != nil {
		return nil, fmt.Errorf(wrapPrefix+"%w", err)
	}
	for _, name := range cfg.Formats {
		s, err := ParseFormatSpec(name, cfg.RawByteOrder)
		if err != nil {
			return nil, fmt.Errorf(wrapPrefix+"%w", err)
		}
		if prev, dup := d.byLen[s.Len()]; dup {
			return nil, fmt.Errorf(prefix+"formats %s and %s are both %d bits: list at most one format per length", prev, s, s.Len())
		}
		d.byLen[s.Len()] = s
		d.formats = append(d.formats, s)
	}
	if n := d.keypad.Len(); n != 0 && d.keypad.Mode != KeypadPIN {
		if s, dup := d.byLen[n]; dup {
			return nil, fmt.Errorf(prefix+"keypad %s and format %s are both %d bits: a key frame is told from a card by its length", d.keypad.Mode, s, n)
		}
	}
	if d.keypad.Mode == KeypadPIN {
		if s, dup := d.byLen[26]; dup && s.Format != H10301 {
			return nil, fmt.Errorf(prefix+"keypad 26bit_pin and format %s are both 26 bits", s)
		}
	}
	if cfg.MaxFrameGap < 0 || cfg.GapFactor < 0 || cfg.Glitch < 0 {
		return nil, errors.New(prefix + "max_frame_gap, gap factor and glitch must not be negative")
	}
	longest := d.keypad.Len()
	for n := range d.byLen {
		longest = max(longest, n)
	}
	d.asm = NewAssembler(AssemblerConfig{MaxFrameGap: cfg.MaxFrameGap, GapFactor: cfg.GapFactor, Glitch: cfg.Glitch, Longest: longest})
	return d, nil
}

// Name returns the reader's name.
func (d *Decoder) Name() string { return d.name }

// Formats returns the accepted formats in config order.
func (d *Decoder) Formats() []FormatSpec { return append([]FormatSpec(nil), d.formats...) }

// Keypad returns the keypad configuration.
func (d *Decoder) Keypad() Keypad { return d.keypad }

// Push feeds one edge; it returns the Read of a frame the edge closed.
func (d *Decoder) Push(e Edge) []Read { return d.reads(d.asm.Push(e)) }

// Deadline is the Assembler's: when to call Flush if no edge arrives.
func (d *Decoder) Deadline() (time.Duration, bool) { return d.asm.Deadline() }

// Flush closes the open frame if now is past its deadline (see
// Assembler.Flush) and returns its Read.
func (d *Decoder) Flush(now time.Duration) []Read { return d.reads(d.asm.Flush(now)) }

// Close closes the open frame whatever the time.
func (d *Decoder) Close() []Read { return d.reads(d.asm.Close()) }

func (d *Decoder) reads(fs []Frame) []Read {
	if len(fs) == 0 {
		return nil
	}
	out := make([]Read, 0, len(fs))
	for _, f := range fs {
		r := d.DecodeFrame(f)
		ev := d.log.Debug().Str("reader", d.name).Int("bits", f.N).Dur("interval", f.Interval).Int("glitches", f.Glitches)
		switch r.Kind {
		case KindCard:
			ev.Str("format", string(r.Card.Format)).Msg("card frame")
		case KindKeys:
			ev.Msg("key frame") // keys are secrets: not logged
		default:
			ev.Str("bad", string(r.Bad)).Msg("bad read")
		}
		out = append(out, r)
	}
	return out
}

// DecodeFrame decodes an assembled frame.
func (d *Decoder) DecodeFrame(f Frame) Read {
	var r Read
	if f.Bad != "" {
		r = Read{Kind: KindBad, Bad: f.Bad}
	} else {
		r = d.DecodeBits(f.Bits)
	}
	r.Reader = d.name
	r.At = d.epoch.Add(f.End)
	return r
}

// DecodeBits decodes one frame given as a '0'/'1' string: a key frame if
// its length is the keypad's (for 26bit_pin: an h10301-shaped frame with
// facility 0), else a card of the format configured for its length, else
// a bad read. Reader and At are left empty.
func (d *Decoder) DecodeBits(bits string) Read {
	if checkBits(bits) != nil {
		return Read{Kind: KindBad, Bad: BadLength}
	}
	n := len(bits)
	if n < MinBits || n > MaxBits {
		return Read{Kind: KindBad, Bad: BadLength}
	}
	if kl := d.keypad.Len(); kl == n {
		keys, err := d.keypad.Decode(bits)
		if err == nil {
			return Read{Kind: KindKeys, Keys: keys}
		}
		// A 26-bit frame with a facility code is a card when h10301 is
		// configured; otherwise the keypad's verdict stands.
		_, card := d.byLen[n]
		if !(d.keypad.Mode == KeypadPIN && card && bits[1:9] != "00000000") {
			return Read{Kind: KindBad, Bad: reasonOf(err)}
		}
	}
	s, ok := d.byLen[n]
	if !ok {
		return Read{Kind: KindBad, Bad: BadLength}
	}
	c, err := s.Decode(bits)
	if err != nil {
		return Read{Kind: KindBad, Bad: reasonOf(err)}
	}
	return Read{Kind: KindCard, Card: c}
}

// reasonOf maps a Decode error to its bad-read reason.
func reasonOf(err error) BadReason {
	switch {
	case errors.Is(err, ErrParity):
		return BadParity
	case errors.Is(err, ErrKeypad):
		return BadKeypad
	default:
		return BadLength
	}
}

// String describes the decoder's configuration (no secrets).
func (d *Decoder) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "reader %q formats=[", d.name)
	for i, s := range d.formats {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.String())
	}
	fmt.Fprintf(&b, "] keypad=%q", d.keypad.Mode)
	return b.String()
}
