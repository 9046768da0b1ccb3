package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// buckets holds one transaction's view of the live generation. Its users
// and cards buckets note, on every Put and Delete, the user the record
// belongs to (noteBucket); in a transaction run by update, every noted
// user's card records are derived again before it commits.
type buckets struct {
	root, meta   *bolt.Bucket
	users        noteRecs
	cards        noteBucket
	ucards       ucards // the users' card sub-records (userval.go)
	ext          extIndex
	email, entry *bolt.Bucket
}

// extIndex is the external id index: external id → the user's record
// key, stored as the uvarint of its sequence (schema 4: 3 bytes for a
// million users, not 8). Get and Put take and give the record key.
type extIndex struct{ *bolt.Bucket }

// extVal is the ext index's value naming user userID.
func extVal(userID string) []byte {
	seq, _ := keySeq(userID)
	return binary.AppendUvarint(nil, seq)
}

// extUser returns the record key an ext index value names.
func extUser(v []byte) ([]byte, bool) {
	seq, n := binary.Uvarint(v)
	if n <= 0 || n != len(v) || seq == 0 || seq > maxUserSeq {
		return nil, false
	}
	return []byte(newUserID(seq)), true
}

// Get returns the record key of the user with external id ext: nil when
// there is none, empty (no user's) when the value does not decode.
func (x extIndex) Get(ext []byte) []byte {
	v := x.Bucket.Get(ext)
	if v == nil {
		return nil
	}
	if id, ok := extUser(v); ok {
		return id
	}
	return []byte{}
}

// Put records that ext is the external id of user userID.
func (x extIndex) Put(ext, userID []byte) error { return x.Bucket.Put(ext, extVal(string(userID))) }

func openBuckets(root *bolt.Bucket) (buckets, error) {
	users := recs{root.Bucket(bUsers)}
	b := buckets{
		root: root, users: noteRecs{recs: users}, ext: extIndex{root.Bucket(bExt)}, email: root.Bucket(bEmail),
		cards: noteBucket{Bucket: root.Bucket(bCards), byValue: true}, ucards: ucards{r: users}, entry: root.Bucket(bEntry),
	}
	if users.Bucket == nil || b.ext.Bucket == nil || b.email == nil || b.cards.Bucket == nil || b.entry == nil {
		return b, fmt.Errorf("%w: a data bucket is missing", ErrCorrupt)
	}
	return b, nil
}

// noteRecs is the users bucket of a transaction (by record, userval.go).
// Put and Delete note in touched (when set) the user the record belongs
// to: the key's first userIDLen bytes (the user record, its codes and its
// cards all start so).
type noteRecs struct {
	recs
	touched touched
}

func (n noteRecs) Put(k, v []byte) error {
	n.note(k)
	return n.recs.Put(k, v)
}

func (n noteRecs) Delete(k []byte) error {
	n.note(k)
	return n.recs.Delete(k)
}

func (n noteRecs) note(k []byte) {
	if n.touched != nil && len(k) >= userIDLen {
		n.touched[string(k[:userIDLen])] = struct{}{}
	}
}

// touched is the set of users whose records or cards a write transaction
// wrote.
type touched map[string]struct{}

// noteBucket is the cards bucket of a transaction. Put and Delete note in
// touched (when set) the user the record belongs to: in cards (byValue),
// the value's (a card record starts with its user's id). A deleted card is
// not noted: it has no record left to derive.
type noteBucket struct {
	*bolt.Bucket
	touched touched
	byValue bool
}

func (n noteBucket) Put(k, v []byte) error {
	if n.byValue {
		n.note(v)
	} else {
		n.note(k)
	}
	return n.Bucket.Put(k, v)
}

func (n noteBucket) Delete(k []byte) error {
	if !n.byValue {
		n.note(k)
	}
	return n.Bucket.Delete(k)
}

