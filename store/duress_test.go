package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The duress codes of these tests are long and distinctive, so that a
// search of the database file, the events and the errors for their digits
// cannot meet them by chance.
const (
	duressA = "8675309142"
	duressB = "5550199327"
	entryA  = "4711"
)

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDuressCodeUniqueness(t *testing.T) {
	s := openTest(t)
	a, b := mustUser(t, s, "a"), mustUser(t, s, "b")
	mustDo(t, s.SetEntryCode(a.UserID, []byte(entryA), admin))
	mustDo(t, s.SetDuressCode(a.UserID, []byte(duressA), admin))

	conflict := func(what string, err error, wantRule string) {
		t.Helper()
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("%s: %v, want ErrConflict", what, err)
		}
		for _, secret := range []string{a.UserID, duressA, duressB, entryA} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error %q contains %q", what, err, secret)
			}
		}
		if !strings.Contains(err.Error(), wantRule) {
			t.Errorf("%s: error %q, want it to say %q", what, err, wantRule)
		}
	}
	// Across users, both ways, against entry and duress codes.
	conflict("b's duress = a's duress", s.SetDuressCode(b.UserID, []byte(duressA), admin), "already used by another user")
	conflict("b's duress = a's entry", s.SetDuressCode(b.UserID, []byte(entryA), admin), "already used by another user")
	conflict("b's entry = a's duress", s.SetEntryCode(b.UserID, []byte(duressA), admin), "already used by another user")
	// The user's own codes: the door could not tell them apart.
	conflict("a's duress = a's entry", s.SetDuressCode(a.UserID, []byte(entryA), admin), "must differ from the user's entry code")
	conflict("a's entry = a's duress", s.SetEntryCode(a.UserID, []byte(duressA), admin), "must differ from the user's duress code")
	info, err := s.AddMFACode(a.UserID, []byte("246813"), admin)
	mustDo(t, err)
	conflict("a's duress = a's mfa", s.SetDuressCode(a.UserID, []byte("246813"), admin), "must differ from the user's MFA codes")
	_, err = s.AddMFACode(a.UserID, []byte(duressA), admin)
	conflict("a's mfa = a's duress", err, "must differ from the user's duress code")
	_, err = s.ReplaceMFACode(a.UserID, info.ID, []byte(duressA), admin)
	conflict("a's mfa replaced by a's duress", err, "must differ from the user's duress code")
	// Another user may have an MFA code equal to a's duress code: MFA
	// codes are per user.
	if _, err := s.AddMFACode(b.UserID, []byte(duressA), admin); err != nil {
		t.Errorf("b's mfa = a's duress: %v", err)
	}
	if err := s.SetDuressCode(b.UserID, []byte("12a4"), admin); !errors.As(err, new(*ValidationError)) {
		t.Errorf("malformed duress code: %v", err)
	}
	for _, c := range []string{"123", "12345678901234567", ""} {
		if err := s.SetDuressCode(b.UserID, []byte(c), admin); !errors.As(err, new(*ValidationError)) {
			t.Errorf("duress code %q: %v", c, err)
		}
	}
	// Setting the same again changes nothing and records nothing.
	before, _ := s.Events(EventQuery{Limit: 1000})
	mustDo(t, s.SetDuressCode(a.UserID, []byte(duressA), admin))
	after, _ := s.Events(EventQuery{Limit: 1000})
	if len(after) != len(before) {
		t.Errorf("setting the same duress code recorded %d events", len(after)-len(before))
	}
	// Replacing frees the old code for others; deleting frees the new.
	mustDo(t, s.SetDuressCode(a.UserID, []byte(duressB), admin))
	mustDo(t, s.SetEntryCode(b.UserID, []byte(duressA), admin))
	if u, _ := s.User(a.UserID); !u.HasDuressCode {
		t.Error("User: HasDuressCode false after set")
	}
	mustDo(t, s.DeleteDuressCode(a.UserID, admin))
	if err := s.DeleteDuressCode(a.UserID, admin); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "duress code") {
		t.Errorf("delete twice: %v", err)
	}
	if u, _ := s.User(a.UserID); u.HasDuressCode {
		t.Error("User: HasDuressCode true after delete")
	}
	mustDo(t, s.SetDuressCode(b.UserID, []byte(duressB), admin))
	// Deleting the user frees its duress code.
	mustDo(t, s.DeleteUser(b.UserID, admin))
	mustDo(t, s.SetEntryCode(a.UserID, []byte(duressB), admin))

	evs, _ := s.Events(EventQuery{Event: "credential_changed", Limit: 1000})
	var actions []string
	for _, e := range evs {
		if strings.HasPrefix(e.Action, "duress") {
			actions = append(actions, e.Action+" "+e.Actor)
		}
	}
	want := "duress_code_set alice,duress_code_set alice,duress_code_deleted alice,duress_code_set alice"
	if got := strings.Join(actions, ","); got != want {
		t.Errorf("audit = %s, want %s", got, want)
	}
}

