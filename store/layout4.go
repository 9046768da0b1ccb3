package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Schema 3 → 4 (docs/store.md, "Schema and migrations"): the same records
// in less room.
//
//   - A record key is the users bucket's sequence in 8 bytes big-endian,
//     not "u" and 15 hex digits of it (in the keys of users and ucards, the
//     values of ext, cards and entry, the email index's keys). Both forms
//     sort as the sequence does, so every converted bucket stays in order.
//     The MFA codes' MACs keep binding the text form (Store.mfaMAC).
//   - A stored MAC is its first 16 bytes (macSize): in the code records,
//     in the card records and as the entry index's key.
//   - A user record stores updated as its distance from created (recV2).
//   - The email index is keyed by 4 bytes of SHA-256 of the lowered email
//     and the record key (emailKey), not the email itself; the external id
//     index's value is the record key's sequence as a uvarint (extIndex).
//   - A user's records (the user record, its codes, and its cards, which
//     were the ucards bucket) are one value of the users bucket
//     (userval.go).
//   - Every card record is derived again from the converted users.
//
// A million users cannot be converted in one bbolt transaction (every
// written key is held in memory until the commit), so Open converts first
// (convertLayout4), as a large import writes: a new generation, written in
// transactions of migrateChunk records while nothing else runs, then one
// transaction switches to it, deletes the old one and leaves the mark
// kLayout4; the 3 → 4 step of the schema chain (migrateLayout4) then only
// removes the mark, or converts in its own transaction when the mark is
// missing. A crash before the switch leaves the old generation as it was
// and a staging one, which the next Open drops before it converts again.
// Since the conversion derives the card records, it takes a schema 1
// database's card values too, which makes the 1 → 2 step a no-op.

// kLayout4 marks (uint64 BE: the generation) that Open converted the live
// generation to schema 4 before the schema steps ran.
var kLayout4 = []byte("layout4")

// convBucket is one bucket's conversion from the schema 1–3 form.
type convBucket struct {
	name []byte
	// conv returns the converted record, or a nil key to leave it out.
	conv func(k, v []byte) (nk, nv []byte, err error)
}

// legacyToKey returns the schema 4 record key of a schema 1–3 one (its
// first legacyLen bytes of b).
func legacyToKey(b []byte) ([]byte, error) {
	if len(b) < legacyLen {
		return nil, fmt.Errorf("%w: a record key of %d bytes", errCorrupt, len(b))
	}
	seq, ok := parseLegacyKey(b[:legacyLen])
	if !ok || seq == 0 || seq > maxUserSeq {
		return nil, fmt.Errorf("%w: a record key that is not u and 15 hex digits", errCorrupt)
	}
	return []byte(newUserID(seq)), nil
}

// layout4Buckets are the data buckets converted record by record (users,
// email and cards apart: see convertGen).
var layout4Buckets = []convBucket{
	{bExt, func(k, v []byte) ([]byte, []byte, error) {
		nv, err := legacyToKey(v)
		if err != nil || len(v) != legacyLen {
			return nil, nil, fmt.Errorf("%w: ext: external id %q", errCorrupt, k)
		}
		return slices.Clone(k), extVal(string(nv)), nil
	}},
	{bEntry, func(k, v []byte) ([]byte, []byte, error) {
		if len(k) != 32 {
			return nil, nil, fmt.Errorf("%w: entry: a key of %d bytes", errCorrupt, len(k))
		}
		nv, err := legacyToKey(v)
		if err != nil || len(v) > legacyLen+1 {
			return nil, nil, fmt.Errorf("%w: entry: an owner that is no user", errCorrupt)
		}
		return slices.Clone(k[:macSize]), append(nv, v[legacyLen:]...), nil
	}},
}

// convertUserRec converts one record of a schema 1–3 users bucket (key k
// from the user id on) into a sub-record of the user's value.
func convertUserRec(k, v []byte) (sub, error) {
	if len(k) == legacyLen { // the user record
		r, err := decodeUserV(v, recV1)
		if err != nil {
			return sub{}, fmt.Errorf("%w: user %s", err, k)
		}
		return sub{suffix: []byte{}, val: encodeUser(&r)}, nil
	}
	// A code record: MAC (32) and the rest.
	if len(v) < 32+9 {
		return sub{}, fmt.Errorf("%w: a code record of %s", errCorrupt, k[:legacyLen])
	}
	return sub{suffix: slices.Clone(k[legacyLen:]), val: append(slices.Clone(v[:macSize]), v[32:]...)}, nil
}

