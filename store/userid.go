package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"
)

// User ids (docs/store.md, "User ids").
//
// A user's id, the one every API, latchctl, the events and the CSV files
// use, is a UUID version 4 string ("3f2b…-…-4…-[89ab]…-…", lowercase).
// Inside the database a user is still keyed by its record key: "u" and
// the 15 hex digits of the users bucket's sequence (ids grow, so new users
// append to the B-trees, which is what keeps a million-user import in a
// bounded heap), and the record key is also what every MFA code's MAC is
// bound to. The UUID is a keyed permutation of the record key: a
// four-round unbalanced Feistel network over the UUID's 122 free bits
// (60 + 62), whose round function is SHA-256 of the database's id key
// (32 random bytes in the meta bucket, made when the database is made or
// migrated), the round number and the other half. The record key's 60-bit
// sequence is the 60-bit half, the 62-bit half is zero; decoding a UUID
// runs the rounds backwards and accepts it only when that half comes back
// zero, so a UUID that was never issued names no user (the chance that a
// made-up one decodes is 2^-62). Without the id key the ids are
// indistinguishable from random ones; the id key is not a secret that
// protects anything else, and a copied database keeps its users' ids.
//
// Why not store random UUIDs: the MFA codes' MACs bind the record key and
// cannot be recomputed without the codes (only their MACs are stored), and
// random keys would scatter every import's new users across the B-trees.
// Computing the UUID keeps every stored record as it was; the migration to
// schema 3 (migrateUserIDs3) makes the id key and rewrites the user ids
// stored in events' text.

// kIDKey is the meta key of the id key: 32 random bytes.
var kIDKey = []byte("idkey")

const (
	uuidLen  = 36
	mask60   = 1<<60 - 1
	mask62   = 1<<62 - 1
	idRounds = 4
)

// idCodec turns record keys into UUIDs and back.
type idCodec struct{ key [32]byte }

// round is the Feistel round function: the first 8 bytes of
// SHA-256(id key, round, x).
func (c *idCodec) round(i byte, x uint64) uint64 {
	var in [32 + 1 + 8]byte
	copy(in[:], c.key[:])
	in[32] = i
	binary.BigEndian.PutUint64(in[33:], x)
	sum := sha256.Sum256(in[:])
	return binary.BigEndian.Uint64(sum[:8])
}

// encode returns the 60 and 62 free bits of seq's UUID.
func (c *idCodec) encode(seq uint64) (a, b uint64) {
	a, b = seq&mask60, 0
	for i := byte(0); i < idRounds; i += 2 {
		b ^= c.round(i, a) & mask62
		a ^= c.round(i+1, b) & mask60
	}
	return a, b
}

// decode inverts encode; ok is false for a UUID encode never makes.
func (c *idCodec) decode(a, b uint64) (seq uint64, ok bool) {
	for i := byte(idRounds); i > 0; i -= 2 {
		a ^= c.round(i-1, b) & mask60
		b ^= c.round(i-2, a) & mask62
	}
	return a, b == 0 && a != 0
}

// appendPub appends the UUID of record key key (which must be a valid
// record key) to dst.
func (c *idCodec) appendPub(dst []byte, key []byte) []byte {
	var seq uint64
	for _, ch := range key[1:userIDLen] {
		seq = seq<<4 | uint64(unhex(ch))
	}
	a, b := c.encode(seq)
	// 128 bits: a's 60 bits around the version nibble 4, then the variant
	// bits 10 and b's 62 bits.
	hi := (a>>12)<<16 | 4<<12 | a&0xfff
	lo := 2<<62 | b
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], hi)
	binary.BigEndian.PutUint64(raw[8:], lo)
	const hexd = "0123456789abcdef"
	for i, x := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexd[x>>4], hexd[x&0xf])
	}
	return dst
}

// pub returns the UUID of a record key; a string that is not a record key
// is returned as it is.
func (c *idCodec) pub(key string) string {
	if !validUserID(key) {
		return key
	}
	var buf [uuidLen]byte
	return string(c.appendPub(buf[:0], []byte(key)))
}

