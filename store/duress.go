package store

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Duress codes (docs/operations.md, "Duress codes"). A user may have one.
// It follows the code rules (ValidateCode) and is a credential like an
// entry code:
//
//   - Its MAC is the entry code's, HMAC(key, "entry\0"+code), and it is
//     indexed in the entry-code index (bEntry) under that MAC, with the
//     value user id + tagDuress. So one index keeps both unique across
//     users: a duress code can equal neither another user's entry code nor
//     another user's duress code. It also may not equal the same user's
//     entry code, nor one of their MFA codes: the door could not tell the
//     two apart.
//   - Its record sits in the users bucket under user id + tagDuress (a
//     code record, like an entry code's), so it sorts right before the
//     entry code and card records carry its MAC (cardrec.go).
//
// The duress output's state (active since when, or not) is a meta key,
// written in the same transaction as the duress or duress_cleared event
// that changes it (RecordDuress, ClearDuress).

// tagDuress is the users-bucket tag of a duress code record, and the byte
// after the user id in an entry-index value that is a duress code.
const tagDuress = 'd'

// kDuress is the meta key of the duress output's state: present (8 bytes
// BE, Unix ns of the first duress since the last clear) while active.
var kDuress = []byte("duress")

func duressKey(userID []byte) []byte {
	return append(append(make([]byte, 0, userIDLen+1), userID...), tagDuress)
}

// duressOwner is the entry-index value of userID's duress code.
func duressOwner(userID []byte) []byte { return duressKey(userID) }

// isDuressOwner reports whether an entry-index value names a duress code,
// and returns its user id.
func isDuressOwner(v []byte) ([]byte, bool) {
	if len(v) == userIDLen+1 && v[userIDLen] == tagDuress {
		return v[:userIDLen], true
	}
	return v, false
}

// OwnCodeError is the ErrConflict of a code that equals another code of
// the same user the door could not tell it from (a duress code and the
// user's entry or MFA code). What is the code set ("duress code", "entry
// code", "mfa code"), Rule what it must differ from. A clash with another
// user is a plain ErrConflict and never says who.
type OwnCodeError struct{ What, Rule string }

func (e *OwnCodeError) Error() string { return "store: " + e.What + ": " + e.Rule }

// Is makes errors.Is(err, ErrConflict) true.
func (e *OwnCodeError) Is(target error) bool { return target == ErrConflict }

var (
	errDuressIsEntry = &OwnCodeError{"duress code", "must differ from the user's entry code"}
	errDuressIsMFA   = &OwnCodeError{"duress code", "must differ from the user's MFA codes"}
	errEntryIsDuress = &OwnCodeError{"entry code", "must differ from the user's duress code"}
	errMFAIsDuress   = &OwnCodeError{"mfa code", "must differ from the user's duress code"}
)

// SetDuressCode sets (or replaces) a user's duress code. ErrConflict when
// another user has it as entry or duress code (the error never says who),
// or when it is the user's own entry code or one of their MFA codes (the
// error says which). Setting the code the user already has changes
// nothing and records nothing.
func (s *Store) SetDuressCode(userID string, code []byte, by Actor) error {
	return s.setSlotCode(userID, code, by, duressSlot)
}

// DeleteDuressCode removes a user's duress code; ErrNotFound when there is
// none.
func (s *Store) DeleteDuressCode(userID string, by Actor) error {
	return s.deleteSlotCode(userID, by, duressSlot)
}

// duressIs reports whether mac (an entry MAC) is userID's duress code.
func (b buckets) duressIs(userID string, mac []byte) bool {
	owner := b.entry.Get(mac)
	uid, duress := isDuressOwner(owner)
	return duress && string(uid) == userID
}

// DuressState is the duress output's stored state.
type DuressState struct {
	Active bool
	Since  time.Time // the first duress since the last clear; zero when not active
}

// DuressState reads the duress output's state.
func (s *Store) DuressState() (DuressState, error) {
	var st DuressState
	err := s.read(bMeta, func(tx *bolt.Tx) error {
		v := tx.Bucket(bMeta).Get(kDuress)
		if v == nil {
			return nil
		}
		if len(v) != 8 {
			return fmt.Errorf("%w: meta: the duress state", ErrCorrupt)
		}
		st = DuressState{Active: true, Since: nsTime(int64(binary.BigEndian.Uint64(v)))}
		return nil
	})
	return st, err
}

// RecordDuress appends ev (the door's duress event) and marks the duress
// output active, in one transaction, then publishes ev. An output already
// active keeps its first time.
func (s *Store) RecordDuress(ev Event) error {
	evs := []Event{ev}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := s.appendEventsTx(tx, evs); err != nil {
			return err
		}
		meta := tx.Bucket(bMeta)
		if meta.Get(kDuress) != nil {
			return nil
		}
		return meta.Put(kDuress, be64(uint64(evs[0].Time.UnixNano())))
	})
	if err != nil {
		return fmt.Errorf("store: record duress: %w", err)
	}
	s.publish(evs)
	return nil
}

// ClearDuress marks the duress output inactive and appends ev (its
// duress_cleared event), in one transaction, when it was active; it
// reports whether it was. When it was not, nothing is written.
func (s *Store) ClearDuress(ev Event) (bool, error) {
	evs := []Event{ev}
	was := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta.Get(kDuress) == nil {
			return nil
		}
		was = true
		if err := meta.Delete(kDuress); err != nil {
			return err
		}
		return s.appendEventsTx(tx, evs)
	})
	if err != nil {
		return false, fmt.Errorf("store: clear duress: %w", err)
	}
	if was {
		s.publish(evs)
	}
	return was, nil
}
