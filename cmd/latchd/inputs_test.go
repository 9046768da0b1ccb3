package main

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/internal/config"
)

// waitStatus polls the site's door status until ok holds (a deadline bounds
// a hung door; nothing sleeps).
func waitStatus(t *testing.T, s *site, what string, ok func(emergency bool) bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; runtime.Gosched() {
		if ds := s.doorStatus(); len(ds) == 1 && ds[0].State.Level != 0 && ok(ds[0].State.Emergency) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never", what)
		}
	}
}

// TestInputsAcrossStartAndReload: an input active when the site starts is
// the door's from its start (preset); a reload that moves the input to
// another pin watches the new pin and lets go of the old one; the door
// follows the new line.
func TestInputsAcrossStartAndReload(t *testing.T) {
	dir := t.TempDir()
	base := strings.Replace(simConfig, `database  = "data/latch.db"`, `database  = "`+filepath.Join(dir, "latch.db")+`"`, 1)
	base = strings.Replace(base, `key_file  = "data/device.key"`, `key_file  = "`+filepath.Join(dir, "device.key")+`"`, 1)
	withInput := func(pin string) *config.Config {
		cfg, err := config.Parse([]byte(base+fireInput(pin)), filepath.Join(dir, "latch.toml"))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	cfg := withInput("GPIO20")
	s, hw, _, ctx, closeStore := simSite(t, cfg)
	defer closeStore()
	hw.setInitial("GPIO20", gpio.Low) // the fire alarm is active before latchd starts
	if err := s.start(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	defer s.stopAll()
	waitStatus(t, s, "released at start", func(e bool) bool { return e })

	if err := s.reload(context.Background(), withInput("GPIO21")); err != nil {
		t.Fatal(err)
	}
	// The door restarted (its inputs changed) on the new line, inactive
	// (pulled up): the emergency is over.
	waitStatus(t, s, "the new line inactive", func(e bool) bool { return !e })
	if err := hw.set("GPIO20", gpio.Low); err == nil {
		t.Error("the old input line is still watched after the reload")
	}
	if err := hw.set("GPIO21", gpio.Low); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, s, "the new line active", func(e bool) bool { return e })
	if ctl := s.controller(); ctl == nil || strings.Join(ctl.Inputs(), ",") != "fire" {
		t.Errorf("controller after the reload: %v", ctl)
	}
}
