package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/latchd/latch/store"
)

// Bucket settings. The creds bucket keeps 64 revisions a key so a
// controller that was away resumes from its revision; when even that
// history is gone it rebuilds (see catchUp).
const (
	credsHistory = 64
	statusTTL    = 60 * time.Second
	// applyBatch is how many entries one store transaction applies at most.
	applyBatch = 1000
)

// buckets binds (a controller) or creates (a manager) the site's
// buckets.
func (m *Member) buckets(ctx context.Context) (creds, state jetstream.KeyValue, err error) {
	if m.cfg.Manager {
		if creds, err = m.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: m.names.Creds(), History: credsHistory,
			Description: "latch site " + m.cfg.Site + ": users and uniqueness keys"}); err != nil {
			return nil, nil, fmt.Errorf("fleet: create bucket %s: %w", m.names.Creds(), err)
		}
		if state, err = m.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: m.names.State(), History: 8,
			Description: "latch site " + m.cfg.Site + ": key_id, lockdown, overrides"}); err != nil {
			return nil, nil, fmt.Errorf("fleet: create bucket %s: %w", m.names.State(), err)
		}
		if _, err = m.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: m.names.Status(), TTL: statusTTL,
			Description: "latch site " + m.cfg.Site + ": each controller's status"}); err != nil {
			return nil, nil, fmt.Errorf("fleet: create bucket %s: %w", m.names.Status(), err)
		}
		return creds, state, nil
	}
	if creds, err = m.js.KeyValue(ctx, m.names.Creds()); err != nil {
		return nil, nil, fmt.Errorf("fleet: bucket %s: %w (a manager creates the site's buckets: start one)", m.names.Creds(), err)
	}
	if state, err = m.js.KeyValue(ctx, m.names.State()); err != nil {
		return nil, nil, fmt.Errorf("fleet: bucket %s: %w (a manager creates the site's buckets: start one)", m.names.State(), err)
	}
	return creds, state, nil
}

// checkKey compares this member's key id with the site's key_id, writing
// it when the site has none yet (the first member to connect).
func (m *Member) checkKey(ctx context.Context, state jetstream.KeyValue) error {
	for range 3 {
		e, err := state.Get(ctx, KeyKeyID)
		if errors.Is(err, jetstream.ErrKeyNotFound) && !m.cfg.Manager {
			return errors.New("fleet: the site has no key_id yet; a manager writes it when it first connects")
		}
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			if _, err := state.Create(ctx, KeyKeyID, []byte(m.keyID)); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
				return fmt.Errorf("fleet: write key_id: %w", err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("fleet: read key_id: %w", err)
		}
		if string(e.Value()) != m.keyID {
			m.setKeyState("mismatch")
			return ErrKeyMismatch
		}
		m.setKeyState("ok")
		return nil
	}
	return errors.New("fleet: key_id keeps changing")
}

func (m *Member) setKeyState(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keyState = s
}

// syncLoop runs the sync until ctx ends, starting it again after any
// error (lost connection, missing bucket) with a growing pause.
func (m *Member) syncLoop(ctx context.Context) {
	b := newBackoff(30 * time.Second)
	var logged distinctErr
	for ctx.Err() == nil {
		err := m.syncOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		m.setErr(err)
		if logged.isNew(err) {
			if errors.Is(err, ErrKeyMismatch) {
				m.log.Error().Str("key_id", m.keyID).Msg(ErrKeyMismatch.Error())
			} else {
				m.log.Warn().Err(err).Msg("fleet: sync stopped; retrying")
			}
		}
		if !b.wait(ctx, m.reconnect) {
			return
		}
	}
}

// syncOnce binds the buckets, checks the key and follows the creds bucket
// until an error.
func (m *Member) syncOnce(ctx context.Context) error {
	if !m.nc.IsConnected() {
		return ErrOffline
	}
	creds, state, err := m.buckets(ctx)
	if err != nil {
		return err
	}
	if err := m.checkKey(ctx, state); err != nil {
		return err
	}
	m.setErr(nil)
	m.setCreds(creds)
	return m.follow(ctx, creds)
}

// needsRebuild reports whether the replica at rev cannot resume from the
// bucket's history: it never synced (an empty or a stand-alone database
// joins the site: its users are replaced), the revisions after rev are
// no longer all in the bucket, or the bucket is younger than rev (it was
// made again).
func needsRebuild(rev, first, last uint64) bool {
	return rev == 0 || rev > last || rev+1 < first
}

