package sim

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
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
func (l *loopDoor) Stop() {
	l.cancel()
	if err := <-l.done; err != nil {
		panic(fmt.Sprintf("door Run: %v", err))
	}
}

type emitTo func(store.Event)

func (f emitTo) Emit(ev door.Event) { f(ev) }

var loopDriver = driver{
	clock: func(start time.Time) clock { return &bubbleClock{base: start, b0: time.Now()} },
	stepper: func(cfg *config.Config, name string, st *store.Store, out Outputs, emit func(store.Event),
		now func() time.Time, log zerolog.Logger) (Stepper, error) {
		dc := cfg.DoorConfig(name, out.Relay, nil)
		dc.Now = now
		dc.Logger = log
		d, err := door.New(dc, st, emitTo(emit))
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
func TestScenariosDoorLoop(t *testing.T) {
	files, err := filepath.Glob("../testdata/scenarios/*.scn")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".scn")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := ParseScript(bytes.NewReader(src), path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var out bytes.Buffer
			synctest.Test(t, func(t *testing.T) {
				if err := runScript(s, RunOptions{Out: &out, Dir: dir}, loopDriver); err != nil {
					t.Fatal(err)
				}
			})
			checkNoSecrets(t, s, out.Bytes())
			golden := strings.TrimSuffix(path, ".scn") + ".jsonl"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(out.String(), "\n")); d != "" {
				t.Errorf("(-golden +door loop):\n%s", d)
			}
		})
	}
}
