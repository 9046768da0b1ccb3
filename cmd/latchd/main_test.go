package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchd/latch/store"
)

func TestCheckConfig(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("[[door]]\nname = \"front\"\nrelay = \"GPIO23\"\nunlock_time = \"90s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"check-config", "../../deploy/latch.toml"}, 0, "../../deploy/latch.toml: ok (1 doors, 1 readers, 1 groups)", ""},
		{[]string{"check-config", bad}, 1, "", bad + ":4: door[0].unlock_time: 1m30s is outside 1s–1m0s"},
		{[]string{"check-config", filepath.Join(t.TempDir(), "missing.toml")}, 1, "", "no such file"},
		{[]string{"check-config"}, 2, "", "usage: latchd check-config FILE"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		code := run(tc.args, nil, &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errb.String(), tc.err) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d with %q / %q", tc.args, code, out.String(), errb.String(), tc.code, tc.out, tc.err)
		}
	}
}

func TestScenarioCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg, err := os.ReadFile("../../testdata/scenarios/site.toml")
	if err != nil {
		t.Fatal(err)
	}
	write("site.toml", string(cfg))
	malformed := write("bad.scn", "config site.toml\nclock 2026-03-02T09:00:00+01:00\nuser alice\nbadge h10301 1\n")
	unknownReader := write("reader.scn", "config site.toml\nclock 2026-03-02T09:00:00+01:00\nbadge side-door h10301 1 1\n")
	good := write("good.scn", "config site.toml\nclock 2026-03-02T19:00:00+01:00\nuser alice groups=staff\ncard alice h10301 1 1001\nbadge h10301 1 1001\nwait 6s\n")

	var out, errb bytes.Buffer
	if code := run([]string{"scenario", malformed}, nil, &out, &errb); code != 1 || out.Len() != 0 ||
		!strings.HasPrefix(errb.String(), malformed+":4: usage: badge [READER] FORMAT FC CN") {
		t.Errorf("malformed: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	code := run([]string{"scenario", good}, nil, &out, &errb)
	if strings.Contains(errb.String(), "no synchronous stepper") {
		t.Skip(errb.String())
	}
	if code != 0 || errb.Len() != 0 {
		t.Fatalf("good: exit %d, stderr %q", code, errb.String())
	}
	var events []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev store.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("stdout line %q is not an event: %v", line, err)
		}
		events = append(events, ev.Event+"/"+ev.Method+ev.Reason)
	}
	want := "mode_changed/ mode_changed/ credential_changed/ credential_changed/ access_granted/card strike_released/ strike_locked/"
	if got := strings.Join(events, " "); got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"scenario", unknownReader}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), unknownReader+":3: no reader \"side-door\"") {
		t.Errorf("unknown reader: exit %d, stderr %q", code, errb.String())
	}
}

// buildLatchd builds this command into a temporary folder.
func buildLatchd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "latchd")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

const simConfig = `
[controller]
database  = "data/latch.db"
key_file  = "data/device.key"
time_zone = "UTC"
[api]
socket = "api.sock"
[[reader]]
name = "r1"
door = "front"
d0   = "GPIO17"
d1   = "GPIO27"
[[door]]
name        = "front"
relay       = "GPIO23"
relay_active = "low"
unlock_time = "60s"
[[group]]
name  = "staff"
doors = ["front"]
`

// TestStopPaths starts latchd --sim, releases the strike with a card, then
// ends the daemon with SIGTERM, SIGINT or a panic, and checks that the
// relay's last level was "locked" and that the database closed cleanly
// (it opens again at once; bbolt would time out on a held lock).
func TestStopPaths(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	bin := buildLatchd(t)
	tests := []struct {
		name     string
		stop     func(cmd *exec.Cmd, stdin io.Writer) error
		exitCode int
	}{
		{"SIGTERM", func(c *exec.Cmd, _ io.Writer) error { return c.Process.Signal(syscall.SIGTERM) }, 0},
		{"SIGINT", func(c *exec.Cmd, _ io.Writer) error { return c.Process.Signal(syscall.SIGINT) }, 0},
		{"panic", func(_ *exec.Cmd, stdin io.Writer) error { _, err := io.WriteString(stdin, "debug-panic\n"); return err }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "latch.toml")
			if err := os.WriteFile(cfgPath, []byte(simConfig), 0o644); err != nil {
				t.Fatal(err)
			}
			// Seed a user with a card before the daemon starts.
			if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
				t.Fatal(err)
			}
			st, err := store.Open(store.Options{Path: filepath.Join(dir, "data", "latch.db"), KeyFile: filepath.Join(dir, "data", "device.key")})
			if err != nil {
				t.Fatal(err)
			}
			u, err := st.CreateUser(store.UserFields{ExternalID: "alice", Groups: []string{"staff"}}, store.Actor{Name: "test"})
			if err == nil {
				err = st.AddCard(u.UserID, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: 1001, Active: true}, store.Actor{Name: "test"})
			}
			if cerr := st.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}

			cmd := exec.Command(bin, "--sim", "--config", cfgPath, "--log-format", "json")
			cmd.Env = append(os.Environ(), debugEnv+"=1")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := make(chan map[string]any, 100)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					var m map[string]any
					if json.Unmarshal(sc.Bytes(), &m) == nil {
						lines <- m
					}
				}
			}()
			// waitFor reads log lines until one matches; the deadline only
			// bounds a hung daemon, nothing sleeps.
			deadline := time.After(20 * time.Second)
			var seen []map[string]any
			waitFor := func(what string, match func(map[string]any) bool) {
				t.Helper()
				for {
					select {
					case m, ok := <-lines:
						if !ok {
							t.Fatalf("daemon ended before %s; stderr:\n%s", what, stderr.String())
						}
						seen = append(seen, m)
						if match(m) {
							return
						}
					case <-deadline:
						t.Fatalf("no %s within 20 s; stderr:\n%s", what, stderr.String())
					}
				}
			}
			waitFor("start", func(m map[string]any) bool { return m["message"] == "latchd started" })
			if _, err := io.WriteString(stdin, "badge h10301 1 1001\n"); err != nil {
				t.Fatal(err)
			}
			waitFor("strike_released", func(m map[string]any) bool { return m["event"] == "strike_released" })
			if err := tc.stop(cmd, stdin); err != nil {
				t.Fatal(err)
			}
			var final map[string]any
			waitFor("relay final level", func(m map[string]any) bool {
				if m["message"] == "relay final level" {
					final = m
					return true
				}
				return false
			})
			for range lines {
			}
			err = cmd.Wait()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.exitCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.exitCode, stderr.String())
			}
			// relay_active = "low": locked is high.
			if final["locked"] != true || final["relay"] != "High" {
				t.Errorf("relay final level %v, want locked (High)", final)
			}
			st, err = store.Open(store.Options{Path: filepath.Join(dir, "data", "latch.db"), KeyFile: filepath.Join(dir, "data", "device.key"), Timeout: time.Second})
			if err != nil {
				t.Fatalf("database not closed cleanly: %v", err)
			}
			defer st.Close()
			evs, err := st.Events(store.EventQuery{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ev := range evs {
				if ev.Door != "" {
					got = append(got, ev.Event)
				}
			}
			if !strings.Contains(strings.Join(got, " "), "access_granted strike_released") {
				t.Errorf("stored events %v lack the grant", got)
			}
			if tc.name != "panic" && got[len(got)-1] != "strike_locked" {
				t.Errorf("last stored event %q, want strike_locked on a graceful stop", got[len(got)-1])
			}
		})
	}
}
