//go:build linux

package main

import "golang.org/x/sys/unix"

// monotonicUsec is CLOCK_MONOTONIC in µs, as sd_notify's MONOTONIC_USEC wants.
func monotonicUsec() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano() / 1000
}
