package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/latchd/latch/store"
)

// The writes of a fleet member (docs/fleet.md "Writes"). Member is the
// store's store.Remote: the store computes a change on the replica and
// hands over the documents of the users it touched; Write makes them on
// the site with compare-and-set on each user's revision and create-only
// uniqueness keys, then waits until the replica applied them.

// Bounds of one write.
var (
	writeTimeout = 5 * time.Second  // the NATS operations of one user's document
	applyTimeout = 10 * time.Second // the replica applying what was written
	// claimGrace is how long a uniqueness key is its writer's before its
	// document holds the credential: far beyond writeTimeout, within which
	// the writer's compare-and-set either happened or failed. Members'
	// clocks must agree with the server's to well within it (NTP).
	claimGrace = 30 * time.Second
)

func (m *Member) setCreds(kv jetstream.KeyValue) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.creds = kv
}

func (m *Member) credsKV() jetstream.KeyValue {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.creds
}

func unavailable(format string, args ...any) error {
	return &store.UnavailableError{Cause: fmt.Sprintf(format, args...)}
}

// natsErr words a failed NATS operation as the reason a write is refused.
func natsErr(what string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoStreamResponse) {
		return unavailable("NATS did not answer in %s while %s", writeTimeout, what)
	}
	return unavailable("NATS: %s: %v", what, err)
}

// Write implements store.Remote.
func (m *Member) Write(changes []store.RemoteChange, base uint64) error {
	if m.Sync().KeyState == "mismatch" {
		return unavailable("%v", ErrKeyMismatch)
	}
	if m.nc == nil || !m.nc.IsConnected() {
		return unavailable("NATS is unreachable (%s)", strings.Join(m.cfg.URLs, ", "))
	}
	kv := m.credsKV()
	if kv == nil {
		why := m.Sync().Error
		if why == "" {
			why = "not bound yet"
		}
		return unavailable("the site's buckets: %s", why)
	}
	var top uint64
	for _, ch := range changes {
		// Each user has its own bound: an import writes thousands.
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		rev, err := m.writeUser(ctx, kv, ch, base)
		cancel()
		if err != nil {
			return err
		}
		top = max(top, rev)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), applyTimeout)
	defer wcancel()
	if err := m.WaitApplied(wctx, top); err != nil {
		return unavailable("the site took the change (revision %d) but this member's replica has not applied it within %s", top, applyTimeout)
	}
	return nil
}

// stale waits until the replica applied rev (or the bucket's end when rev
// is 0) and returns store.ErrStale, so the store computes the change again.
func (m *Member) stale(ctx context.Context, kv jetstream.KeyValue, rev uint64) error {
	if rev == 0 {
		st, err := kv.Status(ctx)
		if err != nil {
			return natsErr("reading the bucket's status", err)
		}
		if bs, ok := st.(*jetstream.KeyValueBucketStatus); ok {
			rev = bs.StreamInfo().State.LastSeq
		}
	}
	if err := m.WaitApplied(ctx, rev); err != nil {
		return unavailable("this member's replica is behind the site (at %d, the site at %d)", m.Applied(), rev)
	}
	return store.ErrStale
}

// writeUser writes one user's document and its uniqueness keys; it
// returns the document's new revision.
func (m *Member) writeUser(ctx context.Context, kv jetstream.KeyValue, ch store.RemoteChange, base uint64) (uint64, error) {
	key := UserKey(ch.UserID)
	var cur uint64
	e, err := kv.Get(ctx, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		if ch.Old != nil {
			// Deleted on the site after the replica's revision.
			return 0, m.stale(ctx, kv, 0)
		}
	case err != nil:
		return 0, natsErr("reading "+key, err)
	default:
		cur = e.Revision()
		if cur > base {
			return 0, m.stale(ctx, kv, cur)
		}
	}
	oldKeys, newKeys := credKeys(ch.Old), credKeys(ch.New)
	for _, k := range newKeys {
		if !slices.Contains(oldKeys, k) {
			if err := m.claim(ctx, kv, k, ch.UserID); err != nil {
				return 0, err
			}
		}
	}
	var rev uint64
	switch {
	case ch.New == nil && cur == 0:
		return 0, nil // nothing on the site to delete
	case ch.New == nil:
		if err := kv.Delete(ctx, key, jetstream.LastRevision(cur)); err != nil {
			return 0, m.casErr(ctx, kv, "deleting "+key, err)
		}
		// The delete marker's revision: the bucket's last at least.
		st, err := kv.Status(ctx)
		if err != nil {
			return 0, natsErr("reading the bucket's status", err)
		}
		if bs, ok := st.(*jetstream.KeyValueBucketStatus); ok {
			rev = bs.StreamInfo().State.LastSeq
		}
	default:
		doc, err := EncodeUserDoc(*ch.New)
		if err != nil {
			return 0, err
		}
		if cur == 0 {
			rev, err = kv.Create(ctx, key, doc)
		} else {
			rev, err = kv.Update(ctx, key, doc, cur)
		}
		if err != nil {
			return 0, m.casErr(ctx, kv, "writing "+key, err)
		}
	}
	for _, k := range oldKeys {
		if !slices.Contains(newKeys, k) {
			m.release(ctx, kv, k, ch.UserID)
		}
	}
	return rev, nil
}

