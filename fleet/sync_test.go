package fleet

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/latchd/latch/store"
)

var admin = store.Actor{Name: "alice", Role: "admin"}

// writer is a store in which the test makes users, whose documents it
// puts into the creds bucket by hand (as a manager would).
type writer struct {
	t  *testing.T
	st *store.Store
	kv jetstream.KeyValue
}

func (w *writer) user(ext string, card uint64, mfa string) store.User {
	w.t.Helper()
	u, err := w.st.CreateUser(store.UserFields{ExternalID: ext, FirstName: "F"}, admin)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.st.AddCard(u.UserID, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: card, Active: true}, admin); err != nil {
		w.t.Fatal(err)
	}
	if mfa != "" {
		if _, err := w.st.AddMFACode(u.UserID, []byte(mfa), admin); err != nil {
			w.t.Fatal(err)
		}
	}
	return u
}

// put writes the user's document; it returns the revision.
func (w *writer) put(id string) uint64 {
	w.t.Helper()
	u, err := w.st.ReplicaUser(id)
	if err != nil {
		w.t.Fatal(err)
	}
	doc, err := EncodeUserDoc(u)
	if err != nil {
		w.t.Fatal(err)
	}
	rev, err := w.kv.Put(context.Background(), UserKey(id), doc)
	if err != nil {
		w.t.Fatal(err)
	}
	return rev
}

func card(n uint64) store.CardKey {
	return store.CardKey{Format: "h10301", FacilityCode: 1, CardNumber: n}
}

// setup runs a server, a manager (which makes the buckets) and a writer.
func setup(t *testing.T) (*site, *writer, string) {
	srv := runServer(t, "", 0)
	s := newSite(t, srv.ClientURL())
	mgr := storeIn(t, t.TempDir(), s.key)
	t.Cleanup(func() { mgr.Close() })
	m := s.member(mgr, "mgr", true, nil, nil)
	t.Cleanup(m.Close)
	waitFor(t, "the manager's buckets", func() bool { return m.Sync().KeyState == "ok" })
	w := &writer{t: t, st: storeIn(t, t.TempDir(), s.key), kv: kvOf(t, srv.ClientURL(), "latch_hq_creds")}
	t.Cleanup(func() { w.st.Close() })
	return s, w, srv.ClientURL()
}

func TestSyncFollowsAndResumes(t *testing.T) {
	s, w, _ := setup(t)
	a := w.user("a", 1, "2468")
	w.put(a.UserID)
	dir := t.TempDir()
	st := storeIn(t, dir, s.key)
	var log logBuf
	c := s.member(st, "ctl1", false, nil, &log)
	waitFor(t, "user a on the controller", func() bool { _, _, err := st.LookupCard(card(1)); return err == nil })
	if ok, err := st.VerifyCardCode(card(1), a.UserID, []byte("2468"), false); !ok || err != nil {
		t.Errorf("MFA code on the replica: %v %v", ok, err)
	}
	// Live changes: a new user, a change, a delete.
	b := w.user("b", 2, "")
	w.put(b.UserID)
	w.st.SetCardActive(a.UserID, card(1), false, admin)
	rev := w.put(a.UserID)
	if err := w.kv.Delete(context.Background(), UserKey(b.UserID)); err != nil {
		t.Fatal(err)
	}
	// The delete is the bucket's next revision (the test is its only
	// writer): wait until the replica applied it, not merely until card 2
	// is absent, which it also is before b arrives.
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := c.WaitApplied(wctx, rev+1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.LookupCard(card(2)); !errors.Is(err, store.ErrNotFound) || !c.Sync().CaughtUp {
		t.Fatalf("after the delete: card 2 %v, caught up %v", err, c.Sync().CaughtUp)
	}
	if _, active, _ := st.LookupCard(card(1)); active {
		t.Error("a's card still active")
	}
	applied := c.Applied()
	c.Close()

	// Offline changes, then a restart: it resumes after its revision, no rebuild.
	d := w.user("d", 4, "")
	last := w.put(d.UserID)
	st.Close()
	st = storeIn(t, dir, s.key)
	defer st.Close()
	if r, _ := st.ReplicaRevision(); r != applied {
		t.Fatalf("recorded revision %d, member said %d", r, applied)
	}
	log2 := logBuf{}
	c = s.member(st, "ctl1", false, nil, &log2)
	defer c.Close()
	if err := c.WaitApplied(context.Background(), last); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.LookupCard(card(4)); err != nil {
		t.Errorf("offline change not applied: %v", err)
	}
	if strings.Contains(log2.String(), "rebuilding") {
		t.Errorf("a resume rebuilt: %s", log2.String())
	}
	if !strings.Contains(log.String(), "replica rebuilt") {
		t.Errorf("the first sync of an empty replica is a rebuild: %s", log.String())
	}
}

// TestSyncWrongKey: a member with another site key refuses to sync and
// says so once in its log and in its state.
func TestSyncWrongKey(t *testing.T) {
	s, w, _ := setup(t)
	a := w.user("a", 1, "")
	w.put(a.UserID)
	other := make([]byte, 32)
	st := storeIn(t, t.TempDir(), other)
	defer st.Close()
	var log logBuf
	c := s.member(st, "ctl2", false, other, &log)
	defer c.Close()
	waitFor(t, "the refusal", func() bool { return c.Sync().KeyState == "mismatch" })
	if c.Sync().Error != ErrKeyMismatch.Error() {
		t.Errorf("state error = %q", c.Sync().Error)
	}
	if _, _, err := st.LookupCard(card(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a member with the wrong key synced: %v", err)
	}
	if n := strings.Count(log.String(), "site key is not the site's"); n != 1 {
		t.Errorf("%d log lines about the key, want 1:\n%s", n, log.String())
	}
}

// TestSyncRebuildsWhenHistoryIsGone: a controller whose next revision
// is no longer in the bucket rebuilds from the current values, dropping
// what the site no longer has.
func TestSyncRebuildsWhenHistoryIsGone(t *testing.T) {
	s, w, url := setup(t)
	a, b := w.user("a", 1, ""), w.user("b", 2, "")
	w.put(a.UserID)
	rb := w.put(b.UserID)
	dir := t.TempDir()
	st := storeIn(t, dir, s.key)
	c := s.member(st, "ctl1", false, nil, nil)
	if err := c.WaitApplied(context.Background(), rb); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// Away: a changes twice, b is deleted, and the old messages are
	// removed from the stream (as limits or an operator would).
	w.st.SetCardActive(a.UserID, card(1), false, admin)
	w.put(a.UserID)
	w.kv.Delete(context.Background(), UserKey(b.UserID))
	last := w.put(a.UserID)
	stream, err := jsOf(t, url).Stream(context.Background(), "KV_latch_hq_creds")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Purge(context.Background(), jetstream.WithPurgeSequence(last-1)); err != nil {
		t.Fatal(err)
	}
	var log logBuf
	c = s.member(st, "ctl1", false, nil, &log)
	defer c.Close()
	if err := c.WaitApplied(context.Background(), last); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "rebuilding") {
		t.Errorf("no rebuild: %s", log.String())
	}
	if _, _, err := st.LookupCard(card(2)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("b survived the rebuild: %v", err)
	}
	if _, active, err := st.LookupCard(card(1)); err != nil || active {
		t.Errorf("a after rebuild: active %v, %v", active, err)
	}
	st.Close()
}
