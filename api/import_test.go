package api

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// TestImportCSV: the body is spooled to a file and imported by the store;
// a bad file is refused whole with every bad row named; the temp file is
// removed either way.
func TestImportCSV(t *testing.T) {
	tmp := t.TempDir()
	e := newEnv(t, func(o *Options) { o.TempDir = tmp; o.ImportLimit = 4096 })
	good := "externalId,firstName,lastName,email,startDate,endDate,groups\n" +
		"imp-1,Ann,One,ann@example.com,,,staff\n" +
		"imp-2,Bob,Two,,,,staff;cleaners\n"
	rec := e.do(store.RoleUserManager, "POST", "/v1/import", good)
	if rec.Code != 200 {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	var sum map[string]int
	json.Unmarshal(rec.Body.Bytes(), &sum)
	if sum["rows"] != 2 || sum["users_created"] != 2 {
		t.Errorf("summary %v", sum)
	}
	if u, err := e.st.UserByExternalID("imp-2"); err != nil || len(u.Groups) != 2 {
		t.Errorf("imported user: %+v %v", u, err)
	}

	bad := "userId,externalId,email,type,code\n" +
		",imp-1,,mfa_code,12a4\n" +
		",imp-2,,mfa_code,4321\n" +
		",nobody,,mfa_code,5555\n"
	rec = e.do(store.RoleViewer, "POST", "/v1/import", bad)
	if rec.Code != 403 {
		t.Errorf("viewer import: %d, want 403", rec.Code)
	}
	rec = e.do(store.RoleUserAdmin, "POST", "/v1/import", bad)
	if rec.Code != 400 {
		t.Fatalf("bad import: %d %s", rec.Code, rec.Body)
	}
	var eb apitype.Error
	json.Unmarshal(rec.Body.Bytes(), &eb)
	if len(eb.Rows) < 2 || eb.Rows[0].Line != 2 || strings.Contains(rec.Body.String(), "12a4") {
		t.Errorf("bad rows %+v", eb)
	}
	if ms, _ := e.st.MFACodes(mustUser(t, e, "imp-2")); len(ms) != 0 {
		t.Error("a refused import wrote a code")
	}

	rec = e.do(store.RoleSystemAdmin, "POST", "/v1/import", good+strings.Repeat("x", 5000))
	if rec.Code != 413 {
		t.Errorf("oversized import: %d, want 413", rec.Code)
	}
	// Content-Length over the limit is refused before reading.
	req := httptest.NewRequest("POST", "/v1/import", strings.NewReader("x"))
	req.ContentLength = 1 << 40
	req.Header.Set("Authorization", "Bearer "+e.tokens[store.RoleSystemAdmin])
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	if w.Code != 413 {
		t.Errorf("Content-Length over limit: %d", w.Code)
	}
	left, _ := os.ReadDir(tmp)
	if len(left) != 0 {
		t.Errorf("spool files left: %v", left)
	}
}

func mustUser(t *testing.T, e *env, ext string) string {
	t.Helper()
	u, err := e.st.UserByExternalID(ext)
	if err != nil {
		t.Fatal(err)
	}
	return u.UserID
}

// importErr posts body as role and returns the status and the decoded error.
func importErr(t *testing.T, e *env, role, body string) (int, apitype.Error, string) {
	t.Helper()
	rec := e.do(role, "POST", "/v1/import", body)
	var eb apitype.Error
	json.Unmarshal(rec.Body.Bytes(), &eb)
	return rec.Code, eb, rec.Body.String()
}

// TestImportNoHeader: a CSV without its header row is refused as such, and
// the 400 body repeats none of line 1 — a code among its cells.
func TestImportNoHeader(t *testing.T) {
	e := newEnv(t, nil)
	for _, body := range []string{
		"e1,Ada,Lovelace,,,,,,,,,482913\n",
		",e1,,mfa_code,,,,,482913,\n",
		"482913\n",
		"externalId,482913\n",
	} {
		code, eb, raw := importErr(t, e, store.RoleSystemAdmin, body)
		if code != 400 || len(eb.Rows) == 0 || eb.Rows[0].Line != 1 {
			t.Errorf("%q: %d %s", body, code, raw)
		}
		if strings.Contains(raw, "482913") || strings.Contains(raw, "Ada") {
			t.Errorf("%q: the reply repeats line 1: %s", body, raw)
		}
	}
	_, eb, _ := importErr(t, e, store.RoleSystemAdmin, "e1,Ada,482913\n")
	if len(eb.Rows) != 1 || !strings.HasPrefix(eb.Rows[0].Rule, "the header row is missing") || eb.Rows[0].Column != "" {
		t.Errorf("no header: %+v", eb.Rows)
	}
}

// TestImportAPIRules: the CSV import follows the API's own rules: a card
// must fit its format's fields, and groups must be the config's.
func TestImportAPIRules(t *testing.T) {
	e := newEnv(t, nil)
	if rec := e.do(store.RoleUserAdmin, "POST", "/v1/import", "externalId\nr1\n"); rec.Code != 200 {
		t.Fatalf("setup: %d %s", rec.Code, rec.Body)
	}
	for _, tc := range []struct {
		name, body, col, rule string
	}{
		{"facility over 8 bits", "externalId,type,cardFormat,facilityCode,cardNumber\nr1,card,h10301,256,1\n", "facilityCode", "must be 0–255 for format h10301"},
		{"card over 16 bits", "externalId,type,cardFormat,facilityCode,cardNumber\nr1,card,h10301,1,65536\n", "cardNumber", "must be 0–65535 for format h10301"},
		{"users file card", "externalId,cardFormat,facilityCode,cardNumber\nr2,h10306,1,70000\n", "cardNumber", "must be 0–65535 for format h10306"},
		{"unknown group", "externalId,groups\nr3,staff;nope\n", "groups", "group 2 of the cell is not a group of the config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, eb, raw := importErr(t, e, store.RoleUserAdmin, tc.body)
			if code != 400 || len(eb.Rows) != 1 || eb.Rows[0].Line != 2 || eb.Rows[0].Column != tc.col || !strings.HasPrefix(eb.Rows[0].Rule, tc.rule) {
				t.Errorf("%d %s", code, raw)
			}
			if strings.Contains(raw, "nope") {
				t.Errorf("reply repeats a cell: %s", raw)
			}
		})
	}
	// The same card through POST …/cards gives the same rule.
	rec := e.do(store.RoleUserAdmin, "POST", "/v1/users/"+mustUser(t, e, "r1")+"/cards", `{"format":"h10301","facility_code":256,"card_number":1}`)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "must be 0–255 for format h10301") {
		t.Errorf("POST card: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do(store.RoleUserAdmin, "POST", "/v1/import", "externalId,groups,cardFormat,facilityCode,cardNumber\nr4,staff;cleaners,h10301,255,65535\n"); rec.Code != 200 {
		t.Errorf("known groups, card at the limits: %d %s", rec.Code, rec.Body)
	}
}

