package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchd/latch/store"
)

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	db, key := filepath.Join(dir, "latch.db"), filepath.Join(dir, "device.key")
	users := filepath.Join(dir, "users.csv")
	os.WriteFile(users, []byte("externalId,firstName,entryCode\ne1,Ada,1234\ne2,Alan,\n"), 0o600)
	// A config file whose [controller] paths are relative to its folder.
	cfgDir := filepath.Join(dir, "etc")
	os.MkdirAll(cfgDir, 0o700)
	cfgPath := filepath.Join(cfgDir, "latch.toml")
	os.WriteFile(cfgPath, []byte("[controller]\nname = \"t\"\ndatabase = \"cfg.db\"\nkey_file = \"cfg.key\"\n"), 0o600)
	cfgUsers := filepath.Join(dir, "cfgusers.csv")
	os.WriteFile(cfgUsers, []byte("externalId\nonly\n"), 0o600)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("externalId,type,code\ne1,mfa_code,12a4\ne9,mfa_code,1234\n"), 0o600)

	tests := []struct {
		name       string
		args       []string
		code       int
		out, errs  string
		notInError string
	}{
		{"no file", []string{"import", "--db", db, "--key", key}, 2, "", "usage: latchctl import", ""},
		{"config missing", []string{"import", "--config", filepath.Join(dir, "nope.toml"), users}, 1, "", "config: ", ""},
		{"config", []string{"import", "--config", cfgPath, cfgUsers}, 0,
			"imported " + cfgUsers + ": 1 rows, 1 users created, 0 users updated, 0 credentials added\n", "", ""},
		{"users", []string{"import", "--db", db, "--key", key, users}, 0,
			"imported " + users + ": 2 rows, 2 users created, 0 users updated, 1 credentials added\n", "", ""},
		{"again", []string{"import", "--db", db, "--key", key, users}, 0,
			"imported " + users + ": 2 rows, 0 users created, 0 users updated, 0 credentials added\n", "", ""},
		{"bad rows", []string{"import", "--db", db, "--key", key, bad}, 1, "",
			bad + ":line 2: code: must be 4–16 ASCII digits 0-9\n" + bad + ":line 3: externalId: no such user\n", "12a4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs strings.Builder
			code := run(tt.args, &out, &errs)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errs.String())
			}
			if tt.out != "" && out.String() != tt.out {
				t.Errorf("stdout = %q, want %q", out.String(), tt.out)
			}
			if tt.errs != "" && !strings.Contains(errs.String(), tt.errs) {
				t.Errorf("stderr = %q, want it to contain %q", errs.String(), tt.errs)
			}
			if tt.notInError != "" && strings.Contains(errs.String(), tt.notInError) {
				t.Errorf("stderr shows %q", tt.notInError)
			}
		})
	}

	for _, f := range []string{"cfg.db", "cfg.key"} {
		if _, err := os.Stat(filepath.Join(cfgDir, f)); err != nil {
			t.Errorf("--config did not use its [controller] paths: %v", err)
		}
	}

	// While another process (here: this one) holds the database.
	s, err := store.Open(store.Options{Path: db, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out, errs strings.Builder
	if code := run([]string{"import", "--db", db, "--key", key, users}, &out, &errs); code != 1 ||
		!strings.Contains(errs.String(), "database in use by another process") || !strings.Contains(errs.String(), "stop latchd first") {
		t.Errorf("locked: exit %d, stderr %q", code, errs.String())
	}
}
