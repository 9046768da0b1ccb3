package readertest

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"
)

func TestOutPinRecordsChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		p := NewOutPin("relay", gpio.Low, nil)
		time.Sleep(time.Second) // virtual time inside the bubble
		_ = p.Out(gpio.High)
		_ = p.Out(gpio.High) // no change, not recorded
		time.Sleep(10 * time.Second)
		if err := p.Halt(); err != nil {
			t.Fatal(err)
		}
		want := []Change{{t0, gpio.Low}, {t0.Add(time.Second), gpio.High}, {t0.Add(11 * time.Second), gpio.Low}}
		if d := cmp.Diff(want, p.History()); d != "" {
			t.Errorf("history (-want +got):\n%s", d)
		}
		if p.Writes() != 3 || p.Level() != gpio.Low || p.Function() != "Out/Low" {
			t.Errorf("writes %d level %v function %q", p.Writes(), p.Level(), p.Function())
		}
		if p.PWM(gpio.DutyHalf, 0) == nil {
			t.Error("PWM: no error")
		}
	})
}
