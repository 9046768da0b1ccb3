package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// notifier speaks systemd's sd_notify protocol: one datagram per state
// change to the Unix socket named by $NOTIFY_SOCKET (sd_notify(3)). Hand
// written: the protocol is one sendto, not worth a dependency.
type notifier struct {
	addr *net.UnixAddr // nil when not run under systemd with Type=notify
}

// newNotifier reads $NOTIFY_SOCKET. A name starting with '@' is an abstract
// socket; Go's syscall package maps that '@' to the leading NUL Linux wants.
func newNotifier(getenv func(string) string) *notifier {
	path := getenv("NOTIFY_SOCKET")
	if path == "" {
		return &notifier{}
	}
	return &notifier{addr: &net.UnixAddr{Name: path, Net: "unixgram"}}
}

// Enabled reports whether systemd listens.
func (n *notifier) Enabled() bool { return n.addr != nil }

// Notify sends state, e.g. "READY=1", "WATCHDOG=1", "STOPPING=1",
// "RELOADING=1\nMONOTONIC_USEC=…". Without $NOTIFY_SOCKET it does nothing.
func (n *notifier) Notify(state string) error {
	if n.addr == nil {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("latchd: sd_notify: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("latchd: sd_notify: %w", err)
	}
	return nil
}

// watchdogInterval reads $WATCHDOG_USEC (and $WATCHDOG_PID, when set, must
// be this process) as sd_watchdog_enabled(3) does. ok is false when systemd
// expects no keep-alive.
func watchdogInterval(getenv func(string) string, pid int) (time.Duration, bool, error) {
	s := getenv("WATCHDOG_USEC")
	if s == "" {
		return 0, false, nil
	}
	if p := getenv("WATCHDOG_PID"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0, false, fmt.Errorf("latchd: WATCHDOG_PID %q is not a number", p)
		}
		if n != pid {
			return 0, false, nil
		}
	}
	us, err := strconv.ParseUint(s, 10, 63)
	if err != nil || us == 0 {
		return 0, false, fmt.Errorf("latchd: WATCHDOG_USEC %q is not a positive number", s)
	}
	return time.Duration(us) * time.Microsecond, true, nil
}

// errUnhealthy is returned by runWatchdog when the health check fails: the
// keep-alives stop and systemd kills and restarts the daemon.
var errUnhealthy = errors.New("latchd: unhealthy, watchdog keep-alives stopped")

// runWatchdog sends WATCHDOG=1 every interval/2 (sd_watchdog_enabled(3)
// recommends half the timeout) while healthy returns nil, until ctx ends.
func runWatchdog(ctx context.Context, interval time.Duration, send func(string) error, healthy func() error) error {
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := healthy(); err != nil {
				return fmt.Errorf("%w: %w", errUnhealthy, err)
			}
			if err := send("WATCHDOG=1"); err != nil {
				return err
			}
		}
	}
}

// envOS is os.Getenv, the getenv of the real process.
var envOS = os.Getenv
