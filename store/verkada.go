package store

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Verkada API keys and their session tokens (docs/verkada.md,
// "Authentication").
//
// A Verkada API key is an API token marked so (CreateVerkadaKey, or
// `latchctl token create --verkada-key`): its name, role and secret are a
// token's. ExchangeVerkadaKey trades its secret for a session token that
// lives SessionLifetime and has the key's role; the session's secret, like
// every token secret, is stored only as its SHA-256. A session is bound to
// the key's own hash, so revoking the key (or making a new token of the
// same name) ends its sessions at once.
var (
	bVKeys = []byte("vkeys") // token name → ∅: the tokens usable as Verkada API keys
	bVSess = []byte("vsess") // sha256(session) → expires (8 BE Unix ns), sha256(key) (32), key name
)

// SessionLifetime is how long a Verkada session token is valid.
const SessionLifetime = 30 * time.Minute

// maxSessions bounds the live sessions of one key: each exchange beyond it
// drops the one that would expire first.
const maxSessions = 32

const sessionPrefix = "vks_"

// ErrSessionExpired reports a Verkada session token that is no longer
// valid — expired, or not one latch issued — so that the client asks its
// key for a new one (docs/verkada.md). A session whose key was revoked
// is an ErrNotFound instead: a new session would be refused too.
var ErrSessionExpired = errors.New("store: API token expired")

// ErrNotVerkadaKey reports, to ExchangeVerkadaKey, a token that is not
// marked usable as a Verkada API key.
var ErrNotVerkadaKey = errors.New("store: the token is not a Verkada API key (create one with latchctl token create --verkada-key)")

func markVerkadaKey(tx *bolt.Tx, name string, on bool) error {
	if !on {
		if b := tx.Bucket(bVKeys); b != nil {
			return b.Delete([]byte(name))
		}
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bVKeys)
	if err != nil {
		return err
	}
	return b.Put([]byte(name), nil)
}

func isVerkadaKey(tx *bolt.Tx, name string) bool {
	b := tx.Bucket(bVKeys)
	return b != nil && b.Get([]byte(name)) != nil
}

// CreateVerkadaKey is CreateToken for a token that is also usable as a
// Verkada API key.
func (s *Store) CreateVerkadaKey(name, role string, by Actor) (string, error) {
	return s.createToken(name, role, by, true)
}

// ExchangeVerkadaKey trades a Verkada API key's secret for a new session
// token, valid SessionLifetime from now, and returns its secret and
// expiry. It returns an ErrNotFound for an unknown key and
// ErrNotVerkadaKey for a token not marked as one. Expired sessions are
// dropped here.
func (s *Store) ExchangeVerkadaKey(key string) (string, time.Time, error) {
	ksum := sha256.Sum256([]byte(key))
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, fmt.Errorf("store: session token: %w", err)
	}
	secret := sessionPrefix + base64.RawURLEncoding.EncodeToString(raw)
	ssum := sha256.Sum256([]byte(secret))
	now := s.now()
	expires := now.Add(SessionLifetime)
	err := s.db.Update(func(tx *bolt.Tx) error {
		tok, err := tokenBySum(tx, ksum)
		if err != nil {
			return err
		}
		name := []byte(tok.Name)
		if !isVerkadaKey(tx, tok.Name) {
			return ErrNotVerkadaKey
		}
		b, err := tx.CreateBucketIfNotExists(bVSess)
		if err != nil {
			return err
		}
		// Drop the expired sessions, and the key's soonest-expiring one
		// when it holds maxSessions.
		var drop [][]byte
		var soonest []byte
		var soonestAt int64
		live := 0
		c := b.Cursor()
		for k, sv := c.First(); k != nil; k, sv = c.Next() {
			if len(sv) < 8+32 {
				drop = append(drop, bytes.Clone(k))
				continue
			}
			at := int64(binary.BigEndian.Uint64(sv))
			if at <= now.UnixNano() {
				drop = append(drop, bytes.Clone(k))
				continue
			}
			if bytes.Equal(sv[8:40], ksum[:]) {
				live++
				if soonest == nil || at < soonestAt {
					soonest, soonestAt = bytes.Clone(k), at
				}
			}
		}
		if live >= maxSessions {
			drop = append(drop, soonest)
		}
		for _, k := range drop {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		rec := binary.BigEndian.AppendUint64(make([]byte, 0, 40+len(name)), uint64(expires.UnixNano()))
		rec = append(rec, ksum[:]...)
		rec = append(rec, name...)
		return b.Put(ssum[:], rec)
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return secret, expires, nil
}

// VerifyVerkadaSession returns the key a session token was issued for (its
// name and current role). It returns ErrSessionExpired for a session that
// has expired or that latch never issued, and an ErrNotFound when the key
// was revoked since.
func (s *Store) VerifyVerkadaSession(secret string) (Token, error) {
	ssum := sha256.Sum256([]byte(secret))
	var t Token
	err := s.read(bVSess, func(tx *bolt.Tx) error {
		b := tx.Bucket(bVSess)
		if b == nil {
			return ErrSessionExpired
		}
		v := b.Get(ssum[:])
		if len(v) < 8+32 {
			return ErrSessionExpired
		}
		if int64(binary.BigEndian.Uint64(v)) <= s.now().UnixNano() {
			return ErrSessionExpired
		}
		name := string(v[40:])
		tv := tx.Bucket(bTokens).Get([]byte(name))
		if tv == nil {
			return errNoToken
		}
		tok, h, err := decodeToken(name, tv)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(h, v[8:40]) != 1 || !isVerkadaKey(tx, name) {
			return errNoToken
		}
		tok.VerkadaKey = true
		t = tok
		return nil
	})
	return t, err
}