// TestImportCredentialManager: the credential manager, who has every
// right on credentials but may not change users, may import a
// credentials file, and is refused (403, nothing written) a users file.
func TestImportCredentialManager(t *testing.T) {
	e := newEnv(t, nil)
	if rec := e.do(store.RoleUserManager, "POST", "/v1/import", "externalId,entryCode\ncm1,\ncm2,\n"); rec.Code != 200 {
		t.Fatalf("user manager, users file with an entryCode column: %d %s", rec.Code, rec.Body)
	}
	creds := "externalId,type,cardFormat,facilityCode,cardNumber,code\n" +
		"cm1,card,h10301,7,700,\n" +
		"cm1,mfa_code,,,,246801\n" +
		"cm2,entry_code,,,,135791\n"
	rec := e.do(store.RoleCredentialManager, "POST", "/v1/import", creds)
	if rec.Code != 200 {
		t.Fatalf("credential manager, credentials file: %d %s", rec.Code, rec.Body)
	}
	if ms, _ := e.st.MFACodes(mustUser(t, e, "cm1")); len(ms) != 1 {
		t.Errorf("MFA codes after the import: %v", ms)
	}
	if u, err := e.st.LookupEntryCode([]byte("135791")); err != nil || u.ExternalID != "cm2" {
		t.Errorf("entry code: %+v %v", u, err)
	}
	for _, body := range []string{
		"externalId,firstName\ncm1,Changed\n",
		"externalId\ncm9\n",
		"externalId,cardFormat,facilityCode,cardNumber\ncm8,h10301,7,701\n",
	} {
		code, _, raw := importErr(t, e, store.RoleCredentialManager, body)
		if code != 403 || !strings.Contains(raw, "users.write") {
			t.Errorf("credential manager, users file %q: %d %s", body, code, raw)
		}
	}
	if u, _ := e.st.UserByExternalID("cm1"); u.FirstName != "" {
		t.Errorf("a refused import changed a user: %+v", u)
	}
	for _, ext := range []string{"cm8", "cm9"} {
		if _, err := e.st.UserByExternalID(ext); err == nil {
			t.Errorf("a refused import created %s", ext)
		}
	}
	if code, _, raw := importErr(t, e, store.RoleViewer, creds); code != 403 {
		t.Errorf("viewer: %d %s", code, raw)
	}
}

// TestImportRowLimit: one huge line is refused with the row limit, not
// buffered whole.
func TestImportRowLimit(t *testing.T) {
	e := newEnv(t, nil)
	body := "externalId,firstName\nx1," + strings.Repeat("9", 300<<10) + "\n"
	code, eb, raw := importErr(t, e, store.RoleSystemAdmin, body)
	if code != 400 || len(eb.Rows) != 1 || eb.Rows[0].Line != 2 || !strings.HasPrefix(eb.Rows[0].Rule, "a row is at most 64 KiB") {
		t.Errorf("%d %.300s", code, raw)
	}
}
