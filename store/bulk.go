package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// fillAppend is the fill percent for buckets written in key order: pages
// are packed almost full instead of split in half.
const fillAppend = 0.95

// applyBulk writes a large import into a new generation; see apply.
func (it *importer) applyBulk(changes int, total int64, progress func(ImportProgress)) error {
	// Buckets without changes are not copied: the switch moves them. The
	// card records carry a copy of their user's door view and codes, so
	// the cards bucket is written again whenever the users bucket changes,
	// and last: after the users bucket is complete, from which merge
	// derives every card record it writes.
	var merged, moved []target
	var cards *target
	usersChanged := false
	for _, t := range it.targets() {
		switch {
		case bytes.Equal(t.name, bCards):
			cards = &t
		case it.changed(t):
			merged = append(merged, t)
			usersChanged = usersChanged || bytes.Equal(t.name, bUsers)
		default:
			moved = append(moved, t)
		}
	}
	cardsMerged := usersChanged || it.changed(*cards)
	if cardsMerged {
		merged = append(merged, *cards)
	} else {
		moved = append(moved, *cards)
	}
	var oldGen, newGen uint64
	err := it.s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		oldGen = binary.BigEndian.Uint64(meta.Get(kGen))
		newGen = oldGen + 1
		names := make([][]byte, len(merged))
		for i, t := range merged {
			names[i] = t.name
		}
		return newStaging(tx, newGen, names)
	})
	if err != nil {
		return fmt.Errorf("store: import: start: %w", err)
	}
	switched := false
	defer func() {
		if !switched {
			it.dropStaging(newGen)
		}
	}()
	// Progress in bytes: the old generation's records as they are copied
	// plus the changes (an estimate: counting records would read every page).
	var work int64
	it.s.db.View(func(tx *bolt.Tx) error { work = tx.Size(); return nil })
	work += int64(changes) * 64
	var done int64
	report := func() {
		b := total
		if work > 0 {
			b = min(total, total*done/work)
		}
		progress(ImportProgress{Rows: it.sum.Rows, Bytes: b, TotalBytes: total, Pass: 2})
	}
	var mfaSeq uint64
	it.s.db.View(func(tx *bolt.Tx) error { mfaSeq = tx.Bucket(genName(oldGen)).Sequence(); return nil })
	head := merged
	if cardsMerged {
		head = merged[:len(merged)-1]
	}
	for _, t := range head {
		if err := it.merge(oldGen, newGen, t, &mfaSeq, &done, report); err != nil {
			return fmt.Errorf("store: import: write %s: %w", t.name, err)
		}
	}
	if it.newUsers > 0 {
		if err := it.appendNew(newGen, &done, report); err != nil {
			if errors.Is(err, ErrInputChanged) {
				return err
			}
			return fmt.Errorf("store: import: write users: %w", err)
		}
	}
	if cardsMerged {
		if err := it.merge(oldGen, newGen, *cards, &mfaSeq, &done, report); err != nil {
			return fmt.Errorf("store: import: write %s: %w", cards.name, err)
		}
	}
	evs := []Event{it.auditEvent()}
	err = it.s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if v := meta.Get(kStaging); v == nil || binary.BigEndian.Uint64(v) != newGen {
			return errors.New("staging generation vanished")
		}
		root := tx.Bucket(genName(newGen))
		old := tx.Bucket(genName(oldGen))
		for _, t := range merged {
			if err := old.DeleteBucket(t.name); err != nil {
				return err
			}
		}
		for _, t := range moved {
			if err := tx.MoveBucket(t.name, old, root); err != nil {
				return err
			}
		}
		if err := root.Bucket(bUsers).SetSequence(it.userSeq); err != nil {
			return err
		}
		if err := root.SetSequence(mfaSeq); err != nil {
			return err
		}
		if it.hasCodes() {
			if err := meta.Put(kHasCodes, []byte{1}); err != nil {
				return err
			}
		}
		if err := meta.Put(kGen, be64(newGen)); err != nil {
			return err
		}
		if err := meta.Delete(kStaging); err != nil {
			return err
		}
		if err := tx.DeleteBucket(genName(oldGen)); err != nil {
			return err
		}
		return it.s.appendEventsTx(tx, evs)
	})
	if err != nil {
		return fmt.Errorf("store: import: switch: %w", err)
	}
	switched = true
	it.s.publish(evs)
	report()
	return nil
}

// dropStaging deletes the half-built generation of a failed import (Open
// would otherwise do it, at the next start). Failing here changes nothing
// that Open cannot repair, so the error is not reported.
func (it *importer) dropStaging(gen uint64) { it.s.dropStaging(gen) }

