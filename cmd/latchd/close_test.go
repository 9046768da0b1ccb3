package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/reader"
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
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "latch.toml")
	if err := os.WriteFile(cfgPath, []byte(simConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	seed(t, dir)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := zerolog.New(writerFunc(func(p []byte) (int, error) { logs.WriteString(string(p)); return len(p), nil }))
	st, err := openStore(cfg, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hw := newSimHW(log)
	release := make(chan struct{})
	defer close(release)
	var waited time.Duration
	d := &daemon{log: log, events: &eventLogger{log: log, w: io.Discard}, cfgPath: cfgPath, hw: hw, store: st, notify: &notifier{},
		closer: hangingCloser{release},
		closeAfter: func(d time.Duration) <-chan time.Time {
			waited = d
			ch := make(chan time.Time, 1)
			ch <- time.Time{}
			return ch
		}}
	d.extra = func(ctx context.Context, d *daemon) error {
		evs, cancel := d.store.Subscribe(64)
		defer cancel()
		r, err := hw.reader("")
		if err != nil {
			return err
		}
		bits, err := reader.FormatSpec{Format: reader.H10301}.Encode(1, 1001)
		if err != nil {
			return err
		}
		r.send(bits)
		for ev := range evs {
			if ev.Event == "strike_released" {
				break
			}
		}
		d.fatal <- errors.New("test: a fatal error")
		<-ctx.Done()
		return nil
	}
	done := make(chan int, 1)
	go func() { done <- d.run(cfg) }()
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
