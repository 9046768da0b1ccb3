package store

import (
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestChangeKeepsCardCopies: a write path that writes a user's records
// through its transaction's buckets and calls nothing else — as a new
// method that forgot the card records would — still leaves every card
// record equal to a fresh derivation from its user: the transaction
// wrapper derives the copies of every user it wrote.
func TestChangeKeepsCardCopies(t *testing.T) {
	s := openTest(t)
	u := mustUser(t, s, "e-1")
	key := recKey(t, s, u.UserID)
	id := []byte(key)
	if err := s.AddCard(u.UserID, Card{Format: "h10301", FacilityCode: 1, CardNumber: 2, Active: true}, admin); err != nil {
		t.Fatal(err)
	}
	codes := [][]byte{[]byte("1234"), []byte("5678")}
	entry, mfa := s.entryMAC(nil, codes[0]), s.mfaMAC(nil, key, codes[1])
	setFields := func(f func(*userRec)) func(buckets, time.Time) error {
		return func(b buckets, now time.Time) error {
			old, err := b.getUser(key)
			if err != nil {
				return err
			}
			r := old
			f(&r)
			return b.putUser(key, &r, &old)
		}
	}
	for _, w := range []struct {
		name  string
		write func(b buckets, now time.Time) error
	}{
		{"user record: groups and dates", setFields(func(r *userRec) {
			r.Groups = []string{"lab"}
			r.End = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		})},
		{"entry code record", func(b buckets, now time.Time) error {
			if err := b.entry.Put(entry, id); err != nil {
				return err
			}
			return b.users.Put(entryKey(id), encodeCode(entry, 4, now, "t"))
		}},
		{"mfa code record", func(b buckets, now time.Time) error {
			return b.users.Put(mfaKey(key, 7), encodeCode(mfa, 4, now, "t"))
		}},
		{"another card", func(b buckets, now time.Time) error {
			return b.putCard(key, CardKey{Format: "raw", CardNumber: 77}, true)
		}},
		{"mfa code deleted", func(b buckets, now time.Time) error { return b.users.Delete(mfaKey(key, 7)) }},
		{"user record: suspended", setFields(func(r *userRec) { r.Suspended = true })},
	} {
		err := s.change(func(tx *bolt.Tx, b buckets, now time.Time) ([]Event, error) {
			if err := b.markCodes(); err != nil {
				return nil, err
			}
			return nil, w.write(b, now)
		})
		if err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		t.Log(w.name)
		agree(t, s, codes)
	}
}