func (n noteBucket) note(b []byte) {
	if n.touched != nil && len(b) >= userIDLen {
		n.touched[string(b[:userIDLen])] = struct{}{}
	}
}

// named returns the data bucket called name, for writing.
func (b buckets) named(name []byte) interface {
	putter
	Delete(k []byte) error
} {
	switch {
	case bytes.Equal(name, bUsers):
		return b.users
	case bytes.Equal(name, bCards):
		return b.cards
	case bytes.Equal(name, bUCards):
		return b.ucards
	}
	return b.root.Bucket(name)
}

// putter is a bucket to Put records into (a *bolt.Bucket or a noteBucket).
type putter interface{ Put(k, v []byte) error }

// cardStub is the start of a card record: its user id and active byte.
// A card is written so, and update derives the rest before the commit.
func cardStub(userID string, active bool) []byte {
	return append(append(make([]byte, 0, userIDLen+1), userID...), activeByte(active))
}

func txBuckets(tx *bolt.Tx) (buckets, error) {
	root, err := data(tx)
	if err != nil {
		return buckets{}, err
	}
	b, err := openBuckets(root)
	b.meta = tx.Bucket(bMeta)
	return b, err
}

// markCodes records that the database holds codes (see loadKey).
func (b buckets) markCodes() error {
	if b.meta.Get(kHasCodes) != nil {
		return nil
	}
	return b.meta.Put(kHasCodes, []byte{1})
}

func entryKey(userID []byte) []byte {
	return append(append(make([]byte, 0, userIDLen+1), userID...), tagEntry)
}

func mfaPrefix(userID string) []byte {
	return append(append(make([]byte, 0, userIDLen+9), userID...), tagMFA)
}

// view runs fn in a read transaction on the live generation.
func (s *Store) view(fn func(tx *bolt.Tx, b buckets) error) error {
	return s.read(bUsers, func(tx *bolt.Tx) error {
		b, err := txBuckets(tx)
		if err != nil {
			return err
		}
		return fn(tx, b)
	})
}

// viewUser returns what read makes of the records of the user with id pub
// (given its record key), in a read transaction; a not-found error names
// the user by pub.
func viewUser[T any](s *Store, pub string, read func(b buckets, key string) (T, error)) (T, error) {
	var out T
	key, err := s.userKey(pub)
	if err != nil {
		return out, err
	}
	err = s.view(func(tx *bolt.Tx, b buckets) error {
		var err error
		out, err = read(b, key)
		return err
	})
	return out, s.pubErr(err)
}

// seekAfter moves c to the first key after key after (nil: to the first
// key) and returns it: a page of a list starts after the last key of the
// page before.
func seekAfter(c *bolt.Cursor, after []byte) ([]byte, []byte) {
	if after == nil {
		return c.First()
	}
	k, v := c.Seek(after)
	if k != nil && bytes.Equal(k, after) {
		return c.Next()
	}
	return k, v
}

// update runs fn in a write transaction on the live generation and keeps
// the store's one derived copy in step: before the commit, it derives
// again the card records of every user whose records or cards fn wrote
// through b (refreshCards), so no write path has to remember to. The
// events fn returns (audit records) are appended in the same transaction;
// the caller publishes them after the commit.
func (s *Store) update(fn func(tx *bolt.Tx, b buckets) ([]Event, error)) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := txBuckets(tx)
		if err != nil {
			return err
		}
		b.users.touched = touched{}
		b.cards.touched = b.users.touched
		evs, err := fn(tx, b)
		if err != nil {
			return err
		}
		for _, id := range slices.Sorted(maps.Keys(b.users.touched)) {
			if err := b.refreshCards([]byte(id)); err != nil {
				return err
			}
		}
		s.pubEvents(evs) // audit events name users by their ids, not record keys
		return s.appendEventsTx(tx, evs)
	})
}

