package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"
)

// Card record (schema 2), the value of a card in the cards bucket:
//
//	[16]    user id
//	byte    active (0 or 1)
//	byte    flags: 1 suspended, 2 has start, 4 has end, 8 has entry code,
//	        16 has duress code
//	varint  start, end (Unix ns; present only when flagged)
//	string  external_id (uvarint length + bytes)
//	uvarint group count, then each group as a string
//	[32]    the duress code's MAC (present only when flagged)
//	[32]    the entry code's MAC (present only when flagged)
//	[32]*   the MFA codes' MACs, to the end of the value
//
// Everything after the active byte is a copy of the user's door view and
// code MACs, so that a badge and its code are decided from this one record:
// one B-tree descent, where reading the user record too cost a second,
// cache-cold one on a large database. The copy is derived: deriveCard
// makes it from the users bucket. Writers do not maintain it: a card is
// written as a cardStub, and the transaction wrapper (Store.update, under
// change and the small import) derives the card records of every user the
// transaction wrote through its buckets before it commits. A large import,
// which builds a new generation outside update, derives them as it writes
// the cards bucket (see applyBulk). Tests compare every copy with a fresh
// derivation after each test (checkCardCopies).
const (
	cardActiveAt = userIDLen     // offset of the active byte
	cardFlagsAt  = userIDLen + 1 // offset of the flags byte
	cardMin      = userIDLen + 2

	cflagSuspended = 1
	cflagStart     = 2
	cflagEnd       = 4
	cflagEntry     = 8
	cflagDuress    = 16
	cflagAll       = cflagSuspended | cflagStart | cflagEnd | cflagEntry | cflagDuress
)

// cardRec is a decoded card record. Its slices alias the value.
type cardRec struct {
	userID     []byte
	active     bool
	suspended  bool
	start, end int64 // Unix ns; valid when hasStart / hasEnd
	hasStart   bool
	hasEnd     bool
	externalID []byte
	groups     []byte // uvarint count, then length-prefixed strings
	duressMAC  []byte // nil when the user has no duress code
	entryMAC   []byte // nil when the user has no entry code
	mfaMACs    []byte // 32 bytes per MFA code
}

// parseCard decodes a card record without allocating.
func parseCard(v []byte) (cardRec, error) {
	var r cardRec
	if len(v) < cardMin || v[cardActiveAt] > 1 || v[cardFlagsAt]&^cflagAll != 0 {
		return r, fmt.Errorf("%w: card record", errCorrupt)
	}
	r.userID = v[:userIDLen]
	r.active = v[cardActiveAt] == 1
	flags := v[cardFlagsAt]
	r.suspended = flags&cflagSuspended != 0
	d := decoder{b: v[cardMin:]}
	if flags&cflagStart != 0 {
		r.start, r.hasStart = d.varint(), true
	}
	if flags&cflagEnd != 0 {
		r.end, r.hasEnd = d.varint(), true
	}
	r.externalID = d.bytes()
	groups := d.b
	n := d.uvarint()
	for i := uint64(0); i < n && !d.err; i++ {
		d.bytes()
	}
	r.groups = groups[:len(groups)-len(d.b)]
	if flags&cflagDuress != 0 {
		if len(d.b) < macSize {
			d.err = true
		} else {
			r.duressMAC, d.b = d.b[:macSize], d.b[macSize:]
		}
	}
	if flags&cflagEntry != 0 {
		if len(d.b) < macSize {
			d.err = true
		} else {
			r.entryMAC, d.b = d.b[:macSize], d.b[macSize:]
		}
	}
	if d.err || len(d.b)%macSize != 0 {
		return r, fmt.Errorf("%w: card record", errCorrupt)
	}
	r.mfaMACs = d.b
	return r, nil
}