// convertUsers writes into dst (the new generation) the values of up to n
// users of src (the old one) after user after (nil: from the first): each
// user's records of the users bucket and cards of the ucards bucket, as
// one value. It returns how many records it converted and the last user
// (nil at the end).
func convertUsers(src, dst *bolt.Bucket, after []byte, n int) (int, []byte, error) {
	users, uc, out := src.Bucket(bUsers), src.Bucket(bUCards), dst.Bucket(bUsers)
	if users == nil || out == nil {
		return 0, nil, fmt.Errorf("%w: a users bucket is missing", ErrCorrupt)
	}
	if after == nil {
		if err := out.SetSequence(users.Sequence()); err != nil {
			return 0, nil, err
		}
	}
	out.FillPercent = fillAppend
	c := users.Cursor()
	k, v := seekAfter(c, after)
	for after != nil && k != nil && bytes.HasPrefix(k, after) {
		k, v = c.Next() // the rest of user after's records
	}
	recs, done := 0, 0
	var last []byte
	for ; k != nil && done < n; done++ {
		if len(k) < legacyLen {
			return 0, nil, fmt.Errorf("%w: a record key of %d bytes", errCorrupt, len(k))
		}
		last = bytes.Clone(k[:legacyLen])
		uid, err := legacyToKey(last)
		if err != nil {
			return 0, nil, err
		}
		var subs []sub
		for ; k != nil && bytes.HasPrefix(k, last); k, v = c.Next() {
			s, err := convertUserRec(k, v)
			if err != nil {
				return 0, nil, err
			}
			subs = append(subs, s)
		}
		if uc != nil {
			cc := uc.Cursor()
			for ck, _ := cc.Seek(last); ck != nil && bytes.HasPrefix(ck, last); ck, _ = cc.Next() {
				subs = append(subs, sub{suffix: append([]byte{tagCard}, ck[legacyLen:]...), val: []byte{}})
			}
		}
		slices.SortFunc(subs, func(a, b sub) int { return bytes.Compare(a.suffix, b.suffix) })
		if err := out.Put(uid, encodeSubs(subs)); err != nil {
			return 0, nil, err
		}
		recs += len(subs)
	}
	if k == nil {
		last = nil
	}
	return recs, last, nil
}

// convertLayout4 converts the live generation to schema 4 when the schema
// is 1–3, migrateChunk records per transaction (see the top of this file).
// progress (may be nil) is called after each transaction with the records
// written so far, log once at the end.
func convertLayout4(db *bolt.DB, progress, log func(n int)) error {
	var oldGen uint64
	old := false
	db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta == nil {
			return nil
		}
		v, g := meta.Get(kSchema), meta.Get(kGen)
		if len(v) != 4 || binary.BigEndian.Uint32(v) >= 4 || len(g) != 8 || meta.Get(kLayout4) != nil {
			return nil
		}
		oldGen = binary.BigEndian.Uint64(g)
		old = tx.Bucket(genName(oldGen)) != nil
		return nil
	})
	if !old {
		return nil
	}
	newGen := oldGen + 1
	err := db.Update(func(tx *bolt.Tx) error { return startGen(tx, newGen) })
	total := 0
	if err == nil {
		err = convertGen(oldGen, newGen, filepath.Dir(db.Path()), func(fn func(tx *bolt.Tx) error) error {
			return db.Update(fn)
		}, migrateChunk, func(n int) {
			total += n
			if progress != nil {
				progress(total)
			}
		})
	}
	if err == nil {
		err = db.Update(func(tx *bolt.Tx) error {
			if err := switchGen(tx, oldGen, newGen); err != nil {
				return err
			}
			return tx.Bucket(bMeta).Put(kLayout4, be64(newGen))
		})
	}
	if err != nil {
		return fmt.Errorf("store: open: migrate the records to schema 4: %w", err)
	}
	log(total)
	return nil
}

