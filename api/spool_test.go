package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/latchd/latch/store"
)

// TestSpoolNoPlaintext: what the import spool puts on disk holds none of
// the codes written through it, the reader gives back exactly what was
// written, and no file is left with a name in the folder.
func TestSpoolNoPlaintext(t *testing.T) {
	dir := t.TempDir()
	sp, err := newSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	const code = "8140275931642087"
	body := "userId,externalId,email,type,code\n" + strings.Repeat(",alice,,mfa_code,"+code+"\n", 5000)
	if _, err := io.Copy(sp.writer(), strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	rd, err := sp.reader()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != body {
		t.Fatalf("spool round trip: got %d bytes, want %d", len(got), len(body))
	}
	raw, err := io.ReadAll(io.NewSectionReader(sp.f, 0, 1<<30))
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != len(body) {
		t.Fatalf("spool file holds %d bytes, want %d", len(raw), len(body))
	}
	for _, s := range []string{code, "mfa_code", "alice"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("spool file holds %q in plaintext", s)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("spool left a named file: %v", left)
	}
}

// TestImportSpoolFreeSpace: an import may spool at most half the free
// space on the spool folder's filesystem (the rest is the database's): an
// upload that says it is larger gets a 507 before a byte is spooled, one
// without a length is cut with the same 507 when it passes it, and
// nothing is imported either way; within it, the upload is imported. Where
// the free space is unknown only the configured limit applies.
func TestImportSpoolFreeSpace(t *testing.T) {
	tmp := t.TempDir()
	e := newEnv(t, func(o *Options) { o.TempDir = tmp; o.ImportLimit = 4096 })
	var free uint64 = 1000
	known := true
	var asked string
	e.srv.free = func(dir string) (uint64, bool, error) { asked = dir; return free, known, nil }

	head := "externalId,firstName\n"
	body := func(prefix string, rows int) string {
		var b strings.Builder
		b.WriteString(head)
		for i := 0; i < rows; i++ {
			fmt.Fprintf(&b, "%s-%03d,Name\n", prefix, i)
		}
		return b.String()
	}
	big := body("big", 40) // 21 + 40×17 bytes = 701 > 500
	rec := e.do(store.RoleSystemAdmin, "POST", "/v1/import", big)
	if rec.Code != http.StatusInsufficientStorage || !strings.Contains(rec.Body.String(), "half the free space") || !strings.Contains(rec.Body.String(), "at most 500 bytes") {
		t.Errorf("upload over half the free space: %d %s; want 507 naming the rule", rec.Code, rec.Body)
	}
	if asked != tmp {
		t.Errorf("free space asked of %q, want the spool folder %q", asked, tmp)
	}
	// Without a Content-Length: cut while spooling.
	req := httptest.NewRequest("POST", "/v1/import", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+e.tokens[store.RoleSystemAdmin])
	req.Header.Set("Content-Type", "text/csv")
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	if w.Code != http.StatusInsufficientStorage || !strings.Contains(w.Body.String(), "half the free space") {
		t.Errorf("chunked upload over half the free space: %d %s; want 507", w.Code, w.Body)
	}
	if _, err := e.st.UserByExternalID("big-000"); err == nil {
		t.Error("a refused upload imported users")
	}
	// Within half the free space: imported.
	small := body("small", 20) // 361 bytes
	if rec := e.do(store.RoleSystemAdmin, "POST", "/v1/import", small); rec.Code != http.StatusOK {
		t.Errorf("upload within half the free space: %d %s", rec.Code, rec.Body)
	}
	// Free space unknown (not Linux): only ImportLimit bounds it.
	known = false
	if rec := e.do(store.RoleSystemAdmin, "POST", "/v1/import", big); rec.Code != http.StatusOK {
		t.Errorf("upload with the free space unknown: %d %s", rec.Code, rec.Body)
	}
	// Plenty of space: ImportLimit's 413 as before.
	known, free = true, 1<<40
	if rec := e.do(store.RoleSystemAdmin, "POST", "/v1/import", body("huge", 300)); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("upload over ImportLimit: %d, want 413", rec.Code)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("spool files left: %v", left)
	}
}
