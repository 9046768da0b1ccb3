package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/latchd/latch/store"
)

func init() {
	register("db", command{
		summary: "check the database file, or repair its card records (latchd stopped)",
		run:     runDB,
	})
}

const dbUsage = `usage:
  latchctl db check  [--config PATH] [--db PATH]
  latchctl db repair [--config PATH] [--db PATH] [--key PATH]

check reads the database without changing it (no key file needed): bbolt's
page consistency, the schema version, and every card's record against its
user's records (each card carries a copy of its user's door view and code
MACs, docs/store.md). Exit 0: nothing wrong; 1: problems, one per line.
repair writes every stale card record again from its user's records.
Both need latchd stopped (systemctl stop latchd): it holds the database.`

func runDB(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "check" && args[0] != "repair") {
		fmt.Fprintln(stderr, dbUsage)
		return 2
	}
	action := args[0]
	name := "db " + action
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", defaultConfig, "latchd's config file, for [controller] database and key_file")
	db := fs.String("db", "", "database file (default: [controller].database of the config, else "+defaultDatabase+")")
	key := fs.String("key", "", "device key file, for repair (default: [controller].key_file of the config, else "+defaultKeyFile+")")
	fs.Usage = func() { fmt.Fprintln(stderr, dbUsage); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	cfg, err := loadConfig(*config, explicit)
	if err != nil {
		return fail(stderr, name, err)
	}
	for _, p := range []struct {
		v        *string
		cfg, def string
	}{{db, cfg.Controller.Database, defaultDatabase}, {key, cfg.Controller.KeyFile, defaultKeyFile}} {
		if *p.v == "" {
			*p.v = p.cfg
		}
		if *p.v == "" {
			*p.v = p.def
		}
	}
	inUse := func(err error) error {
		if errors.Is(err, store.ErrInUse) {
			return fmt.Errorf("%w: stop latchd first (systemctl stop latchd)", err)
		}
		return err
	}
	if action == "repair" {
		st, err := store.Open(store.Options{Path: *db, KeyFile: *key, Timeout: openTimeout})
		if err != nil {
			return fail(stderr, name, inUse(err))
		}
		defer st.Close()
		n, err := st.RepairCardRecords()
		if err != nil {
			return fail(stderr, name, err)
		}
		fmt.Fprintf(stdout, "%s: %d card records written again\n", *db, n)
		return 0
	}
	r, err := store.CheckFile(*db, openTimeout)
	if err != nil {
		return fail(stderr, name, inUse(err))
	}
	for _, p := range r.Problems {
		fmt.Fprintln(stdout, p)
	}
	if r.More > 0 {
		fmt.Fprintf(stdout, "… and %d more\n", r.More)
	}
	if !r.OK() {
		fmt.Fprintf(stdout, "%s: %d problems (schema %d, %d users, %d cards)\n", *db, len(r.Problems)+r.More, r.Schema, r.Users, r.Cards)
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok (schema %d, %d users, %d cards)\n", *db, r.Schema, r.Users, r.Cards)
	return 0
}
