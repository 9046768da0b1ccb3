package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/latchd/latch/api"
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

	tests := []runCase{
		{"no file", []string{"import", "--db", db, "--key", key}, 2, "", "usage: latchctl import", nil},
		{"config missing", []string{"import", "--config", filepath.Join(dir, "nope.toml"), users}, 1, "", "config: ", nil},
		{"config", []string{"import", "--config", cfgPath, cfgUsers}, 0,
			"imported " + cfgUsers + ": 1 row, 1 user created, 0 users updated, 0 credentials added\n", "", nil},
		{"users", []string{"import", "--db", db, "--key", key, users}, 0,
			"imported " + users + ": 2 rows, 2 users created, 0 users updated, 1 credential added\n", "", nil},
		{"again", []string{"import", "--db", db, "--key", key, users}, 0,
			"imported " + users + ": 2 rows, 0 users created, 0 users updated, 0 credentials added\n", "", nil},
		{"bad rows", []string{"import", "--db", db, "--key", key, bad}, 1, "",
			bad + ":line 2: code: must be 4–16 ASCII digits 0-9\n" + bad + ":line 3: externalId: no such user\n", []string{"12a4"}},
	}
	for _, tt := range tests {
		tt.run(t)
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
	tok, err := s.CreateToken("importer", store.RoleSystemAdmin, store.Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LATCH_TOKEN", tok)
	// latchd is not answering on the socket: say so.
	var out, errs strings.Builder
	if code := run([]string{"import", "--db", db, "--key", key, "--socket", filepath.Join(dir, "none.sock"), users}, &out, &errs); code != 1 ||
		!strings.Contains(errs.String(), "importing through its API") || !strings.Contains(errs.String(), "is latchd running?") {
		t.Errorf("locked, no latchd: exit %d, stderr %q", code, errs.String())
	}
	// latchd (here: its API on the holder's store) answers on the
	// config's socket: the file goes through it.
	sock := filepath.Join(dir, "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: api.New(api.Options{Store: s})}
	go srv.Serve(ln)
	defer srv.Close()
	live := filepath.Join(dir, "live.toml")
	os.WriteFile(live, []byte("[controller]\ndatabase = \"latch.db\"\nkey_file = \"device.key\"\n[api]\nsocket = \"api.sock\"\n"), 0o600)
	more := filepath.Join(dir, "more.csv")
	os.WriteFile(more, []byte("externalId,firstName\ne3,Grace\n"), 0o600)
	out.Reset()
	errs.Reset()
	if code := run([]string{"import", "--config", live, more}, &out, &errs); code != 0 ||
		out.String() != "imported "+more+": 1 row, 1 user created, 0 users updated, 0 credentials added\n" {
		t.Errorf("through latchd: exit %d, stdout %q, stderr %q", code, out.String(), errs.String())
	}
	if u, err := s.UserByExternalID("e3"); err != nil || u.FirstName != "Grace" {
		t.Errorf("user e3 after the import through latchd: %+v, %v", u, err)
	}
	// A bad row through latchd: its line, nothing written.
	out.Reset()
	errs.Reset()
	if code := run([]string{"import", "--config", live, bad}, &out, &errs); code != 1 || !strings.Contains(errs.String(), "line 2") {
		t.Errorf("bad rows through latchd: exit %d, stderr %q", code, errs.String())
	}
}

// TestImportCommandRules: latchctl import repeats no cell of a file
// without a header row, takes the groups a users file may assign from the
// config (and needs one for a groups column), and stops at a row longer
// than the limit.
func TestImportCommandRules(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "latch.toml")
	os.WriteFile(cfgPath, []byte("[controller]\nname = \"t\"\ndatabase = \"c.db\"\nkey_file = \"c.key\"\n"+
		"[[door]]\nname = \"front\"\nrelay = \"GPIO23\"\n[[reader]]\nname = \"r1\"\ndoor = \"front\"\nd0 = \"GPIO17\"\nd1 = \"GPIO27\"\n"+
		"[[group]]\nname = \"staff\"\ndoors = [\"front\"]\n"), 0o600)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	noHeader := write("nohdr.csv", "e1,Ada,482913\ne2,Alan,\n")
	badGroup := write("badgroup.csv", "externalId,groups\ng1,staff\ng2,staff;visitors\n")
	goodGroup := write("goodgroup.csv", "externalId,groups\ng1,staff\n")
	long := write("long.csv", "externalId,type,code\ne1,mfa_code,"+strings.Repeat("5", 1<<20)+"\n")
	noCfg := filepath.Join(dir, "missing.toml")
	tests := []runCase{
		{"no header", []string{"import", "--config", cfgPath, noHeader}, 1, "", noHeader + ":line 1: the header row is missing", []string{"482913", "Ada"}},
		{"unknown group", []string{"import", "--config", cfgPath, badGroup}, 1, "", badGroup + ":line 3: groups: group 2 of the cell is not a group of the config", []string{"visitors"}},
		{"known group", []string{"import", "--config", cfgPath, goodGroup}, 0, "", "", nil},
		{"groups need a config", []string{"import", "--db", filepath.Join(dir, "x.db"), "--key", filepath.Join(dir, "x.key"), goodGroup}, 1, "", "pass --config", nil},
		{"config named but missing", []string{"import", "--config", noCfg, goodGroup}, 1, "", "missing.toml", nil},
		{"long row", []string{"import", "--config", cfgPath, long}, 1, "", long + ":line 2: a row is at most 64 KiB", []string{"5555"}},
	}
	if _, err := os.Stat(defaultConfig); err == nil {
		tests = slices.DeleteFunc(tests, func(tt runCase) bool {
			return tt.name == "groups need a config"
		})
	}
	for _, tt := range tests {
		tt.run(t)
	}
}

// runCase is one latchctl run: its arguments, the exit status, stdout
// (when out is set), a part of stderr, and what stderr must not repeat.
type runCase struct {
	name        string
	args        []string
	code        int
	out, errs   string
	notInErrors []string
}

func (tt runCase) run(t *testing.T) {
	t.Run(tt.name, func(t *testing.T) {
		var out, errs strings.Builder
		code := run(tt.args, &out, &errs)
		if code != tt.code {
			t.Errorf("exit %d, want %d; stderr:\n%.500s", code, tt.code, errs.String())
		}
		if tt.out != "" && out.String() != tt.out {
			t.Errorf("stdout = %q, want %q", out.String(), tt.out)
		}
		if tt.errs != "" && !strings.Contains(errs.String(), tt.errs) {
			t.Errorf("stderr = %.500q, want it to contain %q", errs.String(), tt.errs)
		}
		for _, s := range tt.notInErrors {
			if strings.Contains(errs.String(), s) {
				t.Errorf("stderr repeats %q: %.500s", s, errs.String())
			}
		}
	})
}
