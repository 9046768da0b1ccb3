package store

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// In a fleet (docs/fleet.md) the site's bucket, not the local file, is
// where a change is made: the store is then a replica, written only by
// ApplyReplica. SetRemote gives the store the member that writes to the
// site; from then on every change of user data (the API's methods and
// the CSV import) is computed as always, in a write transaction on the
// replica with every rule of the store, and then rolled back: the
// documents of the users it touched go to Remote.Write, which returns
// once the site has them and the replica applied them. This is the one
// seam all write paths go through; none is forked.

// Remote writes a fleet member's changes to its site.
type Remote interface {
	// Write makes the changes, computed against the replica at revision
	// base, on the site. It returns once the replica applied them;
	// ErrStale when a user changed on the site after base (after waiting
	// for the replica to apply that change), so the change is computed
	// again; a *ValidationError or ErrConflict (a card, code or external
	// id another user holds on the site); or an *UnavailableError.
	Write(changes []RemoteChange, base uint64) error
}

// RemoteChange is one user's change: Old is the user's document on the
// replica (nil: none), New the document after the change (nil: deleted).
type RemoteChange struct {
	UserID   string
	Old, New *ReplicaUser
}

// ErrStale reports that the replica was behind the site for a user a
// change touched. The store computes the change again (a few times).
var ErrStale = errors.New("store: the replica was behind the site")

// ErrUnavailable is matched by every *UnavailableError.
var ErrUnavailable = errors.New("store: the site cannot take changes now")

// UnavailableError reports that a change could not be made on the site;
// Cause says why (NATS unreachable, another site key, …). Nothing was
// changed, unless Cause says the site took it but the replica has not
// applied it yet.
type UnavailableError struct{ Cause string }

func (e *UnavailableError) Error() string {
	return "store: the site cannot take changes now: " + e.Cause
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// remoteAttempts bounds how often a change is computed again after
// ErrStale.
const remoteAttempts = 5

// SetRemote makes the store a fleet member's replica: changes go to r.
// Call it before the API serves.
func (s *Store) SetRemote(r Remote) { s.remote.Store(&remoteBox{r}) }

type remoteBox struct{ r Remote }

func (s *Store) remoteOf() Remote {
	if b := s.remote.Load(); b != nil {
		return b.r
	}
	if s.replica.Load() {
		return replicaOnly{}
	}
	return nil
}

// errPreview rolls a preview transaction back.
var errPreview = errors.New("store: preview")

// preview runs fn in a write transaction that it rolls back, and returns
// the documents of the users fn touched, before and after, and fn's
// events. The caller holds writeMu (nothing else changes the replica
// between the two transactions).
func (s *Store) preview(fn func(tx *bolt.Tx, b buckets) ([]Event, error)) (changes []RemoteChange, base uint64, evs []Event, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := txBuckets(tx)
		if err != nil {
			return err
		}
		base = replicaRev(b.meta)
		b.users.touched = touched{}
		b.cards.touched = b.users.touched
		evs, err = fn(tx, b)
		if err != nil {
			return err
		}
		ids := slices.Sorted(maps.Keys(b.users.touched))
		for _, id := range ids {
			if err := b.refreshCards([]byte(id)); err != nil {
				return err
			}
		}
		for _, id := range ids {
			ch := RemoteChange{UserID: id}
			u, err := b.replicaUser(id)
			switch {
			case err == nil:
				ch.New = &u
			case !errors.Is(err, ErrNotFound):
				return err
			}
			changes = append(changes, ch)
		}
		return errPreview
	})
	if !errors.Is(err, errPreview) {
		return nil, 0, nil, err
	}
	err = s.view(func(tx *bolt.Tx, b buckets) error {
		for i := range changes {
			u, err := b.replicaUser(changes[i].UserID)
			switch {
			case err == nil:
				changes[i].Old = &u
			case !errors.Is(err, ErrNotFound):
				return err
			}
		}
		return nil
	})
	// The site names users by their UUIDs, which every member derives
	// alike (Options.SiteIDs): the documents carry those, not record keys.
	for i := range changes {
		ch := &changes[i]
		ch.UserID = s.pubID(ch.UserID)
		for _, u := range []*ReplicaUser{ch.Old, ch.New} {
			if u != nil {
				u.UserID = ch.UserID
			}
		}
	}
	return changes, base, evs, err
}

// changeRemote is change on a fleet member: computed on the replica,
// written to the site, retried when the replica was behind.
func (s *Store) changeRemote(r Remote, fn func(tx *bolt.Tx, b buckets, now time.Time) ([]Event, error)) error {
	for range remoteAttempts {
		s.writeMu.Lock()
		changes, base, evs, err := s.preview(func(tx *bolt.Tx, b buckets) ([]Event, error) { return fn(tx, b, s.now()) })
		s.writeMu.Unlock()
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			return nil
		}
		err = r.Write(changes, base)
		if errors.Is(err, ErrStale) {
			continue
		}
		if err != nil {
			return err
		}
		return s.logRemote(evs)
	}
	return &UnavailableError{Cause: fmt.Sprintf("the user kept changing on the site (%d attempts); try again", remoteAttempts)}
}

// logRemote appends the audit events of a change made on the site to
// this member's own log (the replicas apply the documents silently).
func (s *Store) logRemote(evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	return s.AppendEvents(evs)
}

// importRemote is ImportWith on a fleet member. The file is checked whole
// before anything is written, as on a stand-alone controller; then the
// documents of every user it changes are written to the site, one user at
// a time. An import cut off midway (NATS lost, latchd stopped) has written
// some users and not others; the import's rows are idempotent (a row
// whose change is already there changes nothing), so running the same
// file again completes it.
func (s *Store) importRemote(r Remote, open func() (io.Reader, error), size int64, by Actor, o ImportOptions) (ImportSummary, error) {
	progress := o.Progress
	if progress == nil {
		progress = func(ImportProgress) {}
	}
	for range remoteAttempts {
		s.writeMu.Lock()
		sum, it, err := s.importRun(open, size, by, o, progress)
		s.writeMu.Unlock()
		if err != nil {
			return ImportSummary{}, err
		}
		if it == nil || len(it.remote) == 0 {
			return sum, nil
		}
		err = r.Write(it.remote, it.remoteBase)
		if errors.Is(err, ErrStale) {
			continue
		}
		if err != nil {
			return ImportSummary{}, err
		}
		return sum, s.logRemote(it.remoteEvs)
	}
	return ImportSummary{}, &UnavailableError{Cause: fmt.Sprintf("users of the file kept changing on the site (%d attempts); run the import again", remoteAttempts)}
}
