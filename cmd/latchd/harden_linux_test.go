//go:build linux

package main

import (
	"io"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRunHardens: latchd's run, whatever the command, first sets
// RLIMIT_CORE to 0 (soft and hard) and makes the process non-dumpable, so
// no core file or /proc/<pid>/mem read can show the device key or a code.
// The test raises the soft limit and sets dumpable 1 first (this process is
// the one hardened: the values are read back in process).
func TestRunHardens(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max != 0 {
		lim.Cur = min(lim.Max, 1<<20)
		if err := unix.Setrlimit(unix.RLIMIT_CORE, &lim); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || d != 1 {
		t.Fatalf("dumpable %d, %v before run; the test cannot set it", d, err)
	}
	// Any command: here a usage error, which exits 2 without touching anything else.
	if code := run([]string{"check-config"}, nil, io.Discard, io.Discard); code != 2 {
		t.Fatalf("exit %d", code)
	}
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur != 0 || lim.Max != 0 {
		t.Errorf("RLIMIT_CORE after run: cur %d, max %d; want 0, 0", lim.Cur, lim.Max)
	}
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil || d != 0 {
		t.Errorf("PR_GET_DUMPABLE after run: %d, %v; want 0", d, err)
	}
}
