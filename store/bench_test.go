package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/latchd/latch/internal/benchlat"
)

// Benchmarks build their databases once per run with the bulk import path
// in a temporary folder that TestMain removes.

var benchDir string

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	if os.Getenv(corruptChildEnv) != "" {
		os.Exit(corruptChild())
	}
	code := m.Run()
	if benchDir != "" && os.Getenv("LATCH_BENCH_DIR") == "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchTemp returns the benchmarks' folder. LATCH_BENCH_DIR names a
// folder to keep the databases in instead, so that later runs skip
// building them (1 M users take 15–60 s).
func benchTemp(tb testing.TB) string {
	if benchDir == "" && os.Getenv("LATCH_BENCH_DIR") != "" {
		benchDir = os.Getenv("LATCH_BENCH_DIR")
		if err := os.MkdirAll(benchDir, 0o700); err != nil {
			tb.Fatal(err)
		}
	}
	if benchDir == "" {
		d, err := os.MkdirTemp("", "latch-store-bench-")
		if err != nil {
			tb.Fatal(err)
		}
		benchDir = d
	}
	return benchDir
}

// benchCode is user i's MFA code (entry code: the same with a 9 in front).
func benchCode(i int) string { return fmt.Sprintf("%08d", i*7919%100000000) }

// writeUsersCSV writes n users, each with an h10301-style card (facility
// i/65536, number i%65536 — 26-bit cards carry a 16-bit card number).
func writeUsersCSV(tb testing.TB, path string, n int) {
	writeRows(tb, path, "externalId,firstName,lastName,email,groups,cardFormat,facilityCode,cardNumber", n, func(w io.Writer, i int) {
		fmt.Fprintf(w, "emp%07d,First%d,Last%d,user%d@example.com,staff;building-%d,h10301,%d,%d\n", i, i, i, i, i%10, i>>16, i&0xffff)
	})
}

// writeRows writes a CSV file of header and n rows, row i written by row.
func writeRows(tb testing.TB, path, header string, n int, row func(w io.Writer, i int)) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(header + "\n")
	for i := 0; i < n; i++ {
		row(w, i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// writeCredsCSV writes one credential row per user: by default an MFA
// code; with mix, rows cycle card (raw format), entry code, MFA code.
func writeCredsCSV(tb testing.TB, path string, n int, mix bool) {
	writeRows(tb, path, "externalId,type,cardFormat,cardNumber,code", n, func(w io.Writer, i int) {
		switch {
		case mix && i%3 == 0:
			fmt.Fprintf(w, "emp%07d,card,raw,%d,\n", i, 1<<32+i)
		case mix && i%3 == 1:
			fmt.Fprintf(w, "emp%07d,entry_code,,,9%s\n", i, benchCode(i))
		default:
			fmt.Fprintf(w, "emp%07d,mfa_code,,,%s\n", i, benchCode(i))
		}
	})
}

var builtMu sync.Mutex
var built = map[string]string{}

// importGenerated imports n generated users, each with one card, through
// the scratch file csv; with creds it then imports their codes as
// writeCredsCSV writes them (mix as there). csv is removed afterwards.
func importGenerated(tb testing.TB, s *Store, csv string, n int, creds, mix bool) {
	tb.Helper()
	writeUsersCSV(tb, csv, n)
	if _, err := s.ImportFile(csv, importer1, nil); err != nil {
		tb.Fatal(err)
	}
	if creds {
		writeCredsCSV(tb, csv, n, mix)
		if _, err := s.ImportFile(csv, importer1, nil); err != nil {
			tb.Fatal(err)
		}
	}
	os.Remove(csv)
}

// usersDB returns a folder holding latch.db and device.key with n users,
// each with one card; withMFA adds one MFA code each. Built once per run.
func usersDB(tb testing.TB, n int, withMFA bool) string {
	builtMu.Lock()
	defer builtMu.Unlock()
	name := fmt.Sprintf("users-%d-%v", n, withMFA)
	if d, ok := built[name]; ok {
		return d
	}
	dir := filepath.Join(benchTemp(tb), name)
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		built[name] = dir
		return dir
	}
	os.RemoveAll(dir)
	os.MkdirAll(dir, 0o700)
	start := time.Now()
	s, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
	if err != nil {
		tb.Fatal(err)
	}
	importGenerated(tb, s, filepath.Join(dir, "users.csv"), n, withMFA, false)
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "done"), nil, 0o600); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("built %s in %v", name, time.Since(start).Round(time.Millisecond))
	built[name] = dir
	return dir
}

