package fleet

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchd/latch/store"
)

// manager starts a manager member whose store writes through it.
func (s *site) manager(t *testing.T, name string) (*store.Store, *Member) {
	st := storeIn(t, t.TempDir(), s.key)
	m := s.member(st, name, true, nil, nil)
	st.SetRemote(m)
	t.Cleanup(func() { m.Close(); st.Close() })
	waitFor(t, name+" bound", func() bool { return m.credsKV() != nil && m.Sync().CaughtUp })
	return st, m
}

func TestWritesReachEveryReplica(t *testing.T) {
	srv := runServer(t, "", 0)
	s := newSite(t, srv.ClientURL())
	m1, _ := s.manager(t, "m1")
	cst := storeIn(t, t.TempDir(), s.key)
	c := s.member(cst, "ctl1", false, nil, nil)
	t.Cleanup(func() { c.Close(); cst.Close() })

	u, err := m1.CreateUser(store.UserFields{ExternalID: "e1", FirstName: "Ann"}, admin)
	if err != nil {
		t.Fatal(err)
	}
	if err := m1.AddCard(u.UserID, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: 7, Active: true}, admin); err != nil {
		t.Fatal(err)
	}
	// The reply came after the manager's own replica applied it.
	if _, _, err := m1.LookupCard(card(7)); err != nil {
		t.Errorf("manager's replica: %v", err)
	}
	if _, err := m1.AddMFACode(u.UserID, []byte("8642"), admin); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the controller's replica", func() bool {
		ok, _ := cst.VerifyCardCode(card(7), u.UserID, []byte("8642"), false)
		return ok
	})
	// Every member names the user by the same id (SiteIDs: the id key is
	// derived from the site key), so the manager's id works on the
	// controller's API too.
	if got, err := cst.User(u.UserID); err != nil || got.ExternalID != "e1" {
		t.Errorf("the manager's user id on the controller: %+v, %v", got, err)
	}
	// A duress code crosses in the document (as its MAC) and the
	// controller's door tells it from the MFA code.
	if err := m1.SetDuressCode(u.UserID, []byte("97531"), admin); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the duress code on the controller", func() bool {
		m, _ := cst.MatchCardCode(card(7), u.UserID, []byte("97531"), false)
		return m == store.CodeDuress
	})
	if m, _ := cst.MatchCardCode(card(7), u.UserID, []byte("8642"), false); m != store.CodeValid {
		t.Errorf("the MFA code after the duress code crossed: %v", m)
	}
	// The duress code's index key is claimed site-wide: another user
	// cannot take the same digits as an entry code.
	w, _ := m1.CreateUser(store.UserFields{ExternalID: "e3"}, admin)
	if err := m1.SetEntryCode(w.UserID, []byte("97531"), admin); !errors.Is(err, store.ErrConflict) {
		t.Errorf("an entry code equal to another user's duress code: %v", err)
	}
	// A card another user holds is refused by the store's own rules.
	v, _ := m1.CreateUser(store.UserFields{ExternalID: "e2"}, admin)
	if err := m1.AddCard(v.UserID, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: 7}, admin); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second holder of a card: %v", err)
	}
	// The site's index key and the audit event.
	kv := kvOf(t, srv.ClientURL(), "latch_hq_creds")
	if e, err := kv.Get(context.Background(), "card.h10301.1.7"); err != nil || string(e.Value()) != u.UserID {
		t.Errorf("card index key: %v", err)
	}
	evs, _ := m1.Events(store.EventQuery{})
	if len(evs) == 0 || evs[len(evs)-1].Action != "mfa_code_added" && evs[len(evs)-1].Action != "user_created" {
		t.Errorf("manager's audit events: %+v", evs)
	}
	// Digits never reach NATS.
	e, _ := kv.Get(context.Background(), UserKey(u.UserID))
	if strings.Contains(string(e.Value()), "8642") {
		t.Error("a code's digits are in the user document")
	}
	// Deleting frees the card site-wide.
	if err := m1.DeleteUser(u.UserID, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(context.Background(), "card.h10301.1.7"); err == nil {
		t.Error("the card's index key outlived its user")
	}
	waitFor(t, "the delete on the controller", func() bool {
		_, _, err := cst.LookupCard(card(7))
		return errors.Is(err, store.ErrNotFound)
	})
}

