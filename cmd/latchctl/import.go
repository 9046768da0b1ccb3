package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"time"

	"github.com/latchd/latch/api/apitype"

	latchconfig "github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/internal/plural"
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

const importUsage = "usage: latchctl import [--db PATH] [--key PATH] [--config PATH] [--socket PATH | --url URL] [--token-file FILE] FILE\n\n" +
	"Imports a users or credentials CSV file (see docs/store.md) directly into the\n" +
	"database. Every row is checked first; nothing is written unless all pass.\n" +
	"While latchd runs (it holds the database), the file goes through its API\n" +
	"instead: the socket of the config's [api] (or --socket / --url), with a token\n" +
	"from --token-file, $LATCH_TOKEN_FILE or $LATCH_TOKEN whose role may import."

func runImport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultDB, "database `PATH`")
	key := fs.String("key", defaultKey, "device key file `PATH`")
	config := fs.String("config", "", "config file `PATH` (database and key_file from [controller]; the groups a users file may assign, read from "+defaultConfig+" when not given)")
	noProgress := fs.Bool("no-progress", false, "never draw a progress bar")
	c := addConnFlagsBut(fs) // for the import through a running latchd
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
				*key = cfg.StoreKeyFile()
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
		// latchd runs and holds the database: the same import, through
		// its API (its config's socket, a token with the import permission).
		if cfgPath != "" {
			c.config = cfgPath
		}
		return importViaAPI(c, fs, file, fi.Size(), !*noProgress, stdout, stderr)
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
	fmt.Fprintf(stdout, "imported %s: %s, %s created, %s updated, %s added\n",
		file, plural.S(sum.Rows, "row"), plural.S(sum.UsersCreated, "user"), plural.S(sum.UsersUpdated, "user"), plural.S(sum.CredentialsAdded, "credential"))
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

// importViaAPI sends file to a running latchd's POST /v1/import, with a
// progress bar over the upload on a terminal; latchd checks every row
// before it writes any, as the direct import does.
func importViaAPI(c *conn, fs *flag.FlagSet, file string, size int64, bar bool, stdout, stderr io.Writer) int {
	if err := c.setup(fs); err != nil {
		return fail(stderr, "import", err)
	}
	f, err := os.Open(file)
	if err != nil {
		return fail(stderr, "import", err)
	}
	defer f.Close()
	fmt.Fprintln(stderr, "latchctl import: latchd is running (it holds the database): importing through its API")
	var body io.Reader = f
	if tf, ok := stderr.(*os.File); ok && bar && term.IsTerminal(int(tf.Fd())) && size >= progressMinBytes {
		pb := progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("uploading"),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionOnCompletion(func() { fmt.Fprint(stderr, "latchd is checking and writing the rows…") }),
		)
		r := progressbar.NewReader(f, pb)
		body = &r
		defer pb.Finish()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	var out apitype.ImportResult
	if err := c.do(ctx, http.MethodPost, "/v1/import", sizedReader{body, size}, &out); err != nil {
		return fail(stderr, "import", err)
	}
	fmt.Fprintf(stdout, "imported %s: %s, %s created, %s updated, %s added\n",
		file, plural.S(out.Rows, "row"), plural.S(out.UsersCreated, "user"), plural.S(out.UsersUpdated, "user"), plural.S(out.CredentialsAdded, "credential"))
	return 0
}

// sizedReader is a request body whose length is known (Size): latchd
// refuses a too-large import before reading it.
type sizedReader struct {
	io.Reader
	n int64
}

func (r sizedReader) Size() int64 { return r.n }

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
