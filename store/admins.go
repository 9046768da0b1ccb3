package store

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/argon2"
)

// Admin accounts are the people who sign in to the admin page
// (docs/web.md). The store owns their bucket, the password rule and the
// hash: argon2id (RFC 9106), memory-hard, so a stolen database file costs
// an attacker memory per guess, not just time.

// bAdmins is the top-level bucket of admin accounts: name → admin record.
// It is made by the first write that needs it.
var bAdmins = []byte("admins")

// Admin is an admin account without its password hash.
type Admin struct {
	Name, Role string
	Created    time.Time
}

// Password limits: long enough that a guessed one is not quick to find,
// short enough that hashing one bounds the work of a request.
const (
	minPassword = 10
	maxPassword = 256
)

// PasswordRule is the rule for an admin account's password.
var PasswordRule = fmt.Sprintf("must be %d–%d characters of valid UTF-8", minPassword, maxPassword)

// CheckPassword checks a new password against PasswordRule: a
// *ValidationError (field "password", never the value), or nil.
func CheckPassword(pw []byte) error {
	n := utf8.RuneCount(pw)
	if !utf8.Valid(pw) || n < minPassword || len(pw) > maxPassword {
		return invalid("password", PasswordRule)
	}
	return nil
}

// CheckAdmin checks a new account's name (the token name rule) and role,
// as CreateAdmin does before it writes anything.
func CheckAdmin(name, role string) error { return CheckToken(name, role) }

// argon2id parameters. 19 MiB, 2 passes, 1 lane is OWASP's first choice
// for argon2id, and fits a Pi Zero 2 W's 512 MB with the daemon; each
// record keeps its own parameters, so they can grow without breaking old
// hashes. hashSlots bounds how many hashes run at once (each holds its
// memory for the duration).
const (
	argonTime    = 2
	argonMemKiB  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
	adminRecV1   = 1
	adminRecLen  = 1 + 8 + 4 + 4 + 1 + argonSaltLen + argonKeyLen // then the role
)

var hashSlots = make(chan struct{}, 2)

func argonHash(pw, salt []byte, t, m uint32, p uint8) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(pw, salt, t, m, p, argonKeyLen)
}

// adminRec is an admin record: version, created (Unix ns BE), time,
// memory (KiB), threads, salt, hash, role.
type adminRec struct {
	created time.Time
	t, m    uint32
	p       uint8
	salt    []byte
	hash    []byte
	role    string
}

func encodeAdmin(r *adminRec) []byte {
	b := make([]byte, 0, adminRecLen+len(r.role))
	b = append(b, adminRecV1)
	b = binary.BigEndian.AppendUint64(b, uint64(r.created.UnixNano()))
	b = binary.BigEndian.AppendUint32(b, r.t)
	b = binary.BigEndian.AppendUint32(b, r.m)
	b = append(b, r.p)
	b = append(b, r.salt...)
	b = append(b, r.hash...)
	return append(b, r.role...)
}

// getAdmin reads the account name from the admins bucket b (nil when no
// account was ever made); a *NotFoundError when there is none.
func getAdmin(b *bolt.Bucket, name string) (adminRec, error) {
	var v []byte
	if b != nil {
		v = b.Get([]byte(name))
	}
	if v == nil {
		return adminRec{}, notFound("admin", name)
	}
	return decodeAdmin(name, v)
}

func decodeAdmin(name string, v []byte) (adminRec, error) {
	if len(v) < adminRecLen || v[0] != adminRecV1 {
		return adminRec{}, fmt.Errorf("%w: admin %s", errCorrupt, name)
	}
	r := adminRec{
		created: nsTime(int64(binary.BigEndian.Uint64(v[1:]))),
		t:       binary.BigEndian.Uint32(v[9:]),
		m:       binary.BigEndian.Uint32(v[13:]),
		p:       v[17],
		salt:    v[18 : 18+argonSaltLen],
		hash:    v[18+argonSaltLen : adminRecLen],
		role:    string(v[adminRecLen:]),
	}
	// Parameters from a damaged record must not make one sign-in take
	// the machine's memory or forever.
	if r.t == 0 || r.t > 16 || r.m < 8 || r.m > 1<<20 || r.p == 0 || r.p > 16 {
		return adminRec{}, fmt.Errorf("%w: admin %s: hash parameters out of range", errCorrupt, name)
	}
	return r, nil
}

func newAdminRec(pw []byte, role string, created time.Time) (*adminRec, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("store: admin: %w", err)
	}
	return &adminRec{created: created, t: argonTime, m: argonMemKiB, p: argonThreads, salt: salt,
		hash: argonHash(pw, salt, argonTime, argonMemKiB, argonThreads), role: role}, nil
}

func adminEvent(now time.Time, by Actor, action, name, role string) Event {
	return Event{Time: now, Event: "credential_changed", Action: action, Actor: by.Name, Role: by.Role, Account: name, AccountRole: role}
}

