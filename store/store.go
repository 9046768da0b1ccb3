package store

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/latchd/latch/internal/secretfile"
	"github.com/latchd/latch/quiet"
)

// Options configures Open. Zero values mean the documented defaults.
type Options struct {
	Path           string        // bbolt file
	KeyFile        string        // per-device HMAC secret: 32 random bytes, mode 0600, created on first open
	EventRetention int           // events kept; 0 = 100000
	Timeout        time.Duration // bbolt lock timeout; 0 = 1s. A second process gets ErrInUse
	Logger         zerolog.Logger
	Now            func() time.Time // nil = time.Now
	// OnMigrate, when set, is called after each transaction of a migration
	// that rewrites records, with the number rewritten so far (latchd
	// extends systemd's start timeout with it: a large database takes a
	// while on a Pi).
	OnMigrate func(done int)
	// IDKey, when set (32 bytes), is the id key a new database gets
	// instead of a random one (userid.go): the scenario runner sets it so
	// that a scenario names the same user ids on every run. An existing
	// database keeps its own.
	IDKey []byte
	// SiteIDs makes the id key one derived from the key (a fleet member,
	// whose key is the site key): every member of a site then gives a
	// user the same UUID (docs/fleet.md, "User ids on a site"). It
	// replaces the database's own id key, so a stand-alone database that
	// joins a site names its old users differently until the first sync
	// replaces them.
	SiteIDs bool
	// EventController, when set, is the controller every event appended
	// without one carries (a fleet member: its [fleet] controller), so a
	// manager's own events name it beside the site's (siteevents.go).
	EventController string
}

const (
	defaultRetention = 100000
	defaultTimeout   = time.Second
	keySize          = 32
	// schemaVersion is the layout this code reads and writes. See
	// migrations for how older layouts are brought up to date.
	schemaVersion = 4
)

// Top-level buckets and meta keys.
var (
	bMeta    = []byte("meta")
	bEvents  = []byte("events")
	bTokens  = []byte("tokens")  // name → token record
	bTokHash = []byte("tokhash") // sha256(secret) → name
	bCursors = []byte("cursors") // outbox destination name → uint64 BE: last event seq it acknowledged (cursors.go)

	kSchema    = []byte("schema")     // uint32 BE
	kGen       = []byte("gen")        // uint64 BE: the live data generation
	kStaging   = []byte("staging")    // uint64 BE: a generation being built by a large import
	kKeyCheck  = []byte("keycheck")   // HMAC(key, "keycheck"): detects a key file from another device
	kEvFirst   = []byte("ev_first")   // uint64 BE: oldest event seq kept
	kEvDropped = []byte("ev_dropped") // uint64 BE: events dropped by retention
	kHasCodes  = []byte("has_codes")  // present once any entry or MFA code was stored
)

// Data buckets, nested in the live generation bucket "data-<gen>".
var (
	bUsers  = []byte("users")  // user_id → the user's records as one value (userval.go)
	bExt    = []byte("ext")    // external_id → uvarint of the user_id's sequence (extIndex)
	bEmail  = []byte("email")  // SHA-256(lower(email))[:8] user_id → nil (emailKey)
	bCards  = []byte("cards")  // card key → card record (user_id, active, the user's door view and code MACs; cardrec.go)
	bUCards = []byte("ucards") // user_id + card key → nil: the users' card sub-records since schema 4 (userval.go), a bucket before
	bEntry  = []byte("entry")  // HMAC(key, "entry\0"+code) → user_id

	dataBuckets = [][]byte{bUsers, bExt, bEmail, bCards, bEntry}
)

// Records in the users bucket. A user's entry code and MFA codes sit right
// after the user record, so the door's lookups find them on the same page.
const (
	tagEntry = 'e' // user_id 'e' → entry code record
	tagMFA   = 'm' // user_id 'm' id (8 bytes BE) → MFA code record; ids
	// come from the generation bucket's sequence

)

// Store is the credential and event database. Its methods are safe for
// concurrent use.
type Store struct {
	db        *bolt.DB
	key       []byte
	macs      sync.Pool // *macer: an hmac hash.Hash keyed with key
	log       zerolog.Logger
	ids       idCodec // user ids from record keys (userid.go)
	now       func() time.Time
	retention int
	// evController is Options.EventController.
	evController string

	// writeMu serialises changes to user data so that a large import,
	// which builds a new generation over several transactions, sees no
	// other writer. Event appends do not take it.
	writeMu sync.Mutex

	subMu sync.Mutex
	subs  map[*subscriber]struct{}

	// The file's path and page size, kept at Open: bbolt's Path and Info
	// race with its Close.
	path     string
	pageSize int
	// remote, when set, is where changes go (a fleet member: remote.go).
	remote atomic.Pointer[remoteBox]
	// replica: the database holds a fleet site's users (replicaguard.go).
	replica atomic.Bool
	// gate is the doors' gate (package quiet, Gate): held by the door's
	// reads, waited on by the warm-up (warm.go).
	gate *quiet.Gate
}

