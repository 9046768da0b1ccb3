//go:build linux

package main

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal. The terminal end
// comes from TIOCGPTPEER, so no /dev/pts path lookup is needed (containers
// often lack it).
func openPTY(t *testing.T) (master, term *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlockpt: %v", err)
	}
	fd, _, errno := unix.Syscall(unix.SYS_IOCTL, m.Fd(), uintptr(unix.TIOCGPTPEER), uintptr(unix.O_RDWR|unix.O_NOCTTY))
	if errno != 0 {
		m.Close()
		t.Skipf("TIOCGPTPEER: %v", errno)
	}
	term = os.NewFile(fd, "pty")
	t.Cleanup(func() { term.Close(); m.Close() })
	return m, term
}

// TestReadCodeNoEcho: "--code -" on a terminal turns echo off before it
// reads, so the digits typed never come back to the screen; the prompt goes
// to stderr; echo is on again afterwards.
func TestReadCodeNoEcho(t *testing.T) {
	master, tty := openPTY(t)
	stdin = tty
	defer func() { stdin = os.Stdin }()

	echoOn := func() bool {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatalf("tcgetattr: %v", err)
		}
		return tio.Lflag&unix.ECHO != 0
	}
	if !echoOn() {
		t.Fatal("a new terminal should echo")
	}
	type result struct {
		code []byte
		err  error
	}
	var prompt bytes.Buffer
	done := make(chan result, 1)
	go func() {
		b, err := readCode("-", &prompt)
		done <- result{b, err}
	}()
	// Type once readCode has turned echo off, as a person would after the
	// prompt: poll the terminal's state (no sleeping). A readCode that
	// never turns echo off is typed at anyway after a bounded number of
	// polls, and the echo check below catches it.
	for i := 0; i < 100000 && echoOn(); i++ {
		select {
		case r := <-done:
			t.Fatalf("readCode returned before reading: %q %v", r.code, r.err)
		default:
			runtime.Gosched()
		}
	}
	if _, err := master.WriteString("48213957\n"); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || string(r.code) != "48213957" {
		t.Fatalf("readCode = %q, %v; want the typed code", r.code, r.err)
	}
	if !echoOn() {
		t.Error("echo is still off after the code was read")
	}
	if !strings.Contains(prompt.String(), "code (not shown): ") {
		t.Errorf("prompt on stderr: %q", prompt.String())
	}
	// Echo is back on, so a marker typed now is echoed; everything the
	// terminal showed before it is what it showed while the code was typed.
	if _, err := master.WriteString("MARK\n"); err != nil {
		t.Fatal(err)
	}
	var screen []byte
	buf := make([]byte, 256)
	for !bytes.Contains(screen, []byte("MARK")) {
		n, err := master.Read(buf)
		if err != nil {
			t.Fatalf("reading the terminal: %v (so far %q)", err, screen)
		}
		screen = append(screen, buf[:n]...)
	}
	before, _, _ := bytes.Cut(screen, []byte("MARK"))
	if bytes.Contains(before, []byte("4821")) {
		t.Errorf("the terminal echoed the code: %q", before)
	}
}
