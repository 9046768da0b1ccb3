package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/latchd/latch/internal/boltflip"
)

// corruptChildEnv, when set to a folder, makes the test binary a child that
// opens the folder's (corrupt) database, makes the door's lookups for every
// user of expect.json, closes it and checks the file, printing one line per
// stage, so that a panic, a fault or a hang in any stage shows in the parent.
const corruptChildEnv = "LATCH_STORE_CORRUPT_CHILD"

// corruptUser is what the door must hear about one user of the database
// the corrupt copies are made from.
type corruptUser struct {
	Card   CardKey
	View   UserView
	Active bool
	Code   string // MFA code, or entry code when Entry, or "" for none
	Entry  bool
}

const (
	corruptUsers  = 3000
	corruptCopies = 30
)

// corruptSeed picks the flips, corruptFlips bytes a copy;
// LATCH_CORRUPT_SEED and LATCH_CORRUPT_FLIPS try others.
var (
	corruptSeed  = uint64(10)
	corruptFlips = 8
)

// buildCorruptBase makes a database of corruptUsers users, each with a
// card and, in turn, a second card, an entry code or an MFA code, and
// writes what the door must answer for each to expect.json.
func buildCorruptBase(t *testing.T, dir string) []corruptUser {
	// A fixed key and clock: the same bytes every run, so the same flips
	// land on the same data.
	if err := os.WriteFile(filepath.Join(dir, "device.key"), bytes.Repeat([]byte{7}, keySize), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key"),
		Now: func() time.Time { return crashNow }})
	if err != nil {
		t.Fatal(err)
	}
	importGenerated(t, s, filepath.Join(dir, "in.csv"), corruptUsers, true, true)
	var want []corruptUser
	for i := range corruptUsers {
		k := CardKey{Format: "h10301", FacilityCode: uint32(i >> 16), CardNumber: uint64(i & 0xffff)}
		u, active, err := s.LookupCard(k)
		if err != nil {
			t.Fatal(err)
		}
		c := corruptUser{Card: k, View: u, Active: active}
		switch i % 3 {
		case 1:
			c.Code, c.Entry = "9"+benchCode(i), true
		case 2:
			c.Code = benchCode(i)
		}
		want = append(want, c)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// bbolt's page allocation varies from run to run (its free list is a
	// map); a compacted copy lays the same data out the same way.
	src, err := bolt.Open(filepath.Join(dir, "latch.db"), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := bolt.Open(filepath.Join(dir, "compact.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bolt.Compact(dst, src, 0); err != nil {
		t.Fatal(err)
	}
	src.Close()
	dst.Close()
	if err := os.Rename(filepath.Join(dir, "compact.db"), filepath.Join(dir, "latch.db")); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(want)
	if err := os.WriteFile(filepath.Join(dir, "expect.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return want
}

// corruptChild runs in the child process; see corruptChildEnv.
func corruptChild() int {
	dir := os.Getenv(corruptChildEnv)
	var want []corruptUser
	b, err := os.ReadFile(filepath.Join(dir, "expect.json"))
	if err == nil {
		err = json.Unmarshal(b, &want)
	}
	if err != nil {
		fmt.Println("setup:", err)
		return 3
	}
	path := filepath.Join(dir, "latch.db")
	fmt.Println("stage open")
	s, err := Open(Options{Path: path, KeyFile: filepath.Join(dir, "device.key"), Timeout: time.Second})
	if err != nil {
		fmt.Printf("open refused: %v\n", err)
	} else {
		fmt.Println("stage lookups")
		errs, wrong, other := 0, 0, 0
		count := func(ok bool, err error) {
			switch {
			case err != nil:
				errs++
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrCardChanged) && !errors.Is(err, ErrUserSuspended) {
					other++
					fmt.Printf("lookup error not ErrCorrupt: %v\n", err)
				}
			case !ok:
				wrong++
			}
		}
		for _, w := range want {
			u, active, err := s.LookupCard(w.Card)
			count(reflect.DeepEqual(u, w.View) && active == w.Active, err)
			ok, err := s.VerifyCardCode(w.Card, w.View.UserID, []byte(w.Code), true)
			count(ok == (w.Code != ""), err)
			ok, err = s.VerifyCardCode(w.Card, w.View.UserID, []byte("00000000000000"), true)
			count(!ok, err)
			if w.Entry {
				u, err := s.LookupEntryCode([]byte(w.Code))
				count(reflect.DeepEqual(u, w.View), err)
			}
			ok, err = s.VerifySecondFactor(w.View.UserID, []byte(w.Code), true)
			count(ok == (w.Code != ""), err)
		}
		fmt.Printf("lookups errors=%d wrong=%d\n", errs, wrong)
		if other > 0 {
			fmt.Printf("lookups other=%d\n", other)
		}
		fmt.Println("stage close")
		if err := s.Close(); err != nil {
			fmt.Printf("close: %v\n", err)
		}
	}
	fmt.Println("stage check")
	r, err := CheckFile(path, time.Second)
	switch {
	case err != nil:
		fmt.Printf("check error: %v\n", err)
	case r.OK():
		fmt.Println("check ok")
	default:
		fmt.Printf("check problems=%d first=%q\n", len(r.Problems)+r.More, r.Problems[0])
	}
	fmt.Println("done")
	return 0
}

// TestCorruptDatabase flips corruptFlips bytes in the used pages of each of
// corruptCopies copies of a 3000-user database (seeded) and runs, on each,
// in a child process: Open, the door's lookups for every user, Close, and
// CheckFile. No stage may panic, fault or hang (a child still running after
// its bound is killed and fails the test). A lookup may fail with an error
// (the door refuses) but, when CheckFile finds the file sound, every
// answer must be the clean database's; and a copy whose answers changed
// must not pass the check.
func TestCorruptDatabase(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("re-executes the test binary")
	}
	base := t.TempDir()
	buildCorruptBase(t, base)
	pages, err := boltflip.Used(filepath.Join(base, "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d used pages of %d bytes", len(pages.IDs), pages.Size)
	key, _ := os.ReadFile(filepath.Join(base, "device.key"))
	expect, _ := os.ReadFile(filepath.Join(base, "expect.json"))
	if v := os.Getenv("LATCH_CORRUPT_SEED"); v != "" {
		fmt.Sscan(v, &corruptSeed)
	}
	if v := os.Getenv("LATCH_CORRUPT_FLIPS"); v != "" {
		fmt.Sscan(v, &corruptFlips)
	}
	rng := rand.New(rand.NewPCG(corruptSeed, 0))
	var crashed, hung, refused, lookupErrs, checkBad, checkOK int
	for i := range corruptCopies {
		dir := filepath.Join(base, fmt.Sprintf("copy%02d", i))
		os.Mkdir(dir, 0o700)
		flips, err := pages.Copy(filepath.Join(base, "latch.db"), filepath.Join(dir, "latch.db"), rng, corruptFlips)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "device.key"), key, 0o600)
		os.WriteFile(filepath.Join(dir, "expect.json"), expect, 0o600)
		// The bound is generous: a healthy child takes well under a second.
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), corruptChildEnv+"="+dir)
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		err = cmd.Run()
		timedOut := ctx.Err() != nil
		cancel()
		o := out.String()
		lines := strings.Split(strings.TrimSpace(o), "\n")
		last := lines[len(lines)-1]
		switch {
		case timedOut:
			hung++
			t.Errorf("copy %d %v: hung in %s", i, flips, last)
			continue
		case err != nil || !strings.HasSuffix(o, "done\n"):
			crashed++
			se := stderr.String()
			if len(se) > 600 {
				se = se[:600]
			}
			t.Errorf("copy %d %v: crashed in %s: %v\n%s", i, flips, last, err, se)
			continue
		}
		if strings.Contains(o, "lookups other=") {
			t.Errorf("copy %d %v: a lookup error that is not ErrCorrupt (nor a refusal):\n%s", i, flips, o)
		}
		bad := strings.Contains(o, "open refused") || !strings.Contains(o, "lookups errors=0 wrong=0")
		if strings.Contains(o, "open refused") {
			refused++
		} else if !strings.Contains(o, "lookups errors=0 ") {
			lookupErrs++
		}
		ok := strings.Contains(o, "check ok")
		if ok {
			checkOK++
		} else {
			checkBad++
		}
		if ok && bad {
			t.Errorf("copy %d %v: CheckFile found nothing wrong, but the door's answers changed:\n%s", i, flips, o)
		}
		if !ok && !strings.Contains(o, "check problems=") && !strings.Contains(o, "check error: ") {
			t.Errorf("copy %d: no check result:\n%s", i, o)
		}
		t.Logf("copy %d %v: %s", i, flips, strings.ReplaceAll(strings.TrimSpace(o), "\n", " | "))
	}
	t.Logf("%d copies: %d crashed, %d hung; of the rest, %d refused at Open, %d with lookup errors; check: %d corrupt, %d ok",
		corruptCopies, crashed, hung, refused, lookupErrs, checkBad, checkOK)
}
