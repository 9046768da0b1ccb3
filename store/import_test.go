package store

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
)

func writeCSV(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var importer1 = Actor{Name: "import", Role: "latchctl"}

const usersCSV = "\xef\xbb\xbfexternalId,firstName,lastName,email,startDate,endDate,groups,cardFormat,facilityCode,cardNumber,cardNumberHex,entryCode\n" +
	"e1,Ada,Lovelace,ada@example.com,2026-01-01,2026-12-31,staff;lab,h10301,12,100,,1234\n" +
	"e2,Alan,Turing,alan@example.com,,,staff,h10301,12,,0x65,\n" +
	"e3,Grace,Hopper,,,,,,,,,\n"

func TestImportUsersFile(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	p := writeCSV(t, dir, "users.csv", usersCSV)
	var last ImportProgress
	sum, err := s.ImportFile(p, importer1, func(p ImportProgress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ImportSummary{Rows: 3, UsersCreated: 3, CredentialsAdded: 3}, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if last.Pass != 2 || last.Bytes != last.TotalBytes {
		t.Errorf("last progress = %+v", last)
	}
	ada, err := s.UserByExternalID("e1")
	if err != nil {
		t.Fatal(err)
	}
	if ada.FirstName != "Ada" || ada.Email != "ada@example.com" || len(ada.Groups) != 2 ||
		ada.Start.Format("2006-01-02") != "2026-01-01" || ada.End.Format("2006-01-02") != "2027-01-01" {
		t.Errorf("ada = %+v", ada)
	}
	if u, _, err := s.LookupCard(CardKey{Format: "h10301", FacilityCode: 12, CardNumber: 101}); err != nil || u.ExternalID != "e2" {
		t.Errorf("hex card: %+v %v", u, err)
	}
	if u, err := s.LookupEntryCode([]byte("1234")); err != nil || u.UserID != ada.UserID {
		t.Errorf("entry code: %+v %v", u, err)
	}
	evs, _ := s.Events(EventQuery{})
	// Same file again: nothing changes, nothing is written.
	sum, err = s.ImportFile(p, importer1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ImportSummary{Rows: 3}, sum); diff != "" {
		t.Errorf("second import (-want +got):\n%s", diff)
	}
	if evs2, _ := s.Events(EventQuery{}); len(evs2) != len(evs) {
		t.Errorf("second import appended events")
	}
	// A file with fewer columns updates only those columns.
	p2 := writeCSV(t, dir, "u2.csv", "externalId,lastName\ne1,Byron\ne4,New\n")
	sum, err = s.ImportFile(p2, importer1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ImportSummary{Rows: 2, UsersCreated: 1, UsersUpdated: 1}, sum); diff != "" {
		t.Errorf("update import (-want +got):\n%s", diff)
	}
	ada2, _ := s.UserByExternalID("e1")
	if ada2.LastName != "Byron" || ada2.FirstName != "Ada" || ada2.Email != "ada@example.com" || !ada2.HasEntryCode {
		t.Errorf("updated ada = %+v", ada2)
	}
}

func TestImportCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	a, b := mustUser(t, s, "ea"), mustUser(t, s, "eb")
	if _, err := s.UpdateUser(b.UserID, UserFields{ExternalID: "eb", Email: "B@Example.com"}, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMFACode(a.UserID, []byte("5555"), admin); err != nil {
		t.Fatal(err)
	}
	content := "userId,externalId,email,type,cardFormat,facilityCode,cardNumber,cardNumberHex,code,active\n" +
		a.UserID + ",,,card,h10301,1,2,,,\n" +
		",eb,,card,raw,,77,,,false\n" +
		",,b@example.com,entry_code,,,,,4444,\n" +
		",ea,,mfa_code,,,,,5555,\n" + // already there: no change
		",ea,,mfa_code,,,,,666666,\n" +
		",eb,,mfa_code,,,,,666666,\n" + // shared MFA code
		",eb,,mfa_code,,,,,1234567890123456,\n"
	p := writeCSV(t, dir, "creds.csv", content)
	sum, err := s.ImportFile(p, importer1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ImportSummary{Rows: 7, CredentialsAdded: 6}, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	for _, c := range []struct {
		u    User
		code string
	}{{a, "5555"}, {a, "666666"}, {b, "666666"}, {b, "1234567890123456"}} {
		if ok, err := s.VerifySecondFactor(c.u.UserID, []byte(c.code), false); !ok || err != nil {
			t.Errorf("verify %s %s = %v %v", c.u.ExternalID, c.code, ok, err)
		}
	}
	if _, active, err := s.LookupCard(CardKey{Format: "raw", CardNumber: 77}); err != nil || active {
		t.Errorf("inactive raw card: %v %v", active, err)
	}
	if codes, _ := s.MFACodes(a.UserID); len(codes) != 2 {
		t.Errorf("a has %d codes, want 2", len(codes))
	}
	evs, _ := s.Events(EventQuery{Event: "credential_changed", Limit: 1000})
	if last := evs[len(evs)-1]; last.Action != "csv_import" || last.Actor != "import" {
		t.Errorf("audit = %+v", last)
	}
	sum, err = s.ImportFile(p, importer1, nil)
	if err != nil || sum != (ImportSummary{Rows: 7}) {
		t.Errorf("second import = %+v, %v", sum, err)
	}
	if codes, _ := s.MFACodes(a.UserID); len(codes) != 2 {
		t.Errorf("after re-import a has %d codes, want 2", len(codes))
	}
}

func TestImportRules(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	a, b := mustUser(t, s, "ea"), mustUser(t, s, "eb")
	if err := s.SetEntryCode(b.UserID, []byte("9999"), admin); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCard(b.UserID, Card{Format: "h10301", FacilityCode: 1, CardNumber: 5, Active: true}, admin); err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "ec")
	if _, err := s.UpdateUser(a.UserID, UserFields{ExternalID: "ea", Email: "dup@x.org"}, admin); err != nil {
		t.Fatal(err)
	}
	c, _ := s.UserByExternalID("ec")
	if _, err := s.UpdateUser(c.UserID, UserFields{ExternalID: "ec", Email: "dup@x.org"}, admin); err != nil {
		t.Fatal(err)
	}
	const credHdr = "userId,externalId,email,type,cardFormat,facilityCode,cardNumber,cardNumberHex,code,active\n"
	tests := []struct {
		name, content string
		want          []RowError // Rule compared by prefix
	}{
		{"empty file", "", []RowError{{1, "", "the file is empty"}}},
		{"unknown column", "externalId,nickname\n", []RowError{{1, "nickname", "unknown column 2"}}},
		{"duplicate column", "externalId,externalId\n", []RowError{{1, "externalId", "column appears twice"}}},
		{"users without externalId", "firstName\nx\n", []RowError{{1, "externalId", "a users file needs"}}},
		{"creds without user column", "type,code\nmfa_code,1234\n", []RowError{{1, "userId", "a credentials file needs"}}},
		{"code rules", credHdr +
			",ea,,mfa_code,,,,,123,\n" +
			",ea,,mfa_code,,,,,12345678901234567,\n" +
			",ea,,mfa_code,,,,,12 34,\n" +
			",ea,,mfa_code,,,,,+1234,\n" +
			",ea,,entry_code,,,,,١٢٣٤,\n",
			[]RowError{{2, "code", RuleCode}, {3, "code", RuleCode}, {4, "code", RuleCode}, {5, "code", RuleCode}, {6, "code", RuleCode}}},
		{"types and refs", credHdr +
			",ea,,pin,,,,,1234,\n" +
			",,,mfa_code,,,,,1234,\n" +
			",nobody,,mfa_code,,,,,1234,\n" +
			"u00000000000fff0,,,mfa_code,,,,,1234,\n" +
			",,dup@x.org,mfa_code,,,,,1234,\n" +
			",,none@x.org,mfa_code,,,,,1234,\n",
			[]RowError{{2, "type", "must be card"}, {3, "userId", "one of userId"}, {4, "externalId", "no such user"},
				{5, "userId", "no such user"}, {6, "email", "matches several users"}, {7, "email", "no such user"}}},
		{"card rules", credHdr +
			",ea,,card,h99,1,2,,,\n" +
			",ea,,card,h10301,x,2,,,\n" +
			",ea,,card,h10301,1,,,,\n" +
			",ea,,card,h10301,1,-2,,,\n" +
			",ea,,card,h10301,1,2,0x3,,\n" +
			",ea,,card,raw,4,2,,,\n" +
			",ea,,card,h10301,1,2,,,maybe\n" +
			",ea,,card,h10301,1,2,,1234,\n" +
			",ea,,card,h10301,1,5,,,\n" +
			",ea,,mfa_code,h10301,,,,1234,\n",
			[]RowError{{2, "cardFormat", "must be one of"}, {3, "facilityCode", "must be a decimal"}, {4, "cardNumber", "a card needs"},
				{5, "cardNumber", "must be a decimal"}, {6, "cardNumberHex", "must equal cardNumber"}, {7, "facilityCode", "must be empty or 0"},
				{8, "active", "must be true"}, {9, "code", "must be empty for type card"}, {10, "cardNumber", "card already belongs to another user"},
				{11, "cardFormat", "must be empty for type mfa_code"}}},
		{"duplicates", credHdr +
			",ea,,card,h10301,1,2,,,\n" +
			",eb,,card,h10301,1,2,,,\n" +
			",ea,,entry_code,,,,,4321,\n" +
			",eb,,entry_code,,,,,4321,\n" +
			",ea,,entry_code,,,,,4322,\n" +
			",ea,,mfa_code,,,,,1111,\n" +
			",ea,,mfa_code,,,,,1111,\n" +
			",eb,,mfa_code,,,,,1111,\n" + // shared across users: fine
			",ea,,entry_code,,,,,9999,\n",
			[]RowError{{3, "cardNumber", "card appears twice in the file (first on line 2)"},
				{5, "code", "entry code appears twice in the file (first on line 4)"},
				{6, "code", "user gets a second entry code (first on line 4)"},
				{8, "code", "user gets the same MFA code twice (first on line 7)"},
				{10, "code", "entry code already used by another user"}}},
		{"csv shape", credHdr +
			",ea,,mfa_code,,,,,1234\n" +
			",ea,,mfa_code,,,,,\"12\"34,\n",
			[]RowError{{2, "", "has 9 fields"}, {3, "", "csv: "}}},
		{"users rules", "externalId,email,startDate,endDate,groups,entryCode\n" +
			",,,,,\n" +
			"x1,nomail,,,,\n" +
			"x2,,2026-13-01,,,\n" +
			"x3,,2026-02-01,2026-01-01,,\n" +
			"x4,,,,a;;b,\n" +
			"x5,,,,,12a4\n" +
			"x6,,,,,\n" +
			"x6,,,,,\n" +
			"x7,,,,,9999\n",
			[]RowError{{2, "externalId", "required"}, {3, "email", "must look like"}, {4, "startDate", "must be YYYY-MM-DD"},
				{5, "endDate", "must be after start"}, {6, "groups", "a group name must be non-empty"}, {7, "entryCode", RuleCode},
				{9, "externalId", "externalId appears twice"}, {10, "entryCode", "entry code already used by another user"}}},
	}
	before := dump(t, s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeCSV(t, dir, "f.csv", tt.content)
			_, err := s.ImportFile(p, importer1, nil)
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *ImportError", err)
			}
			if len(ie.Rows) != len(tt.want) {
				t.Fatalf("got %d row errors, want %d:\n%v", len(ie.Rows), len(tt.want), ie.Rows)
			}
			for i, w := range tt.want {
				g := ie.Rows[i]
				if g.Line != w.Line || g.Column != w.Column || !strings.HasPrefix(g.Rule, w.Rule) {
					t.Errorf("row error %d = %v, want %v", i, g, w)
				}
			}
			for _, code := range []string{"1234", "4321", "9999", "1111"} {
				if strings.Contains(err.Error(), code) {
					t.Errorf("error mentions a code: %v", err)
				}
			}
			if diff := cmp.Diff(before, dump(t, s)); diff != "" {
				t.Errorf("a failed import changed the database (-before +after):\n%s", diff)
			}
		})
	}
}