// view fills u from the record (allocating the id, external id and
// groups); id makes the user id from the record key (userid.go).
func (r *cardRec) view(u *UserView, id func(key []byte) string) error {
	u.UserID = id(r.userID)
	u.ExternalID = string(r.externalID)
	u.Suspended = r.suspended
	if r.hasStart {
		u.Start = nsTime(r.start)
	}
	if r.hasEnd {
		u.End = nsTime(r.end)
	}
	u.HasEntryCode = r.entryMAC != nil
	u.HasMFA = len(r.mfaMACs) > 0
	d := decoder{b: r.groups}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return fmt.Errorf("%w: card record", errCorrupt)
	}
	if n > 0 {
		u.Groups = make([]string, n)
		for i := range u.Groups {
			u.Groups[i] = d.string()
		}
	}
	if d.err {
		return fmt.Errorf("%w: card record", errCorrupt)
	}
	return nil
}

// deriveCard appends to dst the card record for a card of userID with the
// given active flag, made from the users bucket: the user record and the
// code records that follow it.
func deriveCard(dst []byte, users *bolt.Bucket, userID []byte, active bool) ([]byte, error) {
	c := users.Cursor()
	k, v := c.Seek(userID)
	if len(userID) != userIDLen || k == nil || !bytes.Equal(k, userID) {
		return nil, fmt.Errorf("%w: a card of missing user %s", errCorrupt, userID)
	}
	// The user record: version, flags, [start], [end], created, updated,
	// external_id, first, last, email, groups (see encodeUser).
	d := decoder{b: v}
	if d.byte() != recV1 {
		return nil, fmt.Errorf("%w: user %s", errCorrupt, userID)
	}
	uflags := d.byte()
	dst = append(dst, userID...)
	dst = append(dst, activeByte(active), 0)
	flagsAt := len(dst) - 1
	var flags byte
	if uflags&flagSuspended != 0 {
		flags |= cflagSuspended
	}
	if uflags&flagStart != 0 {
		flags |= cflagStart
		dst = binary.AppendVarint(dst, d.varint())
	}
	if uflags&flagEnd != 0 {
		flags |= cflagEnd
		dst = binary.AppendVarint(dst, d.varint())
	}
	d.varint() // created
	d.varint() // updated
	ext := d.bytes()
	d.bytes() // first name
	d.bytes() // last name
	d.bytes() // email
	groups := d.b
	n := d.uvarint()
	for i := uint64(0); i < n && !d.err; i++ {
		d.bytes()
	}
	if d.err {
		return nil, fmt.Errorf("%w: user %s", errCorrupt, userID)
	}
	dst = appendString(dst, string(ext))
	dst = append(dst, groups[:len(groups)-len(d.b)]...)
	// The code records sort right after the user record: the duress code
	// ('d'), the entry code ('e'), then the MFA codes ('m').
	for k, v = c.Next(); len(k) > userIDLen && bytes.HasPrefix(k, userID); k, v = c.Next() {
		if len(v) < macSize {
			return nil, fmt.Errorf("%w: code of %s", errCorrupt, userID)
		}
		switch k[userIDLen] {
		case tagDuress:
			flags |= cflagDuress
			dst = append(dst, v[:macSize]...)
		case tagEntry:
			flags |= cflagEntry
			dst = append(dst, v[:macSize]...)
		case tagMFA:
			dst = append(dst, v[:macSize]...)
		}
	}
	dst[flagsAt] = flags
	return dst, nil
}

