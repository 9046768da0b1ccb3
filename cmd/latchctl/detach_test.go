package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchd/latch/store"
)

// TestDBDetach: a fleet member's replica, with latchd stopped, refuses a
// direct import (it would live on this member alone) and says what to do;
// latchctl db detach, given the config's [fleet] (the site key is the
// database's key), makes it stand-alone, and the import then writes.
func TestDBDetach(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "site.key")
	if err := os.WriteFile(keyPath, bytes.Repeat([]byte{7}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	by := store.Actor{Name: "test"}
	// A manager's store makes a user; the member's replica applies it.
	w, err := store.Open(store.Options{Path: filepath.Join(dir, "manager.db"), KeyFile: keyPath, SiteIDs: true})
	if err != nil {
		t.Fatal(err)
	}
	u, err := w.CreateUser(store.UserFields{ExternalID: "ann"}, by)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SetEntryCode(u.UserID, []byte("24680"), by); err != nil {
		t.Fatal(err)
	}
	doc, err := w.ReplicaUser(u.UserID)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "latch.db")
	r, err := store.Open(store.Options{Path: path, KeyFile: keyPath, SiteIDs: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ApplyReplica([]store.ReplicaChange{{Rev: 1, UserID: u.UserID, User: &doc}}, 1); err != nil {
		t.Fatal(err)
	}
	r.Close()

	cfg := filepath.Join(dir, "latch.toml")
	os.WriteFile(cfg, []byte("[controller]\nname = \"ctl1\"\ndatabase = \"latch.db\"\n\n[fleet]\nsite = \"hq\"\nsite_key_file = \"site.key\"\n"), 0o600)
	csv := filepath.Join(dir, "users.csv")
	os.WriteFile(csv, []byte("externalId,firstName\nbob,Bob\n"), 0o600)
	ctl := func(args ...string) (int, string, string) {
		var o, e bytes.Buffer
		code := run(args, &o, &e)
		return code, o.String(), e.String()
	}
	if code, _, errs := ctl("import", "--db", path, "--key", keyPath, "--no-progress", csv); code == 0 || !strings.Contains(errs, "latchctl db detach") {
		t.Errorf("direct import into a replica: exit %d, %s", code, errs)
	}
	// The key comes from [fleet] site_key_file: no --key.
	if code, out, errs := ctl("db", "detach", "--config", cfg); code != 0 || !strings.Contains(out, "now a stand-alone database") {
		t.Fatalf("db detach: exit %d, %s %s", code, out, errs)
	}
	if code, out, _ := ctl("db", "detach", "--config", cfg); code != 0 || !strings.Contains(out, "not a fleet replica") {
		t.Errorf("db detach again: exit %d, %s", code, out)
	}
	if code, _, errs := ctl("import", "--db", path, "--key", keyPath, "--no-progress", csv); code != 0 {
		t.Errorf("import after detach: exit %d, %s", code, errs)
	}
	st, err := store.Open(store.Options{Path: path, KeyFile: keyPath})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	users, _, err := st.ListUsers(store.ListQuery{})
	if err != nil || len(users) != 2 {
		t.Errorf("users after detach and import: %d, %v", len(users), err)
	}
}
