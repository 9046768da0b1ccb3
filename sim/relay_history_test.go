package sim

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/reader/readertest"
	"github.com/latchd/latch/store"
)

// TestRelayHistoryOverRestart: the relay lines' whole level history over
// an override, a lockdown, the fire alarm, the release and a restart shows
// exactly the releases the precedence predicts — and the restart releases
// nothing the state does not call for.
func TestRelayHistoryOverRestart(t *testing.T) {
	relays := map[string]*readertest.OutPin{}
	drv := driver{
		clock: func(start time.Time) clock { return &stepClock{t: start} },
		stepper: func(cfg *config.Config, name string, st *store.Store, out Outputs, emit func(store.Event),
			now func() time.Time, log zerolog.Logger) (Stepper, error) {
			relays[name] = out.Relay.(*readertest.OutPin)
			return newStepper(cfg, name, st, out, emit, now, log)
		},
	}
	src := `config ../testdata/scenarios/ops.toml
clock 2026-03-07T09:00:00+01:00
override front unlocked for 2h
lockdown all
input fire on
wait 1m
input fire off
lockdown release all
restart 5s
wait 1m
restart 3h
wait 1m
`
	s, err := ParseScript(strings.NewReader(src), "history.scn")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runScript(s, RunOptions{Out: &out, Dir: t.TempDir()}, drv); err != nil {
		t.Fatal(err)
	}
	// Relays are active high: H = released. Repeated writes of one level
	// (a lock of a locked strike) are no change of the line.
	want := map[string]string{
		// locked; released by the override; locked by the lockdown; released by
		// the fire alarm; locked when it ends (lockdown again); released when
		// the lockdown ends (the override); locked by the crash; released at
		// the start (the override survived); locked by the crash; the override
		// ended while down: locked at the start, no release.
		"front": "L H L H L H L H L",
		// locked; released by the fire alarm only.
		"back": "L H L",
	}
	for name, w := range want {
		if got := levels(relays[name].Written()); got != w {
			t.Errorf("relay of %s: %s, want %s", name, got, w)
		}
	}
}

// levels writes a level history as H/L, one letter per change.
func levels(ls []gpio.Level) string {
	var out []string
	for i, l := range ls {
		if i > 0 && ls[i-1] == l {
			continue
		}
		out = append(out, fmt.Sprint(map[gpio.Level]string{gpio.High: "H", gpio.Low: "L"}[l]))
	}
	return strings.Join(out, " ")
}
