package door

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
	"github.com/latchd/latch/store"
	"github.com/latchd/latch/store/storetest"
)

// realStore is a store in a temp dir with alice (card h10301 1/100, MFA
// code 4321, group staff).
func realStore(t *testing.T) *store.Store {
	t.Helper()
	st := tempStore(t)
	storetest.AddUser(t, st, "alice", "staff", store.Card{Format: "h10301", FacilityCode: 1, CardNumber: 100}, "4321")
	return st
}

// TestLockoutSurvivesRestart: a card locked out (and a reader's entry-code
// count) stays so on a door started again on the same store, after a
// graceful stop (a reload or a restart) and while the first door still
// runs (what a crash leaves: the counters are in the store before any
// stop). Red-team item 3.
func TestLockoutSurvivesRestart(t *testing.T) {
	for _, crash := range []bool{false, true} {
		name := map[bool]string{false: "stop", true: "crash"}[crash]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				st := realStore(t)
				c, p := testConfig(schedule.CardAndCode)
				c.Lockouts = st
				a := startLoop(t, c, p, st, t0)
				for range DefaultMaxAttempts {
					a.badge("in", 100)
					a.keys("in", "9999#")
				}
				for range DefaultMaxAttempts - 1 {
					a.keys("in", "5555#") // card_required in card_and_code: not counted
				}
				if got := summary(a.ev.take(), false); !slices.Contains(got, lockout) {
					t.Fatalf("no lockout: %v", got)
				}
				if !crash {
					a.stop(t)
				}
				time.Sleep(20 * time.Second) // well within the 60 s lockout
				c2, p2 := testConfig(schedule.CardAndCode)
				c2.Lockouts = st
				b := startLoop(t, c2, p2, st, t0.Add(20*time.Second))
				defer b.stop(t)
				b.ev.take()
				b.badge("in", 100)
				if got := summary(b.ev.take(), false); !slices.Equal(got, []string{denied + ReasonLockedOut}) {
					t.Fatalf("after the restart: %v, want locked_out", got)
				}
				// After the lockout time, the card works again.
				time.Sleep(DefaultLockoutTime)
				b.badge("in", 100)
				b.keys("in", "4321#")
				if got := summary(b.ev.take(), false); !slices.Equal(got, []string{requested, granted + MethodCardAndCode}) {
					t.Fatalf("after the lockout time: %v", got)
				}
				if crash {
					a.stop(t)
				}
			})
		})
	}
}

// TestReaderLockoutSurvivesRestart: the entry-code count of a reader is
// kept too: two unknown codes, a restart, one more → keypad_lockout.
func TestReaderLockoutSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := realStore(t)
		c, p := testConfig(schedule.AccessControlled)
		c.Lockouts = st
		a := startLoop(t, c, p, st, t0)
		for range DefaultMaxAttempts - 1 {
			a.keys("in", "987654#")
		}
		a.stop(t)
		c2, p2 := testConfig(schedule.AccessControlled)
		c2.Lockouts = st
		b := startLoop(t, c2, p2, st, t0)
		defer b.stop(t)
		b.ev.take()
		b.keys("in", "987654#")
		b.keys("in", "987654#")
		want := []string{denied + ReasonUnknownCode, lockout, denied + ReasonLockedOut}
		if got := summary(b.ev.take(), false); !slices.Equal(got, want) {
			t.Fatalf("after the restart: %v, want %v", got, want)
		}
	})
}

// slowLockouts is a LockoutStore whose save blocks until released: the
// decision (relay, events) must not wait for it.
type slowLockouts struct {
	release chan struct{}
	saved   chan []Lockout
}

func (s *slowLockouts) LoadLockouts(string, time.Time) ([]Lockout, error) { return nil, nil }
func (s *slowLockouts) SaveLockouts(_ string, ls []Lockout) error {
	<-s.release
	s.saved <- ls
	return nil
}

// TestLockoutSaveOffDecisionPath: a slow lockout store delays neither the
// wrong code's refusal nor the next grant; what it was handed is written
// when Run ends.
func TestLockoutSaveOffDecisionPath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := &slowLockouts{release: make(chan struct{}), saved: make(chan []Lockout, 16)}
		c, p := testConfig(schedule.CardAndCode)
		c.Lockouts = slow
		l := startLoop(t, c, p, testCreds(), t0)
		l.ev.take()
		l.badge("in", 100)
		l.keys("in", "9999#")
		l.badge("in", 100)
		l.keys("in", "4321#")
		want := []string{requested, denied + ReasonWrongCode, requested, granted + MethodCardAndCode}
		if got := summary(l.ev.take(), false); !slices.Equal(got, want) {
			t.Fatalf("with the store's save blocked: %v, want %v", got, want)
		}
		if p.relay.Level() != gpio.High {
			t.Fatal("strike not released while the save is blocked")
		}
		close(slow.release)
		l.stop(t)
		var last []Lockout
		for len(slow.saved) > 0 {
			last = <-slow.saved
		}
		if len(last) != 1 || !last[0].Expires.IsZero() {
			t.Fatalf("last save %+v: want the card's counter deleted by the grant", last)
		}
	})
}

// panickyLockouts panics on save.
type panickyLockouts struct{}

func (panickyLockouts) LoadLockouts(string, time.Time) ([]Lockout, error) { return nil, nil }
func (panickyLockouts) SaveLockouts(string, []Lockout) error              { panic("store bug") }

// TestLockoutWriterPanicLocks: a panic while saving counters is Run's
// panic: the strike is driven locked and Run panics on.
func TestLockoutWriterPanicLocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := testConfig(schedule.CardAndCode)
		c.Lockouts = panickyLockouts{}
		c.Now = clockAt(t0)
		d := newDoor(t, c, testCreds(), nil)
		got := runRecovering(d, t.Context())
		synctest.Wait()
		d.Submit(reader.Read{Reader: "in", Kind: reader.KindCard, Card: card(100)})
		d.Submit(reader.Read{Reader: "in", Kind: reader.KindKeys, Keys: []byte("9999#")})
		if r := <-got; r != "store bug" {
			t.Fatalf("Run recovered %v, want the writer's panic", r)
		}
		if p.relay.Level() != gpio.Low {
			t.Fatal("strike not locked after the writer's panic")
		}
	})
}
