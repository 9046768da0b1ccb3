// Package reader turns the pulses a Wiegand reader puts on its D0/D1 lines
// into cards, key presses and bad reads.
//
// It is the bottom layer of latch and imports no other latch package:
//
//   - Assembler: pure, clock-free frame assembly from timestamped edges
//     (line, kernel timestamp, sequence number). A frame ends after a
//     silence of GapFactor (3) times the largest bit interval seen inside
//     it (1.5 times once the frame is as long as the reader's longest
//     format or keypad frame: no further bit can make it usable), capped
//     by max_frame_gap (30 ms); edges closer than 200 µs to the
//     previous one are glitches; a sequence-number gap makes the frame a
//     bad read (overflow); fewer than 4 or more than 128 bits is a bad read
//     (length).
//   - FormatSpec: the card formats (h10301, h10306, corp1000_35, h10302,
//     h10304, corp1000_48, rawN) with exact parity, Encode and Decode.
//   - Keypad: 4bit, 8bit (complement checked) and 26bit_pin keypads.
//   - Decoder: one reader's Config (formats, at most one per length;
//     keypad; max_frame_gap) applied to edges or bit strings, yielding Read.
//   - Capture: the capture loop, the only one in latch, over a Lines (the
//     kernel's event queue of a line request, or a fake).
//
// Subpackage gpiocdev is the Linux GPIO v2 character device (Lines for
// Wiegand capture, outputs, inputs); subpackage readertest holds the fakes
// (a fake line pair with the kernel queue, a Wiegand reader's timing, a
// recording output pin) that tests, latchd --sim and the scenario runner use.
//
// Caveats: the Assembler and Decoder are not safe for concurrent use (one
// capture goroutine owns each). Flush must only be called once every edge
// that happened before "now" has been pushed, or a frame may be cut; the
// capture loop does this by flushing only when the kernel queue is empty.
// Keys are secrets: nothing here logs them or puts them in an error.
// Structure alone cannot tell h10302 from h10304 or a raw 34-bit serial
// from h10306, hence one format per length. With keypad 26bit_pin and
// h10301 both configured, a 26-bit frame with facility code 0 is a PIN.
package reader
