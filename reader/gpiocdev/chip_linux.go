//go:build linux

package gpiocdev

import (
	"fmt"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// chipPath accepts "gpiochip0", "/dev/gpiochip0" or "0".
func chipPath(chip string) string {
	switch {
	case strings.HasPrefix(chip, "/"):
		return chip
	case strings.HasPrefix(chip, "gpiochip"):
		return "/dev/" + chip
	default:
		return "/dev/gpiochip" + chip
	}
}

// requestLines opens the chip and issues GPIO_V2_GET_LINE_IOCTL; it
// returns the line request's fd (close-on-exec).
func requestLines(chip string, r *lineRequest) (int, error) {
	path := chipPath(chip)
	cfd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("gpiocdev: open %s: %w", path, err)
	}
	defer unix.Close(cfd)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(cfd), uintptr(ioctlGetLine), uintptr(unsafe.Pointer(r))); errno != 0 {
		return -1, fmt.Errorf("gpiocdev: %s: request lines %v: %w", path, r.Offsets[:r.NumLines], errno)
	}
	return int(r.Fd), nil
}

func getValues(fd int, v *lineValues) error {
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(ioctlGetValues), uintptr(unsafe.Pointer(v))); errno != 0 {
		return fmt.Errorf("gpiocdev: get line values: %w", errno)
	}
	return nil
}

func setValues(fd int, v *lineValues) error {
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(ioctlSetValues), uintptr(unsafe.Pointer(v))); errno != 0 {
		return fmt.Errorf("gpiocdev: set line values: %w", errno)
	}
	return nil
}

// Monotonic returns CLOCK_MONOTONIC, the clock of the kernel's event
// timestamps.
func Monotonic() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// Epoch returns the time.Time that CLOCK_MONOTONIC 0 stands for, to pass
// to reader.WithEpoch so that Read.At is a time.Time. Go's monotonic
// clock is CLOCK_MONOTONIC on Linux, so At compares correctly with
// time.Now().
func Epoch() time.Time {
	now := time.Now()
	return now.Add(-Monotonic())
}

// wakePipe is a non-blocking self-pipe that interrupts ppoll.
type wakePipe [2]int

func newWakePipe() (wakePipe, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return wakePipe{-1, -1}, fmt.Errorf("gpiocdev: wake pipe: %w", err)
	}
	return wakePipe(p), nil
}

func (w wakePipe) wake() { _, _ = unix.Write(w[1], []byte{1}) }

// drain empties the pipe (a wake-up left by an earlier cancellation).
func (w wakePipe) drain() {
	var b [16]byte
	for {
		if n, err := unix.Read(w[0], b[:]); n <= 0 || err != nil {
			return
		}
	}
}

func (w wakePipe) close() {
	unix.Close(w[0])
	unix.Close(w[1])
}

// wait polls fd and the wake pipe until fd is readable (true), the pipe
// is (false, errClosed), or timeout passes (false, nil). A negative
// timeout waits forever.
func (w wakePipe) wait(fd int, timeout time.Duration) (bool, error) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(w[0]), Events: unix.POLLIN}}
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	for {
		n, err := unix.Ppoll(fds, ts, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("gpiocdev: ppoll: %w", err)
		}
		if n == 0 {
			return false, nil
		}
		if fds[1].Revents != 0 {
			return false, errClosed
		}
		if fds[0].Revents&(unix.POLLERR|unix.POLLNVAL) != 0 {
			return false, fmt.Errorf("gpiocdev: line fd poll error (revents %#x)", fds[0].Revents)
		}
		return true, nil
	}
}