// casErr: a compare-and-set that failed because the key moved on is
// stale; anything else is NATS failing.
func (m *Member) casErr(ctx context.Context, kv jetstream.KeyValue, what string, err error) error {
	var apiErr *jetstream.APIError
	if errors.Is(err, jetstream.ErrKeyExists) || (errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence) {
		return m.stale(ctx, kv, 0)
	}
	return natsErr(what, err)
}

// credKeys are the uniqueness keys of a user's document: its cards, its
// entry code, its external id.
func credKeys(u *store.ReplicaUser) []string {
	if u == nil {
		return nil
	}
	var ks []string
	for _, c := range u.Cards {
		ks = append(ks, CardKey(c.Key()))
	}
	for _, c := range []*store.ReplicaCode{u.EntryCode, u.DuressCode} {
		if c != nil {
			ks = append(ks, CodeKey(c.MAC)) // entry and duress codes share one namespace, as in the store
		}
	}
	if u.ExternalID != "" {
		ks = append(ks, ExtKey(u.ExternalID))
	}
	return ks
}

// conflict is the refusal of a credential another user holds on the site;
// it never says who.
func conflict(k string) error {
	what := "card"
	switch {
	case strings.HasPrefix(k, prefixCode):
		what = "entry or duress code"
	case strings.HasPrefix(k, prefixExt):
		what = "external_id"
	}
	return fmt.Errorf("store: %s: %w", what, store.ErrConflict)
}

// claim makes the uniqueness key k name userID. A key that names another
// user is that user's while its document holds the credential, or while
// the key is younger than claimGrace (its writer may not have written the
// document yet). An older key whose user does not hold the credential was
// left behind by an interrupted write, and is taken over.
func (m *Member) claim(ctx context.Context, kv jetstream.KeyValue, k, userID string) error {
	_, err := kv.Create(ctx, k, []byte(userID))
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return natsErr("claiming a uniqueness key", err)
	}
	e, err := kv.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return m.stale(ctx, kv, 0) // released meanwhile: compute again
	}
	if err != nil {
		return natsErr("reading a uniqueness key", err)
	}
	owner := string(e.Value())
	if owner == userID {
		// Ours (an earlier attempt): claim it again, so its age is this
		// attempt's.
		if _, err := kv.Update(ctx, k, []byte(userID), e.Revision()); err != nil {
			return m.casErr(ctx, kv, "claiming a uniqueness key", err)
		}
		return nil
	}
	if m.cfg.Now().Sub(e.Created()) < claimGrace {
		// Another writer may be between its claim and its document.
		return conflict(k)
	}
	od, err := kv.Get(ctx, UserKey(owner))
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
	case err != nil:
		return natsErr("reading the owner of a uniqueness key", err)
	default:
		if u, derr := DecodeUserDoc(owner, od.Value()); derr == nil && slices.Contains(credKeys(&u), k) {
			return conflict(k)
		}
	}
	if _, err := kv.Update(ctx, k, []byte(userID), e.Revision()); err != nil {
		return m.casErr(ctx, kv, "taking over a uniqueness key", err)
	}
	m.log.Info().Str("owner_was", owner).Str("user_id", userID).Msg("fleet: took over a uniqueness key left behind by an interrupted write")
	return nil
}

// release deletes k if it still names userID. A failure leaves a key the
// next claim takes over.
func (m *Member) release(ctx context.Context, kv jetstream.KeyValue, k, userID string) {
	e, err := kv.Get(ctx, k)
	if err != nil || string(e.Value()) != userID {
		return
	}
	if err := kv.Delete(ctx, k, jetstream.LastRevision(e.Revision())); err != nil {
		m.log.Warn().Err(err).Str("user_id", userID).Msg("fleet: a released uniqueness key was not deleted; the next claim takes it over")
	}
}

var _ store.Remote = (*Member)(nil)
