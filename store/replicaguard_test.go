package store

import (
	"errors"
	"testing"
)

// TestReplicaRefusesChangesWithoutItsSite: a database that applied a
// site's documents, opened without its site (latchctl on a stopped member,
// latchd without [fleet]), refuses every change of its users, the CSV
// import's too, before writing anything — across a reopen — until
// LeaveSite makes it stand-alone.
func TestReplicaRefusesChangesWithoutItsSite(t *testing.T) {
	w, r, rdir := replicaPair(t)
	u := mustUser(t, w, "e1")
	if r.IsReplica() {
		t.Fatal("a new database says it is a replica")
	}
	if _, err := r.ApplyReplica([]ReplicaChange{{Rev: 1, UserID: u.UserID, User: docOf(t, w, u.UserID)}}, 1); err != nil {
		t.Fatal(err)
	}
	if !r.IsReplica() {
		t.Fatal("a database that applied a document is not a replica")
	}
	refused := func(s *Store) {
		t.Helper()
		if _, err := s.CreateUser(UserFields{ExternalID: "local"}, admin); !errors.Is(err, ErrReplica) {
			t.Errorf("CreateUser on a replica without its site: %v", err)
		}
		if err := s.SetEntryCode(u.UserID, []byte("24680"), admin); !errors.Is(err, ErrReplica) {
			t.Errorf("SetEntryCode on a replica without its site: %v", err)
		}
		if _, err := s.Import(strOpener("externalId,firstName\ne9,A\n"), 0, admin, nil); !errors.Is(err, ErrReplica) {
			t.Errorf("Import on a replica without its site: %v", err)
		}
		users, _, err := s.ListUsers(ListQuery{})
		if err != nil || len(users) != 1 {
			t.Errorf("users after the refusals: %d, %v (want only the site's one)", len(users), err)
		}
	}
	refused(r)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r2 := openAt(t, rdir, siteIDs)
	refused(r2)

	if err := r2.LeaveSite(); err != nil {
		t.Fatal(err)
	}
	if r2.IsReplica() {
		t.Error("still a replica after LeaveSite")
	}
	if _, err := r2.CreateUser(UserFields{ExternalID: "local"}, admin); err != nil {
		t.Errorf("CreateUser after LeaveSite: %v", err)
	}
	// The site's user keeps its id.
	if got, err := r2.User(u.UserID); err != nil || got.ExternalID != "e1" {
		t.Errorf("the site's user after LeaveSite: %+v, %v", got, err)
	}
}
