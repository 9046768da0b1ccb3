package door

import (
	"slices"
	"testing"
	"time"

	"github.com/latchd/latch/schedule"
)

// keepAlive types "1*" every 4 s for dt: before the attempt limit, each
// '*' on a non-empty buffer moved the key deadline, so the attempt never
// timed out.
func keepAlive(d *driver, rdr string, dt time.Duration) {
	for end := d.now.Add(dt); d.now.Before(end); {
		d.keys(rdr, "1*")
		d.wait(4 * time.Second)
	}
}

// TestPendingAttemptRecheckedAtHash: at '#' the door decides on the user
// and the card as they are then, as a fresh badge would (red-team item 1).
func TestPendingAttemptRecheckedAtHash(t *testing.T) {
	alice := CardKey{Format: "h10301", FacilityCode: 1, CardNumber: 100}
	for _, tc := range []struct {
		name   string
		start  time.Time
		change func(d *driver)
		want   string
	}{
		{"end passed", t0, func(d *driver) {
			u := d.creds.users["u-alice"]
			u.view.End = d.now.Add(-time.Second)
		}, denied + ReasonUserInactive},
		{"start moved to the future", t0, func(d *driver) {
			d.creds.users["u-alice"].view.Start = d.now.Add(time.Hour)
		}, denied + ReasonUserInactive},
		{"groups changed", t0, func(d *driver) {
			d.creds.users["u-alice"].view.Groups = []string{"other"}
		}, denied + ReasonNoAccess},
		{"card deactivated", t0, func(d *driver) {
			c := d.creds.cards[alice]
			c.active = false
			d.creds.cards[alice] = c
		}, denied + ReasonCardInactive},
		{"MFA codes removed", t0, func(d *driver) {
			d.creds.users["u-alice"].view.HasMFA = false
			d.creds.users["u-alice"].view.HasEntryCode = false
		}, denied + ReasonNoSecondFactor},
		{"unchanged", t0, func(*driver) {}, granted + MethodCardAndCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := mustDriver(t, schedule.CardAndCode, nil)
			d.reset()
			d.card("in", 100)
			keepAlive(d, "in", 20*time.Second)
			tc.change(d)
			d.keys("in", "4321#")
			got := summary(d.events, false)
			if len(got) == 0 || got[len(got)-1] != tc.want {
				t.Fatalf("events %v, want last %s", got, tc.want)
			}
			if tc.want != granted+MethodCardAndCode && d.s.released {
				t.Fatal("strike released")
			}
			if f := d.s.cardFails[alice]; f != nil && len(f.times) > 0 {
				t.Fatalf("a refusal of a changed user counted as a wrong code: %v", f.times)
			}
		})
	}

	// The group's schedule closes while the code is typed: gina's group
	// "night" is 22:00–24:00.
	t.Run("group schedule closed", func(t *testing.T) {
		d := mustDriver(t, schedule.CardAndCode, nil)
		d.wait(time.Date(2026, 6, 1, 23, 59, 50, 0, time.UTC).Sub(d.now))
		d.reset()
		d.card("in", 106)
		d.wait(5 * time.Second)
		d.keys("in", "43")
		d.wait(4 * time.Second)
		d.keys("in", "21")
		d.wait(4 * time.Second) // 00:00:03
		d.keys("in", "#")
		got := summary(d.events, false)
		want := []string{requested, denied + ReasonNoAccess}
		if !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
	})
}

// TestPendingAttemptLimit: an attempt ends code_timeout + 16 × key_timeout
// after its badge however the keys are typed (red-team item 1).
func TestPendingAttemptLimit(t *testing.T) {
	d := mustDriver(t, schedule.CardAndCode, nil)
	d.reset()
	badgeAt := d.now
	d.card("in", 100)
	keepAlive(d, "in", time.Hour)
	d.keys("in", "4321#")
	got := summary(d.events, false)
	if slices.Contains(got, granted+MethodCardAndCode) {
		t.Fatalf("granted an hour after the badge: %v", got)
	}
	var timeout *Event
	for i := range d.events {
		if d.events[i].Reason == ReasonCodeTimeout {
			timeout = &d.events[i]
			break
		}
	}
	limit := DefaultCodeTimeout + 16*DefaultKeyTimeout
	if timeout == nil || timeout.Time.Sub(badgeAt) != limit {
		t.Fatalf("events %v: want code_timeout %s after the badge", got, limit)
	}

	// The longest code, each key just within key_timeout, still fits.
	d.reset()
	d.card("in", 100)
	d.wait(DefaultCodeTimeout - time.Millisecond)
	code := "8765432187654321"
	d.creds.users["u-alice"].mfa = append(d.creds.users["u-alice"].mfa, []byte(code))
	for i := range len(code) {
		d.keys("in", code[i:i+1])
		d.wait(DefaultKeyTimeout - time.Millisecond)
	}
	d.keys("in", "#")
	if got := summary(d.events, false); !slices.Equal(got, []string{requested, granted + MethodCardAndCode}) {
		t.Fatalf("longest code typed slowly: %v", got)
	}
}

// TestLockoutReachesPendingAttempt: wrong codes on one reader lock the
// card out of the door, and an attempt already pending for it on the other
// reader is refused at '#' without asking the store (red-team item 2).
func TestLockoutReachesPendingAttempt(t *testing.T) {
	d := mustDriver(t, schedule.CardAndCode, nil)
	d.card("out", 100) // pending on reader 2
	for range DefaultMaxAttempts {
		d.card("in", 100)
		d.keys("in", "0000#")
	}
	d.reset()
	verifies := d.creds.verifies
	d.keys("out", "4321#")
	got := summary(d.events, false)
	if !slices.Equal(got, []string{denied + ReasonLockedOut}) {
		t.Fatalf("pending attempt after the lockout: %v", got)
	}
	if d.creds.verifies != verifies {
		t.Fatal("the store was asked for a locked-out card's code")
	}
}
