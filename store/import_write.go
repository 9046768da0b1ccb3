package store

import (
	"bytes"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// target pairs a data bucket with the deltas that change it.
type target struct {
	name []byte
	ds   []*delta
}

func (it *importer) targets() []target {
	return []target{
		{bUsers, []*delta{&it.users, &it.uduress, &it.uentry, &it.mfa}}, {bExt, []*delta{&it.ext}},
		{bEmail, []*delta{&it.email}}, {bCards, []*delta{&it.cards}},
		{bUCards, []*delta{&it.ucards}}, {bEntry, []*delta{&it.entry}},
	}
}

// changes counts the records that change something.
func (it *importer) changes() int {
	n := it.newRecs
	for _, t := range it.targets() {
		for _, d := range t.ds {
			for i := 0; i < d.len(); i++ {
				if !d.noop(i) {
					n++
				}
			}
		}
	}
	return n
}

// changed reports whether t has a record that changes something.
func (it *importer) changed(t target) bool {
	if it.newUsers > 0 && bytes.Equal(t.name, bUsers) || it.newCards && bytes.Equal(t.name, bUCards) {
		return true
	}
	for _, d := range t.ds {
		for i := 0; i < d.len(); i++ {
			if !d.noop(i) {
				return true
			}
		}
	}
	return false
}

// hasCodes reports whether the import stores entry or MFA codes.
func (it *importer) hasCodes() bool { return it.entry.len() > 0 || it.mfa.len() > 0 }

// record returns the key and value to write for record i of d. MFA
// records carry user id + MAC and the code length; they are written under
// user id + tagMFA + a sequence number, assigned in key order from the
// generation's sequence so the written keys stay sorted.
func (it *importer) record(d *delta, i int, mfaSeq *uint64) (key, val []byte) {
	key, val = d.key(i), d.val(i)
	if d == &it.mfa {
		*mfaSeq++
		mac := key[userIDLen:]
		return mfaKey(string(key[:userIDLen]), *mfaSeq), encodeCode(mac, int(val[0]), it.now, it.by.Name)
	}
	return key, val
}

func (it *importer) auditEvent() Event {
	e := audit(it.now, it.by, "csv_import", "", "")
	return e
}

// apply is pass 2. A small import is one write transaction on the live
// data. A large one would need more memory in one bbolt transaction than
// the target allows (every changed key becomes a node entry until
// commit), so it builds a complete new generation of the data buckets —
// the live data merged with the sorted changes — in transactions of
// mergeChunk records, invisible to readers, and then switches to it in
// one small transaction. A crash before the switch leaves the live data
// as it was; Open deletes the unfinished generation.
func (it *importer) apply(total int64, progress func(ImportProgress)) error {
	n := it.changes()
	if n == 0 {
		return nil
	}
	if n <= bulkThreshold {
		evs := []Event{it.auditEvent()}
		// update derives the card records of every user written here (the
		// cards delta holds only card stubs).
		write := func(tx *bolt.Tx, b buckets) ([]Event, error) {
			mfaSeq := b.root.Sequence()
			for _, t := range it.targets() {
				w := b.named(t.name)
				for _, d := range t.ds {
					for i := 0; i < d.len(); i++ {
						if d.noop(i) {
							continue
						}
						k, v := it.record(d, i, &mfaSeq)
						var err error
						if d.del(i) {
							err = w.Delete(k)
						} else {
							err = w.Put(k, v)
						}
						if err != nil {
							return nil, err
						}
					}
				}
			}
			if it.newUsers > 0 {
				f, err := it.newFeed()
				if err != nil {
					return nil, err
				}
				if _, err := f.write(b.users, b.ucards, -1); err != nil {
					return nil, err
				}
			}
			if err := b.root.SetSequence(mfaSeq); err != nil {
				return nil, err
			}
			if it.hasCodes() {
				if err := b.markCodes(); err != nil {
					return nil, err
				}
			}
			if err := b.users.SetSequence(it.userSeq); err != nil {
				return nil, err
			}
			return evs, nil
		}
		if it.s.remoteOf() != nil {
			// A fleet member: the documents go to the site (ImportWith).
			var err error
			it.remote, it.remoteBase, _, err = it.s.preview(write)
			if errors.Is(err, ErrInputChanged) {
				return err
			}
			if err != nil {
				return fmt.Errorf("store: import: write: %w", err)
			}
			it.remoteEvs = evs
			return nil
		}
		err := it.s.update(write)
		if errors.Is(err, ErrInputChanged) {
			return err
		}
		if err != nil {
			return fmt.Errorf("store: import: write: %w", err)
		}
		progress(ImportProgress{Rows: it.sum.Rows, Bytes: total, TotalBytes: total, Pass: 2})
		it.s.publish(evs)
		return nil
	}
	if it.s.remoteOf() != nil {
		return invalid("body", fmt.Sprintf("on a fleet member an import changes at most %d records; split the file (docs/fleet.md)", bulkThreshold))
	}
	return it.applyBulk(n, total, progress)
}
