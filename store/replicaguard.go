package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// A fleet replica's users are the site's (docs/fleet.md, "Changing a
// member's database by hand"). A database that has applied a site's
// documents records the bucket's revision (meta replica_rev). Opened with
// no Remote (latchctl on a stopped member, or latchd started without
// [fleet]) a change of its user data would live on this member alone:
// the site would never see it, and the next sync would overwrite it or
// clash with it. So such a change is refused, before anything is
// written, and LeaveSite makes the database a stand-alone one again.

// ErrReplica refuses a change of a replica's users without its site.
var ErrReplica = errors.New("store: this database is a fleet site's replica: change its users through a member's latchd (its API writes to the site), or make it a stand-alone database with latchctl db detach")

// replicaOnly is the Remote of a replica opened without its site.
type replicaOnly struct{}

func (replicaOnly) Write([]RemoteChange, uint64) error { return ErrReplica }

// IsReplica reports whether the database holds a fleet site's users.
func (s *Store) IsReplica() bool { return s.replica.Load() }

// LeaveSite makes a replica a stand-alone database: its users, codes and
// ids stay as they are, and changes are written locally again. A member
// that joins a site later rebuilds its replica from the site's.
func (s *Store) LeaveSite() error {
	if s.remote.Load() != nil {
		return errors.New("store: leave site: this store is a running member's (stop latchd first)")
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Delete(kReplicaRev) })
	if err != nil {
		return fmt.Errorf("store: leave site: %w", err)
	}
	s.replica.Store(false)
	return nil
}
