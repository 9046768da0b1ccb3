package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// EventPageQuery selects a page of events newest first, for paging back
// through the log (the admin page's Events, docs/web.md).
type EventPageQuery struct {
	Before                      uint64 // events with Seq < Before; 0 = from the newest
	Limit                       int    // 0 = 100
	Scan                        int    // read at most this many events; 0 = 10 × Limit
	Door, UserID, Event, Reason string // optional filters
}

// Matches reports whether e passes q's filters (an empty one passes all):
// the page's history and its live stream filter alike.
func (q EventPageQuery) Matches(e Event) bool {
	return (q.Door == "" || e.Door == q.Door) && (q.UserID == "" || e.UserID == q.UserID) &&
		(q.Event == "" || e.Event == q.Event) && (q.Reason == "" || e.Reason == q.Reason)
}

// EventsBefore returns up to q.Limit events matching the filters, newest
// first, and the Before of the next older page (0 when the log's start was
// reached). It reads at most q.Scan events, so a filter that matches
// little costs a bounded time per page: the page may then be short, with
// a next page to go on from.
func (s *Store) EventsBefore(q EventPageQuery) ([]Event, uint64, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultPage
	}
	limit = min(limit, maxPage)
	scan := q.Scan
	if scan <= 0 {
		scan = 10 * limit
	}
	var out []Event
	var next uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bEvents).Cursor()
		var k, v []byte
		if q.Before == 0 {
			k, v = c.Last()
		} else {
			k, v = c.Seek(be64(q.Before))
			if k == nil {
				k, v = c.Last()
			}
			for k != nil && binary.BigEndian.Uint64(k) >= q.Before {
				k, v = c.Prev()
			}
		}
		for read := 0; k != nil; k, v = c.Prev() {
			seq := binary.BigEndian.Uint64(k)
			if len(out) == limit || read == scan {
				next = seq + 1
				return nil
			}
			read++
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("store: event %d: %w", seq, err)
			}
			if !q.Matches(e) {
				continue
			}
			out = append(out, e)
		}
		return nil
	})
	return out, next, err
}
