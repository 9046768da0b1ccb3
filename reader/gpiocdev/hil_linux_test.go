//go:build linux && hil

package gpiocdev

// The hardware-in-the-loop tests (make hil, docs/hil.md): they run inside a
// qemu VM whose kernel has gpio-sim, against a simulated chip made through
// configfs, so every request, edge, timestamp and level goes through the
// kernel's real GPIO character device.

import (
	"context"
	"os"
	"testing"
	"time"
	"unsafe"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/internal/gpiosim"
	"github.com/latchd/latch/reader"
)

var hilLines = []string{"GPIO17", "GPIO27", "GPIO23", "GPIO5"}

func hilChip(t *testing.T, name string) *gpiosim.Chip {
	t.Helper()
	c, err := gpiosim.New(name, hilLines)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("gpio-sim close: %v", err)
		}
	})
	t.Logf("gpio-sim chip %s", c.Dev)
	return c
}

// lineInfo is struct gpio_v2_line_info, for GPIO_V2_GET_LINEINFO_IOCTL:
// the kernel's view of a requested line, read back to prove that the
// request's fields (consumer, flags, attributes) sit where the kernel
// reads them.
type lineInfo struct {
	Name     [maxNameSize]byte
	Consumer [maxNameSize]byte
	Offset   uint32
	NumAttrs uint32
	Flags    uint64
	Attrs    [lineNumAttrMax]lineAttribute
	Padding  [4]uint32
}

func getLineInfo(t *testing.T, chip string, offset int) lineInfo {
	t.Helper()
	fd, err := unix.Open(chip, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	info := lineInfo{Offset: uint32(offset)}
	req := iowr(0x05, unsafe.Sizeof(info)) // GPIO_V2_GET_LINEINFO_IOCTL
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(&info))); errno != 0 {
		t.Fatalf("GPIO_V2_GET_LINEINFO_IOCTL: %v", errno)
	}
	return info
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// TestHILABI: TestABILayout's layout, checked by the real kernel. A
// request's consumer, flags and output-value attribute come back in the
// line info as sent; an output requested high is high from the first
// instant; and the event records the kernel writes carry the right line
// offset, edge id and sequence numbers.
func TestHILABI(t *testing.T) {
	if unsafe.Sizeof(lineInfo{}) != 256 {
		t.Fatalf("sizeof gpio_v2_line_info = %d, want 256", unsafe.Sizeof(lineInfo{}))
	}
	c := hilChip(t, "abi")
	relay := c.Offset("GPIO23")
	if info := getLineInfo(t, c.Dev, relay); cstr(info.Name[:]) != "GPIO23" || info.Offset != uint32(relay) {
		t.Fatalf("line info of an idle line: name %q offset %d", cstr(info.Name[:]), info.Offset)
	}
	out, err := RequestOutput(c.Dev, relay, "strike", gpio.High)
	if err != nil {
		t.Fatal(err)
	}
	info := getLineInfo(t, c.Dev, relay)
	if got := cstr(info.Consumer[:]); got != "latch-strike" {
		t.Errorf("consumer = %q, want latch-strike (request.consumer at offset 256)", got)
	}
	if info.Flags&flagOutput == 0 || info.Flags&flagInput != 0 {
		t.Errorf("flags = %#x, want output (request.config.flags)", info.Flags)
	}
	if v, err := c.Value("GPIO23"); err != nil || !v {
		t.Errorf("output requested high reads %v, %v (request.config.attrs: output values)", v, err)
	}
	if err := out.Out(gpio.Low); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Value("GPIO23"); err != nil || v {
		t.Errorf("after Out(Low) the line reads %v, %v (gpio_v2_line_values)", v, err)
	}
	out.Close()

	dps := c.Offset("GPIO5")
	if err := c.Set("GPIO5", true); err != nil {
		t.Fatal(err)
	}
	in, err := RequestInput(c.Dev, dps, "dps", gpio.PullNoChange)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	info = getLineInfo(t, c.Dev, dps)
	if want := flagInput | flagEdgeRising | flagEdgeFalling; info.Flags&want != want {
		t.Errorf("input flags = %#x, want input with both edges", info.Flags)
	}
	if lvl, err := in.Read(); err != nil || lvl != gpio.High {
		t.Errorf("input reads %v, %v; want High (pulled up)", lvl, err)
	}
	// Two edges: each record's id, and seqno 1 then 2 (event.seqno at 16).
	for i, high := range []bool{false, true} {
		if err := c.Set("GPIO5", high); err != nil {
			t.Fatal(err)
		}
		e, ok, err := in.WaitEdge(10 * time.Second)
		if err != nil || !ok {
			t.Fatalf("edge %d: ok %v, %v", i, ok, err)
		}
		if e.Rising != high || e.Seq != uint32(i+1) {
			t.Errorf("edge %d: rising %v seq %d, want rising %v seq %d", i, e.Rising, e.Seq, high, i+1)
		}
	}
}

