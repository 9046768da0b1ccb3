package gpiocdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// Limits and constants of the GPIO v2 uAPI, from linux/gpio.h.
const (
	maxNameSize    = 32 // GPIO_MAX_NAME_SIZE
	linesMax       = 64 // GPIO_V2_LINES_MAX
	lineNumAttrMax = 10 // GPIO_V2_LINE_NUM_ATTRS_MAX

	// Line flags (enum gpio_v2_line_flag).
	flagInput        uint64 = 1 << 2 // GPIO_V2_LINE_FLAG_INPUT
	flagOutput       uint64 = 1 << 3 // GPIO_V2_LINE_FLAG_OUTPUT
	flagEdgeRising   uint64 = 1 << 4 // GPIO_V2_LINE_FLAG_EDGE_RISING
	flagEdgeFalling  uint64 = 1 << 5 // GPIO_V2_LINE_FLAG_EDGE_FALLING
	flagBiasPullUp   uint64 = 1 << 8 // GPIO_V2_LINE_FLAG_BIAS_PULL_UP
	flagBiasPullDown uint64 = 1 << 9 // GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN
	flagBiasDisabled uint64 = 1 << 10

	// Attribute ids (enum gpio_v2_line_attr_id).
	attrIDOutputValues uint32 = 2 // GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES

	// Event ids (enum gpio_v2_line_event_id).
	eventRisingEdge  uint32 = 1 // GPIO_V2_LINE_EVENT_RISING_EDGE
	eventFallingEdge uint32 = 2 // GPIO_V2_LINE_EVENT_FALLING_EDGE

	// MinEventBuffer is the event buffer latch asks for on D0/D1: the
	// kernel's default is 16 events per line (32 for D0+D1, docs/wiring.md),
	// too few for a 48-bit frame if the reader goroutine stalls; 256 holds
	// five 48-bit frames.
	MinEventBuffer = 256
	// MaxEventBuffer is the kernel's limit per request (docs/wiring.md:
	// event_buffer_size up to 1024; GPIO_V2_LINES_MAX*16 in gpiolib-cdev.c).
	MaxEventBuffer = 1024
)

// ioctl request numbers, encoded as asm-generic/ioctl.h's _IOWR(type, nr,
// size) (the encoding used on arm, arm64 and x86): dir<<30 | size<<16 |
// type<<8 | nr, with type 0xB4 for GPIO.
func iowr(nr, size uintptr) uint {
	const read, write = 2, 1
	return uint((read|write)<<30 | size<<16 | 0xB4<<8 | nr)
}

var (
	// GPIO_V2_GET_LINE_IOCTL: _IOWR(0xB4, 0x07, struct gpio_v2_line_request).
	ioctlGetLine = iowr(0x07, unsafe.Sizeof(lineRequest{}))
	// GPIO_V2_LINE_GET_VALUES_IOCTL: _IOWR(0xB4, 0x0E, struct gpio_v2_line_values).
	ioctlGetValues = iowr(0x0E, unsafe.Sizeof(lineValues{}))
	// GPIO_V2_LINE_SET_VALUES_IOCTL: _IOWR(0xB4, 0x0F, struct gpio_v2_line_values).
	ioctlSetValues = iowr(0x0F, unsafe.Sizeof(lineValues{}))
)

// lineAttribute is struct gpio_v2_line_attribute from linux/gpio.h: an id
// and a 64-bit union (flags, output values or debounce period).
type lineAttribute struct {
	ID      uint32
	Padding uint32
	Value   uint64
}

// lineConfigAttribute is struct gpio_v2_line_config_attribute from
// linux/gpio.h: an attribute and the mask of the request's lines it
// applies to.
type lineConfigAttribute struct {
	Attr lineAttribute
	Mask uint64
}

// lineConfig is struct gpio_v2_line_config from linux/gpio.h (272 bytes).
type lineConfig struct {
	Flags    uint64
	NumAttrs uint32
	Padding  [5]uint32
	Attrs    [lineNumAttrMax]lineConfigAttribute
}

