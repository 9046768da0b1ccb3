package fleet

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/latchd/latch/internal/benchlat"
	"github.com/latchd/latch/store"
)

// BenchmarkChangeApplied: a change made on a manager (its store API, so
// the whole write path) until it is applied on each of 50 controllers,
// all in this process against one in-process server. One sample per
// controller per change; p99-ns is the figure of docs/fleet.md.
func BenchmarkChangeApplied(b *testing.B) {
	const controllers = 50
	srv := runServer(b, "", 0)
	s := newSite(b, srv.ClientURL())
	mst := storeIn(b, b.TempDir(), s.key)
	mgr := s.member(mst, "mgr", true, nil, nil)
	mst.SetRemote(mgr)
	b.Cleanup(func() { mgr.Close(); mst.Close() })
	waitFor(b, "the manager", func() bool { return mgr.credsKV() != nil })
	var ctls []*Member
	for i := range controllers {
		st := storeIn(b, b.TempDir(), s.key)
		c := s.member(st, fmt.Sprintf("c%d", i), false, nil, nil)
		b.Cleanup(func() { c.Close(); st.Close() })
		ctls = append(ctls, c)
	}
	u, err := mst.CreateUser(store.UserFields{ExternalID: "bench"}, admin)
	if err != nil {
		b.Fatal(err)
	}
	mst.AddCard(u.UserID, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: 1, Active: true}, admin)
	for _, c := range ctls {
		if err := c.WaitApplied(context.Background(), mgr.Applied()); err != nil {
			b.Fatal(err)
		}
	}
	var lat []time.Duration
	var mu sync.Mutex
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := mst.SetCardActive(u.UserID, card(1), i%2 == 1, admin); err != nil {
			b.Fatal(err)
		}
		rev := mgr.Applied()
		var wg sync.WaitGroup
		for _, c := range ctls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := c.WaitApplied(ctx, rev); err != nil {
					b.Error(err)
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	b.StopTimer()
	benchlat.Report(b, lat)
}

// BenchmarkCatchUp: an empty controller catches up LATCH_FLEET_USERS
// users (default 100,000; docs/fleet.md quotes 1,000,000), each with a
// card and an MFA code. The controller runs in a child process (this
// test binary again) in a cgroup v1 memory group of its own when one can
// be made: peak-MiB is the group's memory.max_usage_in_bytes (page cache
// included), rss-MiB the child's own VmHWM; LATCH_FLEET_MEMLIMIT (bytes)
// sets the group's hard limit.
func BenchmarkCatchUp(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("LATCH_FLEET_USERS")); err == nil && v > 0 {
		n = v
	}
	srv := runServer(b, "", 0)
	s := newSite(b, srv.ClientURL())
	mst := storeIn(b, b.TempDir(), s.key)
	mgr := s.member(mst, "mgr", true, nil, nil)
	b.Cleanup(func() { mgr.Close(); mst.Close() })
	waitFor(b, "the manager", func() bool { return mgr.credsKV() != nil })
	fill(b, srv.ClientURL(), n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		os.WriteFile(filepath.Join(dir, "site.key"), s.key, 0o600)
		cg := memGroup(b)
		if lim := os.Getenv("LATCH_FLEET_MEMLIMIT"); cg != "" && lim != "" {
			// A hard limit (no swap here): the catch-up must finish under it.
			if err := os.WriteFile(filepath.Join(cg, "memory.limit_in_bytes"), []byte(lim), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCatchUpChild$", "-test.v")
		cmd.Env = append(os.Environ(), "LATCH_FLEET_CHILD="+srv.ClientURL()+","+dir+","+cg)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		el := time.Since(start)
		if err != nil {
			b.Fatalf("child: %v\n%s", err, out)
		}
		b.ReportMetric(el.Seconds(), "s/catch-up")
		b.ReportMetric(float64(n)/el.Seconds(), "users/s")
		if m := childMetric(string(out), "rss"); m > 0 {
			b.ReportMetric(m/(1<<20), "rss-MiB")
		}
		if cg != "" {
			if raw, err := os.ReadFile(filepath.Join(cg, "memory.max_usage_in_bytes")); err == nil {
				v, _ := strconv.ParseFloat(strings.TrimSpace(string(raw)), 64)
				b.ReportMetric(v/(1<<20), "peak-MiB")
			}
		}
	}
}

// fill puts n user documents into the creds bucket, asynchronously.
func fill(b *testing.B, url string, n int) {
	nc, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	now := time.Now().UTC()
	for i := range n {
		id := fmt.Sprintf("u%015x", i+1)
		u := store.ReplicaUser{UserID: id, Created: now, Updated: now,
			Cards:    []store.Card{{Format: "h10301", FacilityCode: uint32(i >> 16 & 0xff), CardNumber: uint64(i & 0xffff), Active: true}},
			MFACodes: []store.ReplicaCode{{ID: "m1", MAC: make([]byte, 32), Length: 6, Created: now}}}
		u.ExternalID, u.Groups = fmt.Sprintf("e%d", i), []string{"staff"}
		doc, _ := EncodeUserDoc(u)
		if i%2000 == 0 {
			<-js.PublishAsyncComplete()
		}
		if _, err := js.PublishAsync("$KV.latch_hq_creds."+UserKey(id), doc); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(10 * time.Minute):
		b.Fatal("publishing did not finish")
	}
}

// memGroup makes a fresh cgroup v1 memory group under this process's own
// and returns its path, or "" when that is not possible here.
func memGroup(b *testing.B) string {
	raw, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 && f[1] == "memory" {
			p := filepath.Join("/sys/fs/cgroup/memory", f[2], fmt.Sprintf("latch-fleet-%d", time.Now().UnixNano()))
			if os.Mkdir(p, 0o755) != nil {
				return ""
			}
			b.Cleanup(func() { os.Remove(p) })
			return p
		}
	}
	return ""
}

func childMetric(out, name string) float64 {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "catchup-"+name+"="); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// TestCatchUpChild is BenchmarkCatchUp's controller; it does nothing
// unless the benchmark started it.
func TestCatchUpChild(t *testing.T) {
	env := os.Getenv("LATCH_FLEET_CHILD")
	if env == "" {
		t.Skip("run by BenchmarkCatchUp")
	}
	parts := strings.SplitN(env, ",", 3)
	if parts[2] != "" {
		os.WriteFile(filepath.Join(parts[2], "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644)
	}
	key, err := os.ReadFile(filepath.Join(parts[1], "site.key"))
	if err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, key: key, url: parts[0]}
	st := storeIn(t, parts[1], key)
	defer st.Close()
	c := s.member(st, "catchup", false, nil, nil)
	defer c.Close()
	deadline := time.Now().Add(10 * time.Minute)
	for !c.Sync().CaughtUp {
		if time.Now().After(deadline) {
			t.Fatal("no catch-up in 10 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, err := st.LookupCard(store.CardKey{Format: "h10301"}); err != nil {
		t.Fatalf("the first user's card: %v", err)
	}
	raw, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			fmt.Printf("catchup-rss=%.0f\n", kb*1024)
		}
	}
}
