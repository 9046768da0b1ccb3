package store

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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
		{"unknown column", "externalId,nickname\n", []RowError{{1, "", "column 2: not a column name of a users file"}}},
		{"duplicate column", "externalId,externalId\n", []RowError{{1, "", "column 2 repeats the name of column 1"}}},
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
			"3f2b8c1e-1111-4111-8111-111111111111,,,mfa_code,,,,,1234,\n" +
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
				{5, "cardNumber", "must be a decimal"}, {6, "cardNumberHex", "must equal cardNumber"}, {7, "facilityCode", "must be 0: format raw has no facility code"},
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
		checkOneGeneration(t, s)
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
	f.Add("externalId,type,code", "e1,duress_code,8675309")
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

// TestImportNoHeaderEchoesNoCell: a file without a header row has data on
// line 1, and a cell there may be a code; no error repeats any of line 1's
// text. A line 1 naming no known column is reported as a missing header;
// unknown or repeated names are named by position.
func TestImportNoHeaderEchoesNoCell(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	for _, tc := range []struct {
		name, content, rule string
		secret              []string
	}{
		{"users row first", "e1,Ada,482913\ne2,Alan,\n", "the header row is missing", []string{"482913", "Ada", "e1"}},
		{"credentials row first", ",e1,,mfa_code,,,,,771234,\n", "the header row is missing", []string{"771234", "mfa_code"}},
		{"one code", "5550123\n", "the header row is missing", []string{"5550123"}},
		{"code twice", "246810,246810\n", "the header row is missing", []string{"246810"}},
		{"code among names", "externalId,135799\n", "column 2: not a column name of a users file", []string{"135799"}},
		{"repeated code among names", "externalId,type,864200,864200\n", "column 3: not a column name", []string{"864200"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ImportFile(writeCSV(t, dir, "f.csv", tc.content), importer1, nil)
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *ImportError", err)
			}
			found := false
			for _, r := range ie.Rows {
				found = found || r.Line == 1 && strings.HasPrefix(r.Rule, tc.rule)
			}
			if !found {
				t.Errorf("rows = %v, want line 1: %s…", ie.Rows, tc.rule)
			}
			for _, sec := range tc.secret {
				if strings.Contains(err.Error(), sec) {
					t.Errorf("error repeats %q: %v", sec, err)
				}
				for _, r := range ie.Rows {
					if strings.Contains(r.Column, sec) || strings.Contains(r.Rule, sec) {
						t.Errorf("row error repeats %q: %+v", sec, r)
					}
				}
			}
		})
	}
}

