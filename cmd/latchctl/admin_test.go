package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/latchd/latch/store"
)

// TestAdminCommands: create, list, passwd, delete on the database, the
// password from standard input (not a terminal), never an argument.
func TestAdminCommands(t *testing.T) {
	db, key, cfg := dbConfig(t, "")
	if code, _, errs := runStdin("first password 1\n", "admin", "create", "--name", "kim", "--role", "access_credential_manager", "--db", db, "--key", key); code != 0 {
		t.Fatalf("admin create: exit %d: %s", code, errs)
	}
	if code, out, errs := runStdin("", "admin", "list", "--config", cfg); code != 0 || !regexp.MustCompile(`kim\s+access_credential_manager`).MatchString(out) {
		t.Fatalf("admin list: exit %d: %q %q", code, out, errs)
	}
	for _, c := range []struct {
		in   string
		args []string
		want string
	}{
		{"first password 1\n", []string{"admin", "create", "--name", "kim", "--role", "viewer", "--config", cfg}, "exists"},
		{"first password 1\n", []string{"admin", "create", "--name", "x", "--role", "root", "--config", cfg}, "role: must be one of"},
		{"short\n", []string{"admin", "create", "--name", "x", "--role", "viewer", "--config", cfg}, "password: must be"},
		{"", []string{"admin", "create", "--name", "x", "--role", "viewer", "--config", cfg}, "no password on standard input"},
		{"first password 1\n", []string{"admin", "passwd", "nobody", "--config", cfg}, "no account named"},
		{"", []string{"admin", "delete", "--config", cfg}, "needs the account's NAME"},
		{"", []string{"admin", "create", "--name", "x", "--role", "viewer", "--password", "p", "--config", cfg}, ""},
	} {
		if code, _, errs := runStdin(c.in, c.args...); code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errs, c.want)
		}
	}
	if code, _, errs := runStdin("second password 2\n", "admin", "passwd", "kim", "--config", cfg); code != 0 {
		t.Fatalf("admin passwd: %s", errs)
	}
	st, err := store.Open(store.Options{Path: db, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.VerifyAdmin("kim", []byte("second password 2")); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if _, err := st.VerifyAdmin("kim", []byte("first password 1")); err == nil {
		t.Error("the old password still signs in")
	}
	st.Close()
	if code, _, errs := runStdin("", "admin", "delete", "kim", "--config", cfg); code != 0 {
		t.Fatalf("admin delete: %s", errs)
	}
	if code, out, _ := runStdin("", "admin", "list", "--config", cfg); code != 0 || strings.Contains(out, "kim") {
		t.Errorf("kim still listed: %q", out)
	}
}

// TestAdminWhileDaemonRuns: latchd holds the database, so admin commands
// go over the socket as the local owner; the password travels in the body.
func TestAdminWhileDaemonRuns(t *testing.T) {
	st, db, key, sock := ownerDaemon(t)
	flags := []string{"--db", db, "--key", key, "--socket", sock}
	if code, _, errs := runStdin("socket password 1\n", append([]string{"admin", "create", "--name", "ops", "--role", "viewer"}, flags...)...); code != 0 {
		t.Fatalf("admin create via socket: %d %s", code, errs)
	}
	if _, err := st.VerifyAdmin("ops", []byte("socket password 1")); err != nil {
		t.Fatalf("created account: %v", err)
	}
	if code, out, errs := runStdin("", append([]string{"admin", "list"}, flags...)...); code != 0 || !strings.Contains(out, "ops") {
		t.Errorf("admin list via socket: %d %q %q", code, out, errs)
	}
	if code, _, errs := runStdin("socket password 2\n", append([]string{"admin", "passwd", "ops"}, flags...)...); code != 0 {
		t.Errorf("passwd via socket: %s", errs)
	}
	if _, err := st.VerifyAdmin("ops", []byte("socket password 2")); err != nil {
		t.Errorf("new password: %v", err)
	}
	if code, _, errs := runStdin("", append([]string{"admin", "delete", "ops"}, flags...)...); code != 0 {
		t.Errorf("delete via socket: %s", errs)
	}
	if code, _, errs := runStdin("", append([]string{"admin", "delete", "ops"}, flags...)...); code == 0 || !strings.Contains(errs, "not found") {
		t.Errorf("second delete: %d %q", code, errs)
	}
}
