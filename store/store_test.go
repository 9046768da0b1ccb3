package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestValidateCode(t *testing.T) {
	tests := []struct {
		code string
		ok   bool
	}{
		{"1234", true},
		{"0000", true},
		{"1234567890123456", true},
		{"123", false},
		{"12345678901234567", false},
		{"", false},
		{"12 34", false},
		{"+1234", false},
		{"-1234", false},
		{"12a4", false},
		{"١٢٣٤", false}, // Arabic-Indic digits
		{"１２３４", false}, // fullwidth digits
		{"1234\x00", false},
		{"1234#", false},
	}
	for _, tt := range tests {
		err := ValidateCode([]byte(tt.code))
		if (err == nil) != tt.ok {
			t.Errorf("ValidateCode(%q) = %v, want ok=%v", tt.code, err, tt.ok)
		}
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "code" || ve.Rule != RuleCode {
				t.Errorf("ValidateCode(%q) error = %#v, want *ValidationError{code, %q}", tt.code, err, RuleCode)
			}
			if strings.Contains(err.Error(), tt.code) && tt.code != "" {
				t.Errorf("error %q contains the code", err)
			}
			if err.Error() != "store: code: must be 4–16 ASCII digits 0-9" {
				t.Errorf("error text = %q", err)
			}
		}
	}
}

func FuzzValidateCode(f *testing.F) {
	for _, s := range []string{"1234", "123", "1234567890123456", "12345678901234567", "١٢٣٤", " 1234", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, code []byte) {
		err := ValidateCode(code)
		want := len(code) >= 4 && len(code) <= 16
		for _, c := range code {
			if c < '0' || c > '9' {
				want = false
			}
		}
		if (err == nil) != want {
			t.Fatalf("ValidateCode(%q) = %v, want ok=%v", code, err, want)
		}
	})
}

