package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The outbox's cursors (docs/integrations.md, "The outbox"): for each
// destination that events are delivered to (an MQTT broker, a webhook, the
// fleet's upload), the sequence number of the last event it acknowledged.
// The store keeps them in their own bucket, next to the event log they
// point into, so that a restart resumes every destination where it was.

// maxCursorName bounds a destination's name (the bucket key).
const maxCursorName = 128

// Cursor returns the last event seq destination dest acknowledged, and
// whether it has a cursor at all (a destination seen for the first time
// has none).
func (s *Store) Cursor(dest string) (seq uint64, ok bool, err error) {
	err = s.read(bCursors, func(tx *bolt.Tx) error {
		b := tx.Bucket(bCursors)
		if b == nil {
			return fmt.Errorf("%w: the cursors bucket is missing", ErrCorrupt)
		}
		v := b.Get([]byte(dest))
		if v == nil {
			return nil
		}
		if len(v) != 8 {
			return fmt.Errorf("%w: cursor %q: %d bytes, not 8", ErrCorrupt, dest, len(v))
		}
		seq, ok = getU64(b, []byte(dest)), true
		return nil
	})
	return seq, ok, err
}

// SetCursor records that dest acknowledged every event up to seq. A cursor
// only moves forward: a seq at or below the stored one changes nothing
// (an acknowledgement that arrives late cannot send a destination back).
func (s *Store) SetCursor(dest string, seq uint64) error {
	if dest == "" || len(dest) > maxCursorName {
		return fmt.Errorf("store: cursor name must be 1–%d bytes", maxCursorName)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bCursors)
		if b == nil {
			return errors.New("the cursors bucket is missing")
		}
		if getU64(b, []byte(dest)) >= seq && b.Get([]byte(dest)) != nil {
			return nil
		}
		return b.Put([]byte(dest), be64(seq))
	})
	if err != nil {
		return fmt.Errorf("store: set cursor %q: %w", dest, err)
	}
	return nil
}

// Cursors returns every destination's cursor, by name (latchctl and the
// metrics show destinations that are no longer configured too).
func (s *Store) Cursors() (map[string]uint64, error) {
	out := map[string]uint64{}
	err := s.read(bCursors, func(tx *bolt.Tx) error {
		b := tx.Bucket(bCursors)
		if b == nil {
			return fmt.Errorf("%w: the cursors bucket is missing", ErrCorrupt)
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("%w: cursor %q: %d bytes, not 8", ErrCorrupt, k, len(v))
			}
			out[string(k)] = getU64(b, k)
			return nil
		})
	})
	return out, err
}

// EventBounds returns the seq of the oldest event the log still holds and
// of the newest one ever appended (0, 0 for a log that never held one).
// Retention drops from the front: events with a seq below first are gone.
// A log that never held an event gives first = 1, last = 0.
func (s *Store) EventBounds() (first, last uint64, err error) {
	err = s.read(bEvents, func(tx *bolt.Tx) error {
		last = tx.Bucket(bEvents).Sequence()
		first = getU64(tx.Bucket(bMeta), kEvFirst)
		if first == 0 {
			first = last + 1
		}
		return nil
	})
	return first, last, err
}