func TestDuressCodeAtTheDoor(t *testing.T) {
	s := openTest(t)
	mfaUser, entryUser, bare := mustUser(t, s, "mfa"), mustUser(t, s, "entry"), mustUser(t, s, "bare")
	card := func(u User, n uint64) CardKey {
		c := Card{Format: "h10301", FacilityCode: 1, CardNumber: n, Active: true}
		mustDo(t, s.AddCard(u.UserID, c, admin))
		return c.Key()
	}
	km, ke, kb := card(mfaUser, 1), card(entryUser, 2), card(bare, 3)
	_, err := s.AddMFACode(mfaUser.UserID, []byte("1111"), admin)
	mustDo(t, err)
	mustDo(t, s.SetDuressCode(mfaUser.UserID, []byte("9911"), admin))
	mustDo(t, s.SetEntryCode(entryUser.UserID, []byte("2222"), admin))
	mustDo(t, s.SetDuressCode(entryUser.UserID, []byte("9922"), admin))
	mustDo(t, s.SetDuressCode(bare.UserID, []byte("9933"), admin))
	// Typed alone, a duress code works only for a user with an entry code.
	if _, _, err := s.MatchEntryCode([]byte("9933")); !errors.Is(err, ErrNotFound) {
		t.Errorf("MatchEntryCode(duress code of a user without an entry code) = %v, want ErrNotFound", err)
	}

	for _, c := range []struct {
		k        CardKey
		user     User
		code     string
		fallback bool
		want     CodeMatch
	}{
		{km, mfaUser, "1111", false, CodeValid},
		{km, mfaUser, "9911", false, CodeDuress},
		{km, mfaUser, "9911", true, CodeDuress},
		{km, mfaUser, "9922", true, CodeNone}, // another user's duress code
		{km, mfaUser, "0000", true, CodeNone},
		{ke, entryUser, "2222", true, CodeValid},
		{ke, entryUser, "9922", true, CodeDuress},
		// Where the entry code is not accepted, neither is the duress code.
		{ke, entryUser, "2222", false, CodeNone},
		{ke, entryUser, "9922", false, CodeNone},
		// A user with only a duress code has no code the door accepts.
		{kb, bare, "9933", true, CodeNone},
	} {
		got, err := s.MatchCardCode(c.k, c.user.UserID, []byte(c.code), c.fallback)
		if err != nil || got != c.want {
			t.Errorf("MatchCardCode(%s, %s, fallback %v) = %v, %v; want %v", c.user.ExternalID, c.code, c.fallback, got, err, c.want)
		}
		ok, err := s.VerifyCardCode(c.k, c.user.UserID, []byte(c.code), c.fallback)
		if err != nil || ok != (c.want == CodeValid) {
			t.Errorf("VerifyCardCode(%s, %s) = %v, %v", c.user.ExternalID, c.code, ok, err)
		}
	}
	// Typed alone: the entry-code index answers both kinds.
	for _, c := range []struct {
		code string
		user User
		want CodeMatch
	}{{"2222", entryUser, CodeValid}, {"9922", entryUser, CodeDuress}} {
		u, m, err := s.MatchEntryCode([]byte(c.code))
		if err != nil || m != c.want || u.UserID != c.user.UserID {
			t.Errorf("MatchEntryCode(%s) = %s, %v, %v; want %s, %v", c.code, u.UserID, m, err, c.user.UserID, c.want)
		}
	}
	if _, m, err := s.MatchEntryCode([]byte("3333")); !errors.Is(err, ErrNotFound) || m != CodeNone {
		t.Errorf("MatchEntryCode(unknown) = %v, %v", m, err)
	}
	// LookupEntryCode is entry codes only.
	if _, err := s.LookupEntryCode([]byte("9922")); !errors.Is(err, ErrNotFound) {
		t.Errorf("LookupEntryCode(duress) = %v, want ErrNotFound", err)
	}
	if u, err := s.LookupEntryCode([]byte("2222")); err != nil || u.UserID != entryUser.UserID {
		t.Errorf("LookupEntryCode(entry) = %v, %v", u.UserID, err)
	}
	// The card record follows a change of the duress code.
	mustDo(t, s.SetDuressCode(mfaUser.UserID, []byte("9944"), admin))
	if m, _ := s.MatchCardCode(km, mfaUser.UserID, []byte("9911"), false); m != CodeNone {
		t.Errorf("old duress code after replace: %v", m)
	}
	if m, _ := s.MatchCardCode(km, mfaUser.UserID, []byte("9944"), false); m != CodeDuress {
		t.Errorf("new duress code: %v", m)
	}
	mustDo(t, s.DeleteDuressCode(mfaUser.UserID, admin))
	if m, _ := s.MatchCardCode(km, mfaUser.UserID, []byte("9944"), false); m != CodeNone {
		t.Errorf("deleted duress code: %v", m)
	}
}