// pubBytes is pub for a record key in bytes (a card record's), without
// making a string of the key first: the door's LookupCard allocates only
// the UUID.
func (c *idCodec) pubBytes(key []byte) string {
	if len(key) != userIDLen || key[0] != 'u' {
		return string(key)
	}
	for _, ch := range key[1:] {
		if unhex(ch) > 15 || ('A' <= ch && ch <= 'F') {
			return string(key)
		}
	}
	var buf [uuidLen]byte
	return string(c.appendPub(buf[:0], key))
}

// parseUUID reads a UUID version 4 string (hex digits in either case)
// into its 60 and 62 free bits.
func parseUUID(s string) (a, b uint64, ok bool) {
	if len(s) != uuidLen {
		return 0, 0, false
	}
	var raw [16]byte
	j := 0
	for i := 0; i < uuidLen; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return 0, 0, false
			}
			continue
		}
		h, l := unhex(s[i]), unhex(s[i+1])
		if h > 15 || l > 15 {
			return 0, 0, false
		}
		raw[j] = h<<4 | l
		j++
		i++
	}
	hi, lo := binary.BigEndian.Uint64(raw[:8]), binary.BigEndian.Uint64(raw[8:])
	if hi>>12&0xf != 4 || lo>>62 != 2 {
		return 0, 0, false
	}
	return (hi>>16)<<12 | hi&0xfff, lo & mask62, true
}

// ValidUUID reports whether s is a UUID version 4 string: the shape of
// every user id (it says nothing of whether the user exists).
func ValidUUID(s string) bool {
	_, _, ok := parseUUID(s)
	return ok
}

// keyOf returns the record key of UUID pub, into dst (len userIDLen).
func (c *idCodec) keyOf(dst *[userIDLen]byte, pub string) bool {
	a, b, ok := parseUUID(pub)
	if !ok {
		return false
	}
	seq, ok := c.decode(a, b)
	if !ok {
		return false
	}
	copy(dst[:], newUserID(seq))
	return true
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 255
}

// userKey returns the record key of user id pub: errNoUser (naming
// nothing) when pub is not a UUID, a *NotFoundError naming it when it is
// one no user of this database has had.
func (s *Store) userKey(pub string) (string, error) {
	var k [userIDLen]byte
	if !ValidUUID(pub) {
		return "", errNoUser
	}
	if !s.ids.keyOf(&k, pub) {
		return "", notFound("user", pub)
	}
	return string(k[:]), nil
}

// pubID returns the user id of record key key.
func (s *Store) pubID(key string) string { return s.ids.pub(key) }

// pubErr rewrites the record keys a *NotFoundError names into user ids.
func (s *Store) pubErr(err error) error {
	var nf *NotFoundError
	if err == nil || !errors.As(err, &nf) {
		return err
	}
	out := *nf
	if out.What == "user" {
		out.ID = s.pubID(out.ID)
	}
	out.User = s.pubID(out.User)
	if out == *nf || err != error(nf) {
		return err // unchanged, or wrapped: the store returns its own unwrapped
	}
	return &out
}

// pubEvents rewrites the record keys in events' user ids into user ids.
func (s *Store) pubEvents(evs []Event) {
	for i := range evs {
		evs[i].UserID = s.pubID(evs[i].UserID)
	}
}

// loadIDKey reads the id key from meta. A fresh database gets one; an
// existing one without it is corrupt (a new key would change every id).
func loadIDKey(meta *bolt.Bucket, fresh bool) (idCodec, error) {
	var c idCodec
	v := meta.Get(kIDKey)
	if v == nil && fresh {
		if err := putIDKey(meta); err != nil {
			return c, err
		}
		v = meta.Get(kIDKey)
	}
	if len(v) != len(c.key) {
		return c, fmt.Errorf("%w: meta: the id key is missing or malformed", ErrCorrupt)
	}
	copy(c.key[:], v)
	return c, nil
}