// changeUser runs fn through change for the existing user with record
// key userID, with its record; a *NotFoundError (naming the user id) when
// there is none.
func (s *Store) changeUser(userID string, fn func(b buckets, r userRec, now time.Time) ([]Event, error)) error {
	return s.pubErr(s.change(func(tx *bolt.Tx, b buckets, now time.Time) ([]Event, error) {
		r, err := b.getUser(userID)
		if err != nil {
			return nil, err
		}
		return fn(b, r, now)
	}))
}

// change runs fn through update and publishes its events after the commit.
func (s *Store) change(fn func(tx *bolt.Tx, b buckets, now time.Time) ([]Event, error)) error {
	if r := s.remoteOf(); r != nil {
		return s.changeRemote(r, fn)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var evs []Event
	err := s.update(func(tx *bolt.Tx, b buckets) ([]Event, error) {
		var err error
		evs, err = fn(tx, b, s.now())
		return evs, err
	})
	if err != nil {
		return err
	}
	s.publish(evs)
	return nil
}

func audit(now time.Time, by Actor, action, userID, externalID string) Event {
	return Event{
		Time: now, Event: "credential_changed", Action: action,
		UserID: userID, ExternalID: externalID, Actor: by.Name, Role: by.Role,
	}
}

// emailHashLen is how much of SHA-256(lower(email)) the email index keys
// by (schema 4; until then the lowered email and a 0 byte): a lookup by
// email reads every user under the hash and compares their emails, so a
// collision costs a record read, never a wrong answer.
const emailHashLen = 4

// emailKey is user userID's key in the email index.
func emailKey(email, userID string) []byte {
	return append(emailPrefix(email), userID...)
}

// emailPrefix is the start of the email index's keys of every user with
// this email (in any case).
func emailPrefix(email string) []byte {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return append(make([]byte, 0, emailHashLen+userIDLen), sum[:emailHashLen]...)
}

// usersByEmail returns the record keys of the users whose email is email
// (compared lowered, as the index is), at most max of them.
func (b buckets) usersByEmail(email string, max int) ([]string, error) {
	want := strings.ToLower(email)
	prefix := emailPrefix(email)
	var out []string
	c := b.email.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < max; k, _ = c.Next() {
		r, err := b.getUser(string(k[len(prefix):]))
		if err != nil {
			return nil, fmt.Errorf("%w: the email index names a user that does not decode", errCorrupt)
		}
		if strings.ToLower(r.Email) == want {
			out = append(out, string(k[len(prefix):]))
		}
	}
	return out, nil
}

func (b buckets) getUser(userID string) (userRec, error) {
	if !validUserID(userID) {
		return userRec{}, errNoUser
	}
	v := b.users.Get([]byte(userID))
	if v == nil {
		if _, err := b.users.subsOf([]byte(userID)); err != nil {
			return userRec{}, err // a value that does not decode
		}
		return userRec{}, notFound("user", userID)
	}
	r, err := decodeUser(v)
	if err != nil {
		return r, fmt.Errorf("%w: user %s", err, keyName(userID))
	}
	return r, nil
}

// putUser writes r under userID and keeps the external id and email
// indexes in step with old (nil for a new user).
func (b buckets) putUser(userID string, r *userRec, old *userRec) error {
	if r.ExternalID != "" && (old == nil || old.ExternalID != r.ExternalID) {
		if owner := b.ext.Get([]byte(r.ExternalID)); owner != nil && string(owner) != userID {
			return fmt.Errorf("store: external_id: %w", ErrConflict)
		}
	}
	if old != nil {
		if old.ExternalID != "" && old.ExternalID != r.ExternalID {
			if err := b.ext.Delete([]byte(old.ExternalID)); err != nil {
				return err
			}
		}
		if old.Email != "" && !strings.EqualFold(old.Email, r.Email) {
			if err := b.email.Delete(emailKey(old.Email, userID)); err != nil {
				return err
			}
		}
	}
	if r.ExternalID != "" {
		if err := b.ext.Put([]byte(r.ExternalID), []byte(userID)); err != nil {
			return err
		}
	}
	if r.Email != "" {
		if err := b.email.Put(emailKey(r.Email, userID), nil); err != nil {
			return err
		}
	}
	return b.users.Put([]byte(userID), encodeUser(r))
}

func normFields(f UserFields) UserFields {
	f.Groups = slices.Clone(f.Groups)
	if !f.Start.IsZero() {
		f.Start = f.Start.UTC()
	}
	if !f.End.IsZero() {
		f.End = f.End.UTC()
	}
	return f
}

// CreateUser creates a user with a new user id (a UUID, userid.go).
func (s *Store) CreateUser(f UserFields, by Actor) (User, error) {
	f = normFields(f)
	if err := validateFields(&f); err != nil {
		return User{}, err
	}
	var id string
	err := s.change(func(tx *bolt.Tx, b buckets, now time.Time) ([]Event, error) {
		seq, err := b.users.NextSequence()
		if err != nil {
			return nil, err
		}
		id = newUserID(seq)
		r := userRec{UserFields: f, Created: now, Updated: now}
		if err := b.putUser(id, &r, nil); err != nil {
			return nil, err
		}
		return []Event{audit(now, by, "user_created", id, f.ExternalID)}, nil
	})
	if err != nil {
		return User{}, err
	}
	return s.User(s.pubID(id))
}

// User returns a user and its credentials (codes only as metadata).
func (s *Store) User(userID string) (User, error) {
	u, err := viewUser(s, userID, buckets.loadUser)
	u.UserID = s.pubID(u.UserID)
	return u, err
}

// UserByExternalID returns the user with that external id.
func (s *Store) UserByExternalID(externalID string) (User, error) {
	var u User
	err := s.view(func(tx *bolt.Tx, b buckets) error {
		if externalID == "" {
			return notFound("external id", "")
		}
		id := b.ext.Get([]byte(externalID))
		if id == nil {
			return notFound("external id", externalID)
		}
		var err error
		u, err = b.loadUser(string(id))
		return err
	})
	u.UserID = s.pubID(u.UserID)
	return u, s.pubErr(err)
}

func (b buckets) loadUser(userID string) (User, error) {
	r, err := b.getUser(userID)
	if err != nil {
		return User{}, err
	}
	u := User{UserID: userID, UserFields: r.UserFields, Created: r.Created, Updated: r.Updated}
	c := b.ucards.Cursor()
	prefix := []byte(userID)
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ck, ok := decodeCardKey(k[len(prefix):])
		if !ok {
			return User{}, fmt.Errorf("%w: card index of %s", errCorrupt, keyName(userID))
		}
		v := b.cards.Get(k[len(prefix):])
		if len(v) < cardMin {
			return User{}, fmt.Errorf("%w: card of %s", errCorrupt, keyName(userID))
		}
		u.Cards = append(u.Cards, Card{Format: ck.Format, FacilityCode: ck.FacilityCode, CardNumber: ck.CardNumber, Active: v[cardActiveAt] == 1})
	}
	u.HasEntryCode = b.users.Get(entryKey(prefix)) != nil
	u.HasDuressCode = b.users.Get(duressKey(prefix)) != nil
	u.MFACodes, err = b.mfaCodes(userID)
	return u, err
}

