package fleet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/latchd/latch/store"
)

// runServer starts an in-process nats-server with JetStream on a random
// loopback port, its storage in dir ("" = a new temp dir).
func runServer(t testing.TB, dir string, port int) *natsserver.Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if port == 0 {
		port = -1
	}
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s
}

// site is one site's key and a folder for its members.
type site struct {
	t   testing.TB
	key []byte
	url string
}

func newSite(t testing.TB, url string) *site {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i*7 + 1)
	}
	return &site{t: t, key: key, url: url}
}

// storeIn opens a store in dir under key (the site key is the store's key).
func storeIn(t testing.TB, dir string, key []byte) *store.Store {
	t.Helper()
	kf := filepath.Join(dir, "site.key")
	if _, err := os.Stat(kf); err != nil {
		if err := os.WriteFile(kf, key, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "latch.db"), KeyFile: kf, SiteIDs: true})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// logBuf collects a member's log lines.
type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// member starts a member on st.
func (s *site) member(st *store.Store, name string, manager bool, key []byte, log *logBuf) *Member {
	s.t.Helper()
	if key == nil {
		key = s.key
	}
	lg := zerolog.Nop()
	if log != nil {
		lg = zerolog.New(log)
	}
	m, err := New(Config{URLs: []string{s.url}, Site: "hq", Controller: name, SiteKey: key, Manager: manager, Store: st, Logger: lg})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		s.t.Fatal(err)
	}
	return m
}

// waitFor polls cond until it holds or 20 s pass (the member works on
// its own goroutines against a real server: there is no clock to move).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kvOf opens a bucket with a plain client, as an administrator's tool would.
func kvOf(t testing.TB, url, bucket string) jetstream.KeyValue {
	t.Helper()
	kv, err := jsOf(t, url).KeyValue(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func jsOf(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	return js
}
