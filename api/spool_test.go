package api

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
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
