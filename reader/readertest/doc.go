// Package readertest holds latch's hardware fakes, beside the seams they
// fake (periph's gpio/gpiotest is the model): Line, a fake Wiegand D0/D1
// line pair with the kernel's event queue (a reader.Lines, read by
// reader.Capture like the Pi's lines); WiegandReader, a reader's edge
// schedule with its timing, jitter and glitches; and OutPin, a gpio.PinOut
// that records every level. Every test, latchd --sim and the scenario runner
// use them. It imports only reader and periph.
package readertest
