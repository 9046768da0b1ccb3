// Command dbsize measures what a latch database costs per user: the file,
// its free pages, and each bucket's pages (bbolt's Bucket.Stats) and
// records, for docs/store.md's size figures. With -build it first builds
// the measured sequence into an empty database: N users with a card each
// imported as a users file, then one MFA code each as a credentials file
// (both through store.ImportFile, the path latchctl import takes), then
// -reimport re-imports a users file of the same size with every user's
// last name changed, and reports after each step.
//
//	go run ./scripts/dbsize -build -n 1000000 -dir /tmp/dbsize
//	go run ./scripts/dbsize -db /var/lib/latch/latch.db
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/latchd/latch/store"
)

func main() {
	build := flag.Bool("build", false, "build the measured sequence into DIR first")
	n := flag.Int("n", 1000000, "users (-build)")
	dir := flag.String("dir", "/tmp/latch-dbsize", "folder of latch.db, device.key and the CSV files (-build)")
	reimport := flag.Int("reimport", 1, "re-imports of a changed users file of the same size after the sequence (-build)")
	compact := flag.Bool("compact", false, "after each import, compact as latchctl import does (store.CompactFile, 20 % free) (-build)")
	db := flag.String("db", "", "database to measure (default DIR/latch.db)")
	flag.Parse()
	path := *db
	if path == "" {
		path = filepath.Join(*dir, "latch.db")
	}
	if *build {
		if err := buildSeq(*dir, *n, *reimport, *compact); err != nil {
			fmt.Fprintln(os.Stderr, "dbsize:", err)
			os.Exit(1)
		}
		return
	}
	if err := report(path, "", 0); err != nil {
		fmt.Fprintln(os.Stderr, "dbsize:", err)
		os.Exit(1)
	}
}

// writeCSV writes header and n rows (row i by row) to path.
func writeCSV(path, header string, n int, row func(w *bufio.Writer, i int)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(header + "\n")
	for i := range n {
		row(w, i)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// usersCSV is the users file of store's benchmarks (BenchmarkImport1M's
// "users"): a name, an email, two groups and an h10301 card each; last
// is the last-name prefix (a re-import changes it).
func usersCSV(path string, n int, last string) error {
	return writeCSV(path, "externalId,firstName,lastName,email,groups,cardFormat,facilityCode,cardNumber", n, func(w *bufio.Writer, i int) {
		fmt.Fprintf(w, "emp%07d,First%d,%s%d,user%d@example.com,staff;building-%d,h10301,%d,%d\n", i, i, last, i, i, i%10, i>>16, i&0xffff)
	})
}

func credsCSV(path string, n int) error {
	return writeCSV(path, "externalId,type,code", n, func(w *bufio.Writer, i int) {
		fmt.Fprintf(w, "emp%07d,mfa_code,%08d\n", i, i*7919%100000000)
	})
}

func buildSeq(dir string, n, reimports int, compact bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	db := filepath.Join(dir, "latch.db")
	os.Remove(db)
	csv := filepath.Join(dir, "import.csv")
	by := store.Actor{Name: "dbsize", Role: "access_system_admin"}
	steps := []struct {
		name  string
		write func() error
	}{
		{"users file (card each)", func() error { return usersCSV(csv, n, "Last") }},
		{"credentials file (MFA code each)", func() error { return credsCSV(csv, n) }},
	}
	for i := range reimports {
		last := fmt.Sprintf("Re%dLast", i+1)
		steps = append(steps, struct {
			name  string
			write func() error
		}{fmt.Sprintf("re-import %d: users file, every last name changed", i+1), func() error { return usersCSV(csv, n, last) }})
	}
	for _, st := range steps {
		if err := st.write(); err != nil {
			return err
		}
		s, err := store.Open(store.Options{Path: db, KeyFile: filepath.Join(dir, "device.key")})
		if err != nil {
			return err
		}
		start := time.Now()
		sum, err := s.ImportFile(csv, by, nil)
		if err != nil {
			s.Close()
			return err
		}
		took := time.Since(start)
		if err := s.Close(); err != nil {
			return err
		}
		if compact {
			cs, err := store.CompactFile(db, 0.2)
			if err != nil {
				return err
			}
			if cs.Compacted {
				fmt.Printf("compacted: %.1f MB -> %.1f MB (%.1f MB free) in %v\n", float64(cs.Before)/1e6, float64(cs.After)/1e6, float64(cs.Free)/1e6, cs.Took.Round(time.Millisecond))
			}
		}
		if err := report(db, fmt.Sprintf("%s: %d rows in %v", st.name, sum.Rows, took.Round(time.Millisecond)), n); err != nil {
			return err
		}
	}
	os.Remove(csv)
	return nil
}

type row struct {
	name                string
	keys                int
	branch, leaf, inuse int
}

// report prints the file's figures; users 0 = count the users bucket's
// user records.
func report(path, title string, users int) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	var rows []row
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if strings.HasPrefix(string(name), "data-") {
				// Its sub-buckets, one row each (the generation's own
				// Stats would count them again).
				return b.ForEachBucket(func(sub []byte) error {
					sb := b.Bucket(sub)
					rows = append(rows, stats(string(name[:5])+string(sub), sb))
					if string(sub) == "users" && users == 0 {
						// Schema 4: one record per user (docs/store.md,
						// "Buckets").
						users = sb.Stats().KeyN
					}
					return nil
				})
			}
			rows = append(rows, stats(string(name), b))
			return nil
		})
	})
	if err != nil {
		return err
	}
	if users == 0 {
		users = 1
	}
	if title != "" {
		fmt.Println("##", title)
	}
	per := func(b int) float64 { return float64(b) / float64(users) }
	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	inBuckets := 0
	for _, r := range rows {
		inBuckets += r.branch + r.leaf
	}
	// A read-only open does not load bbolt's free list: what no bucket
	// holds is free pages, the free list and the two meta pages.
	fmt.Printf("file %d bytes = %.1f MB, %.0f B/user (%d users); in no bucket (free pages, free list, meta): %.1f MB, %.0f B/user\n",
		fi.Size(), float64(fi.Size())/1e6, per(int(fi.Size())), users, float64(int(fi.Size())-inBuckets)/1e6, per(int(fi.Size())-inBuckets))
	fmt.Printf("%-16s %9s %12s %12s %12s %10s %10s\n", "bucket", "keys", "pages B/user", "leaf B/user", "inuse B/user", "fill", "B/key")
	total := 0
	for _, r := range rows {
		pages := r.branch + r.leaf
		total += pages
		fill := 0.0
		if r.leaf > 0 {
			fill = float64(r.inuse) / float64(r.leaf)
		}
		bk := 0.0
		if r.keys > 0 {
			bk = float64(r.inuse) / float64(r.keys)
		}
		fmt.Printf("%-16s %9d %12.1f %12.1f %12.1f %9.0f%% %10.1f\n", r.name, r.keys, per(pages), per(r.leaf), per(r.inuse), 100*fill, bk)
	}
	fmt.Printf("%-16s %9s %12.1f\n\n", "all buckets", "", per(total))
	return nil
}

// stats is one bucket's own figures (not its sub-buckets').
func stats(name string, b *bolt.Bucket) row {
	s := b.Stats()
	r := row{name: name, keys: s.KeyN, branch: s.BranchAlloc, leaf: s.LeafAlloc, inuse: s.LeafInuse + s.BranchInuse}
	return r
}
