package store

import (
	"bytes"
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
	root, meta                *bolt.Bucket
	users, cards              noteBucket
	ext, email, ucards, entry *bolt.Bucket
}

func openBuckets(root *bolt.Bucket) (buckets, error) {
	b := buckets{
		root: root, users: noteBucket{Bucket: root.Bucket(bUsers)}, ext: root.Bucket(bExt), email: root.Bucket(bEmail),
		cards: noteBucket{Bucket: root.Bucket(bCards), byValue: true}, ucards: root.Bucket(bUCards), entry: root.Bucket(bEntry),
	}
	if b.users.Bucket == nil || b.ext == nil || b.email == nil || b.cards.Bucket == nil || b.ucards == nil || b.entry == nil {
		return b, fmt.Errorf("%w: a data bucket is missing", ErrCorrupt)
	}
	return b, nil
}

// touched is the set of users whose records or cards a write transaction
// wrote.
type touched map[string]struct{}

// noteBucket is the users or cards bucket of a transaction. Put and Delete
// note in touched (when set) the user the record belongs to: in users, the
// key's first userIDLen bytes (the user id: the user record, its entry
// code and MFA codes all start so); in cards (byValue), the value's (a
// card record starts with its user's id). A deleted card is not noted: it
// has no record left to derive.
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

func emailKey(email, userID string) []byte {
	k := make([]byte, 0, len(email)+1+len(userID))
	k = append(k, strings.ToLower(email)...)
	k = append(k, 0)
	return append(k, userID...)
}

func (b buckets) getUser(userID string) (userRec, error) {
	if !validUserID(userID) {
		return userRec{}, errNoUser
	}
	v := b.users.Get([]byte(userID))
	if v == nil {
		return userRec{}, notFound("user", userID)
	}
	r, err := decodeUser(v)
	if err != nil {
		return r, fmt.Errorf("%w: user %s", err, userID)
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
	key, err := s.userKey(userID)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.view(func(tx *bolt.Tx, b buckets) error {
		var err error
		u, err = b.loadUser(key)
		return err
	})
	u.UserID = s.pubID(u.UserID)
	return u, s.pubErr(err)
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
			return User{}, fmt.Errorf("%w: card index of %s", errCorrupt, userID)
		}
		v := b.cards.Get(k[len(prefix):])
		if len(v) < cardMin {
			return User{}, fmt.Errorf("%w: card of %s", errCorrupt, userID)
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
		c := b.users.Cursor()
		var k, v []byte
		if q.After == "" {
			k, v = c.First()
		} else {
			k, v = c.Seek([]byte(q.After))
			if k != nil && string(k) == q.After {
				k, v = c.Next()
			}
		}
		for ; k != nil; k, v = c.Next() {
			if len(k) != userIDLen {
				continue // a code record
			}
			if search != "" {
				if !mayMatch(v, search) {
					continue // a cheap test first: most records of a search do not match
				}
				r, err := decodeUser(v)
				if err != nil {
					return fmt.Errorf("%w: user %s", err, k)
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
		if err := b.ucards.Delete(k); err != nil {
			return err
		}
	}
	if v := b.users.Get(entryKey(id)); v != nil {
		if err := b.entry.Delete(bytes.Clone(v[:macSize])); err != nil {
			return err
		}
	}
	if _, err := b.deleteDuress(id); err != nil {
		return err
	}
	// The user record, entry code and MFA codes.
	var keys [][]byte
	c = b.users.Cursor()
	for k, _ := c.Seek(id); k != nil && bytes.HasPrefix(k, id); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.users.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