func TestDuressCodeImport(t *testing.T) {
	bothImportPaths(t, func(t *testing.T) {
		dir := t.TempDir()
		s := openAt(t, dir, nil)
		a, b, c := mustUser(t, s, "ea"), mustUser(t, s, "eb"), mustUser(t, s, "ec")
		mustDo(t, s.SetEntryCode(a.UserID, []byte(entryA), admin))
		_, err := s.AddMFACode(c.UserID, []byte("24681357"), admin)
		mustDo(t, err)
		mustDo(t, s.AddCard(c.UserID, Card{Format: "h10301", FacilityCode: 1, CardNumber: 5, Active: true}, admin))
		hdr := "externalId,type,code\n"
		bad := hdr +
			"eb,duress_code," + entryA + "\n" + // a's entry code
			"ea,duress_code," + entryA + "\n" + // a's own entry code
			"ec,duress_code,24681357\n" + // c's own MFA code
			"ec,duress_code,12\n" + // malformed
			"ec,duress_code," + duressA + "\n" +
			"eb,duress_code," + duressA + "\n" + // twice in the file
			"ea,duress_code," + duressB + "\n" +
			"ea,duress_code,99887766\n" // a second one for a
		_, err = s.ImportFile(writeCSV(t, dir, "bad.csv", bad), importer1, nil)
		var ie *ImportError
		if !errors.As(err, &ie) {
			t.Fatalf("bad import: %v", err)
		}
		var got []string
		for _, r := range ie.Rows {
			got = append(got, fmt.Sprintf("%d %s %s", r.Line, r.Column, r.Rule))
		}
		want := []string{
			"2 code code already used by another user",
			"3 code must differ from the user's entry code",
			"4 code must differ from the user's MFA codes",
			"5 code " + RuleCode,
			"7 code entry code appears twice in the file (first on line 6)",
			"9 code user gets a second duress code (first on line 8)",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if strings.Contains(err.Error(), duressA) || strings.Contains(err.Error(), entryA) {
			t.Errorf("import error repeats a code: %v", err)
		}
		good := hdr + "ec,duress_code," + duressA + "\n" + "ea,duress_code," + duressB + "\n"
		p := writeCSV(t, dir, "good.csv", good)
		sum, err := s.ImportFile(p, importer1, nil)
		if err != nil || sum.CredentialsAdded != 2 {
			t.Fatalf("import = %+v, %v", sum, err)
		}
		if m, err := s.MatchCardCode(CardKey{Format: "h10301", FacilityCode: 1, CardNumber: 5}, c.UserID, []byte(duressA), false); m != CodeDuress || err != nil {
			t.Errorf("imported duress code at the card: %v, %v", m, err)
		}
		if u, m, err := s.MatchEntryCode([]byte(duressB)); m != CodeDuress || u.UserID != a.UserID || err != nil {
			t.Errorf("imported duress code typed alone: %v %v %v", u.UserID, m, err)
		}
		sum, err = s.ImportFile(p, importer1, nil)
		if err != nil || sum.CredentialsAdded != 0 {
			t.Errorf("re-import = %+v, %v", sum, err)
		}
		// A replacement frees the old code.
		_, err = s.ImportFile(writeCSV(t, dir, "repl.csv", hdr+"ea,duress_code,31415926\n"), importer1, nil)
		mustDo(t, err)
		mustDo(t, s.SetEntryCode(b.UserID, []byte(duressB), admin))
		if err := s.db.View(checkCardCopies); err != nil {
			t.Errorf("check: %v", err)
		}
	})
}

func TestDuressDigitsNowhere(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	a, b := mustUser(t, s, "a"), mustUser(t, s, "b")
	mustDo(t, s.AddCard(a.UserID, Card{Format: "h10301", FacilityCode: 1, CardNumber: 9, Active: true}, admin))
	mustDo(t, s.SetEntryCode(a.UserID, []byte("13572468"), admin))
	mustDo(t, s.SetDuressCode(a.UserID, []byte(duressA), admin))
	var errs []error
	errs = append(errs, s.SetDuressCode(b.UserID, []byte(duressA), admin), s.SetEntryCode(b.UserID, []byte(duressA), admin))
	_, err := s.AddMFACode(a.UserID, []byte(duressA), admin)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil || strings.Contains(err.Error(), duressA) {
			t.Errorf("error %v", err)
		}
	}
	mustDo(t, s.RecordDuress(Event{Event: "duress", Door: "front", Reader: "front-in", UserID: a.UserID}))
	evs, err := s.Events(EventQuery{Limit: 1000})
	mustDo(t, err)
	for _, e := range evs {
		if strings.Contains(fmt.Sprintf("%+v", e), duressA) {
			t.Errorf("event %+v contains the duress code", e)
		}
	}
	mustDo(t, s.db.Sync())
	raw, err := os.ReadFile(filepath.Join(dir, "latch.db"))
	mustDo(t, err)
	if bytes.Contains(raw, []byte(duressA)) {
		t.Error("the database file contains the duress code's digits")
	}
	if !bytes.Contains(raw, []byte(a.UserID)) {
		t.Error("the search finds nothing at all: the file read is not the database")
	}
}

