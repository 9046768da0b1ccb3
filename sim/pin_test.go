package sim

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

func TestInPin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		p := NewInPin("rex", gpio.High, nil)
		if err := p.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			t.Fatal(err)
		}
		if p.WaitForEdge(50 * time.Millisecond) {
			t.Fatal("edge without a change")
		}
		go func() {
			time.Sleep(100 * time.Millisecond)
			p.Set(gpio.Low)
		}()
		if !p.WaitForEdge(time.Second) {
			t.Fatal("no falling edge")
		}
		if got := time.Since(t0); got != 150*time.Millisecond {
			t.Errorf("edge seen after %v, want 150ms", got)
		}
		p.Set(gpio.High) // rising: not reported in FallingEdge mode
		if p.WaitForEdge(10 * time.Millisecond) {
			t.Error("rising edge reported in falling mode")
		}
		if err := p.In(gpio.PullUp, gpio.BothEdges); err != nil {
			t.Fatal(err)
		}
		ch := p.Edges()
		p.Set(gpio.Low)
		c := <-ch
		if c.Level != gpio.Low || c.At != t0.Add(160*time.Millisecond) {
			t.Errorf("edge %+v", c)
		}
		if p.Read() != gpio.Low || p.Pull() != gpio.PullUp {
			t.Errorf("level %v pull %v", p.Read(), p.Pull())
		}
		if len(p.History()) != 4 {
			t.Errorf("history %+v", p.History())
		}
		if p.In(gpio.PullUp, gpio.Edge(9)) == nil {
			t.Error("bad edge accepted")
		}
	})
}