// migrateLayout4 is the schema 3 → 4 step: nothing when convertLayout4
// converted the live generation (it removes the mark), else the whole
// conversion in tx.
func migrateLayout4(tx *bolt.Tx) error {
	meta := tx.Bucket(bMeta)
	g := meta.Get(kGen)
	if len(g) != 8 {
		return fmt.Errorf("%w: meta: the live generation", ErrCorrupt)
	}
	oldGen := binary.BigEndian.Uint64(g)
	if m := meta.Get(kLayout4); m != nil {
		if !bytes.Equal(m, g) {
			return fmt.Errorf("%w: meta: the schema 4 mark names another generation", ErrCorrupt)
		}
		return meta.Delete(kLayout4)
	}
	if tx.Bucket(genName(oldGen)) == nil {
		return nil // a database with no data yet: init makes the buckets
	}
	newGen := oldGen + 1
	if err := startGen(tx, newGen); err != nil {
		return err
	}
	if err := convertGen(oldGen, newGen, "", func(fn func(tx *bolt.Tx) error) error { return fn(tx) }, math.MaxInt, nil); err != nil {
		return err
	}
	return switchGen(tx, oldGen, newGen)
}

// startGen makes generation gen, empty, as the staging one (dropping a
// staging generation left by a crash).
func startGen(tx *bolt.Tx, gen uint64) error {
	meta := tx.Bucket(bMeta)
	if v := meta.Get(kStaging); len(v) == 8 {
		if err := tx.DeleteBucket(genName(binary.BigEndian.Uint64(v))); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
	}
	return newStaging(tx, gen, dataBuckets)
}

// newStaging makes generation gen, with the empty buckets names, the
// staging one. A leftover generation of that number can only be garbage:
// it is dropped first.
func newStaging(tx *bolt.Tx, gen uint64, names [][]byte) error {
	if tx.Bucket(genName(gen)) != nil {
		if err := tx.DeleteBucket(genName(gen)); err != nil {
			return err
		}
	}
	root, err := tx.CreateBucket(genName(gen))
	if err != nil {
		return err
	}
	for _, name := range names {
		if _, err := root.CreateBucket(name); err != nil {
			return err
		}
	}
	return tx.Bucket(bMeta).Put(kStaging, be64(gen))
}

// switchGen makes the staging generation newGen the live one and deletes
// oldGen.
func switchGen(tx *bolt.Tx, oldGen, newGen uint64) error {
	meta := tx.Bucket(bMeta)
	if v := meta.Get(kStaging); v == nil || binary.BigEndian.Uint64(v) != newGen {
		return errors.New("staging generation vanished")
	}
	if err := meta.Put(kGen, be64(newGen)); err != nil {
		return err
	}
	if err := meta.Delete(kStaging); err != nil {
		return err
	}
	return tx.DeleteBucket(genName(oldGen))
}