// UpdateUser replaces a user's fields.
func (s *Store) UpdateUser(pub string, f UserFields, by Actor) (User, error) {
	userID, err := s.userKey(pub)
	if err != nil {
		return User{}, err
	}
	f = normFields(f)
	if err := validateFields(&f); err != nil {
		return User{}, err
	}
	err = s.changeUser(userID, func(b buckets, old userRec, now time.Time) ([]Event, error) {
		r := userRec{UserFields: f, Created: old.Created, Updated: now}
		if err := b.putUser(userID, &r, &old); err != nil {
			return nil, err
		}
		return []Event{audit(now, by, "user_updated", userID, f.ExternalID)}, nil
	})
	if err != nil {
		return User{}, err
	}
	return s.User(pub)
}

// DeleteUser deletes a user and all its credentials.
func (s *Store) DeleteUser(pub string, by Actor) error {
	userID, err := s.userKey(pub)
	if err != nil {
		return err
	}
	return s.changeUser(userID, func(b buckets, old userRec, now time.Time) ([]Event, error) {
		if err := b.removeUser(userID, old); err != nil {
			return nil, err
		}
		return []Event{audit(now, by, "user_deleted", userID, old.ExternalID)}, nil
	})
}

const (
	defaultPage = 100
	maxPage     = 1000
)

