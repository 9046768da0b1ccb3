package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/internal/apitest"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/store"
)

const apiTestConfig = `
[controller]
database  = "data/latch.db"
key_file  = "data/device.key"
time_zone = "Europe/Berlin"
[api]
socket = "run/latch/api.sock"
listen = "LISTEN"
[[reader]]
name   = "front-in"
door   = "front"
d0     = "GPIO17"
d1     = "GPIO27"
keypad = "4bit"
[[door]]
name  = "front"
relay = "GPIO23"
` + cardAndCodeAllWeek + `  [[door.exception]]
  date = "2099-12-25"
  mode = "locked"
  [[door.exception]]
  date  = "2099-12-24"
  start = "12:00"
  end   = "24:00"
  mode  = "locked"
[[group]]
name  = "staff"
doors = ["front"]
  [[group.schedule]]
  days  = ["mon", "fri"]
  start = "07:00"
  end   = "19:30"
`

// freePort is a TCP address on the loopback that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// apiSite starts the doors of the config text in dir on simulated hardware.
func apiSite(t *testing.T, dir, text string) (*config.Config, *store.Store, *site) {
	t.Helper()
	cfg, err := config.Parse([]byte(text), filepath.Join(dir, "latch.toml"))
	if err != nil {
		t.Fatal(err)
	}
	s, _, st, ctx, closeStore := simSite(t, cfg)
	if err := s.start(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.stopAll()
		closeStore()
	})
	return cfg, st, s
}

// TestServeAPI: the socket's folder is made, the socket is 0660, the API
// answers on the socket and on TCP with the running doors' modes and the
// config's groups and doors, the daemon's own user manages tokens without
// a bearer token, and stop removes the socket.
func TestServeAPI(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	cfg, st, s := apiSite(t, dir, strings.Replace(apiTestConfig, "LISTEN", addr, 1))
	stop, err := serveAPI(context.Background(), cfg, st, s, api.NewMetrics(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "run", "latch", "api.sock")
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v, want a socket with 0660", fi.Mode())
	}
	viewer, err := st.CreateToken("view", "viewer", store.Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	overSocket := apitest.UnixClient(sock)
	get := func(c *http.Client, base, method, path, token string) (int, string) {
		t.Helper()
		return apitest.Call(t, context.Background(), c, method, base+path, token, `{"name":"ops","role":"viewer"}`)
	}

	// The door's loop starts on its own goroutine: wait until it has
	// reported.
	waitStatus(t, s, "the door's start", func(bool) bool { return true })
	code, body := get(overSocket, "http://latchd", "GET", "/v1/doors", viewer)
	if code != 200 {
		t.Fatalf("GET /v1/doors: %d %s", code, body)
	}
	var doors struct {
		Doors []map[string]any `json:"doors"`
	}
	if err := json.Unmarshal([]byte(body), &doors); err != nil || len(doors.Doors) != 1 {
		t.Fatalf("doors %s: %v", body, err)
	}
	front := doors.Doors[0]
	delete(front, "next_change") // depends on today's date
	delete(front, "next_mode")
	want := map[string]any{
		"name": "front", "time_zone": "Europe/Berlin", "default_mode": "access_controlled", "second_factor": "always",
		"readers": []any{"front-in"}, "mode": "card_and_code",
		// The door view (docs/operations.md): what decides the mode, the strike, the door (no DPS).
		"level": "schedule", "strike": "locked", "door": "unknown",
		"schedule": []any{map[string]any{"days": []any{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "start": "00:00", "end": "24:00", "mode": "card_and_code"}},
		"exceptions": []any{
			map[string]any{"date": "2099-12-25", "mode": "locked"},
			map[string]any{"date": "2099-12-24", "start": "12:00", "end": "24:00", "mode": "locked"},
		},
	}
	if d := cmp.Diff(want, front); d != "" {
		t.Errorf("GET /v1/doors (-want +got):\n%s", d)
	}
	code, body = get(overSocket, "http://latchd", "GET", "/v1/groups", viewer)
	if wantG := `{"groups":[{"name":"staff","doors":["front"],"schedule":[{"days":["mon","fri"],"start":"07:00","end":"19:30"}]}]}`; code != 200 || strings.TrimSpace(body) != wantG {
		t.Errorf("GET /v1/groups: %d %s, want %s", code, body, wantG)
	}

	// TCP: a token is needed.
	tcp := &http.Client{}
	if code, body := get(tcp, "http://"+addr, "GET", "/v1/health", viewer); code != 200 || !strings.Contains(body, `"doors":1`) {
		t.Errorf("GET /v1/health over TCP: %d %s", code, body)
	}
	if code, _ := get(tcp, "http://"+addr, "GET", "/v1/health", ""); code != 401 {
		t.Errorf("GET /v1/health over TCP without a token: %d, want 401", code)
	}
	// The socket's peer is this process's user: LocalOwner lets it manage
	// tokens without one (latchctl token create while latchd runs) …
	if code, body := get(overSocket, "http://latchd", "POST", "/v1/tokens", ""); code != 201 || !strings.Contains(body, `"token"`) {
		t.Errorf("POST /v1/tokens over the socket as the owner: %d %s, want 201", code, body)
	}
	// … but not over TCP.
	if code, _ := get(tcp, "http://"+addr, "POST", "/v1/tokens", ""); code != 401 {
		t.Errorf("POST /v1/tokens over TCP without a token: %d, want 401", code)
	}

	stop()
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("socket after stop: %v, want it removed", err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Errorf("TCP %s still accepts after stop", addr)
	}
}

// TestServeAPISocketPath: a stale socket of an earlier run is replaced;
// any other file at the path is refused with an error naming it.
func TestServeAPISocketPath(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		wantErr string
	}{
		{"stale socket", func(t *testing.T, path string) {
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			l.SetUnlinkOnClose(false) // a crash leaves the file behind
			l.Close()
		}, ""},
		{"live socket", func(t *testing.T, path string) {
			l, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
		}, "another process is serving on it"},
		{"regular file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "exists and is not a socket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			text := strings.Replace(apiTestConfig, "listen = \"LISTEN\"\n", "", 1)
			text = strings.Replace(text, "run/latch/api.sock", "api.sock", 1)
			cfg, st, s := apiSite(t, dir, text)
			tc.prepare(t, cfg.API.Socket)
			stop, err := serveAPI(context.Background(), cfg, st, s, api.NewMetrics(), zerolog.Nop())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), cfg.API.Socket) {
					t.Errorf("error %v, want %q naming %s", err, tc.wantErr, cfg.API.Socket)
				}
				if err == nil {
					stop()
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			c, err := net.Dial("unix", cfg.API.Socket)
			if err != nil {
				t.Fatalf("the new socket does not accept: %v", err)
			}
			c.Close()
		})
	}
}
