package door

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchd/latch/store/storetest"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/internal/benchlat"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/reader/readertest"
	"github.com/latchd/latch/schedule"
	"github.com/latchd/latch/store"
)

// Benchmarks build their databases once per run, with the store's bulk CSV
// import, in a temporary folder that TestMain removes.
var benchDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

var (
	benchMu    sync.Mutex
	benchBuilt = map[int]string{}
)

// benchMFA is user i's MFA code.
func benchMFA(i int) string { return fmt.Sprintf("%08d", i*7919%100000000) }

// benchCard is user i's card: h10301 carries an 8-bit facility and a 16-bit
// card number (docs/formats.md), so 1 M users spread over 16 facilities.
func benchCard(i int) reader.Card {
	return reader.Card{Format: reader.H10301, FacilityCode: uint32(i >> 16), CardNumber: uint64(i & 0xffff)}
}

// benchDB returns a folder with latch.db and device.key holding n users,
// each with a card and an MFA code, all in group "staff".
func benchDB(b *testing.B, n int) string {
	benchMu.Lock()
	defer benchMu.Unlock()
	if d, ok := benchBuilt[n]; ok {
		return d
	}
	if benchDir == "" {
		d, err := os.MkdirTemp("", "latch-door-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = d
	}
	dir := filepath.Join(benchDir, fmt.Sprint(n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	s, err := store.Open(store.Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
	if err != nil {
		b.Fatal(err)
	}
	write := func(name, header string, row func(w *bufio.Writer, i int)) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		w.WriteString(header)
		for i := range n {
			row(w, i)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		return p
	}
	users := write("users.csv", "externalId,firstName,lastName,email,groups,cardFormat,facilityCode,cardNumber\n", func(w *bufio.Writer, i int) {
		c := benchCard(i)
		fmt.Fprintf(w, "emp%07d,First%d,Last%d,user%d@example.com,staff;building-%d,h10301,%d,%d\n", i, i, i, i, i%10, c.FacilityCode, c.CardNumber)
	})
	creds := write("creds.csv", "externalId,type,code\n", func(w *bufio.Writer, i int) {
		fmt.Fprintf(w, "emp%07d,mfa_code,%s\n", i, benchMFA(i))
	})
	by := store.Actor{Name: "bench", Role: "import"}
	for _, p := range []string{users, creds} {
		if _, err := s.ImportFile(p, by, nil); err != nil {
			b.Fatal(err)
		}
		os.Remove(p)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d users in %v", n, time.Since(start).Round(time.Millisecond))
	benchBuilt[n] = dir
	return dir
}

// waitRelay returns when the relay was next written want (every write
// comes on at, with the time it was written).
func waitRelay(b *testing.B, at <-chan readertest.Change, want gpio.Level) time.Time {
	for {
		select {
		case la := <-at:
			if la.Level == want {
				return la.At
			}
		case <-time.After(5 * time.Second):
			b.Fatalf("relay never went %v", want)
		}
	}
}

// BenchmarkDecision measures, with the real bbolt store and the real event
// writer, the time from a card frame being complete (from=card, door in
// access_controlled) or from '#' (from=hash, door in card_and_code, code
// typed key by key) to the relay command, through Submit and the door's
// loop. It reports p50-ns and p99-ns.
func BenchmarkDecision(b *testing.B) {
	for _, n := range []int{1000, 1000000} {
		for _, from := range []string{"card", "hash"} {
			b.Run(fmt.Sprintf("users=%d/from=%s", n, from), func(b *testing.B) {
				benchDecision(b, n, from)
			})
		}
	}
}

// warmStore opens the benchmark database of n cards and looks every card
// up once, warming the page cache and mmap as a running daemon's are.
func warmStore(b *testing.B, n int) *store.Store {
	s := storetest.Open(b, benchDB(b, n))
	for i := range n {
		s.LookupCard(cardKey(benchCard(i)))
	}
	return s
}

// benchConfig is the benchmarks' door: front, access controlled, reader
// "in", group staff, relocking on a DPS open without a debounce; writes
// gets the relay's changes.
func benchConfig() (Config, chan readertest.Change) {
	relay := readertest.NewOutPin("relay", gpio.Low, nil)
	writes := make(chan readertest.Change, 16)
	relay.Notify(writes)
	c := DefaultConfig()
	c.Name = "front"
	c.Relay = relay
	c.Debounce = -1 // relock by a DPS open without waiting out a debounce
	c.DefaultMode = schedule.AccessControlled
	c.Readers = []ReaderConfig{{Name: "in"}}
	c.Groups = []Group{{Name: "staff", Doors: []string{"front"}}}
	return c, writes
}

// runBenchDoor runs d until the returned stop is called (stop cancels ctx
// with cancel and waits for Run to return), once the relay has been
// locked twice: by New and by the loop's start.
func runBenchDoor(b *testing.B, ctx context.Context, cancel context.CancelFunc, d *Door, writes <-chan readertest.Change) (stop func()) {
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	waitRelay(b, writes, gpio.Low) // New
	waitRelay(b, writes, gpio.Low) // start
	return func() { cancel(); <-done }
}

func benchDecision(b *testing.B, n int, from string) {
	s := warmStore(b, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ew := NewEventWriter(s, nil, zerolog.Nop())
	go ew.Run(ctx)

	c, writes := benchConfig()
	if from == "hash" {
		c.DefaultMode = schedule.CardAndCode
	}
	c.Readers = []ReaderConfig{{Name: "in", Keypad: from == "hash"}}
	d, err := New(c, s, ew)
	if err != nil {
		b.Fatal(err)
	}
	// idle lets the benchmark wait until Run has handled what was queued,
	// so that each measurement starts with the loop idle.
	handled := make(chan struct{}, 64)
	d.processed = func() { handled <- struct{}{} }
	idle := func(k int) {
		for range k {
			<-handled
		}
	}
	defer runBenchDoor(b, ctx, cancel, d, writes)()

	rng := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, 0, 4096)
	keyRead := func(k byte) reader.Read {
		return reader.Read{Reader: "in", Kind: reader.KindKeys, Keys: []byte{k}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		i := 1 + rng.IntN(n-1) // user 0's code 00000000 is its card number 0: refused by design
		var at time.Time
		if from == "card" {
			at = time.Now()
			d.Submit(reader.Read{Reader: "in", Kind: reader.KindCard, Card: benchCard(i), At: at})
		} else {
			d.Submit(reader.Read{Reader: "in", Kind: reader.KindCard, Card: benchCard(i), At: time.Now()})
			code := benchMFA(i)
			for _, k := range []byte(code) {
				d.Submit(keyRead(k))
			}
			idle(1 + len(code))
			at = time.Now()
			d.Submit(keyRead('#'))
		}
		lat = append(lat, waitRelay(b, writes, gpio.High).Sub(at))
		idle(1)
		d.DoorSensor(true) // relock on open
		waitRelay(b, writes, gpio.Low)
		d.DoorSensor(false)
		idle(2)
	}
	b.StopTimer()
	benchlat.Report(b, lat)
}

// BenchmarkStep is the door's own cost per decision, without the store or
// the loop: one card grant (access_controlled, the lookup answered) and its
// relock.
func BenchmarkStep(b *testing.B) {
	c, _ := testConfig(schedule.AccessControlled)
	c.Debounce = -1
	rc, err := resolveConfig(c)
	if err != nil {
		b.Fatal(err)
	}
	s := newState(rc)
	now := t0
	s.step(inStart{}, now)
	u, active, _ := testCreds().LookupCard(cardKey(card(100)))
	in := inCardAnswer{reader: "out", card: card(100), cardLookup: cardLookup{user: u, found: true, active: active}}
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Millisecond)
		if acts := s.step(in, now); len(acts) == 0 {
			b.Fatal("no actions")
		}
		s.step(inDPS{open: true}, now)
		s.step(inDPS{open: false}, now)
	}
}

// BenchmarkDecisionAllocs counts the allocations of one decision cycle on
// the door's own goroutine, without the loop's channel: a Stepper gets a
// card (access_controlled: lookup, grant, relay) and the door opens and
// closes (relock); the event writer's queue is then flushed into an
// appender that stores nothing. path=door answers from the door's test
// credentials (the door alone), path=store from the real bbolt store
// (what LookupCard adds), path=events adds the real event log write.
func BenchmarkDecisionAllocs(b *testing.B) {
	for _, n := range []int{1000, 1000000} {
		for _, path := range []string{"door", "store", "events"} {
			if path == "door" && n != 1000 {
				continue
			}
			b.Run(fmt.Sprintf("users=%d/path=%s", n, path), func(b *testing.B) {
				var creds Credentials = testCreds()
				var app Appender = &nopAppender{}
				k := func(int) reader.Card { return card(100) }
				if path != "door" {
					s := storetest.Open(b, benchDB(b, n))
					creds, k = s, benchCard
					if path == "events" {
						app = s
					}
				}
				ew := NewEventWriter(app, nil, zerolog.Nop())
				c := DefaultConfig()
				c.Name = "front"
				c.Relay = readertest.NewOutPin("relay", gpio.Low, nil)
				c.Debounce = -1
				c.DefaultMode = schedule.AccessControlled
				c.Readers = []ReaderConfig{{Name: "in"}}
				c.Groups = []Group{{Name: "staff", Doors: []string{"front"}}}
				d, err := New(c, creds, ew)
				if err != nil {
					b.Fatal(err)
				}
				st := d.Stepper()
				st.Start()
				rng := rand.New(rand.NewPCG(1, 2))
				cycle := func() {
					st.Submit(reader.Read{Reader: "in", Kind: reader.KindCard, Card: k(1 + rng.IntN(n-1))})
					st.DoorSensor(true)
					st.DoorSensor(false)
					ew.flush(false)
				}
				for range 100 {
					cycle()
				}
				if d.Status().StrikeReleased {
					b.Fatal("strike still released after the cycle")
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					cycle()
				}
			})
		}
	}
}
