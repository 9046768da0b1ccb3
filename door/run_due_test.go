package door

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/latchd/latch/internal/clocktest"

	"github.com/google/go-cmp/cmp"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// TestRunDueDeadlineBeforeInput: Run handles the deadlines already due
// before it steps a queued input (red-team item 13). The strike's relock
// is due when the door opens: it is locked first, so the opening is
// forced; and digits left past key_timeout are not part of the next
// entry code.
func TestRunDueDeadlineBeforeInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := testConfig(schedule.AccessControlled)
		c.Debounce = -1
		clk := clocktest.New(t0)
		c.Now = clk.Now
		creds := testCreds()
		l := startLoop(t, c, p, creds, t0)
		defer l.stop(t)
		l.badge("out", 100)
		synctest.Wait()
		l.ev.take()
		clk.Add(DefaultUnlockTime + time.Second) // the relock is due; Run's timer has not fired
		l.d.DoorSensor(true)
		synctest.Wait()
		got := summary(l.ev.take(), true)
		want := []string{EvStrikeLocked, EvDoorOpened, EvDoorForcedOpen}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("door opened after the release ended (-want +got):\n%s", diff)
		}

		// bob's entry code is 2222: "22" then, past key_timeout, "22#" is
		// the code "22", not bob's.
		l.keys("in", "22")
		synctest.Wait()
		clk.Add(DefaultKeyTimeout + time.Second)
		l.d.Submit(reader.Read{Reader: "in", Kind: reader.KindKeys, Keys: []byte("22#")})
		synctest.Wait()
		got = summary(l.ev.take(), false)
		if diff := cmp.Diff([]string{denied + ReasonUnknownCode}, got); diff != "" {
			t.Errorf("keys after key_timeout (-want +got):\n%s", diff)
		}
	})
}
