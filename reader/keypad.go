package reader

import (
	"fmt"
	"strconv"
)

// KeypadMode is how a reader's keypad sends keys (docs/wiring.md, "Keypads").
type KeypadMode string

// Keypad modes.
const (
	KeypadNone KeypadMode = ""          // no keypad
	Keypad4    KeypadMode = "4bit"      // one 4-bit frame per key
	Keypad8    KeypadMode = "8bit"      // one 8-bit frame per key, high nibble = complement of low
	KeypadPIN  KeypadMode = "26bit_pin" // buffered PIN in an h10301 frame, facility 0
)

// Default values of '*' and '#' in 4-bit and 8-bit frames (the low nibble):
// '*' = 1010, '#' = 1011 (docs/wiring.md). Some libraries swap them.
const (
	DefaultStar = 10
	DefaultHash = 11
)

// pinError is the 26bit_pin card number a keypad sends on error
// (docs/wiring.md: PINs are 1–65534, 65535 means a keypad error).
const pinError = 65535

// Keypad decodes key frames.
type Keypad struct {
	Mode KeypadMode
	// Star and Hash are the nibble values of '*' and '#' (10–15, distinct).
	// Zero means the default (10 and 11).
	Star, Hash uint8
}

func (k Keypad) withDefaults() Keypad {
	if k.Star == 0 {
		k.Star = DefaultStar
	}
	if k.Hash == 0 {
		k.Hash = DefaultHash
	}
	return k
}

// Validate checks the mode and the '*'/'#' values.
func (k Keypad) Validate() error {
	switch k.Mode {
	case KeypadNone, Keypad4, Keypad8, KeypadPIN:
	default:
		return fmt.Errorf("reader: keypad mode %q: must be \"\", \"4bit\", \"8bit\" or \"26bit_pin\"", k.Mode)
	}
	k = k.withDefaults()
	if k.Star < 10 || k.Star > 15 || k.Hash < 10 || k.Hash > 15 {
		return fmt.Errorf("reader: keypad star=%d hash=%d: each must be 10–15 (0–9 are digits)", k.Star, k.Hash)
	}
	if k.Star == k.Hash {
		return fmt.Errorf("reader: keypad star and hash are both %d: they must differ", k.Star)
	}
	return nil
}

// Len returns the frame length of the keypad mode (0 for none).
func (k Keypad) Len() int {
	switch k.Mode {
	case Keypad4:
		return 4
	case Keypad8:
		return 8
	case KeypadPIN:
		return 26
	}
	return 0
}

// ErrKeypad: a key frame that encodes no key (4-bit value not a key,
// 8-bit nibbles not complementary, PIN outside 1–65534).
var ErrKeypad = fmt.Errorf("reader: not a key")

// key maps a nibble to its key.
func (k Keypad) key(v uint8) (byte, bool) {
	k = k.withDefaults()
	switch {
	case v <= 9:
		return '0' + v, true
	case v == k.Star:
		return '*', true
	case v == k.Hash:
		return '#', true
	}
	return 0, false
}

// Nibble returns the 4-bit value a key is sent as ('0'–'9', '*', '#').
func (k Keypad) Nibble(key byte) (uint8, bool) {
	k = k.withDefaults()
	switch {
	case key >= '0' && key <= '9':
		return key - '0', true
	case key == '*':
		return k.Star, true
	case key == '#':
		return k.Hash, true
	}
	return 0, false
}

// Decode reads a key frame. It returns the keys (one for 4bit/8bit; the
// PIN's digits and '#' for 26bit_pin). Errors wrap ErrLength, ErrParity,
// ErrKeypad or ErrBits and never contain the keys.
func (k Keypad) Decode(bits string) ([]byte, error) {
	if err := checkBits(bits); err != nil {
		return nil, err
	}
	if k.Len() == 0 || len(bits) != k.Len() {
		return nil, fmt.Errorf("%w: keypad %q takes %d-bit frames, the frame has %d", ErrLength, k.Mode, k.Len(), len(bits))
	}
	b := []byte(bits)
	switch k.Mode {
	case Keypad4:
		if key, ok := k.key(uint8(getField(b, 1, 4))); ok {
			return []byte{key}, nil
		}
		return nil, fmt.Errorf("%w: 4-bit value is no key", ErrKeypad)
	case Keypad8:
		hi, lo := uint8(getField(b, 1, 4)), uint8(getField(b, 5, 4))
		if hi != ^lo&0xf {
			return nil, fmt.Errorf("%w: 8-bit frame's high nibble is not the complement of the low one", ErrKeypad)
		}
		if key, ok := k.key(lo); ok {
			return []byte{key}, nil
		}
		return nil, fmt.Errorf("%w: 8-bit value is no key", ErrKeypad)
	default: // KeypadPIN
		c, err := FormatSpec{Format: H10301}.Decode(bits)
		if err != nil {
			return nil, err
		}
		if c.FacilityCode != 0 {
			return nil, fmt.Errorf("%w: 26bit_pin frame has a facility code", ErrKeypad)
		}
		if c.CardNumber == 0 || c.CardNumber == pinError {
			return nil, fmt.Errorf("%w: keypad reported an error or an empty PIN", ErrKeypad)
		}
		return append(strconv.AppendUint(nil, c.CardNumber, 10), '#'), nil
	}
}

// Encode builds the frame for one key (4bit, 8bit) or a PIN of digits
// (26bit_pin; a trailing '#' is allowed and dropped). Errors never
// contain the keys.
func (k Keypad) Encode(keys []byte) (string, error) {
	if err := k.Validate(); err != nil {
		return "", err
	}
	switch k.Mode {
	case Keypad4, Keypad8:
		if len(keys) != 1 {
			return "", fmt.Errorf("reader: keypad %q sends one key per frame, got %d", k.Mode, len(keys))
		}
		v, ok := k.Nibble(keys[0])
		if !ok {
			return "", fmt.Errorf("%w: key must be 0–9, * or #", ErrKeypad)
		}
		if k.Mode == Keypad4 {
			b := make([]byte, 4)
			putField(b, 1, 4, uint64(v))
			return string(b), nil
		}
		b := make([]byte, 8)
		putField(b, 1, 8, uint64(^v&0xf)<<4|uint64(v))
		return string(b), nil
	case KeypadPIN:
		if n := len(keys); n > 0 && keys[n-1] == '#' {
			keys = keys[:n-1]
		}
		if len(keys) == 0 || len(keys) > 5 {
			return "", fmt.Errorf("%w: a PIN has 1–5 digits", ErrKeypad)
		}
		var v uint64
		for _, c := range keys {
			if c < '0' || c > '9' {
				return "", fmt.Errorf("%w: a PIN has digits only", ErrKeypad)
			}
			v = v*10 + uint64(c-'0')
		}
		if v == 0 || v >= pinError {
			return "", fmt.Errorf("%w: a PIN is 1–65534", ErrKeypad)
		}
		return FormatSpec{Format: H10301}.Encode(0, v)
	}
	return "", fmt.Errorf("reader: no keypad configured")
}