// ListUsers returns users in the order they were created, after the user
// q.After, and the user id to pass as After for the next page ("" when
// there is none).
func (s *Store) ListUsers(q ListQuery) ([]User, string, error) {
	if q.After != "" {
		key, err := s.userKey(q.After)
		if err != nil {
			return nil, "", err
		}
		q.After = key
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultPage
	}
	if limit > maxPage {
		limit = maxPage
	}
	search := strings.ToLower(q.Search)
	var users []User
	next := ""
	err := s.view(func(tx *bolt.Tx, b buckets) error {
		// One value a user, its user record first (userval.go): read
		// without decoding the rest.
		c := b.users.recs.Bucket.Cursor()
		var after []byte
		if q.After != "" {
			after = []byte(q.After)
		}
		for k, val := seekAfter(c, after); k != nil; k, val = c.Next() {
			v, err := userRecOf(val)
			if err != nil {
				return fmt.Errorf("%w (user %s)", err, keyName(k))
			}
			if v == nil {
				continue // no user record: the value is reported by db check
			}
			if search != "" {
				if !mayMatch(v, search) {
					continue // a cheap test first: most records of a search do not match
				}
				r, err := decodeUser(v)
				if err != nil {
					return fmt.Errorf("%w: user %s", err, keyName(k))
				}
				if !strings.Contains(strings.ToLower(r.ExternalID), search) &&
					!strings.Contains(strings.ToLower(r.FirstName), search) &&
					!strings.Contains(strings.ToLower(r.LastName), search) &&
					!strings.Contains(strings.ToLower(r.Email), search) {
					continue
				}
			}
			if len(users) == limit {
				next = users[len(users)-1].UserID
				return nil
			}
			u, err := b.loadUser(string(k))
			if err != nil {
				return err
			}
			users = append(users, u)
		}
		return nil
	})
	for i := range users {
		users[i].UserID = s.pubID(users[i].UserID)
	}
	if next != "" {
		next = s.pubID(next)
	}
	return users, next, err
}

// removeUser deletes every record of the user: its record, entry and MFA
// codes, cards and index entries (old is its record).
func (b buckets) removeUser(userID string, old userRec) error {
	id := []byte(userID)
	if old.ExternalID != "" {
		if err := b.ext.Delete([]byte(old.ExternalID)); err != nil {
			return err
		}
	}
	if old.Email != "" {
		if err := b.email.Delete(emailKey(old.Email, userID)); err != nil {
			return err
		}
	}
	var cardKeys [][]byte
	c := b.ucards.Cursor()
	for k, _ := c.Seek(id); k != nil && bytes.HasPrefix(k, id); k, _ = c.Next() {
		cardKeys = append(cardKeys, bytes.Clone(k))
	}
	for _, k := range cardKeys {
		if err := b.cards.Delete(k[len(id):]); err != nil {
			return err
		}
	}
	for _, slot := range []codeSlot{entrySlot(userID), duressSlot(userID)} {
		if _, err := b.deleteCode(slot); err != nil {
			return err
		}
	}
	// The user record, its codes and cards: the user's one value
	// (userval.go).
	b.users.note(id)
	if err := b.users.recs.Bucket.Delete(id); err != nil {
		return err
	}
	return nil
}
