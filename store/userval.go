package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// One bbolt record per user (schema 4; docs/store.md, "Buckets").
//
// The store's code reads and writes a user's records as it always has, by
// key: the user record (user id), the duress, entry and MFA code records
// (user id 'd' / 'e' / 'm' id), and the user's cards (user id 'c' card
// key; the ucards view shows them as user id + card key). The users bucket
// keeps them as one value under the user id, the user's *sub-records* in
// key order, so that a user costs one bbolt element (16 bytes of header
// and a key) instead of one per record, and the card keys and MFA ids are
// stored compactly:
//
//	byte    kind: 0 the user record, 'c' a card, 'd' the duress code,
//	        'e' the entry code, 'm' an MFA code, 0xff any other key
//	        ('c': uvarint len(format), format, uvarint facility code,
//	        uvarint card number, and no value;
//	        'm': uvarint id;
//	        0xff: uvarint length and the rest of the key)
//	uvarint value length, value (not for 'c')
//
// recs (the users bucket) and ucards (its cards) give that value's
// sub-records the interface of a bucket: Get, Put, Delete and a cursor
// over the keys in order. Put and Delete rewrite the user's value; a user
// whose last sub-record goes is deleted.

const (
	subUser  = 0
	tagCard  = 'c' // user id 'c' card key → ∅: one of the user's cards
	subOther = 0xff
)

// sub is one decoded sub-record: its key after the user id and its value
// (both alias the value decoded, or are fresh).
type sub struct{ suffix, val []byte }

// rawSub is one sub-record as stored: its kind and fields, aliasing the
// value.
type rawSub struct {
	kind   byte
	format []byte // 'c'
	fc, cn uint64 // 'c'
	seq    uint64 // 'm'
	other  []byte // subOther: the key after the user id
	val    []byte
}

// walkSubs calls fn with each sub-record of a user's value in order,
// without allocating, until fn returns false.
func walkSubs(v []byte, fn func(s *rawSub) bool) error {
	d := decoder{b: v}
	var s rawSub
	for len(d.b) > 0 && !d.err {
		s = rawSub{kind: d.byte()}
		switch s.kind {
		case subUser, tagDuress, tagEntry:
		case tagCard:
			s.format = d.bytes()
			s.fc, s.cn = d.uvarint(), d.uvarint()
			if len(s.format) > 255 || s.fc > 0xffffffff {
				d.err = true
			}
		case tagMFA:
			s.seq = d.uvarint()
		case subOther:
			if s.other = d.bytes(); len(s.other) == 0 {
				d.err = true
			}
		default:
			d.err = true
		}
		if s.kind != tagCard {
			s.val = d.bytes()
		}
		if d.err {
			break
		}
		if !fn(&s) {
			return nil
		}
	}
	if d.err {
		return fmt.Errorf("%w: a user's records", errCorrupt)
	}
	return nil
}

// userRecOf returns the user record in a user's value, its first
// sub-record (nil when the value has none).
func userRecOf(v []byte) ([]byte, error) {
	var rec []byte
	err := walkSubs(v, func(s *rawSub) bool {
		if s.kind == subUser {
			rec = s.val
		}
		return false
	})
	return rec, err
}

// decodeSubs decodes a user's value into dst.
func decodeSubs(dst []sub, v []byte) ([]sub, error) {
	err := walkSubs(v, func(r *rawSub) bool {
		s := sub{val: r.val}
		switch r.kind {
		case subUser:
			s.suffix = []byte{}
		case tagCard:
			s.suffix = appendCardKey([]byte{tagCard}, CardKey{Format: string(r.format), FacilityCode: uint32(r.fc), CardNumber: r.cn})
			s.val = []byte{}
		case tagDuress, tagEntry:
			s.suffix = []byte{r.kind}
		case tagMFA:
			s.suffix = binary.BigEndian.AppendUint64([]byte{tagMFA}, r.seq)
		case subOther:
			s.suffix = r.other
		}
		dst = append(dst, s)
		return true
	})
	if err != nil {
		return nil, err
	}
	return dst, nil
}

// appendSub encodes one sub-record.
func appendSub(b []byte, s sub) []byte {
	x := s.suffix
	switch {
	case len(x) == 0:
		b = append(b, subUser)
	case x[0] == tagCard && len(s.val) == 0:
		if k, ok := decodeCardKey(x[1:]); ok {
			b = append(b, tagCard)
			b = appendString(b, k.Format)
			b = binary.AppendUvarint(b, uint64(k.FacilityCode))
			return binary.AppendUvarint(b, k.CardNumber)
		}
		b = appendString(append(b, subOther), string(x))
	case len(x) == 1 && (x[0] == tagDuress || x[0] == tagEntry):
		b = append(b, x[0])
	case len(x) == 9 && x[0] == tagMFA:
		b = binary.AppendUvarint(append(b, tagMFA), binary.BigEndian.Uint64(x[1:]))
	default:
		b = appendString(append(b, subOther), string(x))
	}
	return appendString(b, string(s.val))
}

