package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// A fleet controller keeps a replica of its site's users (docs/fleet.md).
// The site's credentials bucket holds each user as one document; these
// methods apply such documents to the store and record the bucket's
// revision in the same transaction, so a crash never applies a change
// twice nor skips one. The store keeps owning its records: a document is
// written through the same helpers as the API's changes, inside update, so
// the card records are derived again as always.

// kReplicaRev is the meta key of the last applied revision (uint64 BE).
var kReplicaRev = []byte("replica_rev")

// ReplicaCode is a code as a replica document carries it: its MAC under
// the store's key (the site key), never its digits. ID is an MFA code's
// id ("m" + hex); an entry code has none.
type ReplicaCode struct {
	ID        string
	MAC       []byte
	Length    int
	Created   time.Time
	CreatedBy string
}

// ReplicaUser is a whole user: fields, cards and codes.
type ReplicaUser struct {
	UserID string
	UserFields
	Cards            []Card
	EntryCode        *ReplicaCode // nil = none
	DuressCode       *ReplicaCode // nil = none (docs/operations.md, duress codes)
	MFACodes         []ReplicaCode
	Created, Updated time.Time
}

// ReplicaChange is one user's change: its new document, or User nil when
// the user was deleted. Rev is the revision of the change in the site's
// bucket.
type ReplicaChange struct {
	Rev    uint64
	UserID string
	User   *ReplicaUser
}

// Rejected is a change the store refused: its document breaks a rule or
// clashes with another user's card, entry code or external id. The
// replica keeps the user as it was.
type Rejected struct {
	Rev    uint64
	UserID string
	Err    error
}

// ApplyResult says what ApplyReplica did.
type ApplyResult struct {
	Applied  int        // changes written
	Skipped  int        // changes at or below the recorded revision (already applied)
	Rejected []Rejected // changes refused
}

// ReplicaRevision returns the last revision recorded by ApplyReplica or
// RebuildReplica; 0 for a store that never applied one.
func (s *Store) ReplicaRevision() (uint64, error) {
	var rev uint64
	err := s.read(bMeta, func(tx *bolt.Tx) error {
		rev = replicaRev(tx.Bucket(bMeta))
		return nil
	})
	return rev, err
}

