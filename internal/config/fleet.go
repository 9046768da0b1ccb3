package config

import (
	"net/url"
	"strings"
	"time"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/fleet"
	"github.com/latchd/latch/store"
)

// Fleet is the [fleet] section: this latchd is a member of a site whose
// backbone is NATS JetStream (docs/fleet.md). nil in Config when the file
// has no [fleet] section (a stand-alone controller).
type Fleet struct {
	URLs         []string      // NATS server URLs
	Site         string        // names every bucket and subject
	Controller   string        // this member's name in the site; default [controller].name
	CredsFile    string        // NATS credentials file (JWT + nkey); "" = none
	User         string        // NATS user, with PasswordFile
	PasswordFile string        // file holding the NATS password
	TLSCA        string        // CA file for the server's certificate; "" = the system's
	SiteKeyFile  string        // the site key: 32 bytes, mode 0600, the same on every member
	EventMaxAge  time.Duration // retention of the site's event stream
	Line         int           // line of the [fleet] header
}

// The roles of a fleet member.
const (
	RoleController = "controller" // has doors
	RoleManager    = "manager"    // has no doors
)

// StoreKeyFile is the database's key file: in fleet mode the site key
// (docs/fleet.md, "The site key"), else [controller] key_file.
func (c *Config) StoreKeyFile() string {
	if c.Fleet != nil {
		return c.Fleet.SiteKeyFile
	}
	return c.Controller.KeyFile
}

// FleetRole is "controller" (the file has doors), "manager" (no doors),
// or "" without [fleet].
func (c *Config) FleetRole() string {
	switch {
	case c.Fleet == nil:
		return ""
	case len(c.Doors) > 0:
		return RoleController
	}
	return RoleManager
}

// Defaults of [fleet] (config.md).
const (
	DefaultFleetURL    = "nats://127.0.0.1:4222"
	DefaultSiteKeyFile = "/var/lib/latch/site.key"
	DefaultEventMaxAge = fleet.DefaultEventMaxAge
)

// eventMaxAgeLimit bounds event_max_age: at least a day, at most ten years.
var eventMaxAgeLimit = door.Limit{Min: 24 * time.Hour, Max: 10 * 8760 * time.Hour}

func (b *builder) fleet(rf *table, ctl Controller) *Fleet {
	if !rf.present() {
		return nil
	}
	f := &Fleet{Line: b.pos.lineOf("fleet")}
	for i, u := range strings.Split(str(b.str(rf, "url"), DefaultFleetURL), ",") {
		u = strings.TrimSpace(u)
		p, err := url.Parse(u)
		switch {
		case u == "":
			b.fail("fleet.url", "URL %d is empty: one or more nats:// or tls:// URLs, comma-separated", i+1)
			continue
		case err != nil || p.Host == "" || (p.Scheme != "nats" && p.Scheme != "tls"):
			b.fail("fleet.url", "URL %d is not nats://HOST:PORT or tls://HOST:PORT", i+1)
			continue
		case p.User != nil:
			b.fail("fleet.url", "URL %d holds a user or password: use creds_file or user and password_file", i+1)
			continue
		}
		f.URLs = append(f.URLs, u)
	}
	site := b.str(rf, "site")
	if site == nil {
		b.fail("fleet.site", "is required: the site's name (1–32 of a-z, 0-9, '_', '-')")
	} else if err := fleet.CheckSite(*site); err != nil {
		b.fail("fleet.site", "%q %v", *site, err)
	}
	f.Site = str(site, "")
	f.Controller = str(b.str(rf, "controller"), "")
	key := "fleet.controller"
	if f.Controller == "" {
		f.Controller, key = ctl.Name, "controller.name"
	}
	if err := fleet.CheckController(f.Controller); err != nil {
		b.fail(key, "%q as the fleet's controller name %v", f.Controller, err)
	}
	if p := b.str(rf, "creds_file"); p != nil && *p != "" {
		f.CredsFile = b.path(rf, "creds_file", "")
	}
	f.User = str(b.str(rf, "user"), "")
	if p := b.str(rf, "password_file"); p != nil && *p != "" {
		f.PasswordFile = b.path(rf, "password_file", "")
	}
	switch {
	case f.CredsFile != "" && (f.User != "" || f.PasswordFile != ""):
		b.fail("fleet.creds_file", "set creds_file or user and password_file, not both")
	case f.User != "" && f.PasswordFile == "":
		b.fail("fleet.user", "set password_file too (the password is never in this file)")
	case f.User == "" && f.PasswordFile != "":
		b.fail("fleet.password_file", "set user too")
	}
	if p := b.str(rf, "tls_ca"); p != nil && *p != "" {
		f.TLSCA = b.path(rf, "tls_ca", "")
	}
	f.SiteKeyFile = b.path(rf, "site_key_file", DefaultSiteKeyFile)
	if f.SiteKeyFile != "" {
		// The store's rule for a key file, which it is: in fleet mode the
		// site key is the store's key.
		if _, err := store.ReadKeyFile(f.SiteKeyFile); err != nil {
			b.fail("fleet.site_key_file", "%s (docs/fleet.md says how to make one)", strings.TrimPrefix(strings.TrimPrefix(err.Error(), "store: "), "open: "))
		}
	}
	f.EventMaxAge = b.duration(rf, "event_max_age", DefaultEventMaxAge, eventMaxAgeLimit)
	return f
}