// TestImportCardRanges: the CSV import, in both write paths, and AddCard
// refuse a card whose facility code or number does not fit its format
// (the reader's field widths, as the API does); the limits themselves are
// accepted.
func TestImportCardRanges(t *testing.T) {
	const credHdr = "externalId,type,cardFormat,facilityCode,cardNumber,cardNumberHex\n"
	bothImportPaths(t, func(t *testing.T) {
		dir := t.TempDir()
		s := openAt(t, dir, nil)
		if _, err := s.ImportFile(writeCSV(t, dir, "u.csv", "externalId\nea\neb\n"), importer1, nil); err != nil {
			t.Fatal(err)
		}
		bad := credHdr +
			"ea,card,h10301,256,1,\n" +
			"ea,card,h10301,1,65536,\n" +
			"ea,card,h10301,1,,0x10000\n" +
			"ea,card,h10302,1,1,\n" +
			"ea,card,corp1000_35,4096,1,\n" +
			"ea,card,corp1000_35,1,1048576,\n" +
			"ea,card,h10302,0,34359738368,\n" +
			"ea,card,h10306,65536,1,\n"
		_, err := s.ImportFile(writeCSV(t, dir, "c.csv", bad), importer1, nil)
		var ie *ImportError
		if !errors.As(err, &ie) {
			t.Fatalf("out-of-range cards: err = %v, want *ImportError", err)
		}
		want := []RowError{
			{2, "facilityCode", "must be 0–255 for format h10301"},
			{3, "cardNumber", "must be 0–65535 for format h10301"},
			{4, "cardNumberHex", "must be 0–65535 for format h10301"},
			{5, "facilityCode", "must be 0: format h10302 has no facility code"},
			{6, "facilityCode", "must be 0–4095 for format corp1000_35"},
			{7, "cardNumber", "must be 0–1048575 for format corp1000_35"},
			{8, "cardNumber", "must be 0–34359738367 for format h10302"},
			{9, "facilityCode", "must be 0–65535 for format h10306"},
		}
		if diff := cmp.Diff(want, ie.Rows); diff != "" {
			t.Errorf("row errors (-want +got):\n%s", diff)
		}
		usersBad := "externalId,cardFormat,facilityCode,cardNumber\nec,h10301,300,1\n"
		if _, err := s.ImportFile(writeCSV(t, dir, "u2.csv", usersBad), importer1, nil); !errors.As(err, &ie) ||
			len(ie.Rows) != 1 || ie.Rows[0].Column != "facilityCode" {
			t.Errorf("users file, facility 300: %v", err)
		}
		good := credHdr +
			"ea,card,h10301,255,65535,\n" +
			"ea,card,h10301,0,0,\n" +
			"eb,card,raw,,,0xffffffffffffffff\n" +
			"eb,card,h10302,,34359738367,\n"
		sum, err := s.ImportFile(writeCSV(t, dir, "g.csv", good), importer1, nil)
		if err != nil || sum.CredentialsAdded != 4 {
			t.Fatalf("cards at the limits: %+v %v", sum, err)
		}
		if _, _, err := s.LookupCard(CardKey{Format: "raw", CardNumber: ^uint64(0)}); err != nil {
			t.Errorf("raw 64-bit card: %v", err)
		}
	})

	dir := t.TempDir()
	s := openAt(t, dir, nil)
	u := mustUser(t, s, "ac").UserID
	for _, c := range []struct {
		card  Card
		field string
	}{
		{Card{Format: "h10301", FacilityCode: 256, CardNumber: 1}, "facility_code"},
		{Card{Format: "h10301", FacilityCode: 1, CardNumber: 65536}, "card_number"},
		{Card{Format: "h10302", FacilityCode: 1, CardNumber: 1}, "facility_code"},
		{Card{Format: "corp1000_48", FacilityCode: 1 << 22, CardNumber: 1}, "facility_code"},
		{Card{Format: "h10304", FacilityCode: 1, CardNumber: 1 << 19}, "card_number"},
		{Card{Format: "raw26", CardNumber: 1}, "card_format"},
	} {
		err := s.AddCard(u, c.card, admin)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field {
			t.Errorf("AddCard(%+v) = %v, want a %s error", c.card, err, c.field)
		}
	}
	for _, c := range []Card{
		{Format: "h10301", FacilityCode: 255, CardNumber: 65535, Active: true},
		{Format: "raw", CardNumber: ^uint64(0), Active: true},
		{Format: "corp1000_48", FacilityCode: 1<<22 - 1, CardNumber: 1<<23 - 1, Active: true},
	} {
		if err := s.AddCard(u, c, admin); err != nil {
			t.Errorf("AddCard(%+v): %v", c, err)
		}
	}
}

// TestImportKnownGroups: with the config's groups (ImportOptions.KnownGroup)
// a users file may assign only those; the error names the group by its
// position in the cell.
func TestImportKnownGroups(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	known := func(g string) bool { return g == "staff" || g == "lab" }
	for _, bulk := range []bool{false, true} {
		if bulk {
			old := bulkThreshold
			bulkThreshold = 0
			t.Cleanup(func() { bulkThreshold = old })
		}
		before := dump(t, s)
		_, err := s.ImportFileWith(writeCSV(t, dir, "u.csv", "externalId,groups\ng1,staff\ng2,lab;9911;staff\n"), importer1, ImportOptions{KnownGroup: known})
		var ie *ImportError
		if !errors.As(err, &ie) || len(ie.Rows) != 1 || ie.Rows[0] != (RowError{3, "groups", "group 2 of the cell is not a group of the config (GET /v1/groups lists them)"}) {
			t.Fatalf("bulk=%v: unknown group: %v", bulk, err)
		}
		if strings.Contains(err.Error(), "9911") {
			t.Errorf("error repeats the cell: %v", err)
		}
		if diff := cmp.Diff(before, dump(t, s)); diff != "" {
			t.Errorf("a refused import changed the database:\n%s", diff)
		}
	}
	if _, err := s.ImportFileWith(writeCSV(t, dir, "u.csv", "externalId,groups\ng1,staff\ng2,lab;staff\n"), importer1, ImportOptions{KnownGroup: known}); err != nil {
		t.Fatal(err)
	}
	if u, err := s.UserByExternalID("g2"); err != nil || len(u.Groups) != 2 {
		t.Errorf("g2 = %+v %v", u, err)
	}
}

