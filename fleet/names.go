package fleet

import (
	"encoding/hex"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/latchd/latch/store"
)

// The rules of a site's and a controller's name (docs/config.md "`[fleet]`").
var (
	siteRE       = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
	controllerRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
)

// CheckSite checks a site name: 1–32 of a-z, 0-9, '_', '-'. It names every
// bucket and subject of the site.
func CheckSite(site string) error {
	if !siteRE.MatchString(site) {
		return errors.New("must be 1–32 of a-z, 0-9, '_', '-'")
	}
	return nil
}

// CheckController checks a controller's name in the site: 1–64 letters,
// digits, '_', '-', starting with a letter or digit. It is one token of a
// subject, so '.', '*', '>' and spaces are refused.
func CheckController(name string) error {
	if !controllerRE.MatchString(name) {
		return errors.New("must be 1–64 letters, digits, '_', '-', starting with a letter or digit (it is a NATS subject token: no '.')")
	}
	return nil
}

// Names are the site's bucket names and key prefixes.
type Names struct{ Site string }

// Creds is the credentials bucket: user documents and uniqueness keys.
func (n Names) Creds() string { return "latch_" + n.Site + "_creds" }

// State is the state bucket: key_id and lockdown (overrides stay on their
// controller: docs/fleet.md "Lockdown across the site").
func (n Names) State() string { return "latch_" + n.Site + "_state" }

// Status is the status bucket (TTL 60 s): one key per controller.
func (n Names) Status() string { return "latch_" + n.Site + "_status" }

// Keys of the state bucket.
const (
	KeyKeyID = "key_id"
)

// Key prefixes of the creds bucket.
const (
	prefixUser = "user."
	prefixCard = "card."
	prefixCode = "code."
	prefixExt  = "ext."
)

// UserKey is the creds key of a user's document.
func UserKey(userID string) string { return prefixUser + userID }

// CardKey is the create-only uniqueness key of a card:
// card.<format>.<fc>.<cn>. Format names are reader format names (letters,
// digits, '_'), so each part is one subject token.
func CardKey(k store.CardKey) string {
	return prefixCard + k.Format + "." + strconv.FormatUint(uint64(k.FacilityCode), 10) + "." + strconv.FormatUint(k.CardNumber, 10)
}

// CodeKey is the create-only uniqueness key of an entry code:
// code.<hex of its MAC under the site key>. No digit of the code is in it.
func CodeKey(mac []byte) string { return prefixCode + hex.EncodeToString(mac) }

// ExtKey is the create-only uniqueness key of an external id: ext.<hex of
// the id's bytes> (an external id may hold characters a key may not).
func ExtKey(externalID string) string { return prefixExt + hex.EncodeToString([]byte(externalID)) }

// userIDOf returns the user id of a creds key user.<id>, or "".
func userIDOf(key string) string {
	if id, ok := strings.CutPrefix(key, prefixUser); ok {
		return id
	}
	return ""
}

// InboxPrefix is the prefix of a member's reply subjects: _INBOX_<site>_<controller>.
// The site's NATS account lets each member subscribe to its own only.
func InboxPrefix(site, controller string) string { return "_INBOX_" + site + "_" + controller }
