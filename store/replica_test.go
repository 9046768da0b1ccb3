package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// siteIDs opens a store as a fleet member does: user ids derived from the
// (site) key.
func siteIDs(o *Options) { o.SiteIDs = true }

// replicaPair opens a writer store and a replica store that share one key
// file, as the members of a site share the site key.
func replicaPair(t *testing.T) (w, r *Store, rdir string) {
	t.Helper()
	wdir := t.TempDir()
	w = openAt(t, wdir, siteIDs)
	rdir = t.TempDir()
	key, err := os.ReadFile(filepath.Join(wdir, "device.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rdir, "device.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	r = openAt(t, rdir, siteIDs)
	return w, r, rdir
}

// docOf is the writer's document of a user.
func docOf(t *testing.T, s *Store, id string) *ReplicaUser {
	t.Helper()
	u, err := s.ReplicaUser(id)
	if err != nil {
		t.Fatalf("ReplicaUser(%s): %v", id, err)
	}
	return &u
}

// sameUser checks that the replica answers for user id as the writer does.
func sameUser(t *testing.T, w, r *Store, id string, card CardKey, code string) {
	t.Helper()
	wu, err1 := w.User(id)
	ru, err2 := r.User(id)
	if err1 != nil || err2 != nil {
		t.Fatalf("User: %v / %v", err1, err2)
	}
	if d := cmp.Diff(wu, ru); d != "" {
		t.Errorf("replica's user differs (-writer +replica):\n%s", d)
	}
	wv, wa, err1 := w.LookupCard(card)
	rv, ra, err2 := r.LookupCard(card)
	if err1 != nil || err2 != nil || wa != ra || !cmp.Equal(wv, rv) {
		t.Errorf("LookupCard: writer %+v %v %v, replica %+v %v %v", wv, wa, err1, rv, ra, err2)
	}
	ok, err := r.VerifyCardCode(card, id, []byte(code), false)
	if err != nil || !ok {
		t.Errorf("replica VerifyCardCode(right MFA code) = %v, %v", ok, err)
	}
	if ok, _ := r.VerifyCardCode(card, id, []byte("99999999"), false); ok {
		t.Error("replica accepted a wrong code")
	}
}

func TestApplyReplica(t *testing.T) {
	w, r, _ := replicaPair(t)
	u := mustUser(t, w, "e1")
	card := CardKey{Format: "h10301", FacilityCode: 12, CardNumber: 3456}
	if err := w.AddCard(u.UserID, Card{Format: "h10301", FacilityCode: 12, CardNumber: 3456, Active: true}, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddMFACode(u.UserID, []byte("2468"), admin); err != nil {
		t.Fatal(err)
	}
	if err := w.SetEntryCode(u.UserID, []byte("13579"), admin); err != nil {
		t.Fatal(err)
	}
	res, err := r.ApplyReplica([]ReplicaChange{{Rev: 3, UserID: u.UserID, User: docOf(t, w, u.UserID)}}, 5)
	if err != nil || res.Applied != 1 || len(res.Rejected) != 0 {
		t.Fatalf("ApplyReplica = %+v, %v", res, err)
	}
	if rev, _ := r.ReplicaRevision(); rev != 5 {
		t.Errorf("revision = %d, want 5", rev)
	}
	sameUser(t, w, r, u.UserID, card, "2468")
	if v, err := r.LookupEntryCode([]byte("13579")); err != nil || v.UserID != u.UserID {
		t.Errorf("replica LookupEntryCode = %+v, %v", v, err)
	}

	// The same batch again (a crash before the caller saw the commit):
	// skipped, nothing written twice.
	res, err = r.ApplyReplica([]ReplicaChange{{Rev: 3, UserID: u.UserID, User: docOf(t, w, u.UserID)}}, 5)
	if err != nil || res.Skipped != 1 || res.Applied != 0 {
		t.Errorf("replayed batch = %+v, %v", res, err)
	}

	// A duress code crosses as its MAC, and the replica's door tells it
	// from the MFA code.
	if err := w.SetDuressCode(u.UserID, []byte("97531"), admin); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ApplyReplica([]ReplicaChange{{Rev: 6, UserID: u.UserID, User: docOf(t, w, u.UserID)}}, 6); err != nil {
		t.Fatal(err)
	}
	if m, err := r.MatchCardCode(card, u.UserID, []byte("97531"), false); m != CodeDuress || err != nil {
		t.Errorf("replica MatchCardCode(duress code) = %v, %v", m, err)
	}

	// A change: the card deactivated, the entry code gone, a new MFA code.
	w.SetCardActive(u.UserID, card, false, admin)
	w.DeleteEntryCode(u.UserID, admin)
	w.AddMFACode(u.UserID, []byte("112233"), admin)
	if _, err := r.ApplyReplica([]ReplicaChange{{Rev: 7, UserID: u.UserID, User: docOf(t, w, u.UserID)}}, 7); err != nil {
		t.Fatal(err)
	}
	if _, active, _ := r.LookupCard(card); active {
		t.Error("card still active on the replica")
	}
	if _, err := r.LookupEntryCode([]byte("13579")); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed entry code: %v", err)
	}
	if ok, err := r.VerifySecondFactor(u.UserID, []byte("112233"), false); !ok || err != nil {
		t.Errorf("new MFA code: %v %v", ok, err)
	}
	// MFA ids made on the replica later stay above the applied ones.
	if seq, _ := parseMFAID(docOf(t, w, u.UserID).MFACodes[1].ID); seq == 0 {
		t.Fatal("no mfa id")
	}
	// Deleted.
	if _, err := r.ApplyReplica([]ReplicaChange{{Rev: 8, UserID: u.UserID}}, 9); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.LookupCard(card); !errors.Is(err, ErrNotFound) {
		t.Errorf("card of a deleted user: %v", err)
	}
	if rev, _ := r.ReplicaRevision(); rev != 9 {
		t.Errorf("revision = %d, want 9", rev)
	}
}

// TestReplicaNeedsTheSitesIDs: a document names its user by the UUID
// every member derives from the site key; a store whose ids come from its
// own random id key (one opened without SiteIDs) cannot place it and
// refuses it, naming the rule, instead of filing it under another user.
func TestReplicaNeedsTheSitesIDs(t *testing.T) {
	w, r, _ := replicaPair(t)
	u := mustUser(t, w, "e1")
	own := openAt(t, t.TempDir(), nil)
	res, err := own.ApplyReplica([]ReplicaChange{{Rev: 1, UserID: u.UserID, User: docOf(t, w, u.UserID)}}, 1)
	if err != nil || res.Applied != 0 || len(res.Rejected) != 1 {
		t.Fatalf("ApplyReplica on a store with its own ids = %+v, %v", res, err)
	}
	var ve *ValidationError
	if !errors.As(res.Rejected[0].Err, &ve) || ve.Field != "user_id" {
		t.Errorf("refusal = %v, want a user_id rule", res.Rejected[0].Err)
	}
	// Two stores opened with SiteIDs under one key agree on every id.
	if _, err := r.ApplyReplica([]ReplicaChange{{Rev: 1, UserID: u.UserID, User: docOf(t, w, u.UserID)}}, 1); err != nil {
		t.Fatal(err)
	}
	if got, err := r.User(u.UserID); err != nil || got.UserID != u.UserID {
		t.Errorf("replica's User(%s) = %+v, %v", u.UserID, got, err)
	}
}

func TestApplyReplicaRejects(t *testing.T) {
	w, r, _ := replicaPair(t)
	a, b := mustUser(t, w, "a"), mustUser(t, w, "b")
	c := Card{Format: "h10301", FacilityCode: 1, CardNumber: 1, Active: true}
	w.AddCard(a.UserID, c, admin)
	if _, err := r.ApplyReplica([]ReplicaChange{{Rev: 1, UserID: a.UserID, User: docOf(t, w, a.UserID)}}, 1); err != nil {
		t.Fatal(err)
	}
	clash := docOf(t, w, b.UserID)
	clash.Cards = []Card{c}
	bad := docOf(t, w, b.UserID)
	bad.MFACodes = []ReplicaCode{{ID: "m1", MAC: []byte("short"), Length: 4}}
	wrongID := docOf(t, w, b.UserID)
	wrongID.UserID = a.UserID
	noFmt := docOf(t, w, b.UserID)
	noFmt.Cards = []Card{{Format: "nope", CardNumber: 1}}
	for i, d := range []*ReplicaUser{clash, bad, wrongID, noFmt} {
		res, err := r.ApplyReplica([]ReplicaChange{{Rev: uint64(2 + i), UserID: b.UserID, User: d}}, uint64(2+i))
		if err != nil || len(res.Rejected) != 1 {
			t.Errorf("doc %d: %+v, %v; want one rejection", i, res, err)
		}
	}
	if _, err := r.User(b.UserID); !errors.Is(err, ErrNotFound) {
		t.Errorf("a rejected user was written: %v", err)
	}
	if v, _, err := r.LookupCard(c.Key()); err != nil || v.UserID != a.UserID {
		t.Errorf("the card moved: %+v %v", v, err)
	}
	if rev, _ := r.ReplicaRevision(); rev != 5 {
		t.Errorf("revision = %d, want 5: a rejected change is passed, not retried for ever", rev)
	}
}

func TestRebuildReplica(t *testing.T) {
	w, r, _ := replicaPair(t)
	var ids []string
	for i := 0; i < 30; i++ {
		u := mustUser(t, w, "w"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		w.AddCard(u.UserID, Card{Format: "h10301", FacilityCode: 2, CardNumber: uint64(i), Active: true}, admin)
		w.AddMFACode(u.UserID, []byte("4321"), admin)
		ids = append(ids, u.UserID)
	}
	// The replica holds a stale user that the site no longer has.
	stale := mustUser(t, r, "stale")
	r.AddCard(stale.UserID, Card{Format: "h10301", FacilityCode: 9, CardNumber: 9, Active: true}, admin)

	// An aborted rebuild (as a crash would) leaves the replica as it was.
	rb, err := r.BeginRebuild()
	if err != nil {
		t.Fatal(err)
	}
	rb.Add(*docOf(t, w, ids[0]))
	rb.Abort()
	checkOneGeneration(t, r)
	if _, _, err := r.LookupCard(CardKey{Format: "h10301", FacilityCode: 9, CardNumber: 9}); err != nil {
		t.Errorf("after abort: %v", err)
	}

	rb, err = r.BeginRebuild()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := rb.Add(*docOf(t, w, id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := rb.Commit(77); err != nil {
		t.Fatal(err)
	}
	checkOneGeneration(t, r)
	if rev, _ := r.ReplicaRevision(); rev != 77 {
		t.Errorf("revision = %d", rev)
	}
	if _, _, err := r.LookupCard(CardKey{Format: "h10301", FacilityCode: 9, CardNumber: 9}); !errors.Is(err, ErrNotFound) {
		t.Errorf("stale card after rebuild: %v", err)
	}
	for i, id := range ids {
		sameUser(t, w, r, id, CardKey{Format: "h10301", FacilityCode: 2, CardNumber: uint64(i)}, "4321")
	}
}

// TestRebuildCrash: a process killed in the middle of a rebuild leaves the
// old replica, which the next Open serves (the staging generation dropped).
func TestRebuildCrash(t *testing.T) {
	w, r, rdir := replicaPair(t)
	mustUser(t, w, "w1")
	u := mustUser(t, w, "x")
	old := mustUser(t, r, "old")
	rb, err := r.BeginRebuild()
	if err != nil {
		t.Fatal(err)
	}
	rb.Add(*docOf(t, w, u.UserID))
	if err := rb.flush(); err != nil {
		t.Fatal(err)
	}
	// Simulate the crash: close the file under the rebuild without Commit
	// or Abort (the write lock dies with the process).
	r.writeMu.Unlock()
	if err := r.db.Close(); err != nil {
		t.Fatal(err)
	}
	r2 := openAt(t, rdir, siteIDs)
	checkOneGeneration(t, r2)
	if _, err := r2.User(old.UserID); err != nil {
		t.Errorf("old replica lost: %v", err)
	}
	if _, err := r2.UserByExternalID("x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("half a rebuild is visible: %v", err)
	}
}
