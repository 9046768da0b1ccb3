package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// maxProblems caps the problems a check lists (the rest are counted).
const maxProblems = 100

// CheckReport is what CheckFile found.
type CheckReport struct {
	Schema   uint32
	Users    int // user records
	Cards    int // card records
	Problems []string
	More     int // problems beyond those listed
}

// OK reports whether the check found nothing wrong.
func (r *CheckReport) OK() bool { return len(r.Problems) == 0 }

func (r *CheckReport) add(format string, args ...any) {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	} else {
		r.More++
	}
}

// CheckFile checks a database file without changing it (bbolt read-only,
// so latchd must not hold it): bbolt's own page consistency, the schema
// version, and that every card record is what its user's records make
// (the door's copy, see cardrec.go) and is listed in the user's cards. It
// needs no key file. A problem in the card records is repaired by
// RepairCardRecords.
func CheckFile(path string, timeout time.Duration) (*CheckReport, error) {
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrInUse, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: check %s: %w", path, err)
	}
	defer db.Close()
	r := &CheckReport{}
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			r.add("bbolt: %v", err)
		}
		meta := tx.Bucket(bMeta)
		if meta == nil {
			return errors.New("store: check: not a latch database (no meta bucket)")
		}
		if v := meta.Get(kSchema); len(v) == 4 {
			r.Schema = binary.BigEndian.Uint32(v)
		}
		if r.Schema != schemaVersion {
			r.add("schema %d: this program reads %d; open the database with latchd (or latchctl import) to migrate it", r.Schema, schemaVersion)
			return nil
		}
		return checkData(tx, r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// checkData adds to r what is wrong with the live generation's users and
// card records.
func checkData(tx *bolt.Tx, r *CheckReport) error {
	b, err := txBuckets(tx)
	if err != nil {
		return err
	}
	c := b.users.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) == userIDLen {
			r.Users++
		}
	}
	c = b.cards.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r.Cards++
		ck, ok := decodeCardKey(k)
		name := fmt.Sprintf("%x", k)
		if ok {
			name = fmt.Sprintf("%s/%d/%d", ck.Format, ck.FacilityCode, ck.CardNumber)
		}
		rec, err := parseCard(v)
		if err != nil {
			r.add("card %s: %v", name, err)
			continue
		}
		want, err := deriveCard(nil, b.users, rec.userID, rec.active)
		if err != nil {
			r.add("card %s: %v", name, err)
			continue
		}
		if !bytes.Equal(v, want) {
			r.add("card %s of %s: its copy of the user's view or codes is stale", name, rec.userID)
		}
		if b.ucards.Get(append(bytes.Clone(rec.userID), k...)) == nil {
			r.add("card %s of %s: missing from the user's cards (ucards)", name, rec.userID)
		}
	}
	c = b.ucards.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) <= userIDLen {
			r.add("ucards: a key of %d bytes", len(k))
			continue
		}
		v := b.cards.Get(k[userIDLen:])
		if len(v) < userIDLen || !bytes.Equal(v[:userIDLen], k[:userIDLen]) {
			r.add("ucards: %s lists card %x, which is not theirs", k[:userIDLen], k[userIDLen:])
		}
	}
	return nil
}

// RepairCardRecords derives every card record again from its user's
// records and writes those that differ, migrateChunk per transaction; it
// returns how many it rewrote. It repairs what CheckFile reports as stale
// card records; a card whose user is missing stays an error.
func (s *Store) RepairCardRecords() (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	n, err := rederiveAll(s.db, nil)
	if err != nil {
		return n, fmt.Errorf("store: repair card records: %w", err)
	}
	return n, nil
}