func replicaRev(meta *bolt.Bucket) uint64 {
	if v := meta.Get(kReplicaRev); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// ApplyReplica applies changes (in revision order) and records rev, the
// revision the batch reaches (at least that of its last change: a batch
// may end on revisions that change no user), in one transaction. A change
// at or below the recorded revision is skipped, so a batch applied again
// after a crash changes nothing. rev at or below the recorded one records
// nothing.
func (s *Store) ApplyReplica(changes []ReplicaChange, rev uint64) (ApplyResult, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var res ApplyResult
	err := s.update(func(tx *bolt.Tx, b buckets) ([]Event, error) {
		res = ApplyResult{}
		cur := replicaRev(b.meta)
		for _, ch := range changes {
			if ch.Rev <= cur {
				res.Skipped++
				continue
			}
			err := b.applyReplicaUser(s.replicaKeys(ch))
			var ve *ValidationError
			switch {
			case err == nil:
				res.Applied++
			case errors.Is(err, ErrConflict), errors.As(err, &ve):
				res.Rejected = append(res.Rejected, Rejected{Rev: ch.Rev, UserID: ch.UserID, Err: err})
			default:
				return nil, err
			}
			cur = max(cur, ch.Rev)
		}
		if rev > cur {
			cur = rev
		}
		return nil, b.meta.Put(kReplicaRev, be64(cur))
	})
	if err == nil {
		s.replica.Store(true)
	}
	return res, err
}

// replicaKeys turns the user id a site's change names it by (the UUID
// every member derives alike) into this store's record key, in the change
// and its document; an id that names no user here is left as it is, and
// checkReplicaUser refuses it.
func (s *Store) replicaKeys(ch ReplicaChange) ReplicaChange {
	var k [userIDLen]byte
	if !s.ids.keyOf(&k, ch.UserID) {
		return ch
	}
	ch.UserID = string(k[:])
	if ch.User != nil && s.pubID(ch.UserID) == ch.User.UserID {
		u := *ch.User
		u.UserID = ch.UserID
		ch.User = &u
	}
	return ch
}

// checkReplicaUser checks a document against the rules the API's changes
// follow, so a document that breaks one (a bad or hostile writer) is
// refused before anything is written.
func checkReplicaUser(id string, u *ReplicaUser) error {
	if !validUserID(id) || u.UserID != id {
		return invalid("user_id", "the document's user id must be a user id of this site (its site key's) and its key's")
	}
	u.UserFields = normFields(u.UserFields)
	if err := validateFields(&u.UserFields); err != nil {
		return err
	}
	seen := map[CardKey]bool{}
	for _, c := range u.Cards {
		if err := validateCardKey(c.Key()); err != nil {
			return err
		}
		if seen[c.Key()] {
			return invalid("cards", "a card is listed twice")
		}
		seen[c.Key()] = true
	}
	code := func(c ReplicaCode) error {
		if len(c.MAC) != macSize {
			return invalid("code", fmt.Sprintf("a code's MAC must be %d bytes", macSize))
		}
		if c.Length < minCode || c.Length > maxCode {
			return invalid("code", "a code's length must be 4–16")
		}
		if len(c.CreatedBy) > 255 {
			return invalid("code", "created_by is at most 255 bytes")
		}
		return nil
	}
	for _, c := range []*ReplicaCode{u.EntryCode, u.DuressCode} {
		if c == nil {
			continue
		}
		if err := code(*c); err != nil {
			return err
		}
		if c.ID != "" {
			return invalid("code", "an entry or duress code has no id")
		}
	}
	if u.EntryCode != nil && u.DuressCode != nil && bytes.Equal(u.EntryCode.MAC, u.DuressCode.MAC) {
		return invalid("duress_code", errDuressIsEntry.Rule)
	}
	if len(u.MFACodes) > maxMFA {
		return invalid("code", ruleMaxMFA)
	}
	ids := map[uint64]bool{}
	for _, m := range u.MFACodes {
		seq, ok := parseMFAID(m.ID)
		if !ok || ids[seq] {
			return invalid("mfa_codes", "an MFA code's id must be m + hex, once per user")
		}
		ids[seq] = true
		if err := code(m); err != nil {
			return err
		}
	}
	return nil
}

// applyReplicaUser replaces one user's records with its document (or
// removes them). A clash with another user is checked before any write.
func (b buckets) applyReplicaUser(ch ReplicaChange) error {
	u := ch.User
	if u != nil {
		if err := checkReplicaUser(ch.UserID, u); err != nil {
			return err
		}
		id := []byte(ch.UserID)
		if u.ExternalID != "" {
			if o := b.ext.Get([]byte(u.ExternalID)); o != nil && !bytes.Equal(o, id) {
				return fmt.Errorf("store: external_id: %w", ErrConflict)
			}
		}
		for _, c := range u.Cards {
			if v := b.cards.Get(appendCardKey(nil, c.Key())); len(v) >= userIDLen && !bytes.Equal(v[:userIDLen], id) {
				return fmt.Errorf("store: card: %w", ErrConflict)
			}
		}
		if u.EntryCode != nil {
			if o := b.entry.Get(u.EntryCode.MAC); o != nil && !ownCode(o, id) {
				return fmt.Errorf("store: entry code: %w", ErrConflict)
			}
		}
		if u.DuressCode != nil {
			if o := b.entry.Get(u.DuressCode.MAC); o != nil && !ownCode(o, id) {
				return fmt.Errorf("store: duress code: %w", ErrConflict)
			}
		}
	}
	if old, err := b.getUser(ch.UserID); err == nil {
		if err := b.removeUser(ch.UserID, old); err != nil {
			return err
		}
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if u == nil {
		return nil
	}
	return b.putReplicaUser(u)
}

// ownCode reports whether an entry-index value is one of user id's codes
// (its entry or its duress code: the document replaces both).
func ownCode(owner, id []byte) bool {
	uid, _ := isDuressOwner(owner)
	return bytes.Equal(uid, id)
}

// putReplicaUser writes a checked document of a user that has no records.
func (b buckets) putReplicaUser(u *ReplicaUser) error {
	r := userRec{UserFields: u.UserFields, Created: u.Created.UTC(), Updated: u.Updated.UTC()}
	if err := b.putUser(u.UserID, &r, nil); err != nil {
		return err
	}
	if seq, ok := keySeq(u.UserID); ok && seq > b.users.Sequence() {
		// Ids made here stay above every id the site made.
		if err := b.users.SetSequence(seq); err != nil {
			return err
		}
	}
	for _, c := range u.Cards {
		if err := b.putCard(u.UserID, c.Key(), c.Active); err != nil {
			return err
		}
	}
	if e := u.EntryCode; e != nil {
		if _, err := b.setCode(entrySlot(u.UserID), e.MAC, encodeCode(e.MAC, e.Length, e.Created.UTC(), e.CreatedBy)); err != nil {
			return err
		}
	}
	if d := u.DuressCode; d != nil {
		if _, err := b.setCode(duressSlot(u.UserID), d.MAC, encodeCode(d.MAC, d.Length, d.Created.UTC(), d.CreatedBy)); err != nil {
			return err
		}
	}
	for _, m := range u.MFACodes {
		seq, _ := parseMFAID(m.ID)
		if err := b.users.Put(mfaKey(u.UserID, seq), encodeCode(m.MAC, m.Length, m.Created.UTC(), m.CreatedBy)); err != nil {
			return err
		}
		if err := b.markCodes(); err != nil {
			return err
		}
		if seq > b.root.Sequence() {
			if err := b.root.SetSequence(seq); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReplicaUser returns the whole document of a user, codes as their MACs:
// what a fleet member writes to the site's bucket.
func (s *Store) ReplicaUser(pub string) (ReplicaUser, error) {
	out, err := viewUser(s, pub, buckets.replicaUser)
	out.UserID = pub
	return out, err
}

func (b buckets) replicaUser(userID string) (ReplicaUser, error) {
	u, err := b.loadUser(userID)
	if err != nil {
		return ReplicaUser{}, err
	}
	out := ReplicaUser{UserID: userID, UserFields: u.UserFields, Cards: u.Cards, Created: u.Created, Updated: u.Updated}
	if v := b.users.Get(entryKey([]byte(userID))); v != nil {
		r, err := decodeCode(v)
		if err != nil {
			return out, fmt.Errorf("%w: entry code of %s", err, userID)
		}
		out.EntryCode = &ReplicaCode{MAC: bytes.Clone(r.MAC), Length: r.Length, Created: r.Created, CreatedBy: r.CreatedBy}
	}
	if v := b.users.Get(duressKey([]byte(userID))); v != nil {
		r, err := decodeCode(v)
		if err != nil {
			return out, fmt.Errorf("%w: duress code of %s", err, userID)
		}
		out.DuressCode = &ReplicaCode{MAC: bytes.Clone(r.MAC), Length: r.Length, Created: r.Created, CreatedBy: r.CreatedBy}
	}
	prefix := mfaPrefix(userID)
	c := b.users.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		r, err := decodeCode(v)
		if err != nil || len(k) != len(prefix)+8 {
			return out, fmt.Errorf("%w: mfa code of %s", errCorrupt, userID)
		}
		out.MFACodes = append(out.MFACodes, ReplicaCode{ID: mfaID(binary.BigEndian.Uint64(k[len(prefix):])),
			MAC: bytes.Clone(r.MAC), Length: r.Length, Created: r.Created, CreatedBy: r.CreatedBy})
	}
	return out, nil
}

// rebuildBatch is how many users one transaction of a rebuild writes.
const rebuildBatch = 5000

// Rebuild builds a new generation of the replica from a whole set of
// documents (the site's current values) and switches to it in one
// transaction, as a large import does: until Commit, the door reads the
// old generation, and a crash leaves the old one (Open drops the
// unfinished one). It holds the store's write lock from BeginRebuild to
// Commit or Abort.
type Rebuild struct {
	s        *Store
	old, gen uint64
	pending  []*ReplicaUser
	Rejected []Rejected
	done     bool
}

// BeginRebuild starts a rebuild. The caller must end it with Commit or
// Abort.
func (s *Store) BeginRebuild() (*Rebuild, error) {
	s.writeMu.Lock()
	r := &Rebuild{s: s}
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		r.old = binary.BigEndian.Uint64(meta.Get(kGen))
		r.gen = r.old + 1
		return newStaging(tx, r.gen, dataBuckets)
	})
	if err != nil {
		s.writeMu.Unlock()
		return nil, fmt.Errorf("store: rebuild: start: %w", err)
	}
	return r, nil
}

// Add adds one user's document. Documents are written in batches.
func (r *Rebuild) Add(u ReplicaUser) error {
	ch := r.s.replicaKeys(ReplicaChange{UserID: u.UserID, User: &u})
	r.pending = append(r.pending, ch.User)
	if len(r.pending) >= rebuildBatch {
		return r.flush()
	}
	return nil
}

func (r *Rebuild) flush() error {
	if len(r.pending) == 0 {
		return nil
	}
	err := r.s.db.Update(func(tx *bolt.Tx) error {
		b, err := openBuckets(tx.Bucket(genName(r.gen)))
		if err != nil {
			return err
		}
		b.meta = tx.Bucket(bMeta)
		b.users.touched = touched{}
		b.cards.touched = b.users.touched
		for _, u := range r.pending {
			err := b.applyReplicaUser(ReplicaChange{UserID: u.UserID, User: u})
			var ve *ValidationError
			switch {
			case err == nil:
			case errors.Is(err, ErrConflict), errors.As(err, &ve):
				r.Rejected = append(r.Rejected, Rejected{UserID: r.s.pubID(u.UserID), Err: err})
			default:
				return err
			}
		}
		for _, id := range slices.Sorted(maps.Keys(b.users.touched)) {
			if err := b.refreshCards([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	r.pending = r.pending[:0]
	if err != nil {
		return fmt.Errorf("store: rebuild: %w", err)
	}
	return nil
}

// Commit writes what is pending and switches the store to the new
// generation, recording rev, in one transaction.
func (r *Rebuild) Commit(rev uint64) error {
	if r.done {
		return errors.New("store: rebuild: already ended")
	}
	if err := r.flush(); err != nil {
		r.Abort()
		return err
	}
	err := r.s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if v := meta.Get(kStaging); v == nil || binary.BigEndian.Uint64(v) != r.gen {
			return errors.New("staging generation vanished")
		}
		if err := meta.Put(kGen, be64(r.gen)); err != nil {
			return err
		}
		if err := meta.Delete(kStaging); err != nil {
			return err
		}
		if err := tx.DeleteBucket(genName(r.old)); err != nil {
			return err
		}
		return meta.Put(kReplicaRev, be64(rev))
	})
	if err == nil {
		r.s.replica.Store(true)
	}
	r.done = true
	r.s.writeMu.Unlock()
	if err != nil {
		r.s.dropStaging(r.gen)
		return fmt.Errorf("store: rebuild: switch: %w", err)
	}
	return nil
}

// Abort drops the new generation; the store stays as it was.
func (r *Rebuild) Abort() {
	if r.done {
		return
	}
	r.done = true
	r.s.dropStaging(r.gen)
	r.s.writeMu.Unlock()
}

// dropStaging deletes a half-built generation gen (Open would otherwise
// at the next start).
func (s *Store) dropStaging(gen uint64) {
	s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if v := meta.Get(kStaging); v == nil || binary.BigEndian.Uint64(v) != gen {
			return nil
		}
		if err := tx.DeleteBucket(genName(gen)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
		return meta.Delete(kStaging)
	})
}