func TestDuressState(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
	mustDo(t, err)
	st, err := s.DuressState()
	if err != nil || st.Active {
		s.Close()
		t.Fatalf("fresh state = %+v, %v", st, err)
	}
	if was, err := s.ClearDuress(Event{Event: "duress_cleared", Actor: "ops"}); was || err != nil {
		t.Errorf("clear when inactive = %v, %v", was, err)
	}
	if evs, _ := s.Events(EventQuery{Limit: 10}); len(evs) != 0 {
		t.Errorf("clearing an inactive output recorded %v", evs)
	}
	t1 := time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC)
	mustDo(t, s.RecordDuress(Event{Time: t1, Event: "duress", Door: "front"}))
	mustDo(t, s.RecordDuress(Event{Time: t1.Add(time.Minute), Event: "duress", Door: "back"}))
	st, err = s.DuressState()
	if err != nil || !st.Active || !st.Since.Equal(t1) {
		t.Errorf("state = %+v, %v; want active since %v", st, err, t1)
	}
	// Across a reopen.
	mustDo(t, s.Close())
	s2, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
	mustDo(t, err)
	defer s2.Close()
	if st, err := s2.DuressState(); err != nil || !st.Active || !st.Since.Equal(t1) {
		t.Errorf("after reopen: %+v, %v", st, err)
	}
	if was, err := s2.ClearDuress(Event{Event: "duress_cleared", Actor: "ops"}); !was || err != nil {
		t.Errorf("clear = %v, %v", was, err)
	}
	if st, _ := s2.DuressState(); st.Active {
		t.Error("active after clear")
	}
	evs, _ := s2.Events(EventQuery{Limit: 10})
	var names []string
	for _, e := range evs {
		names = append(names, e.Event)
	}
	if got := strings.Join(names, ","); got != "duress,duress,duress_cleared" {
		t.Errorf("events = %s", got)
	}
}

// TestCheckFileDuressIndex: CheckFile compares the duress codes with the
// shared entry-code index both ways, so a lost or stray index entry is
// reported.
func TestCheckFileDuressIndex(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "latch.db")
	s, err := Open(Options{Path: path, KeyFile: filepath.Join(dir, "device.key")})
	mustDo(t, err)
	u := mustUser(t, s, "a")
	mustDo(t, s.SetEntryCode(u.UserID, []byte("1234"), admin))
	mustDo(t, s.SetDuressCode(u.UserID, []byte("5678"), admin))
	mustDo(t, s.Close())
	r, err := CheckFile(path, 0)
	mustDo(t, err)
	if !r.OK() {
		t.Fatalf("a sound database: %v", r.Problems)
	}
	// Drop the duress code's index entry, and point another at it.
	s, err = Open(Options{Path: path, KeyFile: filepath.Join(dir, "device.key")})
	mustDo(t, err)
	mustDo(t, s.db.Update(func(tx *bolt.Tx) error {
		b, err := txBuckets(tx)
		if err != nil {
			return err
		}
		if err := b.entry.Delete(s.entryMAC(nil, []byte("5678"))); err != nil {
			return err
		}
		key, err := s.userKey(u.UserID)
		if err != nil {
			return err
		}
		return b.entry.Put(s.entryMAC(nil, []byte("9999")), duressOwner([]byte(key)))
	}))
	mustDo(t, s.Close())
	r, err = CheckFile(path, 0)
	mustDo(t, err)
	got := strings.Join(r.Problems, "\n")
	for _, want := range []string{
		"entry: the duress code of " + u.UserID + " is missing from the entry-code index",
		"entry: a duress code of \"" + u.UserID + "\" is not that user's duress code",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems:\n%s\nwant %q", got, want)
		}
	}
}
