package store

import (
	"bytes"
	"encoding/binary"
	"strings"

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
	for i := range out {
		out[i].UserID = s.pubID(out[i].UserID) // record key → the user's UUID
	}
	return out, err
}

// mayMatch reports whether the user record rec could match the lowered
// search: false only when it certainly does not. An ASCII search is looked
// for in the record's bytes, ASCII letters folded, without decoding or
// allocating: every field is stored as its bytes, so a field holding the
// search holds it in the record too. Two non-ASCII letters lower-case to
// ASCII ones (U+212A Kelvin sign → k, U+0130 İ → i): a record holding
// either may match a search with that letter.
func mayMatch(rec []byte, search string) bool {
	for i := 0; i < len(search); i++ {
		if search[i] >= 0x80 {
			return true
		}
	}
	if strings.ContainsRune(search, 'k') && bytes.Contains(rec, kelvin) ||
		strings.ContainsRune(search, 'i') && bytes.Contains(rec, dotI) {
		return true
	}
	n := len(search)
	if n == 0 {
		return true
	}
	// Candidates by the first letter in either case (bytes.IndexByte is
	// the fast, vectorised scan), then the rest compared folded.
	first := search[0]
	for _, c := range [2]byte{first, upperASCII(first)} {
		for b := rec; ; {
			i := bytes.IndexByte(b, c)
			if i < 0 || i+n > len(b) {
				break
			}
			if foldEqual(b[i+1:i+n], search[1:]) {
				return true
			}
			b = b[i+1:]
		}
		if upperASCII(first) == first {
			break // not a letter: one case only
		}
	}
	return false
}

// foldEqual reports whether b equals the lower-case ASCII s, ASCII letters
// of b folded.
func foldEqual(b []byte, s string) bool {
	for j := range len(s) {
		if lowerASCII(b[j]) != s[j] {
			return false
		}
	}
	return true
}

func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

var (
	kelvin = []byte("\u212a")
	dotI   = []byte("\u0130")
)

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