// lineRequest is struct gpio_v2_line_request from linux/gpio.h (592
// bytes), the argument of GPIO_V2_GET_LINE_IOCTL. The kernel fills Fd.
type lineRequest struct {
	Offsets         [linesMax]uint32
	Consumer        [maxNameSize]byte
	Config          lineConfig
	NumLines        uint32
	EventBufferSize uint32
	Padding         [5]uint32
	Fd              int32
}

// lineValues is struct gpio_v2_line_values from linux/gpio.h: bit i of
// Bits is the value of the request's line i, for lines set in Mask.
type lineValues struct {
	Bits uint64
	Mask uint64
}

// lineEvent is struct gpio_v2_line_event from linux/gpio.h (48 bytes),
// what read() returns on a line request's fd.
type lineEvent struct {
	TimestampNs uint64 // CLOCK_MONOTONIC unless the request asks otherwise
	ID          uint32 // eventRisingEdge or eventFallingEdge
	Offset      uint32 // the chip's line offset
	Seqno       uint32 // across all lines of the request, from 1
	LineSeqno   uint32 // for this line, from 1
	Padding     [6]uint32
}

const eventSize = int(unsafe.Sizeof(lineEvent{}))

// newRequest builds a line request: lines by chip offset, the consumer
// label the kernel shows in gpioinfo, flags for every line, and an event
// buffer size (0 = kernel default).
func newRequest(consumer string, offsets []uint32, flags uint64, eventBuffer uint32) (*lineRequest, error) {
	if len(offsets) == 0 || len(offsets) > linesMax {
		return nil, fmt.Errorf("gpiocdev: %d lines: a request holds 1–%d", len(offsets), linesMax)
	}
	if eventBuffer > MaxEventBuffer {
		return nil, fmt.Errorf("gpiocdev: event buffer %d: the kernel allows at most %d", eventBuffer, MaxEventBuffer)
	}
	var r lineRequest
	seen := map[uint32]bool{}
	for i, o := range offsets {
		if seen[o] {
			return nil, fmt.Errorf("gpiocdev: line %d requested twice", o)
		}
		seen[o] = true
		r.Offsets[i] = o
	}
	copy(r.Consumer[:maxNameSize-1], consumer) // NUL-terminated
	r.NumLines = uint32(len(offsets))
	r.Config.Flags = flags
	r.EventBufferSize = eventBuffer
	return &r, nil
}

// setOutputValues adds an OUTPUT_VALUES attribute: bit i of values is the
// initial value of line i, for lines in mask.
func (r *lineRequest) setOutputValues(values, mask uint64) {
	r.Config.Attrs[r.Config.NumAttrs] = lineConfigAttribute{
		Attr: lineAttribute{ID: attrIDOutputValues, Value: values},
		Mask: mask,
	}
	r.Config.NumAttrs++
}

// errShortEvent: read() returned a partial gpio_v2_line_event.
var errShortEvent = errors.New("gpiocdev: read returned a partial gpio_v2_line_event")

// parseEvents decodes whole gpio_v2_line_event records in native byte
// order (the kernel writes them so; the Pi is little-endian).
func parseEvents(buf []byte, out []lineEvent) ([]lineEvent, error) {
	if len(buf)%eventSize != 0 {
		return out, fmt.Errorf("%w: %d bytes", errShortEvent, len(buf))
	}
	ne := binary.NativeEndian
	for len(buf) >= eventSize {
		out = append(out, lineEvent{
			TimestampNs: ne.Uint64(buf[0:]),
			ID:          ne.Uint32(buf[8:]),
			Offset:      ne.Uint32(buf[12:]),
			Seqno:       ne.Uint32(buf[16:]),
			LineSeqno:   ne.Uint32(buf[20:]),
		})
		buf = buf[eventSize:]
	}
	return out, nil
}

// Edge is one edge on an input line, with the kernel's timestamp.
type Edge struct {
	Rising bool          // true: low→high; false: high→low
	T      time.Duration // kernel CLOCK_MONOTONIC timestamp
	Seq    uint32        // the request's sequence number (from 1); a gap means lost edges
}

// ErrUnsupported is returned on systems without the GPIO character device.
var ErrUnsupported = errors.New("gpiocdev: GPIO character device needs Linux")