// useSiteIDs makes the id key the one every member of a fleet site
// derives from the site key (the store's key): HMAC-SHA-256(key,
// "latch user id key").
func (s *Store) useSiteIDs(meta *bolt.Bucket) error {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("latch user id key"))
	k := m.Sum(nil)
	if !bytes.Equal(meta.Get(kIDKey), k) {
		if err := meta.Put(kIDKey, k); err != nil {
			return err
		}
	}
	copy(s.ids.key[:], k)
	return nil
}

func putIDKey(meta *bolt.Bucket) error {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return fmt.Errorf("store: id key: %w", err)
	}
	return meta.Put(kIDKey, k)
}

// migrateUserIDs3 is the schema 2 → 3 step: user ids become UUIDs. It
// makes the id key (when convertEvents2 has not) and rewrites the user
// id of every stored event still named by its record key to the UUID
// (none, unless convertEvents2 failed). Nothing else stores a user id as
// text: the other buckets hold record keys, which stay (see the top of
// this file).
func migrateUserIDs3(tx *bolt.Tx) error {
	_, _, err := rewriteEventIDs(tx, nil, math.MaxInt)
	return err
}

// rewriteEventIDs makes the id key when there is none and rewrites the
// user ids of the events from key from on (nil: the first) that are
// record keys into UUIDs, at most max of them. It returns how many it
// rewrote and the key to go on from (nil at the end). An event whose text
// has no "user_id":"u is not decoded.
func rewriteEventIDs(tx *bolt.Tx, from []byte, max int) (int, []byte, error) {
	meta := tx.Bucket(bMeta)
	if meta.Get(kIDKey) == nil {
		if err := putIDKey(meta); err != nil {
			return 0, nil, err
		}
	}
	c, err := loadIDKey(meta, false)
	if err != nil {
		return 0, nil, err
	}
	evb := tx.Bucket(bEvents)
	if evb == nil {
		return 0, nil, nil
	}
	type kv struct{ k, v []byte }
	var out []kv
	cur := evb.Cursor()
	k, v := cur.First()
	if from != nil {
		k, v = cur.Seek(from)
	}
	for ; k != nil && len(out) < max; k, v = cur.Next() {
		if !bytes.Contains(v, []byte(`"user_id":"u`)) {
			continue
		}
		var e Event
		if err := json.Unmarshal(v, &e); err != nil {
			return 0, nil, fmt.Errorf("event %x: %w", k, err)
		}
		if !validUserID(e.UserID) {
			continue
		}
		e.UserID = c.pub(e.UserID)
		nv, err := json.Marshal(e)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, kv{bytes.Clone(k), nv})
	}
	var next []byte
	if k != nil {
		next = bytes.Clone(k)
	}
	for _, r := range out {
		if err := evb.Put(r.k, r.v); err != nil {
			return 0, nil, err
		}
	}
	return len(out), next, nil
}

// convertEvents2 rewrites the events' user ids (rewriteEventIDs) when the
// schema is 1 or 2, migrateChunk events per transaction, before the
// migration step runs: one transaction over a 100,000-event log held all
// of it in memory. progress (may be nil) is called after each transaction
// with the total so far, log once at the end when anything was rewritten.
// A crash midway leaves some events rewritten and the schema as it was;
// the next open goes on (a rewritten event no longer names a record key).
func convertEvents2(db *bolt.DB, progress, log func(n int)) error {
	old := false
	db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bMeta); meta != nil {
			v := meta.Get(kSchema)
			old = len(v) == 4 && (binary.BigEndian.Uint32(v) == 1 || binary.BigEndian.Uint32(v) == 2)
		}
		return nil
	})
	if !old {
		return nil
	}
	total, err := migrateChunks(db, rewriteEventIDs, progress)
	if err != nil {
		return fmt.Errorf("store: open: migrate the events' user ids: %w", err)
	}
	if total > 0 {
		log(total)
	}
	return nil
}
