package reader

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"
)

func TestFeedback(t *testing.T) {
	for _, active := range []gpio.Level{gpio.Low, gpio.High} {
		g, r, b := &pin{n: "green"}, &pin{n: "red"}, &pin{n: "beep"}
		f := Feedback{Green: g, Red: r, Beeper: b, Active: active}
		if err := f.Set(true, false, true); err != nil {
			t.Fatal(err)
		}
		got := []gpio.Level{g.l, r.l, b.l}
		if d := cmp.Diff([]gpio.Level{active, !active, active}, got); d != "" {
			t.Errorf("active %v: levels (-want +got):\n%s", active, d)
		}
		if err := f.Off(); err != nil {
			t.Fatal(err)
		}
		if g.l != !active || r.l != !active || b.l != !active {
			t.Errorf("active %v: Off left %v %v %v", active, g.l, r.l, b.l)
		}
	}
	// A nil line is skipped; a failing line does not stop the others.
	g := &pin{n: "green"}
	f := Feedback{Green: g, Red: failPin{}, Active: gpio.Low}
	if err := f.Set(true, true, true); err == nil || !errors.Is(err, errFail) {
		t.Fatalf("err %v", err)
	}
	if g.l != gpio.Low {
		t.Error("green not driven")
	}
}

var errFail = errors.New("broken line")

type failPin struct{ gpio.PinOut }

func (failPin) Out(gpio.Level) error { return errFail }
func (failPin) String() string       { return "red" }

// pin is a minimal gpio.PinOut that keeps its level.
type pin struct {
	gpio.PinOut
	n string
	l gpio.Level
}

func (p *pin) Out(l gpio.Level) error { p.l = l; return nil }
func (p *pin) String() string         { return p.n }
