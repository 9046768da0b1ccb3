package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdmins(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	pw := []byte("correct horse 7391")
	if err := s.CreateAdmin("ops", RoleViewer, pw, admin); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAdmin("ops", RoleViewer, pw, admin); !errors.Is(err, ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	for _, c := range []struct {
		name, role string
		pw         []byte
		field      string
	}{
		{"", RoleViewer, pw, "name"},
		{"a b", RoleViewer, pw, "name"},
		{"x", "root", pw, "role"},
		{"x", RoleViewer, []byte("short"), "password"},
		{"x", RoleViewer, bytes.Repeat([]byte("a"), 257), "password"},
		{"x", RoleViewer, []byte("\xff\xfe0123456789"), "password"},
	} {
		var ve *ValidationError
		if err := s.CreateAdmin(c.name, c.role, c.pw, admin); !errors.As(err, &ve) || ve.Field != c.field {
			t.Errorf("CreateAdmin(%q, %q): %v, want a %s rule", c.name, c.role, err, c.field)
		}
	}
	a, err := s.VerifyAdmin("ops", pw)
	if err != nil || a.Name != "ops" || a.Role != RoleViewer {
		t.Fatalf("VerifyAdmin: %+v %v", a, err)
	}
	for _, c := range []struct{ name, pw string }{{"ops", "wrong horse 7391"}, {"nobody", string(pw)}, {"", ""}} {
		if _, err := s.VerifyAdmin(c.name, []byte(c.pw)); err != ErrBadPassword {
			t.Errorf("VerifyAdmin(%q): %v, want ErrBadPassword", c.name, err)
		}
	}
	pw2 := []byte("another long one 55")
	if err := s.SetAdminPassword("ops", pw2, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyAdmin("ops", pw); err != ErrBadPassword {
		t.Errorf("old password still works: %v", err)
	}
	if _, err := s.VerifyAdmin("ops", pw2); err != nil {
		t.Errorf("new password: %v", err)
	}
	if err := s.SetAdminPassword("nobody", pw2, admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("passwd of nobody: %v", err)
	}
	list, err := s.Admins()
	if err != nil || len(list) != 1 || list[0].Name != "ops" {
		t.Fatalf("Admins: %+v %v", list, err)
	}
	evs, err := s.Events(EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		if e.Account != "" {
			actions = append(actions, e.Action+" "+e.Account+":"+e.AccountRole+" by "+e.Actor)
		}
	}
	want := []string{"admin_created ops:viewer by alice", "admin_password_changed ops:viewer by alice"}
	if len(actions) != 2 || actions[0] != want[0] || actions[1] != want[1] {
		t.Errorf("audit: %q, want %q", actions, want)
	}
	if err := s.DeleteAdmin("ops", admin); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAdmin("ops", admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.VerifyAdmin("ops", pw2); err != ErrBadPassword {
		t.Errorf("deleted account signs in: %v", err)
	}
	// No password in the file, in any form but the hash.
	s.db.Sync()
	raw, err := os.ReadFile(filepath.Join(dir, "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]byte{pw, pw2} {
		if bytes.Contains(raw, p) {
			t.Errorf("the database file holds the password %q", p)
		}
	}
}

func TestAdminRecordCorrupt(t *testing.T) {
	for _, v := range [][]byte{nil, {1}, bytes.Repeat([]byte{1}, adminRecLen), append([]byte{2}, make([]byte, adminRecLen)...)} {
		if _, err := decodeAdmin("x", v); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decodeAdmin(%x): %v, want ErrCorrupt", v, err)
		}
	}
}

func TestUsersByCardNumber(t *testing.T) {
	s := openTest(t)
	a := mustUser(t, s, "a").UserID
	b := mustUser(t, s, "b").UserID
	for _, c := range []struct {
		u  string
		fc uint32
		n  uint64
	}{{a, 1, 4242}, {a, 2, 4242}, {b, 3, 4242}, {b, 3, 999}} {
		if err := s.AddCard(c.u, Card{Format: "h10301", FacilityCode: c.fc, CardNumber: c.n, Active: true}, admin); err != nil {
			t.Fatal(err)
		}
	}
	us, err := s.UsersByCardNumber(4242, 10)
	if err != nil || len(us) != 2 {
		t.Fatalf("4242: %d users, %v", len(us), err)
	}
	us, _ = s.UsersByCardNumber(999, 10)
	if len(us) != 1 || us[0].UserID != b {
		t.Errorf("999: %+v", us)
	}
	if us, _ = s.UsersByCardNumber(4242, 1); len(us) != 1 {
		t.Errorf("limit 1: %d", len(us))
	}
	if us, _ = s.UsersByCardNumber(7, 10); len(us) != 0 {
		t.Errorf("7: %d", len(us))
	}
}

func TestEventsBefore(t *testing.T) {
	s := openTest(t)
	var evs []Event
	for i := range 25 {
		door := "front"
		if i%5 == 0 {
			door = "back"
		}
		evs = append(evs, Event{Event: "access_denied", Door: door, Reason: "unknown_card"})
	}
	if err := s.AppendEvents(evs); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	before := uint64(0)
	for range 10 {
		page, next, err := s.EventsBefore(EventPageQuery{Before: before, Limit: 4, Door: "back"})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			seqs = append(seqs, e.Seq)
		}
		if next == 0 {
			break
		}
		before = next
	}
	if len(seqs) != 5 {
		t.Fatalf("back events: %v, want 5", seqs)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] >= seqs[i-1] {
			t.Fatalf("not newest first: %v", seqs)
		}
	}
	// A filter that matches nothing still ends: the scan bound pages on.
	page, next, err := s.EventsBefore(EventPageQuery{Limit: 4, Scan: 10, Reason: "nothing"})
	if err != nil || len(page) != 0 || next == 0 {
		t.Errorf("bounded scan: %d events, next %d, %v", len(page), next, err)
	}
}

func TestMayMatch(t *testing.T) {
	rec := encodeUser(&userRec{UserFields: UserFields{ExternalID: "E-1001", FirstName: "Min", LastName: "KIM", Email: "min@example.com"}})
	for _, c := range []struct {
		q    string
		want bool
	}{{"kim", true}, {"e-10", true}, {"example.com", true}, {"min@", true}, {"park", false}, {"e-1002", false}, {"김", true}} {
		if got := mayMatch(rec, c.q); got != c.want {
			t.Errorf("mayMatch(%q) = %v", c.q, got)
		}
	}
	// The two letters whose lower case is ASCII.
	for _, name := range []string{"\u212aim", "\u0130lker"} {
		q := strings.ToLower(name) // "kim", "ilker": all ASCII
		if !mayMatch(encodeUser(&userRec{UserFields: UserFields{FirstName: name}}), q) {
			t.Errorf("%q: the search %q, which its lower case holds, was skipped", name, q)
		}
	}
}