// TestImportRowSize: a record longer than MaxRowBytes (one huge line, or a
// quoted field spanning many short lines) is refused with a rule naming
// the limit and the line it starts on, before encoding/csv buffers it;
// many rows that are each short pass however large the file.
func TestImportRowSize(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	huge := "externalId,firstName\ne1,Ada\ne2," + strings.Repeat("x", 1<<20) + "\ne3,Bob\n"
	spanning := "externalId,firstName\ne1,\"" + strings.Repeat("ab\n", MaxRowBytes/3+10) + "\"\n"
	header := strings.Repeat("externalId,", 1<<13) + "\n"
	for _, tc := range []struct {
		name, content string
		want          RowError
	}{
		{"one long line", huge, RowError{3, "", "a row is at most 64 KiB"}},
		{"quoted field over many lines", spanning, RowError{2, "", "a row is at most 64 KiB"}},
		{"long header", header, RowError{1, "", "header: a row is at most 64 KiB"}},
		{"crlf long line", "externalId\r\ne1\r\n" + strings.Repeat("7", MaxRowBytes+1) + "\r\n", RowError{3, "", "a row is at most 64 KiB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ImportFile(writeCSV(t, dir, "f.csv", tc.content), importer1, nil)
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *ImportError", err)
			}
			last := ie.Rows[len(ie.Rows)-1]
			if last.Line != tc.want.Line || last.Column != "" || !strings.HasPrefix(last.Rule, tc.want.Rule) {
				t.Errorf("rows = %v, want %v", ie.Rows, tc.want)
			}
			if strings.Contains(err.Error(), "xxxx") || strings.Contains(err.Error(), "7777") {
				t.Error("the error repeats the row")
			}
		})
	}
	// Just under the limit: read (and refused only by the column's rule).
	near := "externalId,firstName\ne1," + strings.Repeat("y", MaxRowBytes-4) + "\n"
	_, err := s.ImportFile(writeCSV(t, dir, "n.csv", near), importer1, nil)
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 1 || ie.Rows[0].Column != "firstName" {
		t.Errorf("row just under the limit: %v", err)
	}
	// Many short rows, quoted fields with escaped quotes and CRLF: no false limit.
	var b strings.Builder
	b.WriteString("externalId,firstName,lastName\r\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "\"r%d\",\"A \"\"q\"\" , b\",x\r\n", i)
	}
	sum, err := s.ImportFile(writeCSV(t, dir, "m.csv", b.String()), importer1, nil)
	if err != nil || sum.UsersCreated != 5000 {
		t.Fatalf("5000 short rows: %+v %v", sum, err)
	}
}

// FuzzImportHeader: the header check never repeats a code-like cell of
// line 1 in an error, and never panics.
func FuzzImportHeader(f *testing.F) {
	f.Add("externalId,firstName", "123456")
	f.Add("", "987654321")
	f.Add("userId,type", "4444444")
	f.Add("externalId,externalId", "000000")
	f.Fuzz(func(t *testing.T, names, code string) {
		if ValidateCode([]byte(code)) != nil || len(code) < 6 {
			return
		}
		for _, line := range []string{code + "," + names, names + "," + code, code, names + "," + code + "," + code} {
			r := csv.NewReader(strings.NewReader(line + "\n"))
			rec, err := r.Read()
			if err != nil {
				continue
			}
			_, errs := parseHeader(rec)
			for _, e := range errs {
				if strings.Contains(e.Column, code) || strings.Contains(e.Rule, code) {
					t.Fatalf("header error repeats a cell: %+v", e)
				}
			}
			h, err := ReadImportHeader(strings.NewReader(line + "\n"))
			if err != nil && strings.Contains(err.Error(), code) {
				t.Fatalf("ReadImportHeader error repeats a cell: %v", err)
			}
			_ = h
		}
	})
}

// FuzzRowLimiter: below encoding/csv, the row limit never changes what csv
// reads from input whose every record is within the limit, and never
// panics on any input.
func FuzzRowLimiter(f *testing.F) {
	f.Add([]byte("a,b\n\"c\"\"d\",e\r\n\"f\ng\",h\n"), 8)
	f.Add([]byte("a\"b,c\n\"x\"y\nz\n"), 4)
	f.Add([]byte("\"unterminated\n"), 3)
	f.Add([]byte("\"a\"\r\"b\n\"\nc\n"), 2)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max < 1 || max > 1<<12 {
			return
		}
		// Records as csv reads them without the limit, and their spans.
		type rec struct {
			fields []string
			err    string
		}
		read := func(r *csv.Reader) (out []rec, spans []int64, limited bool) {
			r.FieldsPerRecord = -1
			var last int64
			for {
				f, err := r.Read()
				if err == io.EOF {
					return
				}
				var rl *rowTooLongError
				if errors.As(err, &rl) {
					return out, spans, true
				}
				e := ""
				if err != nil {
					e = err.Error()
				}
				out = append(out, rec{slices.Clone(f), e})
				spans = append(spans, r.InputOffset()-last)
				last = r.InputOffset()
			}
		}
		want, spans, _ := read(csv.NewReader(bytes.NewReader(in)))
		got, _, limited := read(csv.NewReader(newRowLimiter(bytes.NewReader(in), max)))
		fits := true
		for _, s := range spans {
			fits = fits && s <= int64(max)
		}
		if fits && limited {
			t.Fatalf("limit %d refused input whose records span %v", max, spans)
		}
		if !limited && !cmp.Equal(want, got, cmp.AllowUnexported(rec{})) {
			t.Fatalf("the limiter changed what csv reads:\n%v\n%v", want, got)
		}
	})
}
