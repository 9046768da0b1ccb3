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
	var oldGen, newGen uint64
	err := it.s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		oldGen = binary.BigEndian.Uint64(meta.Get(kGen))
		newGen = oldGen + 1
		// A leftover generation of that number can only be garbage.
		if tx.Bucket(genName(newGen)) != nil {
			if err := tx.DeleteBucket(genName(newGen)); err != nil {
				return err
			}
		}
		root, err := tx.CreateBucket(genName(newGen))
		if err != nil {
			return err
		}
		for _, name := range dataBuckets {
			if _, err := root.CreateBucket(name); err != nil {
				return err
			}
		}
		return meta.Put(kStaging, be64(newGen))
	})
	if err != nil {
		return fmt.Errorf("store: import: start: %w", err)
	}
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
	for _, t := range it.targets() {
		if err := it.merge(oldGen, newGen, t, &mfaSeq, &done, report); err != nil {
			return fmt.Errorf("store: import: write %s: %w", t.name, err)
		}
	}
	evs := []Event{it.auditEvent()}
	err = it.s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if v := meta.Get(kStaging); v == nil || binary.BigEndian.Uint64(v) != newGen {
			return errors.New("staging generation vanished")
		}
		root := tx.Bucket(genName(newGen))
		if err := root.Bucket(bUsers).SetSequence(it.userSeq); err != nil {
			return err
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
	it.s.publish(evs)
	report()
	return nil
}

// merge writes bucket t.name of the new generation: the old generation's
// records merged with t's changes, in key order, mergeChunk records per
// transaction. Nothing reads the new generation until the switch, and no
// other writer changes the old one meanwhile (the import holds writeMu),
// so resuming by key between transactions is safe.
func (it *importer) merge(oldGen, newGen uint64, t target, mfaSeq *uint64, done *int64, report func()) error {
	var resume []byte // next old key to copy; nil with started = old bucket exhausted
	started, srcDone := false, false
	di := 0
	for {
		finished := false
		err := it.s.db.Update(func(tx *bolt.Tx) error {
			src := tx.Bucket(genName(oldGen)).Bucket(t.name)
			dst := tx.Bucket(genName(newGen)).Bucket(t.name)
			dst.FillPercent = fillAppend
			isMFA := t.d == &it.mfa
			if !started {
				if isMFA {
					*mfaSeq = src.Sequence()
				} else if err := dst.SetSequence(src.Sequence()); err != nil {
					return err
				}
			}
			c := src.Cursor()
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
				for di < t.d.len() && t.d.noop(di) {
					di++
				}
				if k == nil && di == t.d.len() {
					finished = true
					break
				}
				// Which comes first: the change di or the old record k?
				order := 1 // >0: old record first; 0: change replaces it; <0: change first
				if di < t.d.len() {
					dk := t.d.key(di)
					switch {
					case k == nil:
						order = -1
					case isMFA:
						// Changes are keyed user id + MAC but written under user
						// id + a sequence above every old one: a change goes
						// before k only when its user sorts before k's user.
						if bytes.Compare(dk[:userIDLen], k[:min(len(k), userIDLen)]) < 0 {
							order = -1
						}
					default:
						order = bytes.Compare(dk, k)
					}
				}
				var err error
				if order <= 0 {
					if !t.d.del(di) {
						wk, wv := it.record(t, di, mfaSeq)
						err = dst.Put(wk, wv)
					}
					di++
					*done += 64
				}
				if order >= 0 {
					if order > 0 {
						err = dst.Put(k, v)
					}
					*done += int64(len(k) + len(v) + 16)
					k, v = c.Next()
				}
				if err != nil {
					return err
				}
			}
			if k == nil {
				srcDone = true
			} else {
				resume = bytes.Clone(k)
			}
			if t.d == &it.mfa {
				return dst.SetSequence(*mfaSeq)
			}
			return nil
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
