// Package reader turns the pulses a Wiegand reader puts on its D0/D1 lines
// into cards, key presses and bad reads.
//
// It is the bottom layer of latch: pure frame assembly from timestamped
// edges, card-format and keypad decoding, and (on Linux) edge capture
// through the GPIO v2 character device. It imports no other latch package.
package reader
