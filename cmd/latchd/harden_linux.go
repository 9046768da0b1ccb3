//go:build linux

package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// harden keeps latchd's memory out of core dumps and away from other
// processes of its user: RLIMIT_CORE 0 (no core file, soft and hard, so
// nothing later raises it) and PR_SET_DUMPABLE 0 (no core dump even if a
// limit were raised, /proc/<pid>/mem and ptrace refused to the same uid).
// The memory holds the device key and any code being typed. It does not
// rely on the unit's LimitCORE=0: a hand-started latchd gets it too.
func harden() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("latchd: setrlimit RLIMIT_CORE 0: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("latchd: prctl PR_SET_DUMPABLE 0: %w", err)
	}
	return nil
}