func encodeSubs(subs []sub) []byte {
	n := 0
	for _, s := range subs {
		n += len(s.suffix) + len(s.val) + 4
	}
	b := make([]byte, 0, n)
	for _, s := range subs {
		b = appendSub(b, s)
	}
	return b
}

// recs is the users bucket seen by record: see the top of this file. The
// bucket's other methods (Sequence, NextSequence, SetSequence, Stats,
// FillPercent) are the bucket's own.
type recs struct{ *bolt.Bucket }

// split returns the user id and the rest of a record key; false for a key
// shorter than a user id.
func split(k []byte) ([]byte, []byte, bool) {
	if len(k) < userIDLen {
		return nil, nil, false
	}
	return k[:userIDLen], k[userIDLen:], true
}

// user splits record key k and decodes the sub-records of its user (nil
// when there is none).
func (r recs) user(k []byte) (uid, suffix []byte, subs []sub, err error) {
	uid, suffix, ok := split(k)
	if !ok {
		return nil, nil, nil, fmt.Errorf("store: a record key of %d bytes", len(k))
	}
	subs, err = r.subsOf(uid)
	return uid, suffix, subs, err
}

// findSub finds the sub-record of suffix in subs, which are in suffix
// order: its index, or where it would go, and whether it is there.
func findSub(subs []sub, suffix []byte) (int, bool) {
	return slices.BinarySearchFunc(subs, suffix, func(s sub, x []byte) int { return bytes.Compare(s.suffix, x) })
}

// subsOf decodes the sub-records of user uid (nil when there is none).
func (r recs) subsOf(uid []byte) ([]sub, error) {
	v := r.Bucket.Get(uid)
	if v == nil {
		return nil, nil
	}
	subs, err := decodeSubs(nil, v)
	if err != nil {
		return nil, fmt.Errorf("%w (user %s)", err, keyName(uid))
	}
	return subs, nil
}

// Get returns the value of record k, or nil. A record that does not decode
// reads as missing; its reader reports the user's record corrupt.
func (r recs) Get(k []byte) []byte {
	_, suffix, subs, err := r.user(k)
	if err != nil {
		return nil
	}
	for _, s := range subs {
		if bytes.Equal(s.suffix, suffix) {
			return s.val
		}
	}
	return nil
}

// Put writes record k (the user's value is written again).
func (r recs) Put(k, v []byte) error {
	uid, suffix, subs, err := r.user(k)
	if err != nil {
		return err
	}
	if i, found := findSub(subs, suffix); found {
		subs[i].val = v
	} else {
		subs = slices.Insert(subs, i, sub{suffix: suffix, val: v})
	}
	return r.Bucket.Put(bytes.Clone(uid), encodeSubs(subs))
}

// Delete deletes record k, if there is one.
func (r recs) Delete(k []byte) error {
	if len(k) < userIDLen {
		return nil // not a record key: there is no such record
	}
	uid, suffix, subs, err := r.user(k)
	if err != nil {
		return err
	}
	i, found := findSub(subs, suffix)
	if !found {
		return nil
	}
	subs = slices.Delete(subs, i, i+1)
	if len(subs) == 0 {
		return r.Bucket.Delete(bytes.Clone(uid))
	}
	return r.Bucket.Put(bytes.Clone(uid), encodeSubs(subs))
}

// Cursor returns a cursor over the records in key order.
func (r recs) Cursor() *recCursor { return &recCursor{c: r.Bucket.Cursor()} }

// recCursor walks the records of the users bucket. The keys it returns are
// fresh; the values alias the database (valid in the transaction).
type recCursor struct {
	c    *bolt.Cursor
	uid  []byte
	subs []sub
	i    int
	err  error
}

// Err is the error that ended the walk early: a user value that does not
// decode (the walk then reads as ended).
func (c *recCursor) Err() error { return c.err }

// load positions the cursor on physical record (k, v), at sub-record 0.
func (c *recCursor) load(k, v []byte) bool {
	if k == nil {
		c.uid, c.subs = nil, nil
		return false
	}
	subs, err := decodeSubs(c.subs[:0], v)
	if err != nil {
		c.err = fmt.Errorf("%w (user %s)", err, keyName(k))
		c.uid, c.subs = nil, nil
		return false
	}
	c.uid, c.subs, c.i = k, subs, 0
	return true
}

func (c *recCursor) at() ([]byte, []byte) {
	for c.uid != nil && c.i >= len(c.subs) {
		c.load(c.c.Next())
	}
	if c.uid == nil {
		return nil, nil
	}
	s := c.subs[c.i]
	k := make([]byte, 0, len(c.uid)+len(s.suffix))
	return append(append(k, c.uid...), s.suffix...), s.val
}

// First moves to the first record.
func (c *recCursor) First() ([]byte, []byte) {
	c.load(c.c.First())
	return c.at()
}

