package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/latchd/latch/internal/benchlat"
)

// BenchmarkColdLookups measures the first badges after a boot: the page
// cache is dropped (sync, then /proc/sys/vm/drop_caches; needs root, else
// the benchmark is skipped), the 1 M-user database (a card and an MFA code
// each) is opened, and 1,000 LookupCard + VerifyCardCode for random users
// follow at once, back to back (pace=0) or one every 5 ms (pace=5ms, a
// burst of badges in the first 5 s). warm=none is the store as it was;
// warm=bg runs WarmDoorPath in its own goroutine from the moment Open
// returns, as latchd does. It reports the lookups' p50/p90/p99, how many
// took over 1 ms, the major page faults per lookup (its reads from the
// disk: a figure the machine's CPU load does not change), Open's time
// (open-ms: the warm must not delay it) and how long the warm took.
// Each round is one cold start: run it with -benchtime 1x.
//
//	sudo go test -run '^$' -bench ColdLookups -benchtime 1x ./store/
func BenchmarkColdLookups(b *testing.B) {
	if f, err := os.OpenFile("/proc/sys/vm/drop_caches", os.O_WRONLY, 0); err != nil {
		b.Skip("needs root: /proc/sys/vm/drop_caches is not writable")
	} else {
		f.Close()
	}
	n := 1000000
	if v := os.Getenv("LATCH_COLD_USERS"); v != "" {
		fmt.Sscan(v, &n)
	}
	dir := usersDB(b, n, true)
	for _, warm := range []string{"none", "bg"} {
		for _, pace := range []time.Duration{0, 5 * time.Millisecond} {
			b.Run(fmt.Sprintf("users=%d/warm=%s/pace=%v", n, warm, pace), func(b *testing.B) {
				var lat []time.Duration
				var opened, warmed time.Duration
				var faults int64
				for b.Loop() {
					syscall.Sync()
					if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0); err != nil {
						b.Fatal(err)
					}
					t0 := time.Now()
					s, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
					if err != nil {
						b.Fatal(err)
					}
					opened = time.Since(t0)
					ctx, cancel := context.WithCancel(context.Background())
					done := make(chan WarmStats, 1)
					if warm == "bg" {
						go func() {
							st, err := s.WarmDoorPath(ctx)
							if err != nil {
								b.Error(err)
							}
							done <- st
						}()
					}
					rng := rand.New(rand.NewPCG(3, 4))
					var ru0, ru1 syscall.Rusage
					syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
					next := time.Now()
					for range 1000 {
						if pace > 0 {
							time.Sleep(time.Until(next)) // the badges' arrival times, not a test wait
							next = next.Add(pace)
						}
						i := rng.IntN(n)
						k := CardKey{Format: "h10301", FacilityCode: uint32(i >> 16), CardNumber: uint64(i & 0xffff)}
						t1 := time.Now()
						u, active, err := s.LookupCard(k)
						if err != nil || !active {
							b.Fatalf("LookupCard(%d): %v", i, err)
						}
						ok, err := s.VerifyCardCode(k, u.UserID, []byte(benchCode(i)), true)
						lat = append(lat, time.Since(t1))
						if err != nil || !ok {
							b.Fatalf("VerifyCardCode(%d) = %v, %v", i, ok, err)
						}
					}
					// Major faults: the lookups' reads of unmapped pages from
					// the disk (the warm reads with pread: not faults), a
					// figure the machine's CPU load does not change.
					syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
					faults += ru1.Majflt - ru0.Majflt
					if warm == "bg" {
						st := <-done
						warmed = st.Took
					}
					cancel()
					s.Close()
				}
				benchlat.Report(b, lat)
				over := 0
				for _, l := range lat {
					if l > time.Millisecond {
						over++
					}
				}
				b.ReportMetric(float64(lat[len(lat)*90/100].Nanoseconds()), "p90-ns")
				b.ReportMetric(float64(over), "over-1ms")
				b.ReportMetric(float64(faults)/float64(len(lat)), "majflt/lookup")
				b.ReportMetric(float64(opened.Microseconds())/1000, "open-ms")
				b.ReportMetric(float64(warmed.Milliseconds()), "warm-ms")
			})
		}
	}
}
