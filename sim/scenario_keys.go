package sim

import "github.com/latchd/latch/reader"

// PINErrorFrame is the frame a 26bit_pin keypad sends when it cannot send
// the PIN: h10301, facility 0, card number 65535 (docs/wiring.md, "Keypads").
var PINErrorFrame, _ = reader.FormatSpec{Format: reader.H10301}.Encode(0, 65535)

// KeyFrame is what a keypad in mode k sends when key is pressed: one frame
// per key in 4bit and 8bit mode; in 26bit_pin mode the keypad buffers the
// digits in *buf ('*' clears it) and sends one frame with the PIN on '#' (its
// error frame when the PIN is not 1–65534). ok is false when the press sends
// nothing. The buffer holds a secret: it is wiped when sent or cleared.
func KeyFrame(k reader.Keypad, buf *[]byte, key byte) (bits string, ok bool, err error) {
	if k.Mode != reader.KeypadPIN {
		bits, err := k.Encode([]byte{key})
		return bits, err == nil, err
	}
	switch key {
	case '*':
		clear(*buf)
		*buf = (*buf)[:0]
		return "", false, nil
	case '#':
		bits, err := k.Encode(*buf)
		if err != nil {
			bits = PINErrorFrame
		}
		clear(*buf)
		*buf = (*buf)[:0]
		return bits, true, nil
	}
	*buf = append(*buf, key)
	return "", false, nil
}
