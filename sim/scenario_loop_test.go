package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/store"
)

// bubbleClock is the scenario clock inside a synctest bubble: virtual time
// is the bubble's, shifted to the script's start.
type bubbleClock struct {
	base, b0 time.Time
}

func (c *bubbleClock) Now() time.Time { return c.base.Add(time.Since(c.b0)) }

// MoveTo sleeps to t; door timers due up to t fire on the way, and
// synctest.Wait lets every door act on them before the engine goes on (so
// at one instant the door's deadline comes first, as with a stepped door).
func (c *bubbleClock) MoveTo(t time.Time) {
	if d := t.Sub(c.Now()); d > 0 {
		time.Sleep(d)
	}
	synctest.Wait()
}

func (c *bubbleClock) Settle() { synctest.Wait() }

// loopDoor runs a door with its own Run loop in the bubble.
type loopDoor struct {
	d      *door.Door
	cancel context.CancelFunc
	done   chan error
}

func (l *loopDoor) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.done = make(chan error, 1)
	go func() { l.done <- l.d.Run(ctx) }()
	synctest.Wait() // started (mode_changed) before the next door starts
}
func (l *loopDoor) Submit(r reader.Read)    { l.d.Submit(r) }
func (l *loopDoor) DoorSensor(open bool)    { l.d.DoorSensor(open) }
func (l *loopDoor) ExitButton(pressed bool) { l.d.ExitButton(pressed) }
func (l *loopDoor) Deadline() time.Time     { return time.Time{} } // its own timer
func (l *loopDoor) Tick()                   {}
func (l *loopDoor) Halt() error             { return l.d.Halt() }
func (l *loopDoor) Target() door.Target     { return l.d }
func (l *loopDoor) Stop() {
	l.cancel()
	if err := <-l.done; err != nil {
		panic(fmt.Sprintf("door Run: %v", err))
	}
}

var loopDriver = driver{
	clock: func(start time.Time) clock { return &bubbleClock{base: start, b0: time.Now()} },
	stepper: func(cfg *config.Config, name string, st *store.Store, out Outputs, emit func(store.Event),
		now func() time.Time, log zerolog.Logger) (Stepper, error) {
		d, err := newDoor(cfg, name, st, out, emit, now, log)
		if err != nil {
			return nil, err
		}
		return &loopDoor{d: d}, nil
	},
}

// TestScenariosDoorLoop runs every scenario with each door on its own Run
// loop — the production loop with its real timer — inside a synctest bubble,
// and compares with the same golden files as TestScenarios: the engine, the
// decoder and the door's loop agree with the stepped door, event for event.
//
// Doors act on their own loops: when two doors act at the same instant (an
// input that names both, debounced by each), the order of their events is
// the scheduler's, as it is in latchd. So the comparison orders the events
// of one instant by door (each door's own order kept) and ignores seq.
func TestScenariosDoorLoop(t *testing.T) {
	eachScenarioNorm(t, func(t *testing.T, s *Script) []byte {
		dir := t.TempDir()
		var out bytes.Buffer
		synctest.Test(t, func(t *testing.T) {
			if err := runScript(s, RunOptions{Out: &out, Dir: dir}, loopDriver); err != nil {
				t.Fatal(err)
			}
		})
		return out.Bytes()
	}, sameInstantByDoor)
}

// sameInstantByDoor orders the events of each instant by door, keeping
// each door's order, and drops seq.
func sameInstantByDoor(b []byte) []byte {
	type ev struct {
		time, door string
		line       []byte
	}
	var evs []ev
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			return b // not events: compare as is
		}
		delete(m, "seq")
		out, _ := json.Marshal(m)
		tm, _ := m["time"].(string)
		d, _ := m["door"].(string)
		evs = append(evs, ev{tm, d, out})
	}
	sort.SliceStable(evs, func(i, j int) bool {
		// Times are TimeFormat (fixed width, UTC) and already in order.
		if evs[i].time != evs[j].time {
			return evs[i].time < evs[j].time
		}
		return evs[i].door < evs[j].door
	})
	var out bytes.Buffer
	for _, e := range evs {
		out.Write(e.line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// TestRunErrors: a line that cannot be carried out stops the script with
// FILE:LINE: message, and the message never holds a code.
func TestRunErrors(t *testing.T) {
	cfg := `
[[door]]
name  = "front"
relay = "GPIO23"
[[reader]]
name   = "r1"
door   = "front"
d0     = "GPIO17"
d1     = "GPIO27"
keypad = ""
[[group]]
name  = "staff"
doors = ["front"]
`
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	head := "clock 2026-03-02T09:00:00Z\n"
	tests := []struct{ name, body, want string }{
		{"unknown reader", "badge r9 h10301 1 1\n", "s.scn:2: no reader \"r9\" in the config"},
		{"unknown door", "open back\n", "s.scn:2: no door \"back\" in the config"},
		{"unknown user", "card bob h10301 1 1\n", "s.scn:2: no user \"bob\": add a line \"user bob\" first"},
		{"user twice", "user a\nuser a\n", "s.scn:3: user \"a\" already exists"},
		{"card of another user", "user a\nuser b\ncard a h10301 1 1\ncard b h10301 1 1\n", "s.scn:5: card: already used by another user"},
		{"entry code of another user", "user a\nuser b\nentry a 4711\nentry b 4711\n", "s.scn:5: entry: already used by another user"},
		{"keys without keypad", "keys 1234#\n", "s.scn:2: keys: reader \"r1\" has no keypad"},
		{"no dps", "open\n", "s.scn:2: open: door \"front\" has no door position switch (dps)"},
		{"no rex", "rex\n", "s.scn:2: rex: door \"front\" has no exit button (rex)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseScript(strings.NewReader(head+tc.body), filepath.Join(dir, "s.scn"))
			if err != nil {
				t.Fatal(err)
			}
			s.File = "s.scn" // messages name the script as given
			var out bytes.Buffer
			synctest.Test(t, func(t *testing.T) {
				err = runScript(s, RunOptions{Config: cfgPath, Out: &out, Dir: t.TempDir()}, loopDriver)
			})
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "4711") {
				t.Errorf("error reveals the code: %v", err)
			}
		})
	}
	// A config line naming a file that is not there.
	s, _ := ParseScript(strings.NewReader("config missing.toml\nwait 1s\n"), filepath.Join(dir, "m.scn"))
	if err := RunScript(s, RunOptions{Out: &bytes.Buffer{}}); err == nil ||
		!strings.HasPrefix(err.Error(), filepath.Join(dir, "m.scn")+":1: config: open "+filepath.Join(dir, "missing.toml")) {
		t.Errorf("missing config: %v", err)
	}
	// No config at all.
	s, _ = ParseScript(strings.NewReader("wait 1s\n"), "n.scn")
	if err := RunScript(s, RunOptions{Out: &bytes.Buffer{}}); err == nil || err.Error() != "n.scn:1: no config: add a line \"config PATH\" or pass --config" {
		t.Errorf("no config: %v", err)
	}
}