// merge writes bucket t.name of the new generation: the old generation's
// records merged with t's changes, in key order, mergeChunk records per
// transaction. Nothing reads the new generation until the switch, and no
// other writer changes the old one meanwhile (the import holds writeMu),
// so resuming by key between transactions is safe.
func (it *importer) merge(oldGen, newGen uint64, t target, mfaSeq *uint64, done *int64, report func()) error {
	var resume []byte // next old key to copy
	started, srcDone := false, false
	pos := make([]int, len(t.ds)) // next record of each delta
	var mfaOrder [userIDLen + 9]byte
	// orderKey is where record i of d goes among the old keys. MFA changes
	// are keyed user id + MAC but written under user id + tagMFA + a
	// sequence above every old one: after all of that user's old records.
	// A card of the ucards delta (user id + card key) is the user's
	// record user id + tagCard + card key (userval.go).
	orderKey := func(d *delta, i int) []byte {
		k := d.key(i)
		switch d {
		case &it.ucards:
			return cardRecKey(k)
		case &it.mfa:
		default:
			return k
		}
		copy(mfaOrder[:], k[:userIDLen])
		mfaOrder[userIDLen] = tagMFA
		for j := userIDLen + 1; j < len(mfaOrder); j++ {
			mfaOrder[j] = 0xff
		}
		return mfaOrder[:]
	}
	for {
		finished := false
		err := it.s.db.Update(func(tx *bolt.Tx) error {
			flush := func() error { return nil }
			src := tx.Bucket(genName(oldGen)).Bucket(t.name)
			dst := tx.Bucket(genName(newGen)).Bucket(t.name)
			dst.FillPercent = fillAppend
			// put writes a record; a card's record is derived from the
			// new generation's users bucket (the value is used only for
			// its user id and active byte), which is the old one when
			// the import leaves the users unchanged (the switch moves it).
			// The users bucket is read and written by record (userval.go).
			put := dst.Put
			var c kvCursor = src.Cursor()
			if bytes.Equal(t.name, bUsers) {
				w := &recWriter{r: recs{dst}} // flushed before the commit, below
				flush = w.Flush
				put, c = w.Put, recs{src}.Cursor()
			}
			if bytes.Equal(t.name, bCards) {
				users := recs{tx.Bucket(genName(newGen)).Bucket(bUsers)}
				if users.Bucket == nil {
					users = recs{tx.Bucket(genName(oldGen)).Bucket(bUsers)}
				}
				put = func(k, v []byte) error {
					if len(v) <= cardActiveAt {
						return fmt.Errorf("%w: card record", errCorrupt)
					}
					rec, err := deriveCard(nil, users, v[:userIDLen], v[cardActiveAt] == 1)
					if err != nil {
						return err
					}
					return dst.Put(k, rec)
				}
			}
			if !started {
				if err := dst.SetSequence(src.Sequence()); err != nil {
					return err
				}
			}
			var k, v []byte
			switch {
			case srcDone:
			case !started:
				k, v = c.First()
			default:
				k, v = c.Seek(resume)
			}
			started = true
			for n := 0; n < mergeChunk; n++ {
				// The smallest next change over all deltas (first delta on ties).
				best, bi := -1, 0
				var bk []byte
				for j, d := range t.ds {
					for pos[j] < d.len() && d.noop(pos[j]) {
						pos[j]++
					}
					if pos[j] == d.len() {
						continue
					}
					ok := orderKey(d, pos[j])
					if best < 0 || bytes.Compare(ok, bk) < 0 {
						best, bi, bk = j, pos[j], ok // ok aliases the arena or mfaOrder; only one delta is MFA
					}
				}
				if k == nil && best < 0 {
					finished = true
					break
				}
				order := 1 // >0: old record first; 0: the change replaces it; <0: change first
				if best >= 0 {
					if k == nil {
						order = -1
					} else {
						order = bytes.Compare(bk, k)
					}
				}
				var err error
				if order <= 0 {
					d := t.ds[best]
					if !d.del(bi) {
						wk, wv := it.record(d, bi, mfaSeq)
						err = put(wk, wv)
					}
					pos[best]++
					*done += 64
				}
				if order >= 0 {
					if order > 0 {
						err = put(k, v)
					}
					*done += int64(len(k) + len(v) + 16)
					k, v = c.Next()
				}
				if err != nil {
					return err
				}
			}
			if rc, ok := c.(*recCursor); ok && rc.Err() != nil {
				return rc.Err() // a user's value that does not decode: never drop the users after it
			}
			if k == nil {
				srcDone = true
			} else {
				resume = bytes.Clone(k)
			}
			return flush()
		})
		if err != nil {
			return err
		}
		report()
		if finished {
			return nil
		}
	}
}

// appendNew writes the new users' records and cards (newFeed) after
// everything merge wrote to the new generation's users bucket,
// mergeChunk records per transaction.
func (it *importer) appendNew(newGen uint64, done *int64, report func()) error {
	f, err := it.newFeed()
	if err != nil {
		return err
	}
	before := 0
	for {
		var end bool
		err := it.s.db.Update(func(tx *bolt.Tx) error {
			users := recs{tx.Bucket(genName(newGen)).Bucket(bUsers)}
			users.FillPercent = fillAppend
			w := &recWriter{r: users}
			var err error
			if end, err = f.write(w, cardWriter{w}, mergeChunk); err != nil {
				return err
			}
			return w.Flush()
		})
		if err != nil {
			return err
		}
		*done += int64(f.recs-before) * 64
		before = f.recs
		report()
		if end {
			return nil
		}
	}
}

// kvCursor is a bbolt cursor or a recCursor (userval.go): what merge walks.
type kvCursor interface {
	First() ([]byte, []byte)
	Seek([]byte) ([]byte, []byte)
	Next() ([]byte, []byte)
}
