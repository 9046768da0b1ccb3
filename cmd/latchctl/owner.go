package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/latchd/latch/store"
)

// ownerFlags adds the flags latchctl token and latchctl admin share:
// --db and --key, and the --name and --role of the token or account
// (what, with an example name).
func ownerFlags(fs *flag.FlagSet, what, example string) (db, key, name, role *string) {
	db = fs.String("db", "", "database file (default: [controller].database of the config, else "+defaultDatabase+")")
	key = fs.String("key", "", "device key file (default: [controller].key_file of the config, else "+defaultKeyFile+")")
	name = fs.String("name", "", what+" name, e.g. "+example)
	role = fs.String("role", "", what+" role")
	return db, key, name, role
}

// ownerArgs checks the arguments of an action of latchctl CMD (token or
// admin, whose NAME is a what): create and list take none; the actions of
// named take the NAME, set into *name. When they are wrong, or the action
// is unknown, it says so on stderr and done is true with the exit code.
func ownerArgs(stderr io.Writer, cmd, what, action string, pos, named []string, name *string, usage string) (code int, done bool) {
	refuse := func(err error) (int, bool) { return fail(stderr, cmd+" "+action, err), true }
	switch {
	case action == "create":
		if len(pos) != 0 {
			return refuse(usageError("takes --name and --role, no arguments", usage))
		}
	case action == "list":
		if len(pos) != 0 {
			return refuse(errors.New("takes no arguments"))
		}
	case slices.Contains(named, action):
		if len(pos) != 1 {
			return refuse(fmt.Errorf("needs the %s's NAME (latchctl %s list)", what, cmd))
		}
		*name = pos[0]
	default:
		fmt.Fprintf(stderr, "latchctl %s: unknown action %q\n%s\n", cmd, action, usage)
		return 2, true
	}
	return 0, false
}

// ownerRefused words err of latchctl CMD (managing what: "tokens",
// "accounts") over the socket as the local owner: without a token latchd
// lets only its own user and root do that, so its 401 says so, rather
// than "create a token", which is what the command was trying to do.
func ownerRefused(c *conn, what, cmd string, err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized && c.url == "" {
		return fmt.Errorf("latchd refused: only latchd's own user or root may manage %s without a token; run e.g. sudo -u latch latchctl %s …, or set LATCH_TOKEN to an access_system_admin token", what, cmd)
	}
	return err
}

// ownerStore is where latchctl token and latchctl admin do their work: the
// database of --db and --key (else the config's, else the defaults), which
// the daemon's owner may change directly; or, with via set, the running
// latchd over its socket as the local owner (c is then set up): when
// --socket or --url is given without a database flag (the --sim demo,
// whose database is in a temporary folder), or when latchd holds the
// database. The caller closes st.
func ownerStore(fs *flag.FlagSet, c *conn, db, key *string) (st *store.Store, via bool, err error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	viaAPI := func() (*store.Store, bool, error) {
		if err := c.setup(fs); err != nil {
			return nil, false, err
		}
		c.ownerOK = true
		return nil, true, nil
	}
	if (set["socket"] || set["url"]) && !set["db"] && !set["key"] && !set["config"] {
		return viaAPI()
	}
	cfg, err := loadConfig(c.config, set["config"])
	if err != nil {
		return nil, false, err
	}
	cfg.dbPaths(db, key)
	st, err = store.Open(store.Options{Path: *db, KeyFile: *key, Timeout: openTimeout})
	if errors.Is(err, store.ErrInUse) {
		return viaAPI() // latchd holds the database: ask it over its socket
	}
	if err != nil {
		return nil, false, fmt.Errorf("%w (run as the daemon's user; or pass --db and --key)", err)
	}
	return st, false, nil
}