// ErrCorrupt reports a database file that bbolt cannot read: a page that
// is not what its parent says, an id beyond the file, a record that does
// not decode. The error names the bucket being read. `latchctl db check`
// says what is wrong.
var ErrCorrupt = errors.New("store: database corrupt")

// corruptPanic is the error for a panic met while reading bucket: bbolt
// panics on a page it cannot make sense of, and faults on a page id
// beyond the file (a panic too under debug.SetPanicOnFault). Only a
// runtime error's or a string's text is kept (bbolt's assertions name
// pages, never data).
func corruptPanic(bucket []byte, r any) error {
	var what string
	switch v := r.(type) {
	case runtime.Error:
		what = v.Error()
	case string:
		what = v
	default:
		what = fmt.Sprintf("%T", r)
	}
	return fmt.Errorf("%w: reading %s: %s", ErrCorrupt, bucket, what)
}

// Every read transaction of the door's paths (and of Open and CheckFile)
// is released on every path, a panic included, and a panic becomes an
// ErrCorrupt: a read transaction left open would hold bbolt's mmap lock
// for ever, so that the next write that grows the file and Close would
// wait for ever. The goroutine reading has debug.SetPanicOnFault set for
// the duration, so a fault in the mapped file is a panic, not a crash.

// read runs fn in a read transaction (db.View rolls back when fn panics),
// turning a panic into an ErrCorrupt naming bucket.
func (s *Store) read(bucket []byte, fn func(*bolt.Tx) error) (err error) {
	defer recoverRead(bucket, &err, debug.SetPanicOnFault(true))
	return s.db.View(fn)
}

// recoverRead, deferred, turns a panic into an ErrCorrupt in *err and
// puts back the goroutine's panic-on-fault setting.
func recoverRead(bucket []byte, err *error, fault bool) {
	r := recover()
	debug.SetPanicOnFault(fault)
	if r != nil {
		*err = corruptPanic(bucket, r)
	}
}

// Open opens (creating if needed) the database and its key file.
//
// The key file must have no group or other permission bits. When it is
// missing it is created, unless the database already holds codes: then
// the codes could never be verified again, and Open refuses.
//
// A corrupt file that makes bbolt panic while opening gives ErrCorrupt.
// When the panic comes from bolt.Open itself (a corrupt free list), the
// file stays open and locked until the process ends.
func Open(opts Options) (st *Store, err error) {
	var s *Store
	defer func(fault bool) {
		r := recover()
		debug.SetPanicOnFault(fault)
		if r != nil {
			if s != nil && s.db != nil {
				s.db.Close() // the panicking transaction was rolled back by View/Update
			}
			st, err = nil, corruptPanic([]byte("the database at open"), r)
		}
	}(debug.SetPanicOnFault(true))
	s = &Store{}
	if err := s.open(opts); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) open(opts Options) error {
	if opts.Path == "" {
		return errors.New("store: open: database path is empty")
	}
	if opts.KeyFile == "" {
		return errors.New("store: open: key file path is empty")
	}
	s.log = opts.Logger.With().Str("component", "store").Logger()
	s.now = opts.Now
	s.retention = opts.EventRetention
	s.evController = opts.EventController
	s.gate = quiet.New(0)
	s.subs = map[*subscriber]struct{}{}
	if s.now == nil {
		s.now = time.Now
	}
	if s.retention <= 0 {
		s.retention = defaultRetention
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	openDB := func() (*bolt.DB, error) {
		db, err := bolt.Open(opts.Path, 0o600, &bolt.Options{
			Timeout:      timeout,
			FreelistType: bolt.FreelistMapType,
		})
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s", ErrInUse, opts.Path)
		}
		if err != nil {
			return nil, fmt.Errorf("store: open %s: %w", opts.Path, err)
		}
		return db, nil
	}
	db, err := openDB()
	if err != nil {
		return err
	}
	s.db = db
	s.path, s.pageSize = opts.Path, db.Info().PageSize
	// OnMigrate counts the records rewritten by both conversions.
	events := 0
	var eventProgress, layoutProgress func(int)
	if opts.OnMigrate != nil {
		eventProgress = func(n int) { events = n; opts.OnMigrate(n) }
		layoutProgress = func(n int) { opts.OnMigrate(events + n) }
	}
	if err := convertEvents2(db, eventProgress, func(n int) {
		s.log.Info().Int("events", n).Msg("store: migrated the events' user ids to schema 3")
	}); err != nil {
		db.Close()
		s.db = nil
		return err
	}
	converted := false
	if err := convertLayout4(db, layoutProgress, func(n int) {
		converted = true
		s.log.Info().Int("records", n).Msg("store: migrated the records to schema 4")
	}); err != nil {
		db.Close()
		s.db = nil
		return err
	}
	if converted {
		// The old generation's pages are free now (about half the file):
		// give them back, as latchctl import does (docs/store.md, "Database
		// size"). A compaction that fails leaves the file as it is.
		db.Close()
		s.db = nil
		if cs, err := CompactFile(opts.Path, 0.2); err != nil {
			s.log.Warn().Err(err).Msg("store: compacting the database after the migration failed; it keeps its free pages")
		} else if cs.Compacted {
			s.log.Info().Int64("before", cs.Before).Int64("after", cs.After).Dur("took", cs.Took).Msg("store: compacted the database after the migration")
		}
		if db, err = openDB(); err != nil {
			return err
		}
		s.db = db
	}
	if opts.IDKey != nil && len(opts.IDKey) != 32 {
		db.Close()
		s.db = nil
		return errors.New("store: open: IDKey must be 32 bytes")
	}
	if err := s.init(opts.KeyFile, opts.IDKey, opts.SiteIDs); err != nil {
		db.Close()
		s.db = nil
		return err
	}
	s.macs.New = func() any { return &macer{h: hmac.New(sha256.New, s.key)} }
	return nil
}

