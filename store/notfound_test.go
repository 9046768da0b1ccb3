package store

import (
	"errors"
	"strings"
	"testing"
)

// TestNotFoundSaysWhat: every lookup's not-found error is a *NotFoundError
// naming what was not found (so a caller words its 404 without reading
// again), errors.Is still matches ErrNotFound, and no code or token secret
// is in it.
func TestNotFoundSaysWhat(t *testing.T) {
	s := openTest(t)
	u := mustUser(t, s, "e-1")
	gone := mustUser(t, s, "e-2")
	if err := s.DeleteUser(gone.UserID, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMFACode(u.UserID, []byte("4242"), admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken("ci", "viewer", admin); err != nil {
		t.Fatal(err)
	}
	k := CardKey{Format: "h10301", FacilityCode: 12, CardNumber: 3456}
	const code, secret = "987654", "not-a-real-token-secret"
	tests := []struct {
		name           string
		err            error
		what, id, user string
	}{
		{"User", second(s.User(gone.UserID)), "user", gone.UserID, ""},
		{"User malformed", second(s.User("no such id")), "user", "", ""},
		{"UserByExternalID", second(s.UserByExternalID("e-9")), "external id", "e-9", ""},
		{"UpdateUser", second(s.UpdateUser(gone.UserID, UserFields{ExternalID: "x"}, admin)), "user", gone.UserID, ""},
		{"DeleteUser", s.DeleteUser(gone.UserID, admin), "user", gone.UserID, ""},
		{"AddCard unknown user", s.AddCard(gone.UserID, Card{Format: "h10301", FacilityCode: 1, CardNumber: 2}, admin), "user", gone.UserID, ""},
		{"LookupCard", third(s.LookupCard(k)), "card", "", ""},
		{"SetCardActive", s.SetCardActive(u.UserID, k, true, admin), "card", "h10301/12/3456", u.UserID},
		{"DeleteCard", s.DeleteCard(u.UserID, k, admin), "card", "h10301/12/3456", u.UserID},
		{"LookupEntryCode", second(s.LookupEntryCode([]byte(code))), "entry code", "", ""},
		{"DeleteEntryCode", s.DeleteEntryCode(u.UserID, admin), "entry code", "", u.UserID},
		{"VerifySecondFactor", second(s.VerifySecondFactor(gone.UserID, []byte(code), true)), "user", gone.UserID, ""},
		{"ReplaceMFACode", second(s.ReplaceMFACode(u.UserID, "m99", []byte(code), admin)), "mfa code", "m99", u.UserID},
		{"ReplaceMFACode malformed id", second(s.ReplaceMFACode(u.UserID, "bogus", []byte(code), admin)), "mfa code", "", u.UserID},
		{"DeleteMFACode", s.DeleteMFACode(u.UserID, "m99", admin), "mfa code", "m99", u.UserID},
		{"DeleteMFACodeByValue", s.DeleteMFACodeByValue(u.UserID, []byte(code), admin), "mfa code", "", u.UserID},
		{"MFACodes unknown user", second(s.MFACodes(gone.UserID)), "user", gone.UserID, ""},
		{"VerifyToken", second(s.VerifyToken(secret)), "token", "", ""},
		{"RevokeToken", s.RevokeToken("cd", admin), "token", "cd", ""},
	}
	for _, tt := range tests {
		var nf *NotFoundError
		if !errors.As(tt.err, &nf) {
			t.Errorf("%s: err = %v, want a *NotFoundError", tt.name, tt.err)
			continue
		}
		if !errors.Is(tt.err, ErrNotFound) {
			t.Errorf("%s: errors.Is(%v, ErrNotFound) = false", tt.name, tt.err)
		}
		if nf.What != tt.what || nf.ID != tt.id || nf.User != tt.user {
			t.Errorf("%s: NotFoundError = %+v, want {What:%s ID:%s User:%s}", tt.name, *nf, tt.what, tt.id, tt.user)
		}
		if msg := tt.err.Error(); strings.Contains(msg, code) || strings.Contains(msg, secret) || !strings.Contains(msg, tt.what) {
			t.Errorf("%s: error %q: want it to name %q and hold no secret", tt.name, msg, tt.what)
		}
	}
}

func second[A any](_ A, err error) error        { return err }
func third[A, B any](_ A, _ B, err error) error { return err }
