package store

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// loopRemote is a site of one: it applies every change to the same store
// through ApplyReplica, as the sync would once the site took it. stale
// answers ErrStale that many times first; down answers unavailable.
type loopRemote struct {
	s      *Store
	rev    uint64
	stale  int
	down   bool
	writes [][]RemoteChange
}

func (l *loopRemote) Write(changes []RemoteChange, base uint64) error {
	if l.down {
		return &UnavailableError{Cause: "NATS is unreachable"}
	}
	if l.stale > 0 {
		l.stale--
		return ErrStale
	}
	if base != l.rev {
		return errors.New("base is not the replica's revision")
	}
	l.writes = append(l.writes, changes)
	var rc []ReplicaChange
	for _, c := range changes {
		l.rev++
		rc = append(rc, ReplicaChange{Rev: l.rev, UserID: c.UserID, User: c.New})
	}
	res, err := l.s.ApplyReplica(rc, l.rev)
	if err == nil && len(res.Rejected) > 0 {
		err = res.Rejected[0].Err
	}
	return err
}

func TestRemoteSeam(t *testing.T) {
	s := openTest(t)
	lr := &loopRemote{s: s}
	s.SetRemote(lr)
	u := mustUser(t, s, "e1")
	if len(lr.writes) != 1 || lr.writes[0][0].Old != nil || lr.writes[0][0].New.ExternalID != "e1" {
		t.Fatalf("create wrote %+v", lr.writes)
	}
	c := Card{Format: "h10301", FacilityCode: 3, CardNumber: 4, Active: true}
	if err := s.AddCard(u.UserID, c, admin); err != nil {
		t.Fatal(err)
	}
	w := lr.writes[1][0]
	if len(w.Old.Cards) != 0 || len(w.New.Cards) != 1 {
		t.Errorf("add card: old %+v new %+v", w.Old.Cards, w.New.Cards)
	}
	if v, active, err := s.LookupCard(c.Key()); err != nil || !active || v.UserID != u.UserID {
		t.Errorf("the door does not see the card: %v %v", active, err)
	}
	// The replica was behind twice: computed again, written once.
	lr.stale = 2
	if err := s.SetEntryCode(u.UserID, []byte("5555"), admin); err != nil {
		t.Fatal(err)
	}
	if len(lr.writes) != 3 || lr.writes[2][0].New.EntryCode == nil {
		t.Errorf("entry code writes: %d", len(lr.writes))
	}
	// The store's own rules still refuse before anything goes out.
	if err := s.AddCard(u.UserID, Card{Format: "h10301", FacilityCode: 300}, admin); err == nil {
		t.Error("a bad card reached the site")
	}
	// Unreachable: the caller gets the cause, nothing changes.
	lr.down = true
	err := s.DeleteUser(u.UserID, admin)
	var ue *UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "NATS is unreachable") {
		t.Errorf("delete while down: %v", err)
	}
	if _, err := s.User(u.UserID); err != nil {
		t.Errorf("the user went while the site was down: %v", err)
	}
	lr.down = false
	// An import: checked whole, then written through the seam.
	sum, err := s.Import(strOpener("externalId,firstName,cardFormat,facilityCode,cardNumber\ne2,A,h10301,3,5\ne3,B,h10301,3,6\n"), 0, admin, nil)
	if err != nil || sum.UsersCreated != 2 {
		t.Fatalf("import: %+v %v", sum, err)
	}
	if n := len(lr.writes[len(lr.writes)-1]); n != 2 {
		t.Errorf("import wrote %d users, want 2", n)
	}
	if _, _, err := s.LookupCard(CardKey{Format: "h10301", FacilityCode: 3, CardNumber: 6}); err != nil {
		t.Errorf("imported card: %v", err)
	}
	// The same file again writes nothing.
	before := len(lr.writes)
	if _, err := s.Import(strOpener("externalId,firstName,cardFormat,facilityCode,cardNumber\ne2,A,h10301,3,5\ne3,B,h10301,3,6\n"), 0, admin, nil); err != nil {
		t.Fatal(err)
	}
	if len(lr.writes) != before {
		t.Errorf("a re-import wrote %d times", len(lr.writes)-before)
	}
	// A file with a bad row writes nothing.
	if _, err := s.Import(strOpener("externalId,firstName,cardFormat,facilityCode,cardNumber\ne4,A,h10301,3,7\ne5,B,h10301,999,6\n"), 0, admin, nil); err == nil {
		t.Error("bad file imported")
	}
	if len(lr.writes) != before {
		t.Error("a refused file wrote")
	}
	if err := s.DeleteUser(u.UserID, admin); err != nil {
		t.Fatal(err)
	}
	if d := lr.writes[len(lr.writes)-1][0]; d.New != nil || d.Old == nil {
		t.Errorf("delete wrote %+v", d)
	}
}

// strOpener opens csv afresh at each call, as Import's opener must.
func strOpener(csv string) func() (io.Reader, error) {
	return func() (io.Reader, error) { return strings.NewReader(csv), nil }
}
