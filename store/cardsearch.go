package store

import (
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// UsersByCardNumber returns the users (up to limit, in card key order)
// holding a card with this number, of any format and facility code: the
// admin page's search by card number (docs/web.md). It reads the card
// bucket's keys and only the first bytes of the matching records, so it
// costs one pass over the keys, not a decode of every user.
func (s *Store) UsersByCardNumber(number uint64, limit int) ([]User, error) {
	if limit <= 0 {
		limit = defaultPage
	}
	var out []User
	err := s.view(func(tx *bolt.Tx, b buckets) error {
		seen := map[string]bool{}
		c := b.cards.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) < 8 || binary.BigEndian.Uint64(k[len(k)-8:]) != number || len(v) < userIDLen {
				continue
			}
			id := string(v[:userIDLen])
			if seen[id] {
				continue
			}
			seen[id] = true
			u, err := b.loadUser(id)
			if err != nil {
				return err
			}
			out = append(out, u)
			if len(out) == limit {
				return nil
			}
		}
		return nil
	})
	return out, err
}
