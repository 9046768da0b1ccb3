// Command mkdb builds a latch database with N users for measurements: each
// user has an h10301-style card (h10304 so a million numbers fit) and is in
// group "staff". It writes a users CSV and imports it with store.ImportFile,
// the path latchctl's import takes.
//
//	go run ./scripts/mkdb -n 1000000 -db /tmp/m/latch.db -key /tmp/m/device.key
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/latchd/latch/store"
)

func main() {
	n := flag.Int("n", 1000000, "users")
	db := flag.String("db", "latch.db", "database file")
	key := flag.String("key", "device.key", "device key file")
	flag.Parse()
	if err := run(*n, *db, *key); err != nil {
		fmt.Fprintln(os.Stderr, "mkdb:", err)
		os.Exit(1)
	}
}

func run(n int, db, key string) error {
	csvPath := filepath.Join(filepath.Dir(db), "users.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "externalId,firstName,lastName,email,startDate,endDate,groups,cardFormat,facilityCode,cardNumber")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "u%07d,First%d,Last%d,,,,staff,h10304,%d,%d\n", i, i, i, 1+i/500000, i%500000)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	st, err := store.Open(store.Options{Path: db, KeyFile: key})
	if err != nil {
		return err
	}
	start := time.Now()
	sum, err := st.ImportFile(csvPath, store.Actor{Name: "mkdb", Role: "access_system_admin"}, nil)
	if err != nil {
		st.Close()
		return err
	}
	fmt.Fprintf(os.Stderr, "mkdb: %d users imported in %s\n", sum.UsersCreated, time.Since(start).Round(time.Millisecond))
	return st.Close()
}
