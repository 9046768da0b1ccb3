package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/internal/config"
)

// notifySocket listens, as systemd does, on the datagram socket path (closed
// when the test ends) and returns it with a notifier whose NOTIFY_SOCKET is
// path.
func notifySocket(t *testing.T, path string) (*net.UnixConn, *notifier) {
	t.Helper()
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, newNotifier(func(k string) string {
		if k == "NOTIFY_SOCKET" {
			return path
		}
		return ""
	})
}

func TestNotifySendsDatagram(t *testing.T) {
	l, n := notifySocket(t, filepath.Join(t.TempDir(), "notify.sock"))
	if !n.Enabled() {
		t.Fatal("not enabled")
	}
	for _, msg := range []string{"READY=1", "WATCHDOG=1", "STOPPING=1"} {
		if err := n.Notify(msg); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		l.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, err := l.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:k]); got != msg {
			t.Errorf("got %q, want %q", got, msg)
		}
	}
}

func TestNotifyDisabled(t *testing.T) {
	n := newNotifier(func(string) string { return "" })
	if n.Enabled() || n.Notify("READY=1") != nil {
		t.Fatal("a notifier without NOTIFY_SOCKET must be a silent no-op")
	}
	bad := newNotifier(func(string) string { return filepath.Join(t.TempDir(), "missing.sock") })
	if err := bad.Notify("READY=1"); err == nil {
		t.Fatal("no error for a socket that does not exist")
	}
}

func TestWatchdogInterval(t *testing.T) {
	tests := []struct {
		usec, pid string
		want      time.Duration
		ok, err   bool
	}{
		{"", "", 0, false, false},
		{"30000000", "", 30 * time.Second, true, false},
		{"30000000", "42", 30 * time.Second, true, false},
		{"30000000", "43", 0, false, false}, // meant for another process
		{"abc", "", 0, false, true},
		{"0", "", 0, false, true},
		{"30000000", "x", 0, false, true},
	}
	for _, tc := range tests {
		env := map[string]string{"WATCHDOG_USEC": tc.usec, "WATCHDOG_PID": tc.pid}
		d, ok, err := watchdogInterval(func(k string) string { return env[k] }, 42)
		if d != tc.want || ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("usec=%q pid=%q: got %v %v %v", tc.usec, tc.pid, d, ok, err)
		}
	}
}

func TestRunWatchdog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sent []time.Duration
		start := time.Now()
		var healthy atomic.Bool
		healthy.Store(true)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() {
			done <- runWatchdog(ctx, 10*time.Second, func(s string) error {
				if s != "WATCHDOG=1" {
					t.Errorf("sent %q", s)
				}
				mu.Lock()
				sent = append(sent, time.Since(start))
				mu.Unlock()
				return nil
			}, func() error {
				if !healthy.Load() {
					return errors.New("door loop stuck")
				}
				return nil
			})
		}()
		time.Sleep(16 * time.Second) // virtual time
		synctest.Wait()
		mu.Lock()
		if len(sent) != 3 || sent[0] != 5*time.Second || sent[2] != 15*time.Second {
			t.Errorf("keep-alives at %v, want every 5s", sent)
		}
		mu.Unlock()
		healthy.Store(false)
		time.Sleep(5 * time.Second)
		err := <-done
		mu.Lock()
		defer mu.Unlock()
		if !errors.Is(err, errUnhealthy) || len(sent) != 3 {
			t.Errorf("err = %v, sent %d", err, len(sent))
		}
		cancel()
	})
}

// TestMigrateExtendsStart: opening a schema 1 database (store/testdata)
// sends systemd EXTEND_TIMEOUT_USEC and a STATUS after each migration step.
func TestMigrateExtendsStart(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"latch.db", "device.key"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "store", "testdata", "schema1", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l, n := notifySocket(t, filepath.Join(dir, "notify.sock"))
	cfg, err := config.Parse([]byte("[controller]\ndatabase = \"latch.db\"\nkey_file = \"device.key\"\n"+
		"[[door]]\nname = \"front\"\nrelay = \"GPIO23\"\n"), filepath.Join(dir, "latch.toml"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(cfg, zerolog.Nop(), n.migrating)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	buf := make([]byte, 256)
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	k, err := l.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(buf[:k]), "EXTEND_TIMEOUT_USEC=60000000\nSTATUS=migrating the database: 17 records converted"; got != want {
		t.Errorf("sd_notify %q, want %q", got, want)
	}
}
