// Package gpiocdev talks to the Linux GPIO v2 character device
// (/dev/gpiochipN, linux/gpio.h) directly, for what periph's gpioioctl
// does not give:
//
//   - Wiegand capture: D0 and D1 requested falling-edge only with a
//     kernel event buffer of at least 256 events, each event read with its
//     kernel timestamp (taken in the hard-IRQ handler) and sequence number,
//     fed to a reader.Decoder, waking exactly at the decoder's deadline.
//   - Output lines requested with an initial value, so a strike relay is
//     driven to its inactive level from the first instant (periph's first
//     Out() drives the line low before setting the level). Output
//     implements periph's gpio.PinOut.
//   - Input lines with both edges and kernel timestamps for the door
//     position switch and the request-to-exit button.
//
// The uAPI structures are declared here by hand (golang.org/x/sys/unix has
// the ioctl and poll plumbing but not these types); their sizes and field
// offsets are tested against the kernel ABI. The device code is Linux-only;
// elsewhere the constructors return ErrUnsupported.
package gpiocdev