// convertGen writes generation newGen from oldGen in the schema 4 layout,
// at most chunk records per call of run (which runs its function in a
// write transaction). done (may be nil) is told the records each
// transaction wrote.
func convertGen(oldGen, newGen uint64, dir string, run func(func(*bolt.Tx) error) error, chunk int, done func(int)) error {
	gens := func(tx *bolt.Tx) (*bolt.Bucket, *bolt.Bucket, error) {
		src, dst := tx.Bucket(genName(oldGen)), tx.Bucket(genName(newGen))
		if src == nil || dst == nil {
			return nil, nil, fmt.Errorf("%w: a generation vanished during the migration", ErrCorrupt)
		}
		return src, dst, nil
	}
	if err := run(func(tx *bolt.Tx) error {
		src, dst, err := gens(tx)
		if err != nil {
			return err
		}
		return dst.SetSequence(src.Sequence()) // the MFA code ids
	}); err != nil {
		return err
	}
	// copyChunks writes records in key order, chunk per transaction: next
	// returns the records from the key after (nil: the first), at most n.
	copyChunks := func(name []byte, next func(tx *bolt.Tx, src *bolt.Bucket, after []byte, n int) ([][2][]byte, []byte, error)) error {
		var after []byte
		for {
			var end bool
			err := run(func(tx *bolt.Tx) error {
				src, dst, err := gens(tx)
				if err != nil {
					return err
				}
				sb, db := src.Bucket(name), dst.Bucket(name)
				if db == nil {
					return fmt.Errorf("%w: the new generation lacks %s", ErrCorrupt, name)
				}
				if sb == nil {
					end = true // a bucket the old generation never had
					return nil
				}
				if after == nil {
					if err := db.SetSequence(sb.Sequence()); err != nil {
						return err
					}
				}
				db.FillPercent = fillAppend
				recs, last, err := next(tx, sb, after, chunk)
				if err != nil {
					return err
				}
				for _, r := range recs {
					if err := db.Put(r[0], r[1]); err != nil {
						return err
					}
				}
				if done != nil && len(recs) > 0 {
					done(len(recs))
				}
				end, after = last == nil, last
				return nil
			})
			if err != nil || end {
				return err
			}
		}
	}
	// scan reads up to n records of src after key after and converts
	// them; it returns the last key read (nil at the end).
	scan := func(src *bolt.Bucket, after []byte, n int, conv func(k, v []byte) ([]byte, []byte, error)) ([][2][]byte, []byte, error) {
		c := src.Cursor()
		k, v := seekAfter(c, after)
		var out [][2][]byte
		for ; k != nil && len(out) < n; k, v = c.Next() {
			nk, nv, err := conv(k, v)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, [2][]byte{nk, nv})
		}
		if k == nil {
			return out, nil, nil
		}
		k, _ = c.Prev()
		return out, bytes.Clone(k), nil
	}
	var after []byte
	for {
		err := run(func(tx *bolt.Tx) error {
			src, dst, err := gens(tx)
			if err != nil {
				return err
			}
			n, last, err := convertUsers(src, dst, after, chunk)
			if err != nil {
				return err
			}
			if done != nil && n > 0 {
				done(n)
			}
			after = last
			return nil
		})
		if err != nil {
			return fmt.Errorf("users: %w", err)
		}
		if after == nil {
			break
		}
	}
	for _, cb := range layout4Buckets {
		if err := copyChunks(cb.name, func(tx *bolt.Tx, src *bolt.Bucket, after []byte, n int) ([][2][]byte, []byte, error) {
			return scan(src, after, n, cb.conv)
		}); err != nil {
			return fmt.Errorf("%s: %w", cb.name, err)
		}
	}
	// The email index: new keys, which sort otherwise, collected and
	// sorted first, as an import's changes are (a delta: past 2 MiB it
	// spills sorted runs to files in dir, delta_spill.go; "" keeps them in
	// memory).
	var keys delta
	keys.offHeap = true
	if dir != "" {
		keys.spill = newSpill(dir)
	}
	defer keys.free()
	if err := run(func(tx *bolt.Tx) error {
		src, _, err := gens(tx)
		if err != nil {
			return err
		}
		eb := src.Bucket(bEmail)
		if eb == nil {
			return nil
		}
		return eb.ForEach(func(k, _ []byte) error {
			i := bytes.LastIndexByte(k, 0)
			if i < 0 || len(k)-i-1 != legacyLen {
				return fmt.Errorf("%w: email: a key with no user", errCorrupt)
			}
			uid, err := legacyToKey(k[i+1:])
			if err != nil {
				return err
			}
			keys.add(emailKey(string(k[:i]), string(uid)), nil, 0, false)
			return nil
		})
	}); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	keys.sort()
	if err := keys.spillErr(); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	for next := 0; next < keys.len(); {
		if err := run(func(tx *bolt.Tx) error {
			_, dst, err := gens(tx)
			if err != nil {
				return err
			}
			eb := dst.Bucket(bEmail)
			eb.FillPercent = fillAppend
			end := min(next+chunk, keys.len())
			for i := next; i < end; i++ {
				if err := eb.Put(keys.key(i), nil); err != nil {
					return err
				}
			}
			if done != nil {
				done(end - next)
			}
			next = end
			return nil
		}); err != nil {
			return fmt.Errorf("email: %w", err)
		}
	}
	// The cards, each derived from its user's converted records (the old
	// value is read only for its user and active byte).
	return copyChunks(bCards, func(tx *bolt.Tx, src *bolt.Bucket, after []byte, n int) ([][2][]byte, []byte, error) {
		_, dst, err := gens(tx)
		if err != nil {
			return nil, nil, err
		}
		users := recs{dst.Bucket(bUsers)}
		return scan(src, after, n, func(k, v []byte) ([]byte, []byte, error) {
			if len(v) <= legacyLen || v[legacyLen] > 1 {
				return nil, nil, fmt.Errorf("%w: card %x: no user id and active byte", errCorrupt, k)
			}
			uid, err := legacyToKey(v)
			if err != nil {
				return nil, nil, err
			}
			rec, err := deriveCard(nil, users, uid, v[legacyLen] == 1)
			if err != nil {
				return nil, nil, fmt.Errorf("card %x: %w", k, err)
			}
			return slices.Clone(k), rec, nil
		})
	})
}
