package main

import (
	"bytes"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/latchd/latch/internal/daemontest"
)

// TestWiringTestInputs: the wiring test watches every [[input]] and shows
// its level at the start and each change, and the summary names it.
func TestWiringTestInputs(t *testing.T) {
	withoutWiringSignals(t)
	_, cfgPath := daemontest.WriteConfig(t, simConfig+fireInput("GPIO20"))
	synctest.Test(t, func(t *testing.T) {
		var out, errb bytes.Buffer
		code := run([]string{"wiring-test", "--sim", "--config", cfgPath}, strings.NewReader("input fire on\ninput fire off\nquit\n"), &out, &errb)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
		}
		for _, want := range []string{
			"input fire (GPIO20): inactive (High; active is Low), at the start",
			"input fire (GPIO20): active (Low; active is Low)\n",
			"input fire (GPIO20): 2 changes",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("stdout lacks %q:\n%s", want, out.String())
			}
		}
	})
}