// Next moves to the next record.
func (c *recCursor) Next() ([]byte, []byte) {
	if c.uid == nil {
		return nil, nil
	}
	c.i++
	return c.at()
}

// Seek moves to the first record whose key is seek or after it.
func (c *recCursor) Seek(seek []byte) ([]byte, []byte) {
	uid := seek[:min(len(seek), userIDLen)]
	if !c.load(c.c.Seek(uid)) {
		return nil, nil
	}
	if bytes.Equal(c.uid, uid) && len(seek) > userIDLen {
		suffix := seek[userIDLen:]
		for c.i < len(c.subs) && bytes.Compare(c.subs[c.i].suffix, suffix) < 0 {
			c.i++
		}
	}
	return c.at()
}

// ucards is the users bucket's card sub-records as the bucket they were
// until schema 4: user id + card key → ∅.
type ucards struct{ r recs }

// cardRecKey is the users bucket's key of ucards key k.
func cardRecKey(k []byte) []byte {
	uid, ck, ok := split(k)
	if !ok {
		return nil
	}
	out := make([]byte, 0, len(k)+1)
	return append(append(append(out, uid...), tagCard), ck...)
}

// Get returns ∅ (not nil) when the user has the card, else nil.
func (u ucards) Get(k []byte) []byte {
	if rk := cardRecKey(k); rk != nil {
		return u.r.Get(rk)
	}
	return nil
}

// Put records the card; the value is ignored (always empty).
func (u ucards) Put(k, _ []byte) error {
	rk := cardRecKey(k)
	if rk == nil {
		return fmt.Errorf("store: a card index key of %d bytes", len(k))
	}
	return u.r.Put(rk, []byte{})
}

// Delete deletes the card's record, if there is one.
func (u ucards) Delete(k []byte) error {
	if rk := cardRecKey(k); rk != nil {
		return u.r.Delete(rk)
	}
	return nil
}

// Cursor returns a cursor over the cards in key order (user id + card
// key).
func (u ucards) Cursor() *ucardsCursor { return &ucardsCursor{c: u.r.Cursor()} }

// ucardsCursor walks the card sub-records.
type ucardsCursor struct{ c *recCursor }

// Err: see recCursor.Err.
func (c *ucardsCursor) Err() error { return c.c.Err() }

// skip returns the first card record at or after (k, v), as a ucards key.
func (c *ucardsCursor) skip(k, v []byte) ([]byte, []byte) {
	for ; k != nil; k, v = c.c.Next() {
		if len(k) > userIDLen && k[userIDLen] == tagCard {
			return append(k[:userIDLen:userIDLen], k[userIDLen+1:]...), v
		}
	}
	return nil, nil
}

// First moves to the first card.
func (c *ucardsCursor) First() ([]byte, []byte) { return c.skip(c.c.First()) }

// Next moves to the next card.
func (c *ucardsCursor) Next() ([]byte, []byte) { return c.skip(c.c.Next()) }

// Seek moves to the first card whose ucards key is seek or after it.
func (c *ucardsCursor) Seek(seek []byte) ([]byte, []byte) {
	if len(seek) <= userIDLen {
		return c.skip(c.c.Seek(seek))
	}
	return c.skip(c.c.Seek(cardRecKey(seek)))
}

// recWriter writes records into the users bucket in key order, as the
// import's merge does, and each user's value once: Put gathers a user's
// records, and the value is written when a record of another user comes
// or at Flush, which the caller must call before its transaction commits.
type recWriter struct {
	r    recs
	uid  []byte
	subs []sub
}

// Put adds record k. Records come in key order, a user's value is read
// only when its first record comes (it may hold records already).
func (w *recWriter) Put(k, v []byte) error {
	uid, suffix, ok := split(k)
	if !ok {
		return fmt.Errorf("store: a record key of %d bytes", len(k))
	}
	if !bytes.Equal(uid, w.uid) {
		if err := w.Flush(); err != nil {
			return err
		}
		subs, err := w.r.subsOf(uid)
		if err != nil {
			return err
		}
		w.uid, w.subs = bytes.Clone(uid), subs
	}
	if i, found := findSub(w.subs, suffix); found {
		w.subs[i].val = v
	} else {
		w.subs = slices.Insert(w.subs, i, sub{suffix: bytes.Clone(suffix), val: v})
	}
	return nil
}

// Flush writes the value of the user being gathered.
func (w *recWriter) Flush() error {
	if w.uid == nil {
		return nil
	}
	err := w.r.Bucket.Put(w.uid, encodeSubs(w.subs))
	w.uid, w.subs = nil, nil
	return err
}

// cardWriter is a recWriter's view as the ucards bucket (key user id +
// card key).
type cardWriter struct{ w *recWriter }

// Put adds the card of ucards key k.
func (c cardWriter) Put(k, _ []byte) error {
	rk := cardRecKey(k)
	if rk == nil {
		return fmt.Errorf("store: a card index key of %d bytes", len(k))
	}
	return c.w.Put(rk, []byte{})
}
