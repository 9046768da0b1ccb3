package api

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
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
	rec := e.do(RoleUserManager, "POST", "/v1/import", good)
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
	rec = e.do(RoleCredentialManager, "POST", "/v1/import", bad)
	if rec.Code != 403 {
		t.Errorf("credential manager import: %d, want 403", rec.Code)
	}
	rec = e.do(RoleUserAdmin, "POST", "/v1/import", bad)
	if rec.Code != 400 {
		t.Fatalf("bad import: %d %s", rec.Code, rec.Body)
	}
	var eb errorBody
	json.Unmarshal(rec.Body.Bytes(), &eb)
	if len(eb.Rows) < 2 || eb.Rows[0].Line != 2 || strings.Contains(rec.Body.String(), "12a4") {
		t.Errorf("bad rows %+v", eb)
	}
	if ms, _ := e.st.MFACodes(mustUser(t, e, "imp-2")); len(ms) != 0 {
		t.Error("a refused import wrote a code")
	}

	rec = e.do(RoleSystemAdmin, "POST", "/v1/import", good+strings.Repeat("x", 5000))
	if rec.Code != 413 {
		t.Errorf("oversized import: %d, want 413", rec.Code)
	}
	// Content-Length over the limit is refused before reading.
	req := httptest.NewRequest("POST", "/v1/import", strings.NewReader("x"))
	req.ContentLength = 1 << 40
	req.Header.Set("Authorization", "Bearer "+e.tokens[RoleSystemAdmin])
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