// refreshCards rewrites the card records of every card of userID after a
// change to the user, its codes or its cards (update calls it for every
// user a transaction wrote). A card written as a cardStub gets its copy
// here.
func (b buckets) refreshCards(userID []byte) error {
	c := b.ucards.Cursor()
	for k, _ := c.Seek(userID); k != nil && bytes.HasPrefix(k, userID); k, _ = c.Next() {
		key := k[len(userID):]
		old := b.cards.Get(key)
		if len(old) <= cardActiveAt || !bytes.Equal(old[:userIDLen], userID) {
			return fmt.Errorf("%w: card index of %s", errCorrupt, userID)
		}
		v, err := deriveCard(nil, b.users.Bucket, userID, old[cardActiveAt] == 1)
		if err != nil {
			return err
		}
		if !bytes.Equal(v, old) {
			if err := b.cards.Bucket.Put(bytes.Clone(key), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Schema 1 → 2: a card's value was user id + active byte (17 bytes; a
// card record is at least 20); it becomes the card record above. Open
// first converts the cards in transactions of migrateChunk (convertCards1),
// because one transaction over a million cards peaked at 570 MiB, then the
// migration step (migrateCards2) converts any left and sets the schema.
// Until then the database mixes both forms and an older program would find
// it corrupt: downgrades are not supported.
var migrateChunk = 20000

// convertCards1 converts the card values of the live generation when the
// schema is 1 (rederiveAll). progress (may be nil) is called after each
// transaction with the total so far, log once at the end when anything was
// converted.
func convertCards1(db *bolt.DB, progress, log func(converted int)) error {
	schema1 := false
	db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bMeta); meta != nil {
			v := meta.Get(kSchema)
			schema1 = len(v) == 4 && binary.BigEndian.Uint32(v) == 1
		}
		return nil
	})
	if !schema1 {
		return nil
	}
	total, err := rederiveAll(db, progress)
	if err != nil {
		return fmt.Errorf("store: open: migrate card records: %w", err)
	}
	if total > 0 {
		log(total)
	}
	return nil
}

// rederiveAll derives every card record of the live generation again
// (rederiveCards), writing at most migrateChunk per transaction, and
// returns how many it wrote. progress (may be nil) is called after each
// transaction once something was written, with the total so far.
func rederiveAll(db *bolt.DB, progress func(written int)) (int, error) {
	return migrateChunks(db, rederiveCards, progress)
}

// migrateChunks runs a chunked migration step from the first key to the
// end, at most migrateChunk records per transaction, and returns how many
// records it wrote. step does one chunk from key from (nil: the first)
// and returns how many it wrote and the key to go on from (nil at the
// end). progress (may be nil) is called after each transaction once
// something was written, with the total so far.
func migrateChunks(db *bolt.DB, step func(tx *bolt.Tx, from []byte, max int) (int, []byte, error), progress func(written int)) (int, error) {
	var from []byte
	total := 0
	for {
		var next []byte
		err := db.Update(func(tx *bolt.Tx) error {
			n, nx, err := step(tx, from, migrateChunk)
			total, next = total+n, nx
			return err
		})
		if err != nil {
			return total, err
		}
		if progress != nil && total > 0 {
			progress(total)
		}
		if next == nil {
			return total, nil
		}
		from = next
	}
}

// rederiveCards derives the records of the cards from key from on (nil:
// the first) again from their users' records, and writes those that
// differ (a schema 1 value of user id + active byte always does), at most
// max. It returns how many it wrote and the key to go on from (nil at the
// end).
func rederiveCards(tx *bolt.Tx, from []byte, max int) (int, []byte, error) {
	b, err := txBuckets(tx)
	if err != nil {
		return 0, nil, err
	}
	var keys, vals [][]byte
	c := b.cards.Cursor()
	k, v := c.First()
	if from != nil {
		k, v = c.Seek(from)
	}
	for ; k != nil && len(keys) < max; k, v = c.Next() {
		// Only the user id and active byte are read: both forms start so.
		if len(v) <= cardActiveAt || v[cardActiveAt] > 1 {
			return 0, nil, fmt.Errorf("%w: card %x: no user id and active byte", errCorrupt, k)
		}
		want, err := deriveCard(nil, b.users.Bucket, v[:userIDLen], v[cardActiveAt] == 1)
		if err != nil {
			return 0, nil, fmt.Errorf("card %x: %w", k, err)
		}
		if !bytes.Equal(v, want) {
			keys, vals = append(keys, bytes.Clone(k)), append(vals, want)
		}
	}
	var next []byte
	if k != nil {
		next = bytes.Clone(k)
	}
	for i, k := range keys {
		if err := b.cards.Put(k, vals[i]); err != nil {
			return 0, nil, err
		}
	}
	return len(keys), next, nil
}

// migrateCards2 is the schema 1 → 2 step: it converts whatever
// convertCards1 left (nothing, unless it failed).
func migrateCards2(tx *bolt.Tx) error {
	_, _, err := rederiveCards(tx, nil, math.MaxInt)
	return err
}
