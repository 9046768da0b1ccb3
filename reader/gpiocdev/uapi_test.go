package gpiocdev

import (
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"
)

// TestABILayout checks sizes and offsets against linux/gpio.h (the
// kernel's static_asserts and pahole output for x86_64 and arm, which
// agree: every 64-bit field is naturally aligned).
func TestABILayout(t *testing.T) {
	var r lineRequest
	var c lineConfig
	var e lineEvent
	var a lineConfigAttribute
	for _, tc := range []struct {
		what      string
		got, want uintptr
	}{
		{"sizeof gpio_v2_line_request", unsafe.Sizeof(r), 592},
		{"sizeof gpio_v2_line_config", unsafe.Sizeof(c), 272},
		{"sizeof gpio_v2_line_event", unsafe.Sizeof(e), 48},
		{"sizeof gpio_v2_line_config_attribute", unsafe.Sizeof(a), 24},
		{"sizeof gpio_v2_line_attribute", unsafe.Sizeof(lineAttribute{}), 16},
		{"sizeof gpio_v2_line_values", unsafe.Sizeof(lineValues{}), 16},
		{"request.offsets", unsafe.Offsetof(r.Offsets), 0},
		{"request.consumer", unsafe.Offsetof(r.Consumer), 256},
		{"request.config", unsafe.Offsetof(r.Config), 288},
		{"request.num_lines", unsafe.Offsetof(r.NumLines), 560},
		{"request.event_buffer_size", unsafe.Offsetof(r.EventBufferSize), 564},
		{"request.padding", unsafe.Offsetof(r.Padding), 568},
		{"request.fd", unsafe.Offsetof(r.Fd), 588},
		{"config.flags", unsafe.Offsetof(c.Flags), 0},
		{"config.num_attrs", unsafe.Offsetof(c.NumAttrs), 8},
		{"config.attrs", unsafe.Offsetof(c.Attrs), 32},
		{"config_attribute.mask", unsafe.Offsetof(a.Mask), 16},
		{"attribute.value", unsafe.Offsetof(a.Attr.Value), 8},
		{"event.id", unsafe.Offsetof(e.ID), 8},
		{"event.offset", unsafe.Offsetof(e.Offset), 12},
		{"event.seqno", unsafe.Offsetof(e.Seqno), 16},
		{"event.line_seqno", unsafe.Offsetof(e.LineSeqno), 20},
		{"event.padding", unsafe.Offsetof(e.Padding), 24},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.what, tc.got, tc.want)
		}
	}
}

// TestIoctlNumbers compares with the values the C macros give
// (printf("%#x", GPIO_V2_GET_LINE_IOCTL) etc. on arm, arm64 and x86).
func TestIoctlNumbers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uint
	}{
		{"GPIO_V2_GET_LINE_IOCTL", ioctlGetLine, 0xc250b407},
		{"GPIO_V2_LINE_GET_VALUES_IOCTL", ioctlGetValues, 0xc010b40e},
		{"GPIO_V2_LINE_SET_VALUES_IOCTL", ioctlSetValues, 0xc010b40f},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %#x, want %#x", tc.name, tc.got, tc.want)
		}
	}
}

func TestRequestEncoding(t *testing.T) {
	ne := binary.NativeEndian
	r, err := newRequest("latch-front", []uint32{17, 27}, flagInput|flagEdgeFalling, MinEventBuffer)
	if err != nil {
		t.Fatal(err)
	}
	b := r.bytes()
	if len(b) != 592 {
		t.Fatalf("len %d", len(b))
	}
	check := func(what string, got, want uint64) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %#x, want %#x", what, got, want)
		}
	}
	check("offsets[0]", uint64(ne.Uint32(b[0:])), 17)
	check("offsets[1]", uint64(ne.Uint32(b[4:])), 27)
	check("offsets[2]", uint64(ne.Uint32(b[8:])), 0)
	if got := string(b[256 : 256+len("latch-front")+1]); got != "latch-front\x00" {
		t.Errorf("consumer %q", got)
	}
	check("config.flags", ne.Uint64(b[288:]), 1<<2|1<<5) // INPUT | EDGE_FALLING
	check("config.num_attrs", uint64(ne.Uint32(b[296:])), 0)
	check("num_lines", uint64(ne.Uint32(b[560:])), 2)
	check("event_buffer_size", uint64(ne.Uint32(b[564:])), 256)

	o, err := newRequest("latch-relay", []uint32{23}, flagOutput, 0)
	if err != nil {
		t.Fatal(err)
	}
	o.setOutputValues(1, 1)
	b = o.bytes()
	check("out config.flags", ne.Uint64(b[288:]), 1<<3) // OUTPUT
	check("out config.num_attrs", uint64(ne.Uint32(b[296:])), 1)
	check("out attrs[0].attr.id", uint64(ne.Uint32(b[320:])), 2) // OUTPUT_VALUES
	check("out attrs[0].attr.values", ne.Uint64(b[328:]), 1)
	check("out attrs[0].mask", ne.Uint64(b[336:]), 1)
	check("out event_buffer_size", uint64(ne.Uint32(b[564:])), 0)

	long := "a-consumer-label-longer-than-32-bytes"
	l, _ := newRequest(long, []uint32{1}, flagInput, 0)
	if l.Consumer[31] != 0 {
		t.Error("consumer not NUL-terminated")
	}
	for _, bad := range []struct {
		offs []uint32
		buf  uint32
	}{{nil, 0}, {make([]uint32, 65), 0}, {[]uint32{4, 4}, 0}, {[]uint32{4}, 1025}} {
		if _, err := newRequest("x", bad.offs, flagInput, bad.buf); err == nil {
			t.Errorf("newRequest(%v, buf %d): no error", bad.offs, bad.buf)
		}
	}
}

func TestParseEvents(t *testing.T) {
	in := []lineEvent{
		{TimestampNs: 1234567890123, ID: eventFallingEdge, Offset: 17, Seqno: 1, LineSeqno: 1},
		{TimestampNs: 1234569890123, ID: eventRisingEdge, Offset: 27, Seqno: 2, LineSeqno: 1},
	}
	var buf []byte
	for _, e := range in {
		buf = appendEvent(buf, e)
	}
	// appendEvent must produce exactly the in-memory struct.
	if got := unsafe.Slice((*byte)(unsafe.Pointer(&in[0])), eventSize); string(got) != string(buf[:eventSize]) {
		t.Fatalf("appendEvent differs from the struct's memory")
	}
	out, err := parseEvents(buf, nil)
	if err != nil || len(out) != 2 || out[0] != in[0] || out[1] != in[1] {
		t.Fatalf("parseEvents = %+v, %v", out, err)
	}
	if _, err := parseEvents(buf[:47], nil); !errors.Is(err, errShortEvent) {
		t.Fatalf("short read: %v", err)
	}
}

// bytes returns the request as the kernel sees it (native byte order).
func (r *lineRequest) bytes() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(r)), unsafe.Sizeof(*r))
}

// appendEvent encodes an event as the kernel would (the tests' pipe stands for a line request).
func appendEvent(buf []byte, e lineEvent) []byte {
	ne := binary.NativeEndian
	b := make([]byte, eventSize)
	ne.PutUint64(b[0:], e.TimestampNs)
	ne.PutUint32(b[8:], e.ID)
	ne.PutUint32(b[12:], e.Offset)
	ne.PutUint32(b[16:], e.Seqno)
	ne.PutUint32(b[20:], e.LineSeqno)
	return append(buf, b...)
}
