package fleet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/store"
)

// Config is what a member needs; cmd/latchd fills it from [fleet].
type Config struct {
	URLs                          []string
	Site, Controller              string
	CredsFile, User, PasswordFile string
	TLSCA                         string
	SiteKey                       []byte // the site key (the store's key in fleet mode)
	Manager                       bool   // a manager creates the site's buckets; a controller only binds them
	Store                         *store.Store
	Logger                        zerolog.Logger
	Now                           func() time.Time // nil = time.Now
	// Uploader, on a controller, is its event upload (events.go): it
	// publishes on this member's connection.
	Uploader *Uploader
	// EventBacklog, on a controller, reports the events of its log the
	// site's stream has not acknowledged yet (the status's event_backlog).
	EventBacklog func() uint64
	// EventMaxAge is the max age of the site's event stream a manager
	// creates ([fleet] event_max_age; 0 = DefaultEventMaxAge).
	EventMaxAge time.Duration
	// Doors reports this controller's doors for its status (nil: none).
	Doors   func() []DoorReport
	Version string // latchd's version, in the status
	// Control is a controller's command API over its running doors (the
	// current one across reloads; nil, or a nil result, before they run):
	// the site's commands and its lockdown go through it (docs/fleet.md
	// "Commands"). Unset on a manager.
	Control func() *door.Controller
}

// Member is one latchd's membership in its site: the connection, the
// sync of the replica, and the state others read (Status).
type Member struct {
	cfg   Config
	names Names
	keyID string
	log   zerolog.Logger
	nc    *nats.Conn
	js    jetstream.JetStream
	creds jetstream.KeyValue // bound by the sync; nil before

	mu        sync.Mutex
	applied   uint64        // last revision the replica applied (as the store recorded it)
	appliedCh chan struct{} // closed and replaced when applied grows
	keyState  string        // "" unknown, "ok", or "mismatch"
	lastErr   string
	rejected  int
	caughtUp  bool
	// refusedEvents counts site events a manager could not decode.
	refusedEvents int

	reconnect chan struct{}
	wg        sync.WaitGroup
	cancel    context.CancelFunc

	// lockReconnect restarts the lockdown watch after a reconnect;
	// kick writes the status now (lockdown.go, commands.go).
	lockReconnect, kick chan struct{}
}

// ErrKeyMismatch is the refusal of a member whose site key is not the
// site's: it neither syncs nor writes.
var ErrKeyMismatch = errors.New("fleet: this member's site key is not the site's (its key_id differs); not syncing")

// ErrOffline reports that NATS cannot be reached: a write cannot be made.
var ErrOffline = errors.New("fleet: NATS is unreachable")

