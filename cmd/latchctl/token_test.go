package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/latchd/latch/store/storetest"

	"github.com/latchd/latch/store"
)

var tokenLine = regexp.MustCompile(`^latch_[A-Za-z0-9_-]+\n$`)

// TestTokenDirect: with the daemon stopped, token commands work on the
// database; create prints the token alone.
func TestTokenDirect(t *testing.T) {
	db, key, cfg := dbConfig(t, "[api]\nsocket = \"api.sock\"\n")
	var out, errs bytes.Buffer
	if code := run([]string{"token", "create", "--name", "ops", "--role", "access_credential_manager", "--db", db, "--key", key}, &out, &errs); code != 0 || !tokenLine.MatchString(out.String()) {
		t.Fatalf("token create: exit %d, stdout %q, stderr %q", code, out.String(), errs.String())
	}
	secret := strings.TrimSpace(out.String())
	// The config's relative paths resolve against its folder.
	out.Reset()
	if code := run([]string{"token", "list", "--config", cfg}, &out, &errs); code != 0 || !regexp.MustCompile(`ops\s+access_credential_manager`).MatchString(out.String()) || strings.Contains(out.String(), secret) {
		t.Fatalf("token list: exit %d, %q %q", code, out.String(), errs.String())
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"token", "create", "--name", "ops", "--role", "viewer", "--config", cfg}, "a token with that name exists"},
		{[]string{"token", "create", "--name", "x", "--config", cfg}, "--role is required (ROLE: access_system_admin"},
		{[]string{"token", "create", "--role", "viewer", "--config", cfg}, "--name is required"},
		{[]string{"token", "create", "--name", "x", "--role", "root", "--config", cfg}, "latchctl token create: role: must be one of"},
		{[]string{"token", "create", "--name", "a b", "--role", "viewer", "--config", cfg}, "name: must be"},
		{[]string{"token", "revoke", "nobody", "--config", cfg}, "no token named"},
	} {
		errs.Reset()
		if code := run(c.args, &out, &errs); code == 0 || !strings.Contains(errs.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errs.String(), c.want)
		}
	}
	if code := run([]string{"token", "revoke", "ops", "--config", cfg}, &out, &errs); code != 0 {
		t.Fatalf("revoke: %s", errs.String())
	}
	st, err := store.Open(store.Options{Path: db, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.VerifyToken(secret); err == nil {
		t.Error("revoked token still verifies")
	}
}

// TestTokenWhileDaemonRuns: the daemon holds the database, so token create
// goes over the socket as the local owner.
func TestTokenWhileDaemonRuns(t *testing.T) {
	st, db, key, sock := ownerDaemon(t)

	// A token of a role that may not manage tokens does not get in the
	// owner's way.
	viewer, err := st.CreateToken("v", store.RoleViewer, store.Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LATCH_TOKEN", viewer)
	var out, errs bytes.Buffer
	if code := run([]string{"token", "create", "--name", "boot", "--role", "access_system_admin", "--db", db, "--key", key, "--socket", sock}, &out, &errs); code != 0 || !tokenLine.MatchString(out.String()) {
		t.Fatalf("token create via socket: exit %d, stdout %q, stderr %q", code, out.String(), errs.String())
	}
	tok, err := st.VerifyToken(strings.TrimSpace(out.String()))
	if err != nil || tok.Name != "boot" || tok.Role != store.RoleSystemAdmin {
		t.Errorf("created token: %+v %v", tok, err)
	}
	out.Reset()
	if code := run([]string{"token", "list", "--db", db, "--key", key, "--socket", sock}, &out, &errs); code != 0 || !strings.Contains(out.String(), "boot") {
		t.Errorf("token list via socket: %d %q %q", code, out.String(), errs.String())
	}
	// Other API calls over the socket still need a token.
	t.Setenv("LATCH_TOKEN", "")
	errs.Reset()
	if code := run([]string{"users", "list", "--socket", sock}, &out, &errs); code == 0 || !strings.Contains(errs.String(), "no API token") {
		t.Errorf("users list without token: %d %q", code, errs.String())
	}
}

// TestTokenNotOwner: when latchd refuses the socket client as the local
// owner (here a server without LocalOwner, as for a uid that is neither
// latchd's nor root), the error says who may, not "create a token".
func TestTokenNotOwner(t *testing.T) {
	dir := t.TempDir()
	st := storetest.Open(t, dir)
	sock := serveSocket(t, dir, st, false)
	t.Setenv("LATCH_TOKEN", "")
	var out, errs bytes.Buffer
	code := run([]string{"token", "create", "--socket", sock, "--name", "x", "--role", "viewer"}, &out, &errs)
	if code != 1 || out.Len() != 0 || !strings.Contains(errs.String(), "only latchd's own user or root may manage tokens") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errs.String())
	}
}