func TestUserCRUD(t *testing.T) {
	s := openTest(t)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := UserFields{ExternalID: "e-1", FirstName: "Ada", LastName: "Lovelace", Email: "Ada@example.com",
		Start: start, End: start.AddDate(1, 0, 0), Groups: []string{"staff", "lab"}}
	u, err := s.CreateUser(f, admin)
	if err != nil {
		t.Fatal(err)
	}
	if !ValidUUID(u.UserID) {
		t.Errorf("user id %q is not well-formed", u.UserID)
	}
	if diff := cmp.Diff(f, u.UserFields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	got, err := s.UserByExternalID("e-1")
	if err != nil || got.UserID != u.UserID {
		t.Fatalf("UserByExternalID = %v, %v", got.UserID, err)
	}
	if _, err := s.CreateUser(UserFields{ExternalID: "e-1"}, admin); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate external id: err = %v, want ErrConflict", err)
	}
	f.ExternalID = "e-2"
	f.Suspended = true
	if _, err := s.UpdateUser(u.UserID, f, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByExternalID("e-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old external id still found: %v", err)
	}
	if _, err := s.CreateUser(UserFields{ExternalID: "e-1"}, admin); err != nil {
		t.Errorf("freed external id: %v", err)
	}
	if err := s.DeleteUser(u.UserID, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.User(u.UserID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted user: err = %v", err)
	}
	if err := s.DeleteUser(u.UserID, admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: err = %v", err)
	}
	evs, err := s.Events(EventQuery{Event: "credential_changed"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		if e.Actor != "alice" || e.Role != "access_user_admin" {
			t.Errorf("event %d actor = %q/%q", e.Seq, e.Actor, e.Role)
		}
		actions = append(actions, e.Action)
	}
	want := []string{"user_created", "user_updated", "user_created", "user_deleted"}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
}

func TestUserFieldRules(t *testing.T) {
	s := openTest(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		f     UserFields
		field string
	}{
		{"control char", UserFields{FirstName: "a\nb"}, "first_name"},
		{"bad email", UserFields{Email: "nobody"}, "email"},
		{"end before start", UserFields{Start: t0, End: t0}, "end"},
		{"empty group", UserFields{Groups: []string{""}}, "groups"},
		{"dup group", UserFields{Groups: []string{"a", "a"}}, "groups"},
		{"semicolon group", UserFields{Groups: []string{"a;b"}}, "groups"},
		{"long name", UserFields{LastName: strings.Repeat("x", 129)}, "last_name"},
		{"bad utf8", UserFields{ExternalID: "\xff"}, "external_id"},
	}
	for _, tt := range tests {
		_, err := s.CreateUser(tt.f, admin)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != tt.field {
			t.Errorf("%s: err = %v, want validation error on %s", tt.name, err, tt.field)
		}
	}
}

func TestCards(t *testing.T) {
	s := openTest(t)
	a, b := mustUser(t, s, "a"), mustUser(t, s, "b")
	k := CardKey{Format: "h10301", FacilityCode: 12, CardNumber: 3456}
	if err := s.AddCard(a.UserID, Card{Format: k.Format, FacilityCode: 12, CardNumber: 3456, Active: true}, admin); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCard(b.UserID, Card{Format: k.Format, FacilityCode: 12, CardNumber: 3456, Active: true}, admin); !errors.Is(err, ErrConflict) {
		t.Errorf("card of another user: err = %v, want ErrConflict", err)
	}
	var ve *ValidationError
	if err := s.AddCard(a.UserID, Card{Format: "h99999", CardNumber: 1}, admin); !errors.As(err, &ve) || ve.Field != "card_format" {
		t.Errorf("unknown format: err = %v", err)
	}
	if err := s.AddCard(a.UserID, Card{Format: "raw", FacilityCode: 3, CardNumber: 1}, admin); !errors.As(err, &ve) || ve.Field != "facility_code" {
		t.Errorf("facility on raw: err = %v", err)
	}
	u, active, err := s.LookupCard(k)
	if err != nil || !active || u.UserID != a.UserID || u.ExternalID != "a" || u.HasMFA || u.HasEntryCode {
		t.Fatalf("LookupCard = %+v, %v, %v", u, active, err)
	}
	if err := s.SetCardActive(a.UserID, k, false, admin); err != nil {
		t.Fatal(err)
	}
	if _, active, _ := s.LookupCard(k); active {
		t.Error("card still active")
	}
	if err := s.SetCardActive(b.UserID, k, true, admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetCardActive by non-owner: %v", err)
	}
	got, _ := s.User(a.UserID)
	if diff := cmp.Diff([]Card{{Format: "h10301", FacilityCode: 12, CardNumber: 3456}}, got.Cards); diff != "" {
		t.Errorf("cards (-want +got):\n%s", diff)
	}
	if _, _, err := s.LookupCard(CardKey{Format: "h10301", FacilityCode: 12, CardNumber: 3457}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown card: %v", err)
	}
	if err := s.DeleteCard(a.UserID, k, admin); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LookupCard(k); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted card: %v", err)
	}
	if err := s.AddCard(b.UserID, Card{Format: k.Format, FacilityCode: 12, CardNumber: 3456, Active: true}, admin); err != nil {
		t.Errorf("card freed by delete: %v", err)
	}
	if err := s.DeleteUser(b.UserID, admin); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LookupCard(k); !errors.Is(err, ErrNotFound) {
		t.Errorf("card of deleted user: %v", err)
	}
	evs, _ := s.Events(EventQuery{UserID: a.UserID})
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
		if strings.HasPrefix(e.Action, "card_") && (e.Card == nil || e.Card.CardNumber != 3456) {
			t.Errorf("%s event without card", e.Action)
		}
	}
	if diff := cmp.Diff([]string{"user_created", "card_added", "card_deactivated", "card_deleted"}, actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
}

func TestEntryCodes(t *testing.T) {
	s := openTest(t)
	a, b := mustUser(t, s, "a"), mustUser(t, s, "b")
	if err := s.SetEntryCode(a.UserID, []byte("4711"), admin); err != nil {
		t.Fatal(err)
	}
	err := s.SetEntryCode(b.UserID, []byte("4711"), admin)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("entry code of another user: %v", err)
	}
	if strings.Contains(err.Error(), a.UserID) || strings.Contains(err.Error(), "4711") {
		t.Errorf("conflict error reveals too much: %q", err)
	}
	if err := s.SetEntryCode(b.UserID, []byte("47a1"), admin); !errors.As(err, new(*ValidationError)) {
		t.Errorf("malformed entry code: %v", err)
	}
	u, err := s.LookupEntryCode([]byte("4711"))
	if err != nil || u.UserID != a.UserID || !u.HasEntryCode {
		t.Fatalf("LookupEntryCode = %+v, %v", u, err)
	}
	for _, c := range []string{"4712", "471", "", "47111"} {
		if _, err := s.LookupEntryCode([]byte(c)); !errors.Is(err, ErrNotFound) {
			t.Errorf("LookupEntryCode(%q) = %v, want ErrNotFound", c, err)
		}
	}
	// Replacing frees the old code.
	if err := s.SetEntryCode(a.UserID, []byte("123456"), admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupEntryCode([]byte("4711")); !errors.Is(err, ErrNotFound) {
		t.Errorf("old entry code still found: %v", err)
	}
	if err := s.SetEntryCode(b.UserID, []byte("4711"), admin); err != nil {
		t.Errorf("freed entry code: %v", err)
	}
	if err := s.DeleteEntryCode(a.UserID, admin); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteEntryCode(a.UserID, admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if _, err := s.LookupEntryCode([]byte("123456")); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted entry code found: %v", err)
	}
}

func TestMFACodes(t *testing.T) {
	s := openTest(t)
	a, b, c := mustUser(t, s, "a"), mustUser(t, s, "b"), mustUser(t, s, "c")
	add := func(u User, code string) MFACodeInfo {
		t.Helper()
		info, err := s.AddMFACode(u.UserID, []byte(code), admin)
		if err != nil {
			t.Fatalf("AddMFACode: %v", err)
		}
		return info
	}
	// Several codes per user, one shared between users.
	a1 := add(a, "1111")
	a2 := add(a, "222222")
	add(a, "3333333333")
	add(b, "222222")
	// Adding a code the user has looks like any add: a new id (the
	// record is re-issued under it, still once).
	if again := add(a, "222222"); again.ID == a2.ID {
		t.Errorf("adding an existing code answered with its id %s", a2.ID)
	} else {
		a2 = again
	}
	// A user with an entry code and MFA codes.
	if err := s.SetEntryCode(a.UserID, []byte("9999"), admin); err != nil {
		t.Fatal(err)
	}
	infos, err := s.MFACodes(a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	var lens []int
	for _, i := range infos {
		lens = append(lens, i.Length)
		if i.CreatedBy != "alice" || i.Created.IsZero() {
			t.Errorf("info %+v lacks creator/time", i)
		}
	}
	// In id order: the re-added 6-digit code now comes last.
	if diff := cmp.Diff([]int{4, 10, 6}, lens); diff != "" {
		t.Errorf("lengths (-want +got):\n%s", diff)
	}
	verify := func(u User, code string, fallback, want bool) {
		t.Helper()
		ok, err := s.VerifySecondFactor(u.UserID, []byte(code), fallback)
		if err != nil || ok != want {
			t.Errorf("VerifySecondFactor(%s, %q, %v) = %v, %v; want %v", u.UserID, code, fallback, ok, err, want)
		}
	}
	verify(a, "1111", true, true)
	verify(a, "222222", true, true)
	verify(a, "3333333333", false, true)
	verify(b, "222222", true, true)
	verify(b, "1111", true, false) // codes are per user
	verify(a, "9999", true, false) // has MFA codes: entry code is not a second factor
	verify(a, "", true, false)
	verify(a, "11111", true, false)
	verify(a, "１１１１", true, false)
	// Fallback to the entry code only without MFA codes and when enabled.
	if err := s.SetEntryCode(c.UserID, []byte("5555"), admin); err != nil {
		t.Fatal(err)
	}
	verify(c, "5555", true, true)
	verify(c, "5555", false, false)
	if _, err := s.VerifySecondFactor("3f2b8c1e-1111-4111-8111-111111111111", []byte("1111"), true); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	// Delete one of several.
	if err := s.DeleteMFACode(a.UserID, a1.ID, admin); err != nil {
		t.Fatal(err)
	}
	verify(a, "1111", true, false)
	verify(a, "222222", true, true)
	if err := s.DeleteMFACode(a.UserID, a1.ID, admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if err := s.DeleteMFACode(b.UserID, a2.ID, admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete another user's code id: %v", err)
	}
	// Delete by value affects only that user.
	if err := s.DeleteMFACodeByValue(b.UserID, []byte("222222"), admin); err != nil {
		t.Fatal(err)
	}
	verify(b, "222222", true, false)
	verify(a, "222222", true, true)
	if err := s.DeleteMFACodeByValue(b.UserID, []byte("222222"), admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete by value twice: %v", err)
	}
	// Replace by id keeps the id.
	r, err := s.ReplaceMFACode(a.UserID, a2.ID, []byte("87654321"), admin)
	if err != nil || r.ID != a2.ID || r.Length != 8 {
		t.Fatalf("ReplaceMFACode = %+v, %v", r, err)
	}
	verify(a, "222222", true, false)
	verify(a, "87654321", true, true)
	if _, err := s.ReplaceMFACode(a.UserID, "m999", []byte("1234"), admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("replace unknown id: %v", err)
	}
	if _, err := s.ReplaceMFACode(a.UserID, "bogus", []byte("1234"), admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("replace malformed id: %v", err)
	}
	if _, err := s.AddMFACode(a.UserID, []byte("12e4"), admin); !errors.As(err, new(*ValidationError)) {
		t.Errorf("malformed code: %v", err)
	}
	u, _, _ := s.view2(a.UserID)
	if !u.HasMFA || !u.HasEntryCode {
		t.Errorf("view = %+v, want HasMFA and HasEntryCode", u)
	}
	// Audit: actions, never a code.
	evs, _ := s.Events(EventQuery{Limit: 1000})
	var actions []string
	for _, e := range evs {
		// The user id is a UUID whose hex digits may hold "1111" by
		// chance (1 run in about 250); codes must be in no other field.
		noID := e
		noID.UserID = ""
		j, _ := noID.MarshalJSON()
		for _, code := range []string{"1111", "222222", "3333333333", "9999", "5555", "87654321"} {
			if bytes.Contains(j, []byte(code)) {
				t.Errorf("event %s contains a code", j)
			}
		}
		if e.UserID == a.UserID {
			actions = append(actions, e.Action)
		}
	}
	// Four adds (one of a code a had), four events.
	want := []string{"user_created", "mfa_code_added", "mfa_code_added", "mfa_code_added", "mfa_code_added", "entry_code_set", "mfa_code_deleted", "mfa_code_replaced", "card_added"}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("actions of a (-want +got):\n%s", diff)
	}
}

// view2 reads a user's view the way the door does, through a card.
func (s *Store) view2(userID string) (UserView, bool, error) {
	k := CardKey{Format: "raw", CardNumber: 1<<40 + uint64(len(userID))}
	if err := s.AddCard(userID, Card{Format: k.Format, CardNumber: k.CardNumber, Active: true}, admin); err != nil {
		return UserView{}, false, err
	}
	return s.LookupCard(k)
}

func TestGenerateMFACode(t *testing.T) {
	s := openTest(t)
	u := mustUser(t, s, "a")
	counts := [10]int{}
	for _, n := range []int{0, 4, 16, 7} {
		code, info, err := s.GenerateMFACode(u.UserID, n, admin)
		if err != nil {
			t.Fatal(err)
		}
		want := n
		if n == 0 {
			want = 6
		}
		if len(code) != want || info.Length != want || ValidateCode(code) != nil {
			t.Errorf("GenerateMFACode(%d) = %q, %+v", n, code, info)
		}
		if ok, _ := s.VerifySecondFactor(u.UserID, code, false); !ok {
			t.Errorf("generated code does not verify")
		}
	}
	for _, n := range []int{3, 17, -1} {
		if _, _, err := s.GenerateMFACode(u.UserID, n, admin); !errors.As(err, new(*ValidationError)) {
			t.Errorf("GenerateMFACode(%d): %v", n, err)
		}
	}
	// Uniformity of the digit source: 100,000 digits, chi-square with 9
	// degrees of freedom; 27.88 is the 0.1 % critical value.
	d, err := randomDigits(100000)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range d {
		counts[c-'0']++
	}
	chi := 0.0
	for _, n := range counts {
		x := float64(n) - 10000
		chi += x * x / 10000
	}
	if chi > 27.88 {
		t.Errorf("digit counts %v: chi-square %.1f > 27.88", counts, chi)
	}
}

func TestNoPlaintextCodeAtRest(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	u := mustUser(t, s, "a")
	// Digits 7 and 8 only; nothing else in the database uses them in a row of 4.
	code := []byte("7878787878787878")
	if _, err := s.AddMFACode(u.UserID, code, admin); err != nil {
		t.Fatal(err)
	}
	v := mustUser(t, s, "b")
	if err := s.SetEntryCode(v.UserID, code, admin); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, needle := range [][]byte{code, code[:8], []byte("7878")} {
		if bytes.Contains(raw, needle) {
			t.Errorf("database file contains %q", needle)
		}
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	u := mustUser(t, s, "a")
	if _, err := s.AddMFACode(u.UserID, []byte("1234"), admin); err != nil {
		t.Fatal(err)
	}
	checkDB(t, s)
	s.Close()
	keyPath := filepath.Join(dir, "device.key")
	fi, err := os.Stat(keyPath)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	opts := Options{Path: filepath.Join(dir, "latch.db"), KeyFile: keyPath}

	if err := os.Chmod(keyPath, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(opts); err == nil || !strings.Contains(err.Error(), "0600") {
		t.Errorf("group-readable key: err = %v", err)
	}
	os.Chmod(keyPath, 0o600)

	key, _ := os.ReadFile(keyPath)
	os.Remove(keyPath)
	if _, err := Open(opts); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing key with codes: err = %v", err)
	}
	if _, err := os.Stat(keyPath); err == nil {
		t.Error("a new key file was created for a database with codes")
	}
	other := bytes.Repeat([]byte{7}, 32)
	os.WriteFile(keyPath, other, 0o600)
	if _, err := Open(opts); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Errorf("foreign key: err = %v", err)
	}
	os.WriteFile(keyPath, key[:31], 0o600)
	if _, err := Open(opts); err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Errorf("short key: err = %v", err)
	}
	os.WriteFile(keyPath, key, 0o600)
	s2 := openAt(t, dir, nil)
	if ok, err := s2.VerifySecondFactor(u.UserID, []byte("1234"), false); !ok || err != nil {
		t.Errorf("verify after reopen = %v, %v", ok, err)
	}
}

func TestKeyFileMissingWithoutCodes(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	mustUser(t, s, "a")
	checkDB(t, s)
	s.Close()
	os.Remove(filepath.Join(dir, "device.key"))
	openAt(t, dir, nil) // no codes: a new key is fine
	if _, err := os.Stat(filepath.Join(dir, "device.key")); err != nil {
		t.Errorf("key not recreated: %v", err)
	}
}

func TestInUse(t *testing.T) {
	dir := t.TempDir()
	openAt(t, dir, nil)
	_, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key"), Timeout: 10 * time.Millisecond})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "database in use by another process") {
		t.Errorf("second open: err = %v, want ErrInUse", err)
	}
}

