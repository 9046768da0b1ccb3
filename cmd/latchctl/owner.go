package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/latchd/latch/store"
)

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
