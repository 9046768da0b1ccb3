package main

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sys/unix"

	"github.com/latchd/latch/fleet"
	"github.com/latchd/latch/store"
)

// TestFleetFigures measures docs/fleet.md's "Figures" for latchd with
// [fleet] on: a controller (latchd --sim) whose replica holds
// LATCH_FLEET_FIGURES users (1000000 for the quoted figure) is started in
// a cgroup v1 memory group of its own, once with the server up and once
// with it down. It reports the start-up (exec to "latchd started": doors
// started, strikes locked; and to the first access_granted of a card
// badged at once), the process's VmHWM, VmRSS (RssAnon + RssFile: bbolt's
// mapped pages are file pages) and the group's memory.max_usage_in_bytes
// (page cache included); LATCH_FLEET_MEMLIMIT sets the group's hard limit.
// It fails when a start-up takes 1 s or more or VmHWM reaches 64 MiB. Skipped unless LATCH_FLEET_FIGURES is set: the
// replica's catch-up alone takes a minute or two.
func TestFleetFigures(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("LATCH_FLEET_FIGURES"))
	if n <= 0 {
		t.Skip("set LATCH_FLEET_FIGURES=1000000 (users) to measure docs/fleet.md's figures")
	}
	// LATCH_FLEET_MEMLIMIT (bytes) puts a hard limit on the daemon's group
	// (no swap): it must start and decide under it.
	limit, _ := strconv.ParseInt(os.Getenv("LATCH_FLEET_MEMLIMIT"), 10, 64)
	cgParent := memCgroupParent(t)
	bin := buildLatchd(t)
	root := t.TempDir()
	ns := plainNATS(t, root)
	key := make([]byte, 32)
	rand.Read(key)

	mgr := newMember(t, root, bin, "mgr", ns.url(), key, false)
	mgr.start()
	mgr.waitLog("the buckets", 30*time.Second, msg("replica rebuilt"))
	publishUsers(t, root, ns.url(), key, n)

	ctl := newMember(t, root, bin, "ctl1", ns.url(), key, true)
	ctl.start()
	caughtUp := time.Now()
	ctl.waitLog("the catch-up", 20*time.Minute, func(l map[string]any) bool {
		u, _ := l["users"].(float64)
		return l["message"] == "fleet: replica rebuilt" && int(u) >= n
	})
	t.Logf("catch-up of %d users: %s", n, time.Since(caughtUp).Round(time.Second))
	stopMember(ctl)
	mgr.kill()

	// The last user's card (publishUsers: user i has facility i>>16,
	// card number i&0xffff).
	last := badgeOf(n - 1)
	for _, natsUp := range []bool{true, false} {
		if !natsUp {
			ns.stop()
		}
		dropCache(t, filepath.Join(ctl.dir, "data", "latch.db")) // as after a reboot: its reads are charged to the group
		t0 := time.Now()
		d := startDaemon(t, "/bin/sh", []string{"-c", `cg="$1/latch-figures-$$"; mkdir "$cg" &&
			if [ "$2" != 0 ]; then echo "$2" >"$cg/memory.limit_in_bytes" && echo 0 >"$cg/memory.swappiness"; fi &&
			echo $$ >"$cg/cgroup.procs" && shift 2 && exec "$@"`,
			"sh", cgParent, strconv.FormatInt(limit, 10), bin, "--sim", "--config", ctl.cfg, "--log-format", "json"})
		started := time.Since(t0)
		d.Send(last)
		d.WaitFor("the first grant", event("access_granted"))
		decided := time.Since(t0)
		cg := filepath.Join(cgParent, fmt.Sprintf("latch-figures-%d", d.Cmd.Process.Pid))
		// Steady state: badge a spread of cards for a while.
		for i := range 200 {
			d.Send(badgeOf((i * 7919) % n))
			d.WaitFor("a grant", event("access_granted"))
		}
		st := procStatus(t, d.Cmd.Process.Pid)
		usage := readInt(t, filepath.Join(cg, "memory.max_usage_in_bytes"))
		fail := readInt(t, filepath.Join(cg, "memory.failcnt"))
		t.Logf("figures: users=%d nats_up=%v limit=%dMiB started=%s first_grant=%s VmHWM=%dMiB VmRSS=%dMiB RssAnon=%dMiB RssFile=%dMiB cgroup_max_usage=%dMiB failcnt=%d",
			n, natsUp, limit>>20, started.Round(time.Millisecond), decided.Round(time.Millisecond), st["VmHWM"]>>10, st["VmRSS"]>>10, st["RssAnon"]>>10, st["RssFile"]>>10, usage>>20, fail)
		d.Cmd.Process.Signal(syscall.SIGTERM)
		d.Wait()
		os.Remove(cg)
		if started >= time.Second || decided >= time.Second {
			t.Errorf("nats up %v: start-up %s, first grant %s: want under 1 s", natsUp, started, decided)
		}
		if st["VmHWM"] >= 64<<10 {
			t.Errorf("nats up %v: VmHWM %d KiB: want under 64 MiB", natsUp, st["VmHWM"])
		}
	}
}

