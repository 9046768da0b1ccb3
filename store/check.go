package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
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
// so latchd must not hold it): that bbolt can walk its pages (checkPages,
// from the file's bytes, before bbolt reads a page), bbolt's own page
// consistency, the schema version, that every card record is what its
// user's records make (the door's copy, see cardrec.go) and is listed in
// the user's cards, that the entry-code index and the users' entry
// codes agree, and that the email and external id indexes and the users'
// records agree. It needs no key file. A problem in the card records is
// repaired by RepairCardRecords.
//
// Its work is bounded by the file: checkPages reads each page at most
// once, and bbolt's walks run only on a file it found sound. A panic or
// fault in bbolt on a corrupt file is a problem reported, never a crash.
func CheckFile(path string, timeout time.Duration) (rep *CheckReport, err error) {
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	r := &CheckReport{}
	defer func(fault bool) {
		p := recover()
		debug.SetPanicOnFault(fault)
		if p != nil {
			r.add("%v", corruptPanic([]byte("the file"), p))
			rep, err = r, nil
		}
	}(debug.SetPanicOnFault(true))
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrInUse, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: check %s: %w", path, err)
	}
	defer db.Close()
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("store: check %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("store: check %s: %w", path, err)
	}
	tx, err := db.Begin(false) // reads the meta pages only
	if err != nil {
		return nil, fmt.Errorf("store: check %s: %w", path, err)
	}
	txid := uint64(tx.ID())
	tx.Rollback()
	if !checkPages(f, fi.Size(), db.Info().PageSize, txid, r) {
		return r, nil // bbolt could loop, panic or fault on these pages
	}
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
	// Problems name users by their ids (userid.go), as the API does.
	ids, err := loadIDKey(tx.Bucket(bMeta), false)
	if err != nil {
		r.add("%v", err)
	}
	uname := func(key []byte) string {
		if !validUserID(string(key)) {
			return keyName(key) // not a record key: its bytes in hex
		}
		return ids.pub(string(key))
	}
	// The user records, and the email and external id indexes against
	// them, both ways.
	uc := b.users.Cursor()
	for k, v := uc.First(); k != nil; k, v = uc.Next() {
		if len(k) != userIDLen {
			continue
		}
		r.Users++
		u, err := decodeUser(v)
		if err != nil {
			r.add("user %s: %v", uname(k), err)
			continue
		}
		if u.Email != "" && b.email.Get(emailKey(u.Email, string(k))) == nil {
			r.add("email: the email of %s is missing from the email index", uname(k))
		}
		if u.ExternalID != "" && !bytes.Equal(b.ext.Get([]byte(u.ExternalID)), k) {
			r.add("ext: the external id of %s is missing from the external id index", uname(k))
		}
	}
	if err := uc.Err(); err != nil {
		r.add("users: %v", err)
	}
	c := b.email.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) != emailHashLen+userIDLen {
			r.add("email: a key of %d bytes", len(k))
			continue
		}
		uid := k[emailHashLen:]
		u, err := decodeUser(b.users.Get(uid))
		if err != nil || u.Email == "" || !bytes.Equal(emailKey(u.Email, string(uid)), k) {
			r.add("email: an entry of %s is not that user's email", uname(uid))
		}
	}
	c = b.ext.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		uid, ok := extUser(v)
		if !ok {
			r.add("ext: external id %q names no user id", k)
			continue
		}
		u, err := decodeUser(b.users.Get(uid))
		if err != nil || u.ExternalID != string(k) {
			r.add("ext: external id %q names %s, whose external id it is not", k, uname(uid))
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
		want, err := deriveCard(nil, b.users.recs, rec.userID, rec.active)
		if err != nil {
			r.add("card %s: %v", name, err)
			continue
		}
		if !bytes.Equal(v, want) {
			r.add("card %s of %s: its copy of the user's view or codes is stale", name, uname(rec.userID))
		}
		if b.ucards.Get(append(bytes.Clone(rec.userID), k...)) == nil {
			r.add("card %s of %s: missing from the user's cards (ucards)", name, uname(rec.userID))
		}
	}
	cc := b.ucards.Cursor()
	for k, _ := cc.First(); k != nil; k, _ = cc.Next() {
		if len(k) <= userIDLen {
			r.add("ucards: a key of %d bytes", len(k))
			continue
		}
		v := b.cards.Get(k[userIDLen:])
		if len(v) < userIDLen || !bytes.Equal(v[:userIDLen], k[:userIDLen]) {
			r.add("ucards: %s lists card %x, which is not theirs", uname(k[:userIDLen]), k[userIDLen:])
		}
	}
	// The entry-code index (MAC → user, or user + 'd' for a duress code)
	// against the users' entry-code and duress-code records (user 'e' or
	// user 'd' → MAC …), both ways.
	c = b.entry.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if uid, duress := isDuressOwner(v); duress {
			if rec := b.users.Get(duressKey(uid)); len(rec) < macSize || !bytes.Equal(rec[:macSize], k) {
				r.add("entry: a duress code of %q is not that user's duress code", uname(uid))
			}
			continue
		}
		rec := b.users.Get(entryKey(v))
		if len(v) != userIDLen || len(rec) < macSize || !bytes.Equal(rec[:macSize], k) {
			r.add("entry: an entry code of %q is not that user's entry code", uname(v[:min(len(v), userIDLen)]))
		}
	}
	uc = b.users.Cursor()
	for k, v := uc.First(); k != nil; k, v = uc.Next() {
		if len(k) != userIDLen+1 {
			continue
		}
		switch k[userIDLen] {
		case tagEntry:
			if len(v) < macSize || !bytes.Equal(b.entry.Get(v[:macSize]), k[:userIDLen]) {
				r.add("entry: the entry code of %s is missing from the entry-code index", uname(k[:userIDLen]))
			}
		case tagDuress:
			if len(v) < macSize || !bytes.Equal(b.entry.Get(v[:macSize]), k) {
				r.add("entry: the duress code of %s is missing from the entry-code index", uname(k[:userIDLen]))
			}
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