// CreateAdmin makes an admin account. ErrConflict when the name is in use.
// A credential_changed event (action admin_created) is written in the same
// transaction; the password is kept only as its argon2id hash.
func (s *Store) CreateAdmin(name, role string, password []byte, by Actor) error {
	if err := CheckAdmin(name, role); err != nil {
		return err
	}
	if err := CheckPassword(password); err != nil {
		return err
	}
	now := s.now()
	rec, err := newAdminRec(password, role, now)
	if err != nil {
		return err
	}
	evs := []Event{adminEvent(now, by, "admin_created", name, role)}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bAdmins)
		if err != nil {
			return err
		}
		if b.Get([]byte(name)) != nil {
			return fmt.Errorf("store: admin name: %w", ErrConflict)
		}
		if err := b.Put([]byte(name), encodeAdmin(rec)); err != nil {
			return err
		}
		return s.appendEventsTx(tx, evs)
	})
	if err != nil {
		return err
	}
	s.publish(evs)
	return nil
}

// SetAdminPassword replaces an account's password (a new salt and hash).
// The argon2id work is done before the write transaction, so no writer
// (the event writer among them) waits on it.
func (s *Store) SetAdminPassword(name string, password []byte, by Actor) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	rec, err := newAdminRec(password, "", time.Time{})
	if err != nil {
		return err
	}
	return s.changeAdmin(name, by, "admin_password_changed", func(b *bolt.Bucket, old adminRec) error {
		rec.role, rec.created = old.role, old.created
		return b.Put([]byte(name), encodeAdmin(rec))
	})
}

// DeleteAdmin deletes an account; ErrNotFound when there is none.
func (s *Store) DeleteAdmin(name string, by Actor) error {
	return s.changeAdmin(name, by, "admin_deleted", func(b *bolt.Bucket, _ adminRec) error {
		return b.Delete([]byte(name))
	})
}

// changeAdmin runs change on the existing account name in one write
// transaction with its credential_changed event (action); ErrNotFound when
// there is no such account.
func (s *Store) changeAdmin(name string, by Actor, action string, change func(b *bolt.Bucket, old adminRec) error) error {
	var evs []Event
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bAdmins)
		old, err := getAdmin(b, name)
		if err != nil {
			return err
		}
		if err := change(b, old); err != nil {
			return err
		}
		evs = []Event{adminEvent(s.now(), by, action, name, old.role)}
		return s.appendEventsTx(tx, evs)
	})
	if err != nil {
		return err
	}
	s.publish(evs)
	return nil
}

// Admins lists every account, ordered by name.
func (s *Store) Admins() ([]Admin, error) {
	var out []Admin
	err := s.read(bAdmins, func(tx *bolt.Tx) error {
		b := tx.Bucket(bAdmins)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			r, err := decodeAdmin(string(k), v)
			if err != nil {
				return err
			}
			out = append(out, Admin{Name: string(k), Role: r.role, Created: r.created})
			return nil
		})
	})
	return out, err
}

// Admin returns the account name, without checking a password (a signed-in
// session asks it for the account's role now).
func (s *Store) Admin(name string) (Admin, error) {
	var a Admin
	err := s.read(bAdmins, func(tx *bolt.Tx) error {
		r, err := getAdmin(tx.Bucket(bAdmins), name)
		if err != nil {
			return err
		}
		a = Admin{Name: name, Role: r.role, Created: r.created}
		return nil
	})
	return a, err
}

// ErrBadPassword is VerifyAdmin's one answer for an unknown name and for
// a wrong password: a caller cannot tell them apart, and must not.
var ErrBadPassword = errors.New("store: wrong name or password")

// dummy is the record an unknown name is checked against, so that it costs
// the same argon2id work as a known one.
var dummy = sync.OnceValue(func() *adminRec {
	r, _ := newAdminRec([]byte("no such account"), "", time.Time{})
	return r
})

// VerifyAdmin checks a name and password and returns the account, or
// ErrBadPassword for a wrong name or password alike. An unknown name is
// hashed as a known one is (the same parameters), and the compare is
// constant-time, so the answer's timing tells neither apart.
func (s *Store) VerifyAdmin(name string, password []byte) (Admin, error) {
	var rec adminRec
	found := false
	err := s.read(bAdmins, func(tx *bolt.Tx) error {
		b := tx.Bucket(bAdmins)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(name))
		if v == nil {
			return nil
		}
		r, err := decodeAdmin(name, v)
		if err != nil {
			return err
		}
		// Copy out: the record's slices point into the mmap.
		r.salt, r.hash = append([]byte(nil), r.salt...), append([]byte(nil), r.hash...)
		rec, found = r, true
		return nil
	})
	if err != nil {
		return Admin{}, err
	}
	if !found {
		rec = *dummy()
	}
	if len(password) > maxPassword {
		password = password[:maxPassword] // bound the work; such a password was never set
	}
	got := argonHash(password, rec.salt, rec.t, rec.m, rec.p)
	if subtle.ConstantTimeCompare(got, rec.hash) != 1 || !found {
		return Admin{}, ErrBadPassword
	}
	return Admin{Name: name, Role: rec.role, Created: rec.created}, nil
}