func TestTokens(t *testing.T) {
	s := openTest(t)
	secret, err := s.CreateToken("ci", "viewer", admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken("ci", "viewer", admin); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate name: %v", err)
	}
	if _, err := s.CreateToken("x", "root", admin); !errors.As(err, new(*ValidationError)) {
		t.Errorf("bad role: %v", err)
	}
	if _, err := s.CreateToken("a b", "viewer", admin); !errors.As(err, new(*ValidationError)) {
		t.Errorf("bad name: %v", err)
	}
	tok, err := s.VerifyToken(secret)
	if err != nil || tok.Name != "ci" || tok.Role != "viewer" {
		t.Fatalf("VerifyToken = %+v, %v", tok, err)
	}
	for _, bad := range []string{"", secret + "x", secret[:len(secret)-1], strings.ToUpper(secret)} {
		if _, err := s.VerifyToken(bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("VerifyToken(bad) = %v", err)
		}
	}
	toks, _ := s.Tokens()
	if len(toks) != 1 || toks[0].Name != "ci" {
		t.Errorf("Tokens = %+v", toks)
	}
	if err := s.RevokeToken("ci", admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyToken(secret); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoked token verifies: %v", err)
	}
	if err := s.RevokeToken("ci", admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke twice: %v", err)
	}
	// One audit event per change that happened (not for the refusals),
	// naming who, the token and its role; never the secret.
	evs, err := s.Events(EventQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), secret) || strings.Contains(string(b), secret[len(tokenPrefix):]) {
			t.Errorf("an event holds the secret: %s", b)
		}
		got = append(got, fmt.Sprintf("%s/%s %s:%s by %s:%s", ev.Event, ev.Action, ev.TokenName, ev.TokenRole, ev.Actor, ev.Role))
	}
	want := []string{
		"credential_changed/token_created ci:viewer by alice:access_user_admin",
		"credential_changed/token_revoked ci:viewer by alice:access_user_admin",
	}
	if !slices.Equal(got, want) {
		t.Errorf("token events:\n got %q\nwant %q", got, want)
	}
}