// Close closes the database and ends every subscription.
func (s *Store) Close() error {
	s.subMu.Lock()
	for sub := range s.subs {
		sub.closeLocked()
		delete(s.subs, sub)
	}
	s.subMu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// migrations[v] upgrades a database at schema version v to v+1 inside
// one transaction.
var migrations = map[uint32]func(tx *bolt.Tx) error{
	1: migrateCards2,   // cards carry the user's door view and code MACs
	2: migrateUserIDs3, // user ids become UUIDs (userid.go)
	3: migrateLayout4,  // binary record keys, 16-byte MACs, hashed email index (layout4.go)
}

func (s *Store) init(keyFile string, idKey []byte, siteIDs bool) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		fresh := tx.Bucket(bMeta) == nil
		for _, name := range [][]byte{bMeta, bEvents, bTokens, bTokHash, bCursors} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("store: open: %w", err)
			}
		}
		meta := tx.Bucket(bMeta)
		if fresh {
			if err := meta.Put(kSchema, be32(schemaVersion)); err != nil {
				return err
			}
		}
		if err := migrate(tx, schemaVersion, migrations); err != nil {
			return err
		}
		if fresh && idKey != nil {
			if err := meta.Put(kIDKey, idKey); err != nil {
				return err
			}
		}
		s.replica.Store(meta.Get(kReplicaRev) != nil)
		ids, err := loadIDKey(meta, fresh)
		if err != nil {
			return err
		}
		s.ids = ids
		// A crash during a large import leaves a half-built generation.
		if v := meta.Get(kStaging); v != nil {
			if err := tx.DeleteBucket(genName(binary.BigEndian.Uint64(v))); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return fmt.Errorf("store: open: drop unfinished import: %w", err)
			}
			if err := meta.Delete(kStaging); err != nil {
				return err
			}
			s.log.Warn().Msg("store: dropped an unfinished import")
		}
		if meta.Get(kGen) == nil {
			if err := meta.Put(kGen, be64(1)); err != nil {
				return err
			}
		}
		gen := binary.BigEndian.Uint64(meta.Get(kGen))
		root, err := tx.CreateBucketIfNotExists(genName(gen))
		if err != nil {
			return fmt.Errorf("store: open: %w", err)
		}
		for _, name := range dataBuckets {
			if _, err := root.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("store: open: %w", err)
			}
		}
		hasCodes := meta.Get(kHasCodes) != nil || !empty(root.Bucket(bEntry))
		key, err := loadKey(keyFile, hasCodes)
		if err != nil {
			return err
		}
		s.key = key
		if siteIDs {
			if err := s.useSiteIDs(meta); err != nil {
				return err
			}
		}
		check := keyCheck(key)
		old := meta.Get(kKeyCheck)
		switch {
		case old != nil && !hmac.Equal(old, check) && hasCodes:
			return fmt.Errorf("store: open: key file %s does not belong to this database (its codes were made with another key)", keyFile)
		case old == nil || !hmac.Equal(old, check):
			return meta.Put(kKeyCheck, check)
		}
		return nil
	})
}

