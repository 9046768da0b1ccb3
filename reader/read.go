package reader

import "time"

// This file is the contract between the reader and everything above it
// (door, sim, cmd). Change it only together with its users.

// Format names a Wiegand card format as latch's config spells it.
type Format string

// The card formats latch decodes. See docs/formats.md for bit layouts and
// parity, and docs/wiring.md for the published examples.
const (
	H10301      Format = "h10301"      // HID standard 26-bit
	H10306      Format = "h10306"      // HID 34-bit
	Corp1000x35 Format = "corp1000_35" // HID Corporate 1000 35-bit
	H10302      Format = "h10302"      // HID 37-bit, no facility
	H10304      Format = "h10304"      // HID 37-bit with facility
	Corp1000x48 Format = "corp1000_48" // HID Corporate 1000 48-bit
	Raw         Format = "raw"         // card serial number, no parity
)

// Card is one decoded card frame.
type Card struct {
	Format       Format
	FacilityCode uint32 // 0 for formats without a facility/company field
	CardNumber   uint64
	Bits         string // the frame as received, '0'/'1', first bit first
}

// BadReason says why a frame was not a card or a key.
type BadReason string

// Reasons for a bad read.
const (
	BadParity   BadReason = "parity"   // a parity bit is wrong
	BadLength   BadReason = "length"   // no configured format or keypad mode has this length
	BadOverflow BadReason = "overflow" // the kernel's event queue dropped edges (seqno gap)
	BadGlitch   BadReason = "glitch"   // noise: under 4 bits, and glitch edges (< 200 µs apart) among them
	BadKeypad   BadReason = "keypad"   // a key frame that does not encode a key (8-bit complement, 4-bit > 11, PIN 65535)
)

// Kind tells which field of a Read is set.
type Kind uint8

// Kinds of Read.
const (
	KindCard Kind = iota + 1 // Card is set
	KindKeys                 // Keys is set
	KindBad                  // Bad is set
)

// Read is what a reader reports for one complete frame.
type Read struct {
	Reader string // reader name from the config
	Kind   Kind
	Card   Card
	// Keys holds the keys of a key frame, each '0'–'9', '*' or '#'.
	// A 4-bit or 8-bit frame carries one key; a 26bit_pin frame carries the
	// PIN's digits followed by '#'. Keys are secrets: never log them.
	Keys []byte
	Bad  BadReason
	// At is when the frame was complete (the end of its last bit plus the
	// end-of-frame silence) on the monotonic clock of whoever produced it.
	At time.Time
}
