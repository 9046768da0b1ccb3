package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// hangingCloser is a database whose Close never returns until release is
// closed (what a read transaction left open does to bbolt's Close).
type hangingCloser struct{ release chan struct{} }

func (h hangingCloser) Close() error { <-h.release; return nil }

// TestFatalPathCloseHangs: on the fatal path, a database whose Close
// hangs does not keep latchd from exiting: the strike is locked first,
// the wait is bounded by closeWait (the timer is the test's, and fires at
// once) and run returns exit 1 with the hang logged.
func TestFatalPathCloseHangs(t *testing.T) {
	r := newSimRun(t, simConfig, true, false)
	defer r.st.Close()
	release := make(chan struct{})
	defer close(release)
	var waited time.Duration
	d, hw, logs := r.d, r.hw, r.logs
	d.closer = hangingCloser{release}
	d.closeAfter = func(d time.Duration) <-chan time.Time {
		waited = d
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		return ch
	}
	r.whenReleased("", "", nil, func(d *daemon) error {
		d.fatal <- errors.New("test: a fatal error")
		return nil
	})
	done := make(chan int, 1)
	go func() { done <- d.run(r.cfg) }()
	select {
	case code := <-done:
		if code != exitFatal {
			t.Errorf("exit code %d, want %d", code, exitFatal)
		}
	case <-time.After(time.Minute): // a backstop for the failure, not a wait
		t.Fatalf("run did not return: stuck closing the database\n%s", logs.String())
	}
	if relay := hw.outputs["GPIO23"]; relay.Level() != gpio.High { // relay_active = "low": locked is High
		t.Errorf("relay %s at exit, want High (locked)", relay.Level())
	}
	if waited != closeWait || !strings.Contains(logs.String(), "closing the database did not finish; exiting without it") {
		t.Errorf("waited %v (want %v); log:\n%s", waited, closeWait, logs.String())
	}
}
