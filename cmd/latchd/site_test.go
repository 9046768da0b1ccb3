package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/store"
)

const siteConfig = `
[controller]
database  = "data/latch.db"
key_file  = "data/device.key"
time_zone = "UTC"
[[reader]]
name = "r1"
door = "front"
d0   = "GPIO17"
d1   = "GPIO27"
led_green = "GPIO22"
feedback_active = "FEEDBACK"
[[door]]
name         = "front"
relay        = "GPIO23"
relay_active = "RELAY"
`

// testSite runs a site on simulated hardware in dir; stop stops every door
// and closes the hardware, as the daemon's exit does.
func testSite(t *testing.T, dir string) (s *site, hw *simHW, parse func(relay, feedback string) *config.Config, stop func()) {
	t.Helper()
	parse = func(relay, feedback string) *config.Config {
		t.Helper()
		text := strings.NewReplacer("RELAY", relay, "FEEDBACK", feedback).Replace(siteConfig)
		cfg, err := config.Parse([]byte(text), filepath.Join(dir, "latch.toml"))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	s, hw, _, _, closeStore := simSite(t, parse("high", "low"))
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		s.stopAll()
		if err := hw.Close(); err != nil {
			t.Error(err)
		}
		closeStore()
	}
	t.Cleanup(stop)
	return s, hw, parse, stop
}

