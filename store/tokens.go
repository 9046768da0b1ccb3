package store

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Token record: created (8 BE Unix ns), sha256(secret) (32), role.
const tokenPrefix = "latch_"

// CreateToken makes an API token and returns its secret, which is stored
// only as a SHA-256 hash. ErrConflict when the name is in use. A
// credential_changed event (action token_created, by who) is written in the
// same transaction.
func (s *Store) CreateToken(name, role string, by Actor) (string, error) {
	return s.createToken(name, role, by, false)
}

// createToken is CreateToken; verkada marks the token usable as a Verkada
// API key (verkada.go).
func (s *Store) createToken(name, role string, by Actor, verkada bool) (string, error) {
	if err := CheckToken(name, role); err != nil {
		return "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("store: create token: %w", err)
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(secret))
	now := s.now()
	evs := []Event{tokenEvent(now, by, "token_created", name, role)}
	err := s.db.Update(func(tx *bolt.Tx) error {
		tb := tx.Bucket(bTokens)
		if tb.Get([]byte(name)) != nil {
			return fmt.Errorf("store: token name: %w", ErrConflict)
		}
		rec := binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))
		rec = append(rec, sum[:]...)
		rec = append(rec, role...)
		if err := tb.Put([]byte(name), rec); err != nil {
			return err
		}
		if err := tx.Bucket(bTokHash).Put(sum[:], []byte(name)); err != nil {
			return err
		}
		if err := markVerkadaKey(tx, name, verkada); err != nil {
			return err
		}
		return s.appendEventsTx(tx, evs)
	})
	if err != nil {
		return "", err
	}
	s.publish(evs)
	return secret, nil
}

func tokenEvent(now time.Time, by Actor, action, name, role string) Event {
	return Event{Time: now, Event: "credential_changed", Action: action, Actor: by.Name, Role: by.Role, TokenName: name, TokenRole: role}
}

func decodeToken(name string, v []byte) (Token, []byte, error) {
	if len(v) < 8+32 {
		return Token{}, nil, fmt.Errorf("%w: token %s", errCorrupt, name)
	}
	return Token{Name: name, Role: string(v[40:]), Created: nsTime(int64(binary.BigEndian.Uint64(v)))}, v[8:40], nil
}

// tokenBySum finds the token whose secret has the SHA-256 sum: through
// the hash index, the stored hash compared in constant time; errNoToken
// when there is none.
func tokenBySum(tx *bolt.Tx, sum [sha256.Size]byte) (Token, error) {
	name := tx.Bucket(bTokHash).Get(sum[:])
	if name == nil {
		return Token{}, errNoToken
	}
	v := tx.Bucket(bTokens).Get(name)
	if v == nil {
		return Token{}, errNoToken
	}
	tok, h, err := decodeToken(string(name), v)
	if err != nil {
		return Token{}, err
	}
	if subtle.ConstantTimeCompare(h, sum[:]) != 1 {
		return Token{}, errNoToken
	}
	return tok, nil
}

// VerifyToken returns the token whose secret this is, or ErrNotFound.
// The index is keyed by the secret's SHA-256, so a lookup's timing says
// nothing useful about the secret; the final compare is constant-time.
func (s *Store) VerifyToken(secret string) (Token, error) {
	sum := sha256.Sum256([]byte(secret))
	var t Token
	err := s.read(bTokens, func(tx *bolt.Tx) error {
		tok, err := tokenBySum(tx, sum)
		if err != nil {
			return err
		}
		tok.VerkadaKey = isVerkadaKey(tx, tok.Name)
		t = tok
		return nil
	})
	return t, err
}

// Tokens lists every token, ordered by name.
func (s *Store) Tokens() ([]Token, error) {
	var out []Token
	err := s.read(bTokens, func(tx *bolt.Tx) error {
		return tx.Bucket(bTokens).ForEach(func(k, v []byte) error {
			t, _, err := decodeToken(string(k), v)
			if err != nil {
				return err
			}
			t.VerkadaKey = isVerkadaKey(tx, t.Name)
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

// RevokeToken deletes a token; ErrNotFound when there is none by that
// name. A credential_changed event (action token_revoked, by who) is
// written in the same transaction.
func (s *Store) RevokeToken(name string, by Actor) error {
	var evs []Event
	err := s.db.Update(func(tx *bolt.Tx) error {
		tb := tx.Bucket(bTokens)
		v := tb.Get([]byte(name))
		if v == nil {
			return notFound("token", name)
		}
		tok, h, err := decodeToken(name, v)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bTokHash).Delete(slices.Clone(h)); err != nil {
			return err
		}
		if err := tb.Delete([]byte(name)); err != nil {
			return err
		}
		if err := markVerkadaKey(tx, name, false); err != nil {
			return err
		}
		evs = []Event{tokenEvent(s.now(), by, "token_revoked", name, tok.Role)}
		return s.appendEventsTx(tx, evs)
	})
	if err != nil {
		return err
	}
	s.publish(evs)
	return nil
}