func TestImportErrorCap(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	var b strings.Builder
	b.WriteString("externalId,entryCode\n")
	for i := 0; i < maxRowErrors+10; i++ {
		fmt.Fprintf(&b, "x%d,12a4\n", i)
	}
	_, err := s.ImportFile(writeCSV(t, dir, "f.csv", b.String()), importer1, nil)
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != maxRowErrors || ie.More != 10 {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "1010 bad row(s)") {
		t.Errorf("message = %q", err)
	}
}

// dump returns every data record of the live generation (hex key → hex
// value) plus the bucket sequences.
func dump(t testing.TB, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		root, err := data(tx)
		if err != nil {
			return err
		}
		out["root seq"] = fmt.Sprint(root.Sequence())
		for _, name := range dataBuckets {
			b := root.Bucket(name)
			out[string(name)+" seq"] = fmt.Sprint(b.Sequence())
			b.ForEach(func(k, v []byte) error {
				out[fmt.Sprintf("%s %x", name, k)] = fmt.Sprintf("%x", v)
				return nil
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImportBulkEqualsDirect imports the same files into two stores with
// the same key, one through the single-transaction path and one through
// the generation merge (in tiny chunks), and compares every record.
func TestImportBulkEqualsDirect(t *testing.T) {
	key := bytes.Repeat([]byte{42}, 32)
	setup := func(t *testing.T) (*Store, string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "device.key"), key, 0o600); err != nil {
			t.Fatal(err)
		}
		s := openAt(t, dir, nil)
		for i := 0; i < 30; i++ {
			u := mustUser(t, s, fmt.Sprintf("e%02d", i*2))
			if i%3 == 0 {
				if _, err := s.AddMFACode(u.UserID, []byte(fmt.Sprintf("%04d", 7000+i)), admin); err != nil {
					t.Fatal(err)
				}
			}
			if i%4 == 0 {
				if err := s.SetEntryCode(u.UserID, []byte(fmt.Sprintf("%05d", 80000+i)), admin); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.AddCard(u.UserID, Card{Format: "h10301", FacilityCode: 3, CardNumber: uint64(1000 + i*7), Active: true}, admin); err != nil {
				t.Fatal(err)
			}
		}
		return s, dir
	}
	var users strings.Builder
	users.WriteString("externalId,firstName,email,cardFormat,facilityCode,cardNumber,entryCode\n")
	for i := 0; i < 60; i++ {
		code := ""
		if i%5 == 0 {
			code = fmt.Sprintf("%06d", 500000+i)
		}
		fmt.Fprintf(&users, "e%02d,N%d,m%d@x.org,h10301,4,%d,%s\n", i, i, i%7, 5000+i*3, code)
	}
	var creds strings.Builder
	creds.WriteString("externalId,type,cardFormat,cardNumber,code\n")
	for i := 59; i >= 0; i-- {
		fmt.Fprintf(&creds, "e%02d,mfa_code,,,%04d\n", i, 7000+i/2)
		fmt.Fprintf(&creds, "e%02d,card,raw,%d,\n", i, 90000-i)
		if i%2 == 1 {
			fmt.Fprintf(&creds, "e%02d,mfa_code,,,%08d\n", i, 12345678)
		}
	}
	run := func(t *testing.T, threshold, chunk int) map[string]string {
		oldT, oldC := bulkThreshold, mergeChunk
		bulkThreshold, mergeChunk = threshold, chunk
		defer func() { bulkThreshold, mergeChunk = oldT, oldC }()
		s, dir := setup(t)
		for _, f := range []struct{ name, content string }{{"u.csv", users.String()}, {"c.csv", creds.String()}} {
			if _, err := s.ImportFile(writeCSV(t, dir, f.name, f.content), importer1, nil); err != nil {
				t.Fatal(err)
			}
		}
		d := dump(t, s)
		// The generation merge must leave the old generation deleted.
		s.db.View(func(tx *bolt.Tx) error {
			n := 0
			tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				if bytes.HasPrefix(name, []byte("data-")) {
					n++
				}
				return nil
			})
			if n != 1 {
				t.Errorf("%d data generations, want 1", n)
			}
			return nil
		})
		return d
	}
	direct := run(t, 1<<30, 100000)
	bulk := run(t, 1, 7)
	if diff := cmp.Diff(direct, bulk); diff != "" {
		t.Errorf("bulk import differs from direct import (-direct +bulk):\n%s", diff)
	}
	if len(direct) < 400 {
		t.Errorf("only %d records: the test imports too little", len(direct))
	}
}

func FuzzParseRow(f *testing.F) {
	f.Add("userId,externalId,email,type,cardFormat,facilityCode,cardNumber,cardNumberHex,code,active", ",e1,,card,h10301,1,2,,,true")
	f.Add("userId,externalId,email,type,cardFormat,facilityCode,cardNumber,cardNumberHex,code,active", ",e1,,mfa_code,,,,,123456,")
	f.Add("externalId,firstName,lastName,email,startDate,endDate,groups,cardFormat,facilityCode,cardNumber,cardNumberHex,entryCode",
		"e1,A,B,a@b.c,2026-01-01,2026-02-01,x;y,h10301,1,,0xff,1234")
	f.Add("externalId,type", "\"a\"\"b\",card")
	f.Fuzz(func(t *testing.T, head, row string) {
		r := csv.NewReader(strings.NewReader(head + "\n" + row + "\n"))
		r.FieldsPerRecord = -1
		hrec, err := r.Read()
		if err != nil {
			return
		}
		h, herrs := parseHeader(hrec)
		if len(herrs) > 0 {
			return
		}
		rec, err := r.Read()
		if err != nil {
			return
		}
		if h.kind == credsFile {
			c, errs := h.parseCred(rec, 2)
			if len(errs) == 0 && c.typ != typeCard && ValidateCode(c.code) != nil {
				t.Fatalf("accepted a bad code %q", c.code)
			}
			if len(errs) == 0 && c.typ == typeCard && validateCardKey(c.card) != nil {
				t.Fatalf("accepted a bad card %+v", c.card)
			}
		} else {
			u, errs := h.parseUser(rec, 2)
			if len(errs) == 0 && validateFields(&u.f) != nil {
				t.Fatalf("accepted bad fields %+v", u.f)
			}
		}
	})
}
