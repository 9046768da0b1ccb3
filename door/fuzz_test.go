package door

import (
	"testing"
	"time"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// FuzzStep drives step with arbitrary input sequences and checks the
// invariants: no panic; the relay is only released in a step that grants,
// answers an exit button with rex_unlocks, or enters unlocked mode; Card +
// Code is never downgraded to card only; after stop the strike is locked
// and nothing more happens; credentials and time change while codes are
// pending, and no card is granted that a fresh badge at that instant would
// refuse (unknown or inactive card, user inactive or suspended, no group
// open now, door locked; in card_and_code also locked out or without a
// second factor). The driver steps through Door.apply and answer, as Run
// does, so the fuzzer also checks apply's order (checkOrder): relay before
// the events that report it, lockout counters after the events.
func FuzzStep(f *testing.F) {
	f.Add([]byte{2, 0, 0, 1, 4, 1, 3, 1, 2, 1, 1, 2, 1, 0x12})
	f.Add([]byte{1, 0x40, 0x40, 0x55, 0x66, 0x70, 0x88, 0x93})
	f.Add([]byte{0, 0x01, 0x11, 0x21, 0x31, 0x41, 0x51, 0x61, 0x71, 0x81, 0x91})
	f.Add([]byte{3, 0x05, 0x06, 0x05, 0x06, 0x36, 0x14, 0x24})
	f.Add([]byte{2, 0x00, 0x0b, 0x09, 0x01})
	f.Add([]byte{0x42, 0x60, 0x0c, 0x5d, 0x11})
	cards := []uint64{100, 101, 102, 103, 104, 105, 106, 107, 5678, 108, 999}
	codes := []string{"4321", "1111", "2222", "9999", "5678", "", "12345678901234567", "9191", "9292"}
	modes := []schedule.Mode{schedule.Unlocked, schedule.AccessControlled, schedule.CardAndCode, schedule.Locked, schedule.Unknown}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		flags := data[0]
		c, _ := testConfig(modes[int(flags)%4])
		c.RexUnlocks = flags&0x04 != 0
		c.RelockOnOpen = flags&0x08 != 0
		if flags&0x10 != 0 {
			c.SecondFactor = SecondFactorEntryOnly
		}
		c.MFA.EntryCodeFallback = flags&0x20 == 0
		withInputs(&c)
		c.DoubleBadge = flags&0x80 != 0
		d := newDriver(t, c, duressCreds()) // testCreds with duress codes 9191 (alice), 9292 (bob)
		if flags&0x40 != 0 {
			// Close to the end of group night's window (22:00–24:00).
			d.wait(time.Date(2026, 6, 1, 23, 58, 0, 0, time.UTC).Sub(d.now))
		}
		released := false
		for _, r := range d.relay {
			released = r
		}
		readers := []string{"in", "out", "nowhere"}
		var dpsOpen, rexOn, panicOn bool
		for i := 1; i < len(data); i++ {
			b := data[i]
			rdr := readers[int(b>>4)%len(readers)]
			arg := int(b >> 4)
			d.reset()
			stopped := d.s.stopped
			lockdownBefore := d.s.eff.Level == LevelLockdown
			lockedBefore := map[CardKey]bool{}
			for k, f := range d.s.cardFails {
				lockedBefore[k] = d.now.Before(f.lockedUntil)
			}
			switch b % 13 {
			case 0:
				d.card(rdr, cards[arg%len(cards)])
			case 1:
				d.keys(rdr, codes[arg%len(codes)]+"#")
			case 2:
				d.keys(rdr, string("0123456789*#"[arg%12]))
			case 3:
				d.step(inBad{reader: rdr, reason: reader.BadParity})
			case 4:
				dpsOpen = !dpsOpen
				d.step(inDPS{open: dpsOpen})
			case 5:
				rexOn = !rexOn
				d.step(inREX{pressed: rexOn})
			case 6:
				d.wait(time.Duration(arg) * 700 * time.Millisecond)
			case 7:
				d.wait(time.Duration(arg) * 20 * time.Second)
			case 8:
				// Operating the door: overrides, lockdown, the fire alarm
				// and the panic button, a remote unlock.
				switch arg {
				case 10, 11:
					d.step(inCommand{cmd: cmdLockdown{on: arg == 10}, reply: make(chan error, 1)})
				case 12, 13:
					d.step(inInput{name: "fire", active: arg == 12})
				case 14:
					d.step(inCommand{cmd: cmdUnlock{d: 3 * time.Second}, reply: make(chan error, 1)})
				case 15:
					panicOn = !panicOn
					d.step(inInput{name: "panic", active: panicOn})
				default:
					d.step(overrideCmd(d, modes[arg%len(modes)]))
				}
			case 9:
				d.step(inTick{})
			case 10:
				if arg == 15 {
					d.step(inStop{})
				} else {
					d.keys(rdr, "4321")
				}
			case 11:
				// The credentials change (the next byte says how).
				var p byte
				if i+1 < len(data) {
					i++
					p = data[i]
				}
				// The card of a pending attempt, if any: the case that matters.
				cn := cards[arg%len(cards)]
				for _, name := range d.s.readerNames {
					if r := d.s.readers[name]; r.phase == phAwaiting && arg%2 == 0 {
						cn = r.card.CardNumber
					}
				}
				changeCreds(d, cn, p)
			case 12:
				d.wait(time.Duration(arg) * 7 * time.Minute)
			}
			for _, e := range d.events {
				if e.Event == EvAccessGranted && e.Card != nil {
					if why := freshRefusal(d, c, e, lockedBefore); why != "" {
						t.Fatalf("input %d (%#x): card %+v granted %+v that a fresh badge would refuse: %s; events %v",
							i, b, e.Card, e, why, summary(d.events, true))
					}
				}
			}
			for _, e := range d.events {
				if e.Event == EvAccessGranted && lockdownBefore && d.s.eff.Level == LevelLockdown {
					t.Fatalf("input %d (%#x): granted during a lockdown: %+v", i, b, e)
				}
			}
			if len(d.s.emergency) > 0 && !d.s.stopped && !d.s.released {
				t.Fatalf("input %d (%#x): the fire alarm is active and the strike is locked", i, b)
			}
			// The relay is released only by a reason in the same step.
			var granted, rexUnlock, toUnlocked bool
			for _, e := range d.events {
				switch {
				case e.Event == EvAccessGranted && e.Method != MethodUnlockedMode:
					granted = true
				case e.Event == EvREX && c.RexUnlocks:
					rexUnlock = true
				case e.Event == EvModeChanged && e.To == string(schedule.Unlocked):
					toUnlocked = true
				}
				if e.Event == EvAccessGranted && e.Mode == string(schedule.CardAndCode) && e.Method != MethodCardAndCode && e.Method != MethodRemote &&
					!(e.Reader == "out" && c.SecondFactor == SecondFactorEntryOnly) {
					t.Fatalf("card_and_code downgraded: %+v", e)
				}
				if e.Event == EvAccessGranted && e.Method == MethodCardAndCode && e.UserID == "" {
					t.Fatalf("card_and_code grant without a user: %+v", e)
				}
			}
			for _, r := range d.relay {
				if r && !released && !granted && !rexUnlock && !toUnlocked {
					t.Fatalf("input %d (%#x): relay released without a grant, REX or unlocked mode; events %v", i, b, summary(d.events, true))
				}
				released = r
			}
			if released != d.s.released {
				t.Fatalf("state says released=%v, relay=%v", d.s.released, released)
			}
			if d.orderErr != nil {
				t.Fatalf("input %d (%#x): %v; actions %v", i, b, d.orderErr, d.acts)
			}
			if stopped && len(d.acts) > 0 {
				t.Fatalf("actions after stop: %v", d.acts)
			}
			if d.s.stopped && d.s.released {
				t.Fatal("strike released after stop")
			}
			if d.s.mode == schedule.Unknown {
				t.Fatal("effective mode unknown")
			}
			for name, r := range d.s.readers {
				if len(r.buf) > maxCodeDigits {
					t.Fatalf("reader %s buffers %d digits", name, len(r.buf))
				}
			}
		}
	})
}