// simSite makes a site on simulated hardware over cfg's database, its
// event writer running under ctx; closeStore stops the writer and closes
// the database (once the doors are stopped).
func simSite(t *testing.T, cfg *config.Config) (s *site, hw *simHW, st *store.Store, ctx context.Context, closeStore func()) {
	t.Helper()
	log := zerolog.Nop()
	st, err := openStore(cfg, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ew := door.NewEventWriter(st, nil, log)
	ewDone := make(chan struct{})
	go func() { defer close(ewDone); ew.Run(ctx) }()
	hw = newSimHW(log)
	s = newSite(log, hw, st, ew, make(chan error, 4))
	return s, hw, st, ctx, func() {
		cancel()
		<-ewDone
		st.Close()
	}
}

// TestStartNeverPulses: a door's relay and feedback lines are requested at
// their inactive level and stay there through start and stop: a start or a
// restart never pulses the strike (docs/door.md, "Strike, DPS, REX").
func TestStartNeverPulses(t *testing.T) {
	for _, active := range []string{"high", "low"} {
		t.Run("relay_active="+active, func(t *testing.T) {
			s, hw, parse, stop := testSite(t, t.TempDir())
			cfg := parse(active, active)
			inactive := cfg.Doors[0].RelayActive == gpio.Low // the level that locks
			if err := s.start(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
			relay, led := hw.outputs["GPIO23"], hw.outputs["GPIO22"]
			stop()
			want := []gpio.Level{gpio.Level(inactive)}
			if d := cmp.Diff(want, relay.Levels()); d != "" {
				t.Errorf("relay levels from request to exit (-want +got):\n%s", d)
			}
			if d := cmp.Diff(want, led.Levels()); d != "" {
				t.Errorf("green LED levels from request to exit (-want +got):\n%s", d)
			}
		})
	}
}

// TestReloadFlipsActiveLevel: a reload that changes relay_active (and
// feedback_active) on the same pins leaves the lines at the new inactive
// level, through the reload and through the daemon's exit: the strike is
// locked by the new wiring's meaning at the end.
func TestReloadFlipsActiveLevel(t *testing.T) {
	s, hw, parse, stop := testSite(t, t.TempDir())
	ctx := context.Background()
	if err := s.start(ctx, parse("high", "high")); err != nil {
		t.Fatal(err)
	}
	if err := s.reload(ctx, parse("low", "low")); err != nil {
		t.Fatal(err)
	}
	relay, led := hw.outputs["GPIO23"], hw.outputs["GPIO22"]
	if relay.Level() != gpio.High || led.Level() != gpio.High {
		t.Errorf("after the reload: relay %s, LED %s; want both High (inactive for active-low)", relay.Level(), led.Level())
	}
	stop()
	if relay.Level() != gpio.High || led.Level() != gpio.High {
		t.Errorf("after exit: relay %s (history %v), LED %s; want both High: the strike locked", relay.Level(), relay.Levels(), led.Level())
	}
}

// TestFatalErrorLocks runs the daemon in process on simulated hardware,
// releases the strike with a card, then sends a fatal error (what a door
// loop or the watchdog does): the daemon exits 1 with the strike locked
// and the database closed.
func TestFatalErrorLocks(t *testing.T) {
	r := newSimRun(t, simConfig, true, false)
	var releasedAt gpio.Level
	r.whenReleased("", "", &releasedAt, func(d *daemon) error {
		d.fatal <- errors.New("test: a fatal error")
		return nil
	})
	r.checkLockedExit(t, &releasedAt, "fatal")
}

// checkLockedExit runs the daemon and fails the test unless it exits 1
// with door front's relay (GPIO23, relay_active = "low") Low at
// *releasedAt (set while it runs) and High (locked) at exit, a log line
// "WHY; strikes locked", and the database closed.
func (r *simRun) checkLockedExit(t *testing.T, releasedAt *gpio.Level, why string) {
	t.Helper()
	if code := r.d.run(r.cfg); code != exitFatal {
		t.Errorf("exit code %d, want %d; log:\n%s", code, exitFatal, r.logs.String())
	}
	front := r.hw.outputs["GPIO23"]
	if *releasedAt != gpio.Low || front.Level() != gpio.High {
		t.Errorf("front's relay %s while released, %s at exit (history %v); want Low, then High (locked)", *releasedAt, front.Level(), front.Levels())
	}
	if !strings.Contains(r.logs.String(), why+"; strikes locked") {
		t.Errorf("no %s log line in\n%s", why, r.logs.String())
	}
	r.checkClosed(t)
}

// TestStartFailureLocks: when the daemon cannot start (here: another
// process serves the API socket), it exits 1 with every relay at its
// inactive level, never pulsed, and the database closed.
func TestStartFailureLocks(t *testing.T) {
	r := newSimRun(t, simConfig, false, true)
	cfg, hw, d := r.cfg, r.hw, r.d
	other, err := net.Listen("unix", cfg.API.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	go func() { // answer like a live latchd would
		for {
			c, err := other.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if code := d.run(cfg); code != exitFatal {
		t.Errorf("exit code %d, want %d", code, exitFatal)
	}
	// relay_active = "low": locked is High, from the request to the end.
	if got := hw.outputs["GPIO23"].Levels(); !slices.Equal(got, []gpio.Level{gpio.High}) {
		t.Errorf("relay levels %v, want [High]: requested locked, never released", got)
	}
	r.checkClosed(t)
}

// panicOnOutput is simulated hardware whose Output panics for one pin.
type panicOnOutput struct {
	*simHW
	pin string
}

func (p panicOnOutput) Output(pin string, initial gpio.Level, label string) (gpio.PinOut, error) {
	if pin == p.pin {
		panic("test: output " + pin)
	}
	return p.simHW.Output(pin, initial, label)
}

// TestMainPanicLocks: a panic on the daemon's main goroutine (here: while a
// SIGHUP reload restarts door back on a new relay pin) locks every strike —
// door front's, released by a grant at that moment — and exits 1 with the
// database closed.
func TestMainPanicLocks(t *testing.T) {
	text := simConfig + "[[door]]\nname = \"back\"\nrelay = \"GPIO16\"\n"
	r := newSimRun(t, text, true, false)
	cfgPath, shw, d := r.cfgPath, r.hw, r.d
	d.hw = panicOnOutput{simHW: shw, pin: "GPIO20"}
	var releasedAt gpio.Level
	r.whenReleased("r1", "front", &releasedAt, func(*daemon) error {
		if err := os.WriteFile(cfgPath, []byte(strings.Replace(text, `"GPIO16"`, `"GPIO20"`, 1)), 0o644); err != nil {
			return err
		}
		return syscall.Kill(os.Getpid(), syscall.SIGHUP)
	})
	r.checkLockedExit(t, &releasedAt, "panic")
}

// TestReloadKeepsDuressOutput: a reload keeps the duress output on its
// pin (its keys need a restart) and refuses a file that hands that pin to
// a relay, before any door is touched.
func TestReloadKeepsDuressOutput(t *testing.T) {
	dir := t.TempDir()
	parse := func(text string) *config.Config {
		t.Helper()
		cfg, err := config.Parse([]byte(text), filepath.Join(dir, "latch.toml"))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	base := strings.NewReplacer("RELAY", "high", "FEEDBACK", "low").Replace(siteConfig)
	withDuress := strings.Replace(base, "[controller]\n", "[controller]\nduress_output = \"GPIO12\"\n", 1)
	s, hw, _, _, closeStore := simSite(t, parse(withDuress))
	defer closeStore()
	defer hw.Close()
	defer s.stopAll()
	ctx := context.Background()
	cfg := parse(withDuress)
	if err := s.openDuress(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.start(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	line := hw.outputs["GPIO12"]
	if line == nil {
		t.Fatal("no duress output requested")
	}
	// Moved to another pin: kept where it is until a restart.
	if err := s.reload(ctx, parse(strings.Replace(withDuress, "GPIO12", "GPIO13", 1))); err != nil {
		t.Fatal(err)
	}
	if hw.outputs["GPIO12"] != line || hw.outputs["GPIO13"] != nil {
		t.Error("the reload moved or released the duress output")
	}
	// Its pin given to the relay: refused, the door untouched.
	taken := strings.Replace(strings.Replace(withDuress, "GPIO12", "GPIO13", 1), `relay        = "GPIO23"`, `relay        = "GPIO12"`, 1)
	if err := s.reload(ctx, parse(taken)); err == nil || !strings.Contains(err.Error(), "pin GPIO12 is still the duress output") {
		t.Errorf("reload taking the duress pin: %v", err)
	}
	if _, running := s.doorByName("front"); !running {
		t.Error("the refused reload stopped the door")
	}
}
