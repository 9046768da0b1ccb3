package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"time"

	latchconfig "github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/store"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Defaults from the config file's [controller] section (docs/config.md).
const (
	defaultDB  = "/var/lib/latch/latch.db"
	defaultKey = "/var/lib/latch/device.key"
	// A progress bar is worth drawing from this size on (about 20,000 rows).
	progressMinBytes = 1 << 20
	// importMemoryLimit is the Go heap's soft limit while importing, so
	// that a million rows of either kind of file complete inside a 64 MiB
	// memory cgroup (docs/store.md, "Import memory in a memory cgroup"):
	// the import's pending changes are spilled to files, and what stays on
	// the heap is a bounded working set (bbolt's transaction of mergeChunk
	// records, the CSV reader), which the collector would otherwise let
	// grow to twice its size. The GOMEMLIMIT environment variable
	// overrides it.
	importMemoryLimit = 32 << 20
)

const importUsage = "usage: latchctl import [--db PATH] [--key PATH] [--config PATH] FILE\n\n" +
	"Imports a users or credentials CSV file (see docs/store.md) directly into the\n" +
	"database. Every row is checked first; nothing is written unless all pass.\n" +
	"latchd must not be running: use the API's CSV import while it is."

func runImport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database `PATH`")
	key := fs.String("key", defaultKey, "device key file `PATH`")
	config := fs.String("config", "", "config file `PATH` (database and key_file from [controller]; the groups a users file may assign, read from "+defaultConfig+" when not given)")
	noProgress := fs.Bool("no-progress", false, "never draw a progress bar")
	fs.Usage = func() {
		fmt.Fprintln(stderr, importUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	file := fs.Arg(0)
	// The header decides the memory limit and whether the config's groups
	// are needed; it is read with the import's own (bounded) reader.
	head, _ := readHeader(file)
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfgPath := *config
	if cfgPath == "" && slices.Contains(head.Columns, "groups") {
		// The groups a users file assigns must be the config's (as in the
		// API); without --config, the default config names them.
		cfgPath = defaultConfig
	}
	retention := 0
	var known func(string) bool
	if cfgPath != "" {
		cfg, err := latchconfig.Load(cfgPath)
		if err != nil {
			if *config == "" {
				fmt.Fprintf(stderr, "latchctl import: the file has a groups column, whose groups must be the config's: pass --config (%v)\n", err)
			} else {
				fmt.Fprintf(stderr, "latchctl import: %v\n", err)
			}
			return 1
		}
		groups := map[string]bool{}
		for _, g := range cfg.Groups {
			groups[g.Name] = true
		}
		known = func(name string) bool { return groups[name] }
		if *config != "" {
			// Explicit --db and --key win over the config file.
			if !set["db"] {
				*db = cfg.Controller.Database
			}
			if !set["key"] {
				*key = cfg.Controller.KeyFile
			}
			retention = cfg.Controller.EventRetention
		}
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(importMemoryLimit)
	}
	fi, err := os.Stat(file)
	if err != nil {
		fmt.Fprintf(stderr, "latchctl import: %v\n", err)
		return 1
	}
	s, err := store.Open(store.Options{Path: *db, KeyFile: *key, EventRetention: retention})
	if errors.Is(err, store.ErrInUse) {
		fmt.Fprintf(stderr, "latchctl import: %v: stop latchd first, or import through its API\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "latchctl import: %v\n", err)
		return 1
	}
	defer s.Close()

	var progress func(store.ImportProgress)
	if f, ok := stderr.(*os.File); ok && !*noProgress && term.IsTerminal(int(f.Fd())) && fi.Size() >= progressMinBytes {
		bar := progressbar.NewOptions64(2*fi.Size(),
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("checking"),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
		)
		pass := 1
		progress = func(p store.ImportProgress) {
			if p.Pass != pass {
				pass = p.Pass
				bar.Describe("writing")
			}
			bar.Set64(int64(p.Pass-1)*p.TotalBytes + p.Bytes)
		}
		defer bar.Finish()
	}

	sum, err := s.ImportFileWith(file, store.Actor{Name: "latchctl", Role: "import"}, store.ImportOptions{Progress: progress, KnownGroup: known})
	var ie *store.ImportError
	if errors.As(err, &ie) {
		for _, r := range ie.Rows {
			fmt.Fprintf(stderr, "%s:%s\n", file, r)
		}
		if ie.More > 0 {
			fmt.Fprintf(stderr, "%s: and %d more bad rows\n", file, ie.More)
		}
		fmt.Fprintf(stderr, "latchctl import: %d bad row(s); nothing was imported\n", len(ie.Rows)+ie.More)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "latchctl import: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "imported %s: %d rows, %d users created, %d users updated, %d credentials added\n",
		file, sum.Rows, sum.UsersCreated, sum.UsersUpdated, sum.CredentialsAdded)
	// A large import leaves the old generation's pages free: give them
	// back (docs/store.md, "Database size"). The import is committed; a
	// failed compaction leaves the database as the import left it.
	if err := s.Close(); err != nil {
		fmt.Fprintf(stderr, "latchctl import: %v\n", err)
		return 1
	}
	st, err := store.CompactFile(*db, compactMinFree)
	if err != nil {
		fmt.Fprintf(stderr, "latchctl import: the import is complete, but compacting the database failed: %v\n", err)
		return 1
	}
	if st.Compacted {
		fmt.Fprintf(stdout, "compacted %s: %.1f MB -> %.1f MB in %v\n", *db, float64(st.Before)/1e6, float64(st.After)/1e6, st.Took.Round(100*time.Millisecond))
	}
	return 0
}

// compactMinFree: latchctl import compacts the database when at least this
// share of the file is free pages.
const compactMinFree = 0.2

// readHeader reads the CSV file's header as store.ImportFile does (a
// "type" column makes a credentials file), with its limit on a row's length.
func readHeader(path string) (store.ImportHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return store.ImportHeader{}, err
	}
	defer f.Close()
	return store.ReadImportHeader(f)
}