// changeCreds changes what the store says of card cn's user or card, as
// an administrator or an import would while a code is typed.
func changeCreds(d *driver, cn uint64, p byte) {
	k := cardKey(card(cn))
	fc, ok := d.creds.cards[k]
	if !ok {
		return
	}
	u := d.creds.users[fc.user]
	sec := time.Duration(p>>3) * time.Second
	switch p % 8 {
	case 0:
		u.view.Suspended = !u.view.Suspended
	case 1:
		u.view.End = d.now.Add(sec - 5*time.Second)
	case 2:
		u.view.Start = d.now.Add(sec - 5*time.Second)
	case 3:
		u.view.Groups = [][]string{{"staff"}, {"night"}, {"other"}, nil}[p>>3%4]
	case 4:
		fc.active = !fc.active
		d.creds.cards[k] = fc
	case 5:
		u.mfa, u.view.HasMFA = nil, false
	case 6:
		u.entry, u.view.HasEntryCode = nil, false
	case 7:
		delete(d.creds.cards, k)
	}
}

// freshRefusal is why a card badged now would be refused the grant e, or
// "": the fuzz oracle, written from the rules (docs/door.md), not from the
// door's decision function.
func freshRefusal(d *driver, c Config, e Event, lockedBefore map[CardKey]bool) string {
	k := CardKey{Format: e.Card.Format, FacilityCode: e.Card.FacilityCode, CardNumber: e.Card.CardNumber}
	fc, ok := d.creds.cards[k]
	if !ok {
		return "unknown card"
	}
	if !fc.active {
		return "card inactive"
	}
	u := d.creds.users[fc.user].view
	if u.UserID != e.UserID {
		return "card now another user's"
	}
	if !u.ActiveAt(d.now) {
		return "user inactive"
	}
	open := false
	for _, g := range u.Groups {
		if a, ok := d.s.cfg.groups[g]; ok && a.Allows(d.now) {
			open = true
		}
	}
	if !open {
		return "no group open"
	}
	if e.Mode == string(schedule.Locked) {
		return "door locked"
	}
	if e.Mode == string(schedule.CardAndCode) && !(e.Reader == "out" && c.SecondFactor == SecondFactorEntryOnly) {
		if lockedBefore[k] {
			return "locked out"
		}
		if !u.HasMFA && !(c.MFA.EntryCodeFallback && u.HasEntryCode) {
			return "no second factor"
		}
	}
	return ""
}
