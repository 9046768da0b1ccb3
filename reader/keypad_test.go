package reader

import (
	"errors"
	"testing"
)

func TestKeypad4And8(t *testing.T) {
	for _, tc := range []struct {
		k    Keypad
		bits string
		want string // "" = error
		err  error
	}{
		{Keypad{Mode: Keypad4}, "0000", "0", nil},
		{Keypad{Mode: Keypad4}, "0101", "5", nil},
		{Keypad{Mode: Keypad4}, "1001", "9", nil},
		{Keypad{Mode: Keypad4}, "1010", "*", nil},
		{Keypad{Mode: Keypad4}, "1011", "#", nil},
		{Keypad{Mode: Keypad4, Star: 11, Hash: 10}, "1010", "#", nil},
		{Keypad{Mode: Keypad4, Star: 11, Hash: 10}, "1011", "*", nil},
		{Keypad{Mode: Keypad4}, "1100", "", ErrKeypad},
		{Keypad{Mode: Keypad4}, "1111", "", ErrKeypad},
		{Keypad{Mode: Keypad4}, "01010", "", ErrLength},
		{Keypad{Mode: Keypad8}, "11110000", "0", nil},
		{Keypad{Mode: Keypad8}, "11100001", "1", nil},
		{Keypad{Mode: Keypad8}, "01011010", "*", nil},
		{Keypad{Mode: Keypad8}, "01001011", "#", nil},
		{Keypad{Mode: Keypad8}, "01101001", "9", nil},
		{Keypad{Mode: Keypad8}, "11110001", "", ErrKeypad}, // nibbles don't complement
		{Keypad{Mode: Keypad8}, "00111100", "", ErrKeypad}, // complement ok, 12 is no key
		{Keypad{Mode: Keypad8}, "0101", "", ErrLength},
	} {
		got, err := tc.k.Decode(tc.bits)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%+v Decode(%s): %q, %v; want %v", tc.k, tc.bits, got, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%+v Decode(%s) = %q, %v; want %q", tc.k, tc.bits, got, err, tc.want)
		}
		enc, err := tc.k.Encode(got)
		if err != nil || enc != tc.bits {
			t.Errorf("%+v Encode(%q) = %s, %v; want %s", tc.k, got, enc, err, tc.bits)
		}
	}
}

// TestKeypad8Flips: every single-bit flip of an 8-bit key frame breaks
// the complement and is a keypad bad read.
func TestKeypad8Flips(t *testing.T) {
	k := Keypad{Mode: Keypad8}
	for _, key := range []byte("0123456789*#") {
		b, err := k.Encode([]byte{key})
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range flips(b) {
			if got, err := k.Decode(f); !errors.Is(err, ErrKeypad) {
				t.Errorf("key %c flip %d: %q, %v; want ErrKeypad", key, i+1, got, err)
			}
		}
	}
}

func TestKeypadPIN(t *testing.T) {
	k := Keypad{Mode: KeypadPIN}
	h := FormatSpec{Format: H10301}
	frame := func(fc uint32, cn uint64) string { return mustEncode(t, h, fc, cn) }
	for _, tc := range []struct {
		bits string
		want string
		err  error
	}{
		{frame(0, 1234), "1234#", nil},
		{frame(0, 1), "1#", nil},
		{frame(0, 65534), "65534#", nil},
		{frame(0, 65535), "", ErrKeypad},
		{frame(0, 0), "", ErrKeypad},
		{frame(5, 1234), "", ErrKeypad},
		{"10000000000000100110100100", "", ErrParity}, // 1234 with b1 wrong
	} {
		got, err := k.Decode(tc.bits)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("Decode(%s): %q, %v; want %v", tc.bits, got, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("Decode(%s) = %q, %v; want %q", tc.bits, got, err, tc.want)
		}
	}
	if b, err := k.Encode([]byte("1234#")); err != nil || b != frame(0, 1234) {
		t.Errorf("Encode(1234#) = %s, %v", b, err)
	}
	for _, bad := range []string{"", "#", "65535", "123456", "12a4", "0"} {
		if _, err := k.Encode([]byte(bad)); err == nil {
			t.Errorf("Encode(%q): no error", bad)
		}
	}
}

func TestKeypadValidate(t *testing.T) {
	for _, tc := range []struct {
		k  Keypad
		ok bool
	}{
		{Keypad{}, true},
		{Keypad{Mode: Keypad4, Star: 11, Hash: 10}, true},
		{Keypad{Mode: "6bit"}, false},
		{Keypad{Mode: Keypad4, Star: 5}, false},
		{Keypad{Mode: Keypad4, Star: 11, Hash: 11}, false},
		{Keypad{Mode: Keypad8, Hash: 16}, false},
	} {
		if err := tc.k.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v Validate: %v, want ok=%v", tc.k, err, tc.ok)
		}
	}
}