// TestHILInputEdges: a door input's edges arrive in order with the
// kernel's CLOCK_MONOTONIC timestamps, taken between the attribute write
// that made them and the read that got them, and strictly increasing; a
// contact bounce is reported edge by edge (the door debounces them on
// these timestamps: cmd/latchd's TestHILDaemon checks it end to end).
func TestHILInputEdges(t *testing.T) {
	c := hilChip(t, "edges")
	if err := c.Set("GPIO5", false); err != nil {
		t.Fatal(err)
	}
	in, err := RequestInput(c.Dev, c.Offset("GPIO5"), "rex", gpio.PullNoChange)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var last time.Duration
	for i := range 6 {
		high := i%2 == 0
		before := Monotonic()
		if err := c.Set("GPIO5", high); err != nil {
			t.Fatal(err)
		}
		e, ok, err := in.WaitEdge(10 * time.Second)
		after := Monotonic()
		if err != nil || !ok {
			t.Fatalf("edge %d: ok %v, %v", i, ok, err)
		}
		if e.Rising != high {
			t.Errorf("edge %d: rising %v, want %v", i, e.Rising, high)
		}
		if e.T < before || e.T > after {
			t.Errorf("edge %d: kernel timestamp %v outside [%v, %v]", i, e.T, before, after)
		}
		if e.T <= last {
			t.Errorf("edge %d: timestamp %v not after %v", i, e.T, last)
		}
		last = e.T
	}
}

// TestHILWiegand: a 26-bit card sent slowly through gpio-sim's pull
// attribute is captured by OpenWiegand (falling edges, kernel timestamps)
// and decoded to the right card.
func TestHILWiegand(t *testing.T) {
	c := hilChip(t, "wiegand")
	for _, l := range []string{"GPIO17", "GPIO27"} {
		if err := c.Set(l, true); err != nil { // idle high, as a reader holds them
			t.Fatal(err)
		}
	}
	dec, err := reader.NewDecoder(reader.Config{Name: "front-in", Formats: []string{"h10301"}, MaxFrameGap: time.Second}, reader.WithEpoch(Epoch()))
	if err != nil {
		t.Fatal(err)
	}
	w, err := OpenWiegand(WiegandConfig{Chip: c.Dev, D0: c.Offset("GPIO17"), D1: c.Offset("GPIO27")}, dec, zerolog.New(os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	reads := make(chan reader.Read, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, func(r reader.Read) { reads <- r }) }()

	const card = "11101010000011011100000010" // h10301 212/7041
	start := time.Now()
	if err := c.Wiegand("GPIO17", "GPIO27", card, hilBitInterval); err != nil {
		t.Fatal(err)
	}
	t.Logf("26 bits sent in %v", time.Since(start))
	select {
	case r := <-reads:
		if r.Kind != reader.KindCard || r.Card.Format != "h10301" || r.Card.FacilityCode != 212 || r.Card.CardNumber != 7041 {
			t.Errorf("read %+v, want card h10301 212/7041", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no read within 30 s")
	}
	cancel()
	if err := <-done; err != nil && ctx.Err() == nil {
		t.Errorf("Run: %v", err)
	}
}

// hilBitInterval is the pace of the Wiegand bits sent through gpio-sim:
// slow enough that the VM's scheduling jitter stays well under the
// decoder's end-of-frame silence (three intervals).
const hilBitInterval = 20 * time.Millisecond
