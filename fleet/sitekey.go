package fleet

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// KeyID is the site key's fingerprint, stored as key_id in the state
// bucket: the first 16 hex digits of HMAC-SHA-256(key, "latch site key
// id"). It tells members with different keys apart and says nothing about
// the key (docs/fleet.md "The site key").
func KeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("latch site key id"))
	return hex.EncodeToString(m.Sum(nil))[:16]
}