// BenchmarkLookupVerify is the door's work per Card + Code decision:
// LookupCard then VerifyCardCode, for random users.
func BenchmarkLookupVerify(b *testing.B) {
	for _, n := range []int{1000, 1000000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			dir := usersDB(b, n, true)
			s, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			// Map every page, as in a daemon that has been running a while.
			s.db.View(func(tx *bolt.Tx) error {
				return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
					return walk(b)
				})
			})
			// b.N is not known before b.Loop's first round: size the
			// latency record up front so that growing it (and the garbage
			// that leaves) does not show in the measured tail.
			lat := make([]time.Duration, 0, 1<<22)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				i := rng.IntN(n)
				code := []byte(benchCode(i))
				t0 := time.Now()
				k := CardKey{Format: "h10301", FacilityCode: uint32(i >> 16), CardNumber: uint64(i & 0xffff)}
				u, active, err := s.LookupCard(k)
				if err != nil || !active {
					b.Fatalf("LookupCard(%d): %v", i, err)
				}
				ok, err := s.VerifyCardCode(k, u.UserID, code, true)
				lat = append(lat, time.Since(t0))
				if err != nil || !ok {
					b.Fatalf("VerifyCardCode(%d) = %v, %v", i, ok, err)
				}
			}
			b.StopTimer()
			benchlat.Report(b, lat)
		})
	}
}

// BenchmarkImport1M imports 1,000,000 credential rows (one MFA code per
// user, or a card/entry/MFA mix) into a copy of a database of 1,000,000
// users, and a users file of 1,000,000 new users into an empty database. peak-RSS-MiB is the process's resident-set high-water mark
// during the import (Linux: VmHWM after resetting it through
// /proc/self/clear_refs), which includes the database's mapped pages; the
// memory target is checked in a cgroup (scripts/measure-import-cgroup.sh).
func BenchmarkImport1M(b *testing.B) {
	const n = 1000000
	for _, mix := range []bool{false, true} {
		b.Run(fmt.Sprintf("mix=%v", mix), func(b *testing.B) {
			src := usersDB(b, n, false)
			csv := filepath.Join(benchTemp(b), fmt.Sprintf("creds-%v.csv", mix))
			if _, err := os.Stat(csv); err != nil {
				writeCredsCSV(b, csv, n, mix)
			}
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir := b.TempDir()
				copyFile(b, filepath.Join(src, "latch.db"), filepath.Join(dir, "latch.db"))
				copyFile(b, filepath.Join(src, "device.key"), filepath.Join(dir, "device.key"))
				os.Chmod(filepath.Join(dir, "device.key"), 0o600)
				s, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
				if err != nil {
					b.Fatal(err)
				}
				// The heap limit latchctl import sets (cmd/latchctl/import.go).
				old := debug.SetMemoryLimit(120 << 20)
				sum := timedImport(b, s, csv)
				debug.SetMemoryLimit(old)
				if sum.Rows != n || sum.CredentialsAdded != n {
					b.Fatalf("summary %+v", sum)
				}
				s.Close()
			}
		})
	}
	// A users file: 1,000,000 new users with a card each, into an empty
	// database. latchctl sets no heap limit for a users file, so neither
	// does this case.
	b.Run("users", func(b *testing.B) {
		csv := filepath.Join(benchTemp(b), "users-1m.csv")
		if _, err := os.Stat(csv); err != nil {
			writeUsersCSV(b, csv, n)
		}
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			dir := b.TempDir()
			s, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
			if err != nil {
				b.Fatal(err)
			}
			sum := timedImport(b, s, csv)
			if sum.Rows != n || sum.UsersCreated != n || sum.CredentialsAdded != n {
				b.Fatalf("summary %+v", sum)
			}
			s.Close()
		}
	})
}

// timedImport imports csv into s with the timer running, from a collected
// heap and a reset peak RSS, and reports rows/s and peak-RSS-MiB.
func timedImport(b *testing.B, s *Store, csv string) ImportSummary {
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	b.StartTimer()
	start := time.Now()
	sum, err := s.ImportFile(csv, importer1, nil)
	el := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(sum.Rows)/el.Seconds(), "rows/s")
	if p := peakRSS(); p > 0 {
		b.ReportMetric(float64(p)/(1<<20), "peak-RSS-MiB")
	}
	return sum
}

func copyFile(tb testing.TB, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
}

// resetPeakRSS resets VmHWM (Linux ≥ 4.0); elsewhere it does nothing.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns VmHWM in bytes, or 0 where /proc is missing.
func peakRSS() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func walk(b *bolt.Bucket) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if c := b.Bucket(k); c != nil {
				return walk(c)
			}
		}
		return nil
	})
}

// BenchmarkImportLongLine imports a users file whose second line is one
// 200 MB field (the hostile input of the row limit) and reports the heap
// the import reserved and allocated: bounded by MaxRowBytes, not the line.
//
//	go test -run XXX -bench ImportLongLine -benchtime 1x ./store/
func BenchmarkImportLongLine(b *testing.B) {
	dir := b.TempDir()
	s := openAt(b, dir, nil)
	p := filepath.Join(dir, "line.csv")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("externalId,firstName\ne1,")
	chunk := bytes.Repeat([]byte{'x'}, 1<<20)
	for i := 0; i < 200; i++ {
		w.Write(chunk)
	}
	w.WriteString("\n")
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := s.ImportFile(p, importer1, nil)
		var ie *ImportError
		if !errors.As(err, &ie) {
			b.Fatalf("err = %v", err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapSys)/(1<<20), "HeapSys-MiB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MiB/op")
}
