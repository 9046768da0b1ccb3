package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The site's events on a fleet manager (docs/fleet.md, "Events"): the
// manager reads the site's event stream and appends each controller's
// events to its own event log, so that every reader of the log (the API,
// its live stream, the page, the integrations) serves the site's. The
// stream sequence of the last message appended is recorded in the same
// transaction as the events, as the replica's revision is (replica.go):
// a batch read twice, after a crash or a reconnect, is appended once.

// kSiteEventsSeq is the meta key of the last stream sequence appended
// (uint64 BE).
var kSiteEventsSeq = []byte("site_events_seq")

// ErrSiteEventsMoved says AppendSiteEvents was given a prev that is not
// the recorded stream sequence: another writer appended meanwhile, or
// the caller's view is stale. Nothing was appended; read SiteEventsSeq
// and resume after it.
var ErrSiteEventsMoved = errors.New("store: the site's event stream position moved")

// SiteEventsSeq returns the stream sequence of the last site event
// appended (0 before the first).
func (s *Store) SiteEventsSeq() (uint64, error) {
	var seq uint64
	err := s.read(bMeta, func(tx *bolt.Tx) error {
		seq = getU64(tx.Bucket(bMeta), kSiteEventsSeq)
		return nil
	})
	return seq, err
}

// AppendSiteEvents appends events read from the site's event stream,
// each carrying its Controller (and ControllerSeq), and records seq, the
// stream sequence the batch reaches, in the same transaction; only when
// the recorded sequence is still prev (else ErrSiteEventsMoved, and
// nothing changes). evs may be empty (messages that did not decode still
// move the position). Each event gets this log's next Seq; an event
// never carries door state here (the door is another controller's).
// The events are published to subscribers like AppendEvents'.
func (s *Store) AppendSiteEvents(evs []Event, prev, seq uint64) error {
	for i := range evs {
		if evs[i].Controller == "" {
			return fmt.Errorf("store: append site events: event %d has no controller", i)
		}
		evs[i].State = nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if getU64(meta, kSiteEventsSeq) != prev {
			return ErrSiteEventsMoved
		}
		if err := s.appendEventsTx(tx, evs); err != nil {
			return err
		}
		return meta.Put(kSiteEventsSeq, be64(seq))
	})
	if errors.Is(err, ErrSiteEventsMoved) {
		return err
	}
	if err != nil {
		return fmt.Errorf("store: append site events: %w", err)
	}
	s.publish(evs)
	return nil
}
