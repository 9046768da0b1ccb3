package store

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchd/latch/internal/apitest"
)

// crashChildEnv, when set to a folder, makes the test binary a child that
// imports creds.csv into the folder's database, printing a line at every
// progress report, so that the parent can kill it at a chosen point.
const crashChildEnv = "LATCH_STORE_CRASH_CHILD"

var crashNow = time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)

func crashChild() int {
	dir := os.Getenv(crashChildEnv)
	// Small transactions so that a kill can land in many places.
	bulkThreshold, mergeChunk, viewRefresh = 100, 250, 1000
	s, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key"),
		Now: func() time.Time { return crashNow }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	n := 0
	_, err = s.ImportFile(filepath.Join(dir, "creds.csv"), importer1, func(p ImportProgress) {
		n++
		fmt.Printf("progress %d pass %d\n", n, p.Pass)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s.Close()
	fmt.Println("done")
	return 0
}

// TestImportCrash kills a child process importing a large file at random
// points (SIGKILL, at least 10 times) and checks that the database then
// opens, is consistent, and holds none or all of the import.
func TestImportCrash(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("uses SIGKILL and re-executes the test binary")
	}
	const users, rows = 800, 3000
	base := t.TempDir()
	func() {
		s := openAt(t, base, func(o *Options) { o.Now = func() time.Time { return crashNow } })
		var b strings.Builder
		b.WriteString("externalId,firstName,cardFormat,facilityCode,cardNumber\n")
		for i := 0; i < users; i++ {
			fmt.Fprintf(&b, "c%04d,N%d,h10301,1,%d\n", i, i, i)
		}
		if _, err := s.ImportFile(writeCSV(t, base, "u.csv", b.String()), importer1, nil); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}()
	var b strings.Builder
	b.WriteString("externalId,type,cardFormat,cardNumber,code\n")
	for i := 0; i < rows; i++ {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "c%04d,mfa_code,,,%06d\n", i%users, i)
		case 1:
			fmt.Fprintf(&b, "c%04d,card,raw,%d,\n", i%users, 100000+i)
		default:
			fmt.Fprintf(&b, "c%04d,mfa_code,,,%08d\n", i%users, i*31)
		}
	}
	creds := b.String()

	snapshot := func(dir string) map[string]string {
		s, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key"), Now: func() time.Time { return crashNow }})
		if err != nil {
			t.Fatalf("open after kill: %v", err)
		}
		defer s.Close()
		checkDB(t, s)
		return dump(t, s)
	}
	reset := func(dir string) {
		for _, f := range []string{"latch.db", "device.key"} {
			copyFile(t, filepath.Join(base, f), filepath.Join(dir, f))
		}
		os.Chmod(filepath.Join(dir, "device.key"), 0o600)
		writeCSV(t, dir, "creds.csv", creds)
	}
	// runChild runs the child and kills it after kill progress lines
	// (kill < 0: let it finish). It returns the lines it saw.
	runChild := func(dir string, kill int) (int, bool) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		out, stderr := apitest.Start(t, cmd)
		sc := bufio.NewScanner(out)
		lines, done := 0, false
		if kill == 0 {
			cmd.Process.Kill()
		}
		for sc.Scan() {
			if sc.Text() == "done" {
				done = true
				continue
			}
			lines++
			if lines == kill {
				cmd.Process.Kill() // SIGKILL
			}
		}
		err := cmd.Wait()
		if kill < 0 && err != nil {
			t.Fatalf("child: %v\n%s", err, stderr.String())
		}
		return lines, done
	}

	before := func() map[string]string { d := t.TempDir(); reset(d); return snapshot(d) }()
	refDir := t.TempDir()
	reset(refDir)
	total, done := runChild(refDir, -1)
	if !done || total < 10 {
		t.Fatalf("reference import: done=%v after %d progress lines", done, total)
	}
	after := snapshot(refDir)
	if len(after) <= len(before) {
		t.Fatal("the reference import changed nothing")
	}

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	dir := t.TempDir()
	reset(dir)
	var none, all int
	for i := 0; i < 12; i++ {
		kill := rng.IntN(total + 2) // total+1: never killed
		if i == 0 {
			kill = 0
		}
		_, _ = runChild(dir, kill)
		got := snapshot(dir)
		switch {
		case cmp.Equal(got, before):
			none++
		case cmp.Equal(got, after):
			all++
			reset(dir)
		default:
			t.Fatalf("kill after %d of %d progress lines: database holds part of the import:\n%s", kill, total, cmp.Diff(before, got))
		}
	}
	t.Logf("12 kills over %d progress points: %d none, %d all", total, none, all)
}
