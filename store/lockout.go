package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bLockouts holds the doors' keypad lockout counters (docs/store.md
// "Lockouts"), so that a reload, a restart or a crash does not hand out
// fresh guesses. A top-level bucket: an import's new generation keeps it.
// Keys name a card or a reader, never a code:
//
//	uvarint len(door), door, 'c', card key (appendCardKey)  a card's count
//	uvarint len(door), door, 'r', reader name                a reader's entry-code count
var bLockouts = []byte("lockouts")

const (
	lockoutCard   = 'c'
	lockoutReader = 'r'
	// maxLockoutFailures bounds a record's failure times (a door keeps
	// fewer than mfa.max_code_attempts).
	maxLockoutFailures = 1000
)

// Lockout is one lockout counter of a door: a card's wrong codes, or a
// reader's unknown entry codes.
type Lockout struct {
	Reader      string      // a reader's entry-code counter; "" = a card's
	Card        CardKey     // the card, for a card's counter
	Failures    []time.Time // wrong codes not yet out of the lockout window
	LockedUntil time.Time   // zero = not locked out
	// Expires is when the counter is of no more use (its lockout over,
	// its failures out of the window): LoadLockouts drops it then. A zero
	// Expires in SaveLockouts deletes the counter.
	Expires time.Time
}

func lockoutKey(door string, l *Lockout) []byte {
	b := appendString(make([]byte, 0, 32), door)
	if l.Reader != "" {
		return append(append(b, lockoutReader), l.Reader...)
	}
	return appendCardKey(append(b, lockoutCard), l.Card)
}

// SaveLockouts writes changed counters of door, in one transaction: each
// replaces the stored one, and one with a zero Expires is deleted. The door
// calls it after it has driven the relay, from a writer of its own, never
// on a decision's path.
func (s *Store) SaveLockouts(door string, ls []Lockout) error {
	if door == "" {
		return errors.New("store: save lockouts: door name is empty")
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bLockouts)
		if err != nil {
			return err
		}
		for i := range ls {
			l := &ls[i]
			if l.Reader == "" {
				if err := validateCardKey(l.Card); err != nil {
					return err
				}
			}
			k := lockoutKey(door, l)
			if l.Expires.IsZero() {
				if err := b.Delete(k); err != nil {
					return err
				}
				continue
			}
			if len(l.Failures) > maxLockoutFailures {
				return fmt.Errorf("%d failure times: at most %d", len(l.Failures), maxLockoutFailures)
			}
			if err := b.Put(k, encodeLockout(l)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: save lockouts of door %s: %w", door, err)
	}
	return nil
}

// LoadLockouts returns the counters of door that have not expired at now.
// Expired counters of every door (also of doors no longer configured) and
// unreadable ones are deleted.
func (s *Store) LoadLockouts(door string, now time.Time) ([]Lockout, error) {
	var out []Lockout
	var drop [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bLockouts)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			l, d, err := decodeLockout(k, v)
			if err != nil || !now.Before(l.Expires) {
				if err != nil {
					s.log.Warn().Err(err).Msg("store: unreadable lockout counter dropped")
				}
				drop = append(drop, bytes.Clone(k))
				return nil
			}
			if d == door {
				out = append(out, l)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: load lockouts of door %s: %w", door, err)
	}
	if len(drop) > 0 {
		err = s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bLockouts)
			for _, k := range drop {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("store: drop expired lockouts: %w", err)
		}
	}
	return out, nil
}

// Lockout record: version (1), locked until (varint Unix ns, 0 = none),
// expires (varint Unix ns), count (uvarint), failure times (varint Unix ns).
const lockoutV1 = 1

func encodeLockout(l *Lockout) []byte {
	b := make([]byte, 0, 24+10*len(l.Failures))
	b = append(b, lockoutV1)
	var until int64
	if !l.LockedUntil.IsZero() {
		until = l.LockedUntil.UnixNano()
	}
	b = binary.AppendVarint(b, until)
	b = binary.AppendVarint(b, l.Expires.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(l.Failures)))
	for _, t := range l.Failures {
		b = binary.AppendVarint(b, t.UnixNano())
	}
	return b
}

var errLockoutRecord = errors.New("store: lockout counter: corrupt record")

// decodeLockout reads a counter and the door it belongs to.
func decodeLockout(k, v []byte) (Lockout, string, error) {
	var l Lockout
	n, w := binary.Uvarint(k)
	if w <= 0 || n > uint64(len(k)-w) || int(n) == len(k)-w {
		return l, "", errLockoutRecord
	}
	door := string(k[w : w+int(n)])
	rest := k[w+int(n):]
	switch rest[0] {
	case lockoutReader:
		if len(rest) < 2 {
			return l, "", errLockoutRecord
		}
		l.Reader = string(rest[1:])
	case lockoutCard:
		c, ok := decodeCardKey(rest[1:])
		if !ok {
			return l, "", errLockoutRecord
		}
		l.Card = c
	default:
		return l, "", errLockoutRecord
	}
	if len(v) < 1 || v[0] != lockoutV1 {
		return l, "", errLockoutRecord
	}
	v = v[1:]
	next := func() (int64, bool) {
		x, w := binary.Varint(v)
		if w <= 0 {
			return 0, false
		}
		v = v[w:]
		return x, true
	}
	until, ok1 := next()
	exp, ok2 := next()
	if !ok1 || !ok2 {
		return l, "", errLockoutRecord
	}
	if until != 0 {
		l.LockedUntil = time.Unix(0, until)
	}
	l.Expires = time.Unix(0, exp)
	cnt, w := binary.Uvarint(v)
	if w <= 0 || cnt > maxLockoutFailures {
		return l, "", errLockoutRecord
	}
	v = v[w:]
	if cnt > 0 {
		l.Failures = make([]time.Time, 0, cnt)
	}
	for range cnt {
		t, ok := next()
		if !ok {
			return l, "", errLockoutRecord
		}
		l.Failures = append(l.Failures, time.Unix(0, t))
	}
	if len(v) != 0 {
		return l, "", errLockoutRecord
	}
	return l, door, nil
}
