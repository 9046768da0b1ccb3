package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeKey makes a valid site key file in dir.
func writeKey(t *testing.T, dir string) string {
	return writeFile(t, dir, "site.key", make([]byte, 32), 0o600)
}

func TestFleetSection(t *testing.T) {
	dir := t.TempDir()
	key := writeKey(t, dir)
	pw := writeFile(t, dir, "pw", []byte("secret"), 0o600)
	doc := minimal + `
[controller]
name = "lobby-pi"

[fleet]
url = "nats://10.0.0.1:4222, tls://10.0.0.2:4222"
site = "hq"
user = "ctl"
password_file = "pw"
site_key_file = "site.key"
event_max_age = "720h"
`
	cfg := loadFile(t, filepath.Join(dir, "latch.toml"), doc)
	f := cfg.Fleet
	if f == nil {
		t.Fatal("no Fleet")
	}
	if strings.Join(f.URLs, " ") != "nats://10.0.0.1:4222 tls://10.0.0.2:4222" || f.Site != "hq" || f.Controller != "lobby-pi" ||
		f.User != "ctl" || f.PasswordFile != pw || f.SiteKeyFile != key || f.EventMaxAge != 720*time.Hour {
		t.Errorf("fleet = %+v", f)
	}
	if cfg.FleetRole() != RoleController {
		t.Errorf("role = %q, want controller", cfg.FleetRole())
	}
}

func TestFleetManager(t *testing.T) {
	dir := t.TempDir()
	writeKey(t, dir)
	// No doors; a group names doors of the site's controllers, or none.
	doc := `
[fleet]
site = "hq"
controller = "mgr1"
site_key_file = "site.key"

[[group]]
name = "staff"

[[group]]
name = "night"
doors = ["lobby"]
`
	cfg := loadFile(t, filepath.Join(dir, "latch.toml"), doc)
	if cfg.FleetRole() != RoleManager || len(cfg.Groups) != 2 || cfg.Fleet.URLs[0] != DefaultFleetURL || cfg.Fleet.EventMaxAge != DefaultEventMaxAge {
		t.Errorf("role %q groups %+v fleet %+v", cfg.FleetRole(), cfg.Groups, cfg.Fleet)
	}
	noFleet, err := Parse([]byte(minimal), filepath.Join(dir, "x.toml"))
	if err != nil || noFleet.FleetRole() != "" || noFleet.Fleet != nil {
		t.Errorf("without [fleet]: %v %+v", err, noFleet)
	}
}

// TestFleetErrors: each broken rule of [fleet] is FILE:LINE: key: rule.
func TestFleetErrors(t *testing.T) {
	dir := t.TempDir()
	writeKey(t, dir)
	short := writeFile(t, dir, "short.key", make([]byte, 31), 0o600)
	open := writeFile(t, dir, "open.key", make([]byte, 32), 0o644)
	head := "[fleet]\n" // line 1
	tests := []struct{ name, body, want string }{
		{"no site", `site_key_file = "site.key"`, ":1: fleet.site: is required"},
		{"bad site", "site = \"HQ\"\nsite_key_file = \"site.key\"", `:2: fleet.site: "HQ" must be 1–32 of a-z`},
		{"long site", "site = \"" + strings.Repeat("a", 33) + "\"\nsite_key_file = \"site.key\"", ":2: fleet.site: "},
		{"bad url", "site = \"hq\"\nsite_key_file = \"site.key\"\nurl = \"http://x:1\"", ":4: fleet.url: URL 1 is not nats://HOST:PORT"},
		{"url with password", "site = \"hq\"\nsite_key_file = \"site.key\"\nurl = \"nats://a:b@x:1\"", ":4: fleet.url: URL 1 holds a user or password"},
		{"empty url", "site = \"hq\"\nsite_key_file = \"site.key\"\nurl = \"nats://x:1,\"", ":4: fleet.url: URL 2 is empty"},
		{"bad controller", "site = \"hq\"\nsite_key_file = \"site.key\"\ncontroller = \"a.b\"", `:4: fleet.controller: "a.b" as the fleet's controller name must be`},
		{"both auths", "site = \"hq\"\nsite_key_file = \"site.key\"\ncreds_file = \"c\"\nuser = \"u\"\npassword_file = \"p\"", ":4: fleet.creds_file: set creds_file or user and password_file, not both"},
		{"user alone", "site = \"hq\"\nsite_key_file = \"site.key\"\nuser = \"u\"", ":4: fleet.user: set password_file too"},
		{"missing key", "site = \"hq\"\nsite_key_file = \"none.key\"", ":3: fleet.site_key_file: key file " + filepath.Join(dir, "none.key") + " does not exist (docs/fleet.md"},
		{"short key", "site = \"hq\"\nsite_key_file = \"short.key\"", ":3: fleet.site_key_file: key file " + short + ": must hold exactly 32 bytes, has 31"},
		{"open key", "site = \"hq\"\nsite_key_file = \"open.key\"", ":3: fleet.site_key_file: key file " + open + ": permissions 0644 allow group or others"},
		{"age", "site = \"hq\"\nsite_key_file = \"site.key\"\nevent_max_age = \"1h\"", ":4: fleet.event_max_age: 1h0m0s is outside 24h0m0s–87600h0m0s"},
		{"unknown key", "site = \"hq\"\nsite_key_file = \"site.key\"\nbogus = 1", ":4: fleet.bogus: unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "latch.toml")
			err := parseIssues(t, head+tc.body+"\n", path)
			if !strings.Contains(err.Error(), path+tc.want) {
				t.Errorf("err = %v\nwant %s", err, path+tc.want)
			}
		})
	}
}