// TestConcurrentManagers: two managers give one card to two users at the
// same moment: the create-only key lets exactly one win, and every
// replica agrees.
func TestConcurrentManagers(t *testing.T) {
	srv := runServer(t, "", 0)
	s := newSite(t, srv.ClientURL())
	m1, mm1 := s.manager(t, "m1")
	m2, mm2 := s.manager(t, "m2")
	a, err := m1.CreateUser(store.UserFields{ExternalID: "a"}, admin)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m2.CreateUser(store.UserFields{ExternalID: "b"}, admin)
	if err != nil {
		t.Fatal(err)
	}
	if a.UserID == b.UserID {
		t.Fatal("two managers made the same user id")
	}
	for round := uint64(100); round < 110; round++ {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, st := range []*store.Store{m1, m2} {
			id := []string{a.UserID, b.UserID}[i]
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = st.AddCard(id, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: round, Active: true}, admin)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d managers gave the card away (%v)", round, won, errs)
		}
	}
	top := max(mm1.Applied(), mm2.Applied())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mm1.WaitApplied(ctx, top)
	mm2.WaitApplied(ctx, top)
	for n := uint64(100); n < 110; n++ {
		v1, _, err1 := m1.LookupCard(card(n))
		v2, _, err2 := m2.LookupCard(card(n))
		if err1 != nil || err2 != nil || v1.UserID != v2.UserID {
			t.Errorf("card %d: %q %v / %q %v", n, v1.UserID, err1, v2.UserID, err2)
		}
	}
}

// TestWriteOffline: with NATS down a write answers unavailable, naming
// the cause, and changes nothing; once the server is back writes work.
func TestWriteOffline(t *testing.T) {
	dir := t.TempDir()
	srv := runServer(t, dir, 0)
	s := newSite(t, srv.ClientURL())
	m1, mm := s.manager(t, "m1")
	u, err := m1.CreateUser(store.UserFields{ExternalID: "e1"}, admin)
	if err != nil {
		t.Fatal(err)
	}
	// An index key left by an interrupted write for a user that does not
	// hold the card is taken over.
	kv := kvOf(t, srv.ClientURL(), "latch_hq_creds")
	if _, err := kv.Create(context.Background(), "card.h10301.1.9", []byte("u00000000000000f")); err != nil {
		t.Fatal(err)
	}
	if err := m1.AddCard(u.UserID, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: 9, Active: true}, admin); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a fresh index key of another writer: %v, want a conflict", err)
	}
	old := claimGrace
	claimGrace = 0 // the key is now older than the grace
	defer func() { claimGrace = old }()
	if err := m1.AddCard(u.UserID, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: 9, Active: true}, admin); err != nil {
		t.Fatalf("stale index key not taken over: %v", err)
	}
	port := srv.Addr().(*net.TCPAddr).Port
	srv.Shutdown()
	waitFor(t, "the disconnect", func() bool { return !mm.Connected() })
	err = m1.SetEntryCode(u.UserID, []byte("4444"), admin)
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "NATS is unreachable") {
		t.Fatalf("write while down: %v", err)
	}
	if got, _ := m1.User(u.UserID); got.HasEntryCode {
		t.Error("the refused write changed the replica")
	}
	// Doors go on: the replica answers.
	if _, _, err := m1.LookupCard(card(9)); err != nil {
		t.Errorf("lookup while down: %v", err)
	}
	runServer(t, dir, port)
	waitFor(t, "the reconnect", func() bool { return mm.Connected() && mm.credsKV() != nil })
	var werr error
	waitFor(t, "a write after the restart", func() bool {
		werr = m1.SetEntryCode(u.UserID, []byte("4444"), admin)
		return werr == nil
	})
}
