//go:build linux && hil

package main

// The daemon's hardware-in-the-loop test (make hil, docs/hil.md): the real
// latchd wiring (periph's line names, reader/gpiocdev requests, the door
// loop) on a gpio-sim chip in a VM, the relay's level read back from the
// kernel all along.

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/internal/gpiosim"
	"github.com/latchd/latch/reader"
)

// hilDaemonEnv makes this test binary latchd itself: the test starts it
// again with this variable set, so that the daemon is a process of its own
// that SIGTERM stops and a panic kills, as on a Pi.
const hilDaemonEnv = "LATCH_HIL_DAEMON"

func init() {
	if os.Getenv(hilDaemonEnv) != "1" {
		return
	}
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000Z07:00"
	zerolog.TimestampFunc = func() time.Time { return time.Now().UTC() }
	// The forced panic: SIGUSR1 panics on a goroutine of its own, outside
	// every recover of latchd, so that no deferred code runs (the worst
	// crash there is; the kernel then releases the lines).
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		<-usr1
		panic("hil: forced panic")
	}()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// relayWatch samples the relay line's level from the kernel in a loop and
// records every sample taken while the strike was not meant to be released.
type relayWatch struct {
	chip *gpiosim.Chip
	line string

	mu      sync.Mutex
	allowed bool     // the test expects a grant now
	bad     []string // high samples while not allowed
	highs   int      // high samples while allowed
	samples int
	stop    chan struct{}
	done    chan struct{}
}

func watchRelay(t *testing.T, c *gpiosim.Chip, line string) *relayWatch {
	w := &relayWatch{chip: c, line: line, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			high, err := c.Value(line)
			w.mu.Lock()
			w.samples++
			switch {
			case err != nil:
				w.bad = append(w.bad, err.Error())
			case high && w.allowed:
				w.highs++
			case high:
				w.bad = append(w.bad, fmt.Sprintf("released at sample %d, %s", w.samples, time.Now().Format("15:04:05.000")))
			}
			w.mu.Unlock()
			// Sample pacing, not a wait: the guest has one CPU, and a
			// watcher that never yields would delay the daemon and the
			// Wiegand pulses it is watching.
			time.Sleep(200 * time.Microsecond)
		}
	}()
	t.Cleanup(w.close)
	return w
}

func (w *relayWatch) allow(on bool) {
	w.mu.Lock()
	w.allowed = on
	w.mu.Unlock()
}

// check fails the test for any release outside a grant, naming the phase.
func (w *relayWatch) check(t *testing.T, phase string) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.bad) > 0 {
		t.Errorf("%s: the relay line was released outside a grant (%d samples): %s", phase, len(w.bad), strings.Join(w.bad[:min(len(w.bad), 5)], "; "))
		w.bad = nil
	}
	t.Logf("%s: relay locked throughout (%d samples so far)", phase, w.samples)
}

