package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/store"
)

// TestAdminCommands: create, list, passwd, delete on the database, the
// password from standard input (not a terminal), never an argument.
func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	db, key := filepath.Join(dir, "latch.db"), filepath.Join(dir, "device.key")
	cfg := filepath.Join(dir, "latch.toml")
	os.WriteFile(cfg, []byte("[controller]\ndatabase = \"latch.db\"\nkey_file = \"device.key\"\n"), 0o600)
	defer func() { stdin = os.Stdin }()
	runIn := func(in string, args ...string) (int, string, string) {
		stdin = strings.NewReader(in)
		var out, errs bytes.Buffer
		code := run(args, &out, &errs)
		return code, out.String(), errs.String()
	}
	if code, _, errs := runIn("first password 1\n", "admin", "create", "--name", "kim", "--role", "access_credential_manager", "--db", db, "--key", key); code != 0 {
		t.Fatalf("admin create: exit %d: %s", code, errs)
	}
	if code, out, errs := runIn("", "admin", "list", "--config", cfg); code != 0 || !regexp.MustCompile(`kim\s+access_credential_manager`).MatchString(out) {
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
		if code, _, errs := runIn(c.in, c.args...); code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errs, c.want)
		}
	}
	if code, _, errs := runIn("second password 2\n", "admin", "passwd", "kim", "--config", cfg); code != 0 {
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
	if code, _, errs := runIn("", "admin", "delete", "kim", "--config", cfg); code != 0 {
		t.Fatalf("admin delete: %s", errs)
	}
	if code, out, _ := runIn("", "admin", "list", "--config", cfg); code != 0 || strings.Contains(out, "kim") {
		t.Errorf("kim still listed: %q", out)
	}
}

// TestAdminWhileDaemonRuns: latchd holds the database, so admin commands
// go over the socket as the local owner; the password travels in the body.
func TestAdminWhileDaemonRuns(t *testing.T) {
	if !api.PeerCredSupported {
		t.Skip("peer credentials are Linux-only")
	}
	old := openTimeout
	openTimeout = 10 * time.Millisecond
	defer func() { openTimeout = old }()
	dir := t.TempDir()
	db, key, sock := filepath.Join(dir, "latch.db"), filepath.Join(dir, "device.key"), filepath.Join(dir, "api.sock")
	st, err := store.Open(store.Options{Path: db, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ln, err := api.ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- api.New(api.Options{Store: st, LocalOwner: true}).Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()
	defer func() { stdin = os.Stdin }()
	runIn := func(in string, args ...string) (int, string, string) {
		stdin = strings.NewReader(in)
		var out, errs bytes.Buffer
		code := run(args, &out, &errs)
		return code, out.String(), errs.String()
	}
	flags := []string{"--db", db, "--key", key, "--socket", sock}
	if code, _, errs := runIn("socket password 1\n", append([]string{"admin", "create", "--name", "ops", "--role", "viewer"}, flags...)...); code != 0 {
		t.Fatalf("admin create via socket: %d %s", code, errs)
	}
	if _, err := st.VerifyAdmin("ops", []byte("socket password 1")); err != nil {
		t.Fatalf("created account: %v", err)
	}
	if code, out, errs := runIn("", append([]string{"admin", "list"}, flags...)...); code != 0 || !strings.Contains(out, "ops") {
		t.Errorf("admin list via socket: %d %q %q", code, out, errs)
	}
	if code, _, errs := runIn("socket password 2\n", append([]string{"admin", "passwd", "ops"}, flags...)...); code != 0 {
		t.Errorf("passwd via socket: %s", errs)
	}
	if _, err := st.VerifyAdmin("ops", []byte("socket password 2")); err != nil {
		t.Errorf("new password: %v", err)
	}
	if code, _, errs := runIn("", append([]string{"admin", "delete", "ops"}, flags...)...); code != 0 {
		t.Errorf("delete via socket: %s", errs)
	}
	if code, _, errs := runIn("", append([]string{"admin", "delete", "ops"}, flags...)...); code == 0 || !strings.Contains(errs, "not found") {
		t.Errorf("second delete: %d %q", code, errs)
	}
}