// migrate brings the schema in tx up to target using steps.
func migrate(tx *bolt.Tx, target uint32, steps map[uint32]func(*bolt.Tx) error) error {
	meta := tx.Bucket(bMeta)
	raw := meta.Get(kSchema)
	if len(raw) != 4 {
		return errors.New("store: open: schema version missing or corrupt")
	}
	v := binary.BigEndian.Uint32(raw)
	if v > target {
		return fmt.Errorf("store: open: database schema %d is newer than this program (%d)", v, target)
	}
	for ; v < target; v++ {
		step, ok := steps[v]
		if !ok {
			return fmt.Errorf("store: open: no migration from schema %d", v)
		}
		if err := step(tx); err != nil {
			return fmt.Errorf("store: open: migrate schema %d to %d: %w", v, v+1, err)
		}
		if err := meta.Put(kSchema, be32(v+1)); err != nil {
			return err
		}
	}
	return nil
}

func keyCheck(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("keycheck"))
	return m.Sum(nil)
}

// loadKey reads the device key, creating it when it does not exist and
// the database holds no codes.
func loadKey(path string, hasCodes bool) ([]byte, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if hasCodes {
			return nil, fmt.Errorf("store: open: key file %s is missing but the database holds codes; restore the key file from backup (codes cannot be verified without it)", path)
		}
		return createKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open: key file: %w", err)
	}
	if err := secretfile.CheckMode(fi); err != nil {
		return nil, fmt.Errorf("store: open: key file %s: %w", path, err)
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("store: open: key file: %w", err)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("store: open: key file %s: must hold exactly %d bytes, has %d", path, keySize, len(key))
	}
	return key, nil
}

// createKey writes a new random key atomically: temp file, fsync, rename,
// fsync of the directory.
func createKey(path string) ([]byte, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("store: create key: %w", err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".latch-key-*")
	if err != nil {
		return nil, fmt.Errorf("store: create key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("store: create key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("store: create key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("store: create key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("store: create key: %w", err)
	}
	// Link instead of rename: never replace a key file that appeared meanwhile.
	if err := os.Link(tmp, path); err != nil {
		return nil, fmt.Errorf("store: create key: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return key, nil
}

func genName(gen uint64) []byte { return fmt.Appendf(nil, "data-%016x", gen) }

// data returns the live generation's bucket.
func data(tx *bolt.Tx) (*bolt.Bucket, error) {
	g := tx.Bucket(bMeta).Get(kGen)
	if len(g) != 8 {
		return nil, fmt.Errorf("%w: meta: the live generation", ErrCorrupt)
	}
	var name [5 + 16]byte
	copy(name[:], "data-")
	const hexd = "0123456789abcdef"
	v := binary.BigEndian.Uint64(g)
	for i := 15; i >= 0; i-- {
		name[5+i] = hexd[v&0xf]
		v >>= 4
	}
	b := tx.Bucket(name[:])
	if b == nil {
		return nil, fmt.Errorf("%w: the live generation is missing", ErrCorrupt)
	}
	return b, nil
}

// macer is a pooled HMAC with the buffer its sum is made in (kept with
// it, so that a MAC costs no allocation).
type macer struct {
	h   hash.Hash
	sum [sha256.Size]byte
	key [legacyLen]byte // mfaMAC's record key text
}

// mac returns HMAC-SHA-256 under the device key of the concatenated parts,
// truncated to macSize bytes (codec.go), appended to dst.
func (s *Store) mac(dst []byte, parts ...[]byte) []byte {
	m := s.macs.Get().(*macer)
	m.h.Reset()
	for _, p := range parts {
		m.h.Write(p)
	}
	dst = append(dst, m.h.Sum(m.sum[:0])[:macSize]...)
	s.macs.Put(m)
	return dst
}

var (
	mfaTag   = []byte("mfa\x00")
	entryTag = []byte("entry\x00")
	sep      = []byte{0}
)

// mfaMAC is an MFA code's MAC, which binds the user's record key in its
// schema 1–3 text form ("u" and 15 hex digits, appendLegacyKey), so that
// the codes stored before schema 4 still verify.
func (s *Store) mfaMAC(dst []byte, userID string, code []byte) []byte {
	m := s.macs.Get().(*macer)
	m.h.Reset()
	m.h.Write(mfaTag)
	m.h.Write(appendLegacyKey(m.key[:0], userID))
	m.h.Write(sep)
	m.h.Write(code)
	dst = append(dst, m.h.Sum(m.sum[:0])[:macSize]...)
	s.macs.Put(m)
	return dst
}

func (s *Store) entryMAC(dst []byte, code []byte) []byte {
	return s.mac(dst, entryTag, code)
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func empty(b *bolt.Bucket) bool {
	k, _ := b.Cursor().First()
	return k == nil
}