func (w *relayWatch) close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// TestHILDaemon: latchd on gpio-sim. The relay line (active high) is never
// high but during a grant: not at start, not through SIGTERM, not through
// a forced panic and the restart after it, and a SIGTERM during a grant
// drops it at once. A slow Wiegand frame is decoded to alice's card and
// granted; a bouncing door switch and exit button give one event each
// (debounced on the door's clock from the kernel's edges).
func TestHILDaemon(t *testing.T) {
	lines := []string{"GPIO17", "GPIO27", "GPIO23", "GPIO5", "GPIO6"}
	c, err := gpiosim.New("latchd", lines)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The reader holds D0/D1 high; the door is closed (dps_open high: low);
	// the exit button is released (rex_active low: high); the relay line
	// unrequested reads its pull, down (locked).
	for l, high := range map[string]bool{"GPIO17": true, "GPIO27": true, "GPIO5": false, "GPIO6": true, "GPIO23": false} {
		if err := c.Set(l, high); err != nil {
			t.Fatal(err)
		}
	}
	text := strings.Replace(simConfig, `relay_active = "low"`, `relay_active = "high"`+"\ndps = \"GPIO5\"\nrex = \"GPIO6\"", 1)
	text = strings.Replace(text, `unlock_time = "60s"`, `unlock_time = "3s"`, 1)
	text = strings.Replace(text, `d1   = "GPIO27"`, `d1   = "GPIO27"`+"\nmax_frame_gap = \"1s\"", 1)
	_, cfgPath := seededDir(t, text)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	relay := watchRelay(t, c, "GPIO23")
	start := func(phase string) *simDaemon {
		t.Helper()
		d := startDaemon(t, self, []string{"--config", cfgPath, "--log-format", "json"}, hilDaemonEnv+"=1")
		d.Deadline = time.After(2 * time.Minute) // the VM is slow
		// gpio-sim has one pull per line, which the input requests' bias
		// sets too: latchd pulls the door switch to "open" (a cut wire
		// reads open) and the exit button to "released". Put the contacts
		// back: the door is closed. (The opening the bias made and this
		// closing come long before the grant's strike_locked, after which
		// the events are counted.)
		for l, high := range map[string]bool{"GPIO5": false, "GPIO6": true} {
			if err := c.Set(l, high); err != nil {
				t.Fatal(err)
			}
		}
		relay.check(t, phase)
		return d
	}
	card, err := reader.FormatSpec{Format: reader.H10301}.Encode(1, 1001)
	if err != nil {
		t.Fatal(err)
	}
	grant := func(d *simDaemon, phase string) {
		t.Helper()
		relay.allow(true)
		if err := c.Wiegand("GPIO17", "GPIO27", card, hilBitInterval); err != nil {
			t.Fatal(err)
		}
		m := d.WaitFor("the grant", func(m map[string]any) bool {
			return m["event"] == "access_granted" || m["event"] == "access_denied"
		})
		cm, _ := m["card"].(map[string]any)
		if m["event"] != "access_granted" || m["external_id"] != "alice" || cm["format"] != "h10301" || fmt.Sprint(cm["card_number"]) != "1001" {
			t.Fatalf("%s: %v, want access_granted for alice's card h10301 1/1001", phase, m)
		}
		d.WaitFor("strike_released", event("strike_released"))
	}
	waitLevel := func(high bool, what string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; {
			v, err := c.Value("GPIO23")
			if err == nil && v == high {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: relay line still %v after 30 s (%v)", what, v, err)
			}
			time.Sleep(time.Millisecond)
		}
	}
	exit := func(d *simDaemon, sig os.Signal, want int, phase string) {
		t.Helper()
		if err := d.Cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		_ = d.Wait()
		if got := d.Cmd.ProcessState.ExitCode(); got != want {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", phase, got, want, d.Stderr.String())
		}
	}

	// Start, grant, relock.
	d := start("start")
	grant(d, "first grant")
	waitLevel(true, "grant")
	d.WaitFor("strike_locked", event("strike_locked"))
	waitLevel(false, "relock")
	relay.allow(false)
	relay.check(t, "grant and relock")

	// A bouncing door switch: open, closed, open within a few ms, then
	// open for good (forced: no grant), then closed. One opening.
	for _, high := range []bool{true, false, true} {
		if err := c.Set("GPIO5", high); err != nil {
			t.Fatal(err)
		}
	}
	// An opening is door_opened, then door_forced_open when no grant
	// allowed it.
	d.WaitFor("the forced opening", event("door_forced_open"))
	if err := c.Set("GPIO5", false); err != nil {
		t.Fatal(err)
	}
	// A bouncing exit button, then the door switch's closing: the events
	// between the forced opening and the closing count the openings and
	// the presses.
	for _, high := range []bool{false, true, false} {
		if err := c.Set("GPIO6", high); err != nil {
			t.Fatal(err)
		}
	}
	n := map[string]int{}
	d.WaitFor("rex", func(m map[string]any) bool { n[fmt.Sprint(m["event"])]++; return m["event"] == "rex" })
	if err := c.Set("GPIO6", true); err != nil {
		t.Fatal(err)
	}
	// Open and close the door once more: the marker after which no
	// late bounce event may still come.
	if err := c.Set("GPIO5", true); err != nil {
		t.Fatal(err)
	}
	// (Not forced: the exit button just pressed allows the opening.)
	d.WaitFor("the second opening", func(m map[string]any) bool {
		n[fmt.Sprint(m["event"])]++
		return m["event"] == "door_opened"
	})
	if err := c.Set("GPIO5", false); err != nil {
		t.Fatal(err)
	}
	d.WaitFor("door_closed", event("door_closed"))
	if n["rex"] != 1 || n["door_opened"] != 1 || n["door_forced_open"] != 0 || n["door_closed"] != 1 {
		t.Errorf("events after the first forced opening: %v; want one closing, one rex and one more opening (bounces debounced)", n)
	}
	relay.check(t, "door switch and exit button")

	// SIGTERM: exit 0, the relay never released.
	exit(d, syscall.SIGTERM, 0, "SIGTERM")
	relay.check(t, "SIGTERM")

	// Restart, then a forced panic: the process dies (exit 2) without
	// running any of latchd's stop code; the kernel frees the line.
	d = start("restart after SIGTERM")
	exit(d, syscall.SIGUSR1, 2, "forced panic")
	relay.check(t, "forced panic")

	// Restart after the crash: locked from the first instant, and it
	// grants again; SIGTERM during the grant locks at once.
	d = start("restart after the panic")
	grant(d, "grant after the restart")
	waitLevel(true, "grant after the restart")
	exit(d, syscall.SIGTERM, 0, "SIGTERM during a grant")
	relay.allow(false)
	if v, err := c.Value("GPIO23"); err != nil || v {
		t.Errorf("after SIGTERM during a grant the relay line is %v (%v), want locked", v, err)
	}
	relay.check(t, "after SIGTERM during a grant")
	relay.mu.Lock()
	t.Logf("relay: %d samples from the kernel, %d of them released (during the grants)", relay.samples, relay.highs)
	relay.mu.Unlock()
}

// hilBitInterval paces the Wiegand bits through gpio-sim (as in
// reader/gpiocdev's HIL test): slow enough for the VM's jitter.
const hilBitInterval = 20 * time.Millisecond
