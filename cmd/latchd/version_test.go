package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/internal/daemontest"
)

// TestVersion: both binaries print the version, commit and build date set
// by -ldflags (daemontest.Build stamps its builds as the Makefile does),
// and "latchd started" logs them.
func TestVersion(t *testing.T) {
	bin := buildLatchd(t)
	for _, exe := range []string{bin, daemontest.Latchctl(bin)} {
		out, err := exec.Command(exe, "--version").CombinedOutput()
		if err != nil {
			t.Fatalf("%s --version: %v\n%s", exe, err, out)
		}
		want := filepath.Base(exe) + " 0.0.0-test (commit 0123456789abcdef, built 2026-12-01T00:00:00Z, go"
		if !strings.HasPrefix(string(out), want) {
			t.Errorf("%s --version = %q, want prefix %q", exe, out, want)
		}
	}
	_, cfgPath := daemontest.WriteConfig(t, simConfig)
	d := startSim(t, bin, cfgPath)
	if got := d.Started; got["version"] != "0.0.0-test" || got["commit"] != "0123456789abcdef" || got["built"] != "2026-12-01T00:00:00Z" {
		t.Errorf("latchd started = %v, want version, commit and built", got)
	}
}

// TestProductionConfig: the configs latchd --sim warns about.
func TestProductionConfig(t *testing.T) {
	for _, tc := range []struct {
		file, db string
		want     bool
	}{
		{defaultConfigPath, "/srv/x.db", true},
		{"/home/pi/test.toml", "/var/lib/latch/latch.db", true},
		{"/home/pi/test.toml", "/home/pi/data/latch.db", false},
	} {
		cfg := &config.Config{File: tc.file}
		cfg.Controller.Database = tc.db
		if got := productionConfig(cfg); got != tc.want {
			t.Errorf("%s with %s: %v, want %v", tc.file, tc.db, got, tc.want)
		}
	}
}
