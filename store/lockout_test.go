package store

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestLockoutsRoundTrip: counters survive a close and reopen; expired
// ones, also of other doors, are deleted at load; a zero Expires deletes.
func TestLockoutsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	card := CardKey{Format: "h10301", FacilityCode: 1, CardNumber: 100}
	live := []Lockout{
		{Card: card, Failures: []time.Time{now.Add(-time.Minute), now}, Expires: now.Add(5 * time.Minute)},
		{Reader: "in", LockedUntil: now.Add(time.Minute), Expires: now.Add(time.Minute)},
	}
	func() {
		s, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SaveLockouts("front", live); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveLockouts("front", []Lockout{{Reader: "gone", Expires: now.Add(time.Hour)}, {Reader: "gone"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveLockouts("old-door", []Lockout{{Card: card, LockedUntil: now.Add(-time.Second), Expires: now.Add(-time.Second)}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveLockouts("back", []Lockout{{Card: card, LockedUntil: now.Add(time.Minute), Expires: now.Add(time.Minute)}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveLockouts("front", []Lockout{{Card: CardKey{}, Expires: now}}); err == nil {
			t.Error("a card counter without a card format was saved")
		}
		// Each save is its own committed transaction: nothing is held for
		// Close, so a crash keeps them as this close does.
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	s := openAt(t, dir, nil)
	got, err := s.LoadLockouts("front", now)
	if err != nil {
		t.Fatal(err)
	}
	eq := func(a, b Lockout) bool {
		return a.Reader == b.Reader && a.Card == b.Card && a.LockedUntil.Equal(b.LockedUntil) && a.Expires.Equal(b.Expires) &&
			slices.EqualFunc(a.Failures, b.Failures, time.Time.Equal)
	}
	slices.SortFunc(got, func(a, b Lockout) int { return len(a.Reader) - len(b.Reader) })
	if !slices.EqualFunc(got, live, eq) {
		t.Fatalf("loaded %+v, want %+v", got, live)
	}
	keys := 0
	_ = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bLockouts).ForEach(func(k, _ []byte) error {
			keys++
			if bytes.Contains(k, []byte("old-door")) {
				t.Error("an expired counter of another door was kept")
			}
			return nil
		})
	})
	if keys != 3 {
		t.Errorf("%d counters stored, want 3 (front's two, back's one)", keys)
	}
	// Past their expiry they are gone.
	if got, err := s.LoadLockouts("front", now.Add(10*time.Minute)); err != nil || len(got) != 0 {
		t.Fatalf("after expiry: %+v, %v", got, err)
	}
}

// FuzzDecodeLockout: a lockout record never panics, and what decodes
// encodes to a record that decodes to the same counter of the same door
// (varints need not be in their shortest form to decode).
func FuzzDecodeLockout(f *testing.F) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	for _, l := range []Lockout{
		{Card: CardKey{Format: "h10301", FacilityCode: 1, CardNumber: 100}, Failures: []time.Time{now}, Expires: now},
		{Reader: "in", LockedUntil: now, Expires: now},
	} {
		f.Add(lockoutKey("front", &l), encodeLockout(&l))
	}
	f.Fuzz(func(t *testing.T, k, v []byte) {
		l, door, err := decodeLockout(k, v)
		if err != nil {
			return
		}
		l2, door2, err := decodeLockout(lockoutKey(door, &l), encodeLockout(&l))
		if err != nil {
			t.Fatalf("%+v of door %q does not decode again: %v", l, door, err)
		}
		if door2 != door || l2.Reader != l.Reader || l2.Card != l.Card || !l2.LockedUntil.Equal(l.LockedUntil) ||
			!l2.Expires.Equal(l.Expires) || !slices.EqualFunc(l2.Failures, l.Failures, time.Time.Equal) {
			t.Fatalf("round trip: %+v of %q became %+v of %q", l, door, l2, door2)
		}
	})
}