func badgeOf(i int) string { return fmt.Sprintf("badge h10301 %d %d", i>>16, i&0xffff) }

// plainNATS runs nats-server with JetStream and no accounts (the
// figures need no permissions).
func plainNATS(t *testing.T, dir string) *serverProc {
	t.Helper()
	addr := freePort(t)
	return natsServer(t, dir, addr, fmt.Sprintf("listen: %s\njetstream { store_dir: %q }\n", addr, filepath.Join(dir, "js")))
}

// publishUsers makes n users (a card each) in a store of the site's key,
// as a site's member names them, and puts their documents into the creds
// bucket.
func publishUsers(t *testing.T, root, url string, key []byte, n int) {
	dir := filepath.Join(root, "gen")
	os.MkdirAll(dir, 0o700)
	kf := filepath.Join(dir, "site.key")
	os.WriteFile(kf, key, 0o600)
	csv := filepath.Join(dir, "users.csv")
	f, err := os.Create(csv)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("externalId,groups,cardFormat,facilityCode,cardNumber\n")
	for i := range n {
		fmt.Fprintf(w, "e%d,staff,h10301,%d,%d\n", i, i>>16, i&0xffff)
	}
	w.Flush()
	f.Close()
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "gen.db"), KeyFile: kf, SiteIDs: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.ImportFile(csv, store.Actor{Name: "figures", Role: store.RoleSystemAdmin}, nil); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	after, sent := "", 0
	for {
		users, next, err := st.ListUsers(store.ListQuery{After: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			ru, err := st.ReplicaUser(u.UserID)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := fleet.EncodeUserDoc(ru)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := js.PublishAsync("$KV.latch_hq_creds."+fleet.UserKey(u.UserID), doc); err != nil {
				t.Fatal(err)
			}
			if sent++; sent%2000 == 0 {
				<-js.PublishAsyncComplete()
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	<-js.PublishAsyncComplete()
	if sent != n {
		t.Fatalf("published %d users, want %d", sent, n)
	}
}

// memCgroupParent is this process's cgroup v1 memory group, where the
// test makes the daemon's; the test is skipped when it cannot.
func memCgroupParent(t *testing.T) string {
	raw, _ := os.ReadFile("/proc/self/cgroup")
	for line := range strings.SplitSeq(string(raw), "\n") {
		if f := strings.SplitN(line, ":", 3); len(f) == 3 && f[1] == "memory" {
			p := filepath.Join("/sys/fs/cgroup/memory", f[2])
			if unix := syscall.Access(p, 2); unix == nil {
				return p
			}
		}
	}
	t.Skip("no writable cgroup v1 memory group")
	return ""
}

// procStatus reads the kB fields of /proc/PID/status.
func procStatus(t *testing.T, pid int) map[string]int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for line := range strings.SplitSeq(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if f := strings.Fields(v); ok && len(f) == 2 && f[1] == "kB" {
			out[k], _ = strconv.ParseInt(f[0], 10, 64)
		}
	}
	return out
}

func readInt(t *testing.T, path string) int64 {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	return v
}

// dropCache drops a file's pages from the page cache.
func dropCache(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
}

// stopMember stops a member with SIGTERM, as systemd would.
func stopMember(m *member) {
	m.d.Cmd.Process.Signal(syscall.SIGTERM)
	m.d.Wait()
}
