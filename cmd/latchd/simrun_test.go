package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/latchd/latch/internal/syncio"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/internal/daemontest"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/store"
)

// simRun is a daemon run in process on simulated hardware: the set-up the
// crash-only and lost-event tests share.
type simRun struct {
	cfgPath string
	cfg     *config.Config
	st      *store.Store
	hw      *simHW
	d       *daemon
	logs    *syncio.Buffer
}

// newSimRun writes text as the config in a fresh folder, seeds the
// database with seed's users when seeded, opens the store and builds a
// daemon on newSimHW whose log goes to logs (nothing when quiet).
func newSimRun(t *testing.T, text string, seeded, quiet bool) *simRun {
	t.Helper()
	dir, cfgPath := daemontest.WriteConfig(t, text)
	r := &simRun{cfgPath: cfgPath, logs: &syncio.Buffer{}}
	if seeded {
		seed(t, dir)
	}
	var err error
	if r.cfg, err = config.Load(r.cfgPath); err != nil {
		t.Fatal(err)
	}
	log := zerolog.Nop()
	if !quiet {
		log = zerolog.New(r.logs)
	}
	if r.st, err = openStore(r.cfg, log, nil); err != nil {
		t.Fatal(err)
	}
	r.hw = newSimHW(log)
	r.d = &daemon{log: log, events: &eventLogger{log: log, w: io.Discard}, cfgPath: r.cfgPath, hw: r.hw, store: r.st, notify: &notifier{}}
	return r
}

// badge presents seed's card 1001 at reader name ("" = the first).
func (r *simRun) badge(name string) error {
	rd, err := r.hw.reader(name)
	if err != nil {
		return err
	}
	bits, err := reader.FormatSpec{Format: reader.H10301}.Encode(1, 1001)
	if err != nil {
		return err
	}
	return rd.send(bits)
}

// badgeUntilReleased badges at reader name and returns the level of relay
// GPIO23 once door's strike is released ("" = any door's).
func (r *simRun) badgeUntilReleased(name, door string) (gpio.Level, error) {
	evs, cancel := r.d.store.Subscribe(64)
	defer cancel()
	if err := r.badge(name); err != nil {
		return false, err
	}
	for ev := range evs {
		if ev.Event == "strike_released" && (door == "" || ev.Door == door) {
			break
		}
	}
	return r.hw.outputs["GPIO23"].Level(), nil
}

// whenReleased makes the daemon's extra step: badge at reader name until
// door's strike is released (the relay's level then in *releasedAt, when
// not nil), then do (the step under test), then run on until the daemon
// stops.
func (r *simRun) whenReleased(name, door string, releasedAt *gpio.Level, do func(d *daemon) error) {
	r.d.extra = func(ctx context.Context, d *daemon) error {
		lvl, err := r.badgeUntilReleased(name, door)
		if err != nil {
			return err
		}
		if releasedAt != nil {
			*releasedAt = lvl
		}
		if err := do(d); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	}
}

// checkClosed fails the test unless the daemon closed the database.
func (r *simRun) checkClosed(t *testing.T) {
	t.Helper()
	st2, err := store.Open(store.Options{Path: r.cfg.Controller.Database, KeyFile: r.cfg.Controller.KeyFile, Timeout: time.Second})
	if err != nil {
		t.Fatalf("database not closed: %v", err)
	}
	st2.Close()
}

// failInput makes an input's watch fail with err, as the Pi's watch does
// when its line request breaks: the line stops reporting and is dead.
func (h *simHW) failInput(pin string, err error) error {
	return h.withInput(pin, func(in *simInput) func() {
		in.fn = nil
		label := in.label
		return func() {
			h.log.Error().Err(err).Str("pin", pin).Str("line", label).Msg("input watch failed; the line is dead")
			h.lineDied(label, err)
		}
	})
}
