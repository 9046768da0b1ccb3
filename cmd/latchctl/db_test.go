package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/latchd/latch/internal/boltflip"
	"github.com/latchd/latch/internal/daemontest"
	"github.com/latchd/latch/store"
)

// TestDBCommand: latchctl db check finds a stale card record without the
// key file, db repair writes it again, and both refuse a database latchd
// holds.
func TestDBCommand(t *testing.T) {
	old := openTimeout
	openTimeout = 10 * time.Millisecond
	defer func() { openTimeout = old }()
	dir := t.TempDir()
	path, keyPath := filepath.Join(dir, "latch.db"), filepath.Join(dir, "device.key")
	st, err := store.Open(store.Options{Path: path, KeyFile: keyPath})
	if err != nil {
		t.Fatal(err)
	}
	by := store.Actor{Name: "test"}
	u, err := st.CreateUser(store.UserFields{ExternalID: "ann"}, by)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddCard(u.UserID, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: 7, Active: true}, by); err != nil {
		t.Fatal(err)
	}
	ctl := func(args ...string) (int, string, string) {
		var o, e bytes.Buffer
		code := run(append([]string{"db"}, args...), &o, &e)
		return code, o.String(), e.String()
	}
	if code, _, errs := ctl("check", "--db", path, "--config", "/nonexistent"); code != 1 || !strings.Contains(errs, "config /nonexistent") {
		t.Errorf("check with a missing explicit config: %d %s", code, errs)
	}
	// Held by a running store: refused, with what to do.
	if code, _, errs := ctl("check", "--db", path); code != 1 || !strings.Contains(errs, "stop latchd first") {
		t.Errorf("check while held: %d %s", code, errs)
	}
	if code, _, errs := ctl("repair", "--db", path, "--key", keyPath); code != 1 || !strings.Contains(errs, "stop latchd first") {
		t.Errorf("repair while held: %d %s", code, errs)
	}
	st.Close()
	if code, out, errs := ctl("check", "--db", path); code != 0 || !strings.Contains(out, "ok (schema 4, 1 user, 1 card)") {
		t.Fatalf("check: %d %q %s", code, out, errs)
	}
	// A stale copy: the card record claims the user is suspended.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		var cards *bolt.Bucket
		tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if strings.HasPrefix(string(name), "data-") {
				cards = b.Bucket([]byte("cards"))
			}
			return nil
		})
		k, v := cards.Cursor().First()
		v = bytes.Clone(v)
		v[9] |= 1 // flags (after the 8-byte user id and the active byte): suspended
		return cards.Put(bytes.Clone(k), v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := ctl("check", "--db", path)
	if code != 1 || !strings.Contains(out, "card h10301/1/7 of "+u.UserID+": its copy of the user's view or codes is stale") || !strings.Contains(out, "1 problem (") {
		t.Errorf("check of a stale record: %d %q", code, out)
	}
	if code, out, errs := ctl("repair", "--db", path, "--key", keyPath); code != 0 || !strings.Contains(out, "1 card record written again") {
		t.Errorf("repair: %d %q %s", code, out, errs)
	}
	if code, out, _ := ctl("check", "--db", path); code != 0 {
		t.Errorf("check after the repair: %d %q", code, out)
	}
	if code, _, errs := ctl("fix"); code != 2 || !strings.Contains(errs, "latchctl db check") {
		t.Errorf("unknown action: %d %s", code, errs)
	}
}

// TestMain lets db check's child (this test binary run again, see
// checkInChild) be latchctl, and removes the daemon the end-to-end tests
// built.
func TestMain(m *testing.M) {
	if _, ok := os.LookupEnv(checkChildEnv); ok {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	code := m.Run()
	daemontest.RemoveBuilds()
	os.Exit(code)
}

// buildLatchctl builds this command into dir and returns its path. (go
// test puts its own GOROOT/bin first in PATH: "go" is the go that runs
// it.) The end-to-end tests' latchd comes from daemontest.Build.
func buildLatchctl(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "latchctl")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/latchctl: %v\n%s", err, out)
	}
	return bin
}

// TestDBCheckCorrupt runs the built latchctl db check on copies of a
// 2000-user database with 8 bytes flipped in used pages (seeded,
// internal/boltflip): each must report the file corrupt, exit 1, within
// its bound; and on a FIFO, where opening blocks for ever, the --timeout
// stops the check and reports the file, exit 1.
func TestDBCheckCorrupt(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("builds latchctl; uses a FIFO")
	}
	dir := t.TempDir()
	bin := buildLatchctl(t, dir)
	base := filepath.Join(dir, "latch.db")
	st, err := store.Open(store.Options{Path: base, KeyFile: filepath.Join(dir, "device.key")})
	if err != nil {
		t.Fatal(err)
	}
	var users, creds strings.Builder
	users.WriteString("externalId,firstName,lastName,email,cardFormat,facilityCode,cardNumber\n")
	creds.WriteString("externalId,type,code\n")
	for i := range 2000 {
		fmt.Fprintf(&users, "e%d,F%d,L%d,u%d@example.com,h10301,1,%d\n", i, i, i, i, i)
		fmt.Fprintf(&creds, "e%d,mfa_code,%08d\n", i, i*7919)
	}
	for _, csv := range []string{users.String(), creds.String()} {
		p := filepath.Join(dir, "in.csv")
		os.WriteFile(p, []byte(csv), 0o600)
		if _, err := st.ImportFile(p, store.Actor{Name: "test"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	pages, err := boltflip.Used(base)
	if err != nil {
		t.Fatal(err)
	}
	check := func(path string, args ...string) (int, string, time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"db", "check", "--db", path}, args...)...)
		start := time.Now()
		out, _ := cmd.CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("db check %s hung:\n%s", path, out)
		}
		return cmd.ProcessState.ExitCode(), string(out), time.Since(start)
	}
	if code, out, _ := check(base); code != 0 {
		t.Fatalf("the clean database: %d\n%s", code, out)
	}
	rng := rand.New(rand.NewPCG(3, 0))
	for i := range 5 {
		p := filepath.Join(dir, fmt.Sprintf("copy%d.db", i))
		flips, err := pages.Copy(base, p, rng, 8)
		if err != nil {
			t.Fatal(err)
		}
		code, out, took := check(p)
		if code != 1 || !strings.Contains(out, p+": ") {
			t.Errorf("copy %d %v: exit %d, want 1 and the file reported:\n%s", i, flips, code, out)
		}
		t.Logf("copy %d %v: exit %d in %v: %s", i, flips, code, took.Round(time.Millisecond), strings.ReplaceAll(strings.TrimSpace(out), "\n", " | "))
	}
	fifo := filepath.Join(dir, "fifo.db")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := check(fifo, "--timeout", "2s")
	if code != 1 || !strings.Contains(out, "did not finish in 2s") {
		t.Errorf("a check that does not end: exit %d\n%s", code, out)
	}
}