// New checks cfg and makes a member; Start connects it.
func New(cfg Config) (*Member, error) {
	if err := CheckSite(cfg.Site); err != nil {
		return nil, fmt.Errorf("fleet: site: %w", err)
	}
	if err := CheckController(cfg.Controller); err != nil {
		return nil, fmt.Errorf("fleet: controller: %w", err)
	}
	if len(cfg.SiteKey) != 32 {
		return nil, errors.New("fleet: the site key must be 32 bytes")
	}
	if cfg.Store == nil {
		return nil, errors.New("fleet: no store")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Member{cfg: cfg, names: Names{Site: cfg.Site}, keyID: KeyID(cfg.SiteKey),
		log:       cfg.Logger.With().Str("component", "fleet").Logger(),
		appliedCh: make(chan struct{}), reconnect: make(chan struct{}, 1),
		lockReconnect: make(chan struct{}, 1), kick: make(chan struct{}, 1)}
	rev, err := cfg.Store.ReplicaRevision()
	if err != nil {
		return nil, err
	}
	m.applied = rev
	return m, nil
}

// options are the NATS connection's: reconnect for ever, fail no
// operation at start when the server is down (latchd starts offline).
func (m *Member) options() ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name("latchd " + m.cfg.Site + "/" + m.cfg.Controller),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(500*time.Millisecond, time.Second),
		// Nothing is buffered while reconnecting: a publish then fails at
		// once (a write answers 503, the event upload tries again later)
		// rather than going out late, after what was sent meanwhile.
		nats.ReconnectBufSize(-1),
		// Replies and watches on this member's own inboxes, which the
		// site's NATS account lets it subscribe to (docs/fleet.md).
		nats.CustomInboxPrefix(InboxPrefix(m.cfg.Site, m.cfg.Controller)),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if nc.IsClosed() {
				return // our own Close
			}
			m.log.Warn().AnErr("error", err).Msg("fleet: disconnected from NATS; doors go on from the replica")
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			m.log.Info().Str("url", nc.ConnectedUrlRedacted()).Msg("fleet: reconnected to NATS")
			select {
			case m.reconnect <- struct{}{}:
			default:
			}
			select {
			case m.lockReconnect <- struct{}{}:
			default:
			}
		}),
		nats.ConnectHandler(func(nc *nats.Conn) {
			m.log.Info().Str("url", nc.ConnectedUrlRedacted()).Msg("fleet: connected to NATS")
			select {
			case m.lockReconnect <- struct{}{}: // connected after starting offline
			default:
			}
		}),
	}
	switch {
	case m.cfg.CredsFile != "":
		opts = append(opts, nats.UserCredentials(m.cfg.CredsFile))
	case m.cfg.User != "":
		pw, err := os.ReadFile(m.cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("fleet: password file: %w", err)
		}
		opts = append(opts, nats.UserInfo(m.cfg.User, strings.TrimRight(string(pw), "\r\n")))
	}
	if m.cfg.TLSCA != "" {
		pem, err := os.ReadFile(m.cfg.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("fleet: tls_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("fleet: tls_ca: no PEM certificate in the file")
		}
		opts = append(opts, nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	return opts, nil
}

// Start connects (in the background: it returns at once, also when NATS
// is down) and starts the sync. It never blocks a door.
func (m *Member) Start(ctx context.Context) error {
	opts, err := m.options()
	if err != nil {
		return err
	}
	nc, err := nats.Connect(strings.Join(m.cfg.URLs, ","), opts...)
	if err != nil {
		return fmt.Errorf("fleet: connect: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("fleet: %w", err)
	}
	m.nc, m.js = nc, js
	ctx, m.cancel = context.WithCancel(ctx)
	if m.cfg.Uploader != nil {
		if err := m.cfg.Uploader.attach(nc); err != nil {
			m.log.Error().Err(err).Msg("fleet: the event upload has no connection")
		}
	}
	if m.cfg.Manager {
		m.wg.Go(func() { m.ingestLoop(ctx) })
	}
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		m.syncLoop(ctx)
	}()
	go func() {
		defer m.wg.Done()
		m.statusLoop(ctx)
	}()
	if !m.cfg.Manager && m.cfg.Control != nil {
		if err := m.startCommands(ctx); err != nil {
			m.Close()
			return err
		}
	}
	return nil
}

// Close stops the sync and the connection.
func (m *Member) Close() {
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	if m.nc != nil {
		m.nc.Close()
	}
}

// Connected reports whether NATS is connected now.
func (m *Member) Connected() bool { return m.nc != nil && m.nc.IsConnected() }

// Applied is the last revision of the creds bucket the replica applied.
func (m *Member) Applied() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.applied
}

// setApplied records a new applied revision and wakes the waiters.
func (m *Member) setApplied(rev uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if rev > m.applied || rev == 0 {
		m.applied = rev
		close(m.appliedCh)
		m.appliedCh = make(chan struct{})
	}
}

// WaitApplied returns once the replica applied rev (or ctx ends).
func (m *Member) WaitApplied(ctx context.Context, rev uint64) error {
	for {
		m.mu.Lock()
		done, ch := m.applied >= rev, m.appliedCh
		m.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fleet: waiting for the replica to apply revision %d: %w", rev, ctx.Err())
		}
	}
}

func (m *Member) setErr(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil {
		m.lastErr = ""
	} else {
		m.lastErr = err.Error()
	}
}

// SyncState is what Status reports of the sync.
type SyncState struct {
	Connected bool
	Applied   uint64
	CaughtUp  bool   // the replica reached the bucket's end once since the last (re)start of the sync
	KeyState  string // "", "ok", "mismatch"
	Error     string // the last sync error, "" when none
	Rejected  int    // documents the store refused since start
}

// Sync reports the sync's state.
func (m *Member) Sync() SyncState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return SyncState{Connected: m.Connected(), Applied: m.applied, CaughtUp: m.caughtUp, KeyState: m.keyState, Error: m.lastErr, Rejected: m.rejected}
}

// Names returns the site's names.
func (m *Member) Names() Names { return m.names }
