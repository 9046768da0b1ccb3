package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/latchd/latch/internal/plural"
	"github.com/latchd/latch/store"
)

const dbUsage = `usage:
  latchctl db check  [--config PATH] [--db PATH] [--timeout DURATION]
  latchctl db repair [--config PATH] [--db PATH] [--key PATH]
  latchctl db detach [--config PATH] [--db PATH] [--key PATH]

check reads the database without changing it (no key file needed): bbolt's
page consistency, the schema version, and every card's record against its
user's records (each card carries a copy of its user's door view and code
MACs, docs/store.md). Exit 0: nothing wrong; 1: problems, one per line.
The check runs in a child process: one that crashes or runs longer than
--timeout (default 10m) is killed and the file reported corrupt (exit 1).
repair writes every stale card record again from its user's records.
detach makes a fleet member's replica a stand-alone database: its users
stay, and changes are written to it again (a replica opened without its
site refuses them: docs/fleet.md). All three need latchd stopped
(systemctl stop latchd): it holds the database.`

func runDB(args []string, stdout, stderr io.Writer) int {
	if args[0] != "check" && args[0] != "repair" && args[0] != "detach" {
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
	limit := fs.Duration("timeout", checkTimeout, "check: kill the check and report the file corrupt after this long")
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
	cfg.dbPaths(db, key)
	inUse := func(err error) error {
		if errors.Is(err, store.ErrInUse) {
			return fmt.Errorf("%w: stop latchd first (systemctl stop latchd)", err)
		}
		return err
	}
	if action == "detach" || action == "repair" {
		st, err := store.Open(store.Options{Path: *db, KeyFile: *key, Timeout: openTimeout})
		if err != nil {
			return fail(stderr, name, inUse(err))
		}
		defer st.Close()
		if action == "detach" {
			if !st.IsReplica() {
				fmt.Fprintf(stdout, "%s: not a fleet replica; nothing to do\n", *db)
				return 0
			}
			if err := st.LeaveSite(); err != nil {
				return fail(stderr, name, err)
			}
			fmt.Fprintf(stdout, "%s: now a stand-alone database (its users stay; remove [fleet] from the config)\n", *db)
			return 0
		}
		n, err := st.RepairCardRecords()
		if err != nil {
			return fail(stderr, name, err)
		}
		fmt.Fprintf(stdout, "%s: %s written again\n", *db, plural.S(n, "card record"))
		return 0
	}
	if child, ok := os.LookupEnv(checkChildEnv); !ok {
		return checkInChild(*db, *limit, stdout, stderr)
	} else if d, err := time.ParseDuration(child); err == nil {
		openTimeout = d
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
		fmt.Fprintf(stdout, "%s: %s (schema %d, %s, %s)\n", *db, plural.S(len(r.Problems)+r.More, "problem"), r.Schema, plural.S(r.Users, "user"), plural.S(r.Cards, "card"))
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok (schema %d, %s, %s)\n", *db, r.Schema, plural.S(r.Users, "user"), plural.S(r.Cards, "card"))
	return 0
}

// checkChildEnv, set (to the database lock timeout), makes latchctl db
// check run the check itself: it is the child of checkInChild.
const checkChildEnv = "LATCHCTL_DB_CHECK_CHILD"

// checkTimeout is db check's default --timeout, far above what a check
// takes: a million-user database (743 MB) checks in about 4 s on the
// development VM (docs/store.md).
const checkTimeout = 10 * time.Minute

// checkInChild runs db check on path in a child process (this program
// again, with checkChildEnv set) and passes on its output and exit code.
// store.CheckFile is bounded by the file (each page read once, bbolt's
// walks only on sound pages), so the child is a backstop: a check that
// still crashes (a Go fatal error no recover can catch) or runs past
// limit is killed and reported as a corrupt file, exit 1.
func checkInChild(path string, limit time.Duration, stdout, stderr io.Writer) int {
	const name = "db check"
	exe, err := os.Executable()
	if err != nil {
		return fail(stderr, name, fmt.Errorf("cannot run the check in a child process: %w", err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "db", "check", "--db", path, "--config", os.DevNull)
	cmd.Env = append(os.Environ(), checkChildEnv+"="+openTimeout.String())
	cmd.WaitDelay = 5 * time.Second // output pipes left open by a killed child
	var errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &errs
	err = cmd.Run()
	code := cmd.ProcessState.ExitCode()
	switch {
	case ctx.Err() != nil:
		return fail(stderr, name, fmt.Errorf("%s: the check did not finish in %v and was stopped: the file is probably corrupt (pages that loop)", path, limit))
	case err == nil || code == 1:
		stderr.Write(errs.Bytes())
		return code
	}
	// A crash: show only its first line (a Go traceback holds memory words).
	first, _, _ := strings.Cut(strings.TrimSpace(errs.String()), "\n")
	return fail(stderr, name, fmt.Errorf("%s: the check crashed (%v: %s): the file is corrupt", path, err, first))
}