// follow catches the replica up and then applies every change as it
// comes, until ctx ends or the watch breaks.
func (m *Member) follow(ctx context.Context, creds jetstream.KeyValue) error {
	st, err := creds.Status(ctx)
	if err != nil {
		return fmt.Errorf("fleet: bucket status: %w", err)
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return errors.New("fleet: bucket status of an unknown kind")
	}
	rev, err := m.cfg.Store.ReplicaRevision()
	if err != nil {
		return err
	}
	m.setApplied(rev)
	first, last := bs.StreamInfo().State.FirstSeq, bs.StreamInfo().State.LastSeq
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var w *follower
	if needsRebuild(rev, first, last) {
		w, err = m.followBucket(ctx, m.names.Creds(), 0, last == 0 || bs.StreamInfo().State.Msgs == 0)
		if err != nil {
			return err
		}
		defer w.Stop()
		if err := m.rebuild(ctx, w); err != nil {
			return err
		}
	} else {
		w, err = m.followBucket(ctx, m.names.Creds(), rev+1, rev >= last)
		if err != nil {
			return err
		}
		defer w.Stop()
	}
	return m.apply(ctx, w)
}

// rebuild reads the bucket's current values up to the watcher's end of
// initial values into a new generation and switches to it.
func (m *Member) rebuild(ctx context.Context, w *follower) error {
	m.log.Info().Msg("fleet: rebuilding the replica from the site's current values")
	rb, err := m.cfg.Store.BeginRebuild()
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			rb.Abort()
		}
	}()
	var top uint64
	n := 0
	for {
		e, err := w.next(ctx, " during a rebuild")
		if err != nil {
			return err
		}
		if e == nil {
			break
		}
		top = max(top, e.Revision())
		id := userIDOf(e.Key())
		if id == "" || e.Operation() != jetstream.KeyValuePut {
			continue
		}
		u, err := DecodeUserDoc(id, e.Value())
		if err != nil {
			m.reject(e, err)
			continue
		}
		if err := rb.Add(u); err != nil {
			return err
		}
		n++
	}
	if err := rb.Commit(top); err != nil {
		return err
	}
	committed = true
	for _, r := range rb.Rejected {
		m.log.Warn().Str("user_id", r.UserID).Err(r.Err).Msg("fleet: a user document was refused by the store")
	}
	m.mu.Lock()
	m.rejected += len(rb.Rejected)
	m.caughtUp = true
	m.mu.Unlock()
	m.setApplied(top)
	m.log.Info().Int("users", n).Uint64("revision", top).Msg("fleet: replica rebuilt")
	return nil
}

func (m *Member) reject(e *kvEntry, err error) {
	m.log.Warn().Str("key", e.Key()).Uint64("revision", e.Revision()).Err(err).Msg("fleet: a user document does not decode; skipped")
	m.mu.Lock()
	m.rejected++
	m.mu.Unlock()
}

// apply applies the watcher's entries in batches: it takes what has
// arrived, up to applyBatch, and applies it in one store transaction.
func (m *Member) apply(ctx context.Context, w *follower) error {
	batch := make([]store.ReplicaChange, 0, applyBatch)
	for {
		e, err := w.next(ctx, "")
		if err != nil {
			return err
		}
		var ok bool
		batch = batch[:0]
		var top uint64
		for n := 0; n < applyBatch; n++ {
			if e == nil {
				m.mu.Lock()
				m.caughtUp = true
				m.mu.Unlock()
			} else {
				top = max(top, e.Revision())
				if ch, ok := m.change(e); ok {
					batch = append(batch, ch)
				}
			}
			select {
			case e, ok = <-w.Updates():
				if !ok {
					n = applyBatch
				}
				continue
			default:
			}
			break
		}
		if top == 0 {
			continue
		}
		res, err := m.cfg.Store.ApplyReplica(batch, top)
		if err != nil {
			return err
		}
		for _, r := range res.Rejected {
			m.log.Warn().Str("user_id", r.UserID).Uint64("revision", r.Rev).Err(r.Err).Msg("fleet: a user document was refused by the store")
		}
		if len(res.Rejected) > 0 {
			m.mu.Lock()
			m.rejected += len(res.Rejected)
			m.mu.Unlock()
		}
		m.setApplied(top)
	}
}

// change turns an entry into a replica change; false for keys that are
// not users (the uniqueness keys) and for documents that do not decode.
func (m *Member) change(e *kvEntry) (store.ReplicaChange, bool) {
	id := userIDOf(e.Key())
	if id == "" {
		return store.ReplicaChange{}, false
	}
	ch := store.ReplicaChange{Rev: e.Revision(), UserID: id}
	if e.Operation() != jetstream.KeyValuePut {
		return ch, true
	}
	u, err := DecodeUserDoc(id, e.Value())
	if err != nil {
		m.reject(e, err)
		return store.ReplicaChange{}, false
	}
	ch.User = &u
	return ch, true
}
