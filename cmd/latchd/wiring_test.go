package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"testing/synctest"
)

// TestWiringTest runs latchd wiring-test on the simulated hardware with the
// demo config: reads and input changes are printed as they come, digits are
// hidden unless --show-keys, and the summary names the lines that showed
// nothing. The relay is never requested.
// It runs in a synctest bubble: the simulated readers' pulse trains, the
// key intervals and the end-of-frame waits pass on the fake clock.
func TestWiringTest(t *testing.T) {
	withoutWiringSignals(t)
	synctest.Test(t, testWiringTest)
}

// withoutWiringSignals replaces wiringSignals for the rest of the test, so
// that wiring-test runs in a synctest bubble (the signal package's
// goroutine is outside any bubble).
func withoutWiringSignals(t *testing.T) {
	old := wiringSignals
	wiringSignals = func(ctx context.Context) (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }
	t.Cleanup(func() { wiringSignals = old })
}

func testWiringTest(t *testing.T) {
	run1 := func(script string, args ...string) (string, string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(append([]string{"wiring-test", "--sim"}, args...), strings.NewReader(script), &out, &errb)
		return out.String(), errb.String(), code
	}
	out, errs, code := run1("badge h10301 1 1001\nkeys 1234#\nbadgeraw 10101\nopen\nclose\nrex\nuser bob\nquit\n")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	const rd = "reader front-in (door front, D0 GPIO17, D1 GPIO27): "
	for _, want := range []string{
		"the strike relays and reader LEDs are not touched",
		"door front dps (GPIO24): closed (Low; dps_open is High), at the start",
		"door front rex (GPIO25): released (High; rex_active is Low), at the start",
		rd + "card h10301 facility 1 number 1001 (26 bits)",
		rd + "keys •\n",
		rd + "keys #\n",
		rd + "bad read: length",
		"door front dps (GPIO24): open (High; dps_open is High)\n",
		"door front rex (GPIO25): pressed (Low; rex_active is Low)\n",
		"door front rex (GPIO25): released (High; rex_active is Low)\n",
		"summary:\n  " + rd + "1 card, 5 keys, 1 bad read\n  door front dps (GPIO24): 2 changes\n  door front rex (GPIO25): 2 changes\nevery line showed something.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	keyLines := 0
	for _, line := range strings.Split(out, "\n") {
		if _, keys, ok := strings.Cut(line, ": keys "); ok {
			keyLines++
			if strings.ContainsAny(keys, "0123456789") {
				t.Errorf("typed digits shown without --show-keys: %q", line)
			}
		}
	}
	if keyLines != 5 {
		t.Errorf("%d key lines, want 5:\n%s", keyLines, out)
	}
	if strings.Contains(out, "relay") && !strings.Contains(out, "strike relays and reader LEDs are not touched") {
		t.Errorf("a relay line in the output:\n%s", out)
	}
	if !strings.Contains(errs, "user: not available here (no database)") {
		t.Errorf("stderr: %s", errs)
	}
	// Digits on request; lines that show nothing are named.
	out, _, code = run1("keys 42#\n", "--show-keys")
	if code != 0 || !strings.Contains(out, rd+"keys 4\n") || !strings.Contains(out, rd+"keys 2\n") {
		t.Errorf("--show-keys: exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"door front dps (GPIO24): 0 changes: never changed, check the wiring and the configured pin",
		"door front rex (GPIO25): 0 changes: never changed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = run1("badgeraw 10101\n")
	if !strings.Contains(out, rd+"0 cards, 0 keys, 1 bad read: only bad reads, check the configured formats") {
		t.Errorf("only bad reads:\n%s", out)
	}
	out, _, _ = run1("")
	if !strings.Contains(out, rd+"0 cards, 0 keys, 0 bad reads: nothing received, check D0/D1") {
		t.Errorf("nothing received:\n%s", out)
	}
	// --leds: each feedback line on for a second, at the active level,
	// then off; never the relay.
	var simLog bytes.Buffer
	wiringSimLog = &simLog
	defer func() { wiringSimLog = io.Discard }()
	out, errs, code = run1("quit\n", "--leds")
	if strings.Contains(errs, "DBG") || strings.Contains(errs, "output changed") {
		t.Errorf("--leds printed debug lines on stderr:\n%s", errs)
	}
	if code != 0 || !strings.Contains(out, "the strike relays are not touched") ||
		!strings.Contains(out, "reader front-in: green LED (GPIO22) on for 1s at Low (feedback_active): is it lit?") ||
		!strings.Contains(out, "   2.000s  reader front-in: beeper (GPIO6) on for 1s at Low (feedback_active): is it sounding?") {
		t.Errorf("--leds: exit %d\n%s", code, out)
	}
	var changes []string
	for _, line := range strings.Split(simLog.String(), "\n") {
		if _, rest, ok := strings.Cut(line, "output changed "); ok {
			changes = append(changes, rest)
		}
	}
	wantChanges := []string{
		`component=sim line="wiring-test led_green front-in" to=Low`, `component=sim line="wiring-test led_green front-in" to=High`,
		`component=sim line="wiring-test led_red front-in" to=Low`, `component=sim line="wiring-test led_red front-in" to=High`,
		`component=sim line="wiring-test beeper front-in" to=Low`, `component=sim line="wiring-test beeper front-in" to=High`,
	}
	if strings.Join(changes, "\n") != strings.Join(wantChanges, "\n") || strings.Contains(errs, "relay") {
		t.Errorf("--leds drove:\n%s\nwant:\n%s", strings.Join(changes, "\n"), strings.Join(wantChanges, "\n"))
	}
	if _, errs, code := run1("", "--for", "0s"); code != exitUsage || !strings.Contains(errs, "usage: latchd wiring-test") {
		t.Errorf("--for 0s: exit %d, %s", code, errs)
	}
}
