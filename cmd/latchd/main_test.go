package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchd/latch/internal/apitest"
	"github.com/latchd/latch/internal/daemontest"

	"github.com/latchd/latch/store"
	"github.com/latchd/latch/store/storetest"
)

func TestCheckConfig(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("[[door]]\nname = \"front\"\nrelay = \"GPIO23\"\nunlock_time = \"90s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.toml")
	if err := os.WriteFile(empty, []byte("# nothing yet\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	offHeader := filepath.Join(t.TempDir(), "off.toml")
	if err := os.WriteFile(offHeader, []byte("[[door]]\nname = \"front\"\nrelay = \"GPIO40\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"check-config", "../../deploy/latch.toml"}, 0, "../../deploy/latch.toml: ok (1 door, 1 reader, 1 group)", ""},
		{[]string{"check-config", empty}, 0, "ok (0 doors, 0 readers, 0 groups)", "warning: " + empty + ": the file is empty"},
		{[]string{"check-config", offHeader}, 0, "ok (1 door", "warning: " + offHeader + ":3: door[0].relay: GPIO40 is not on the Pi's 40-pin header"},
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

// buildLatchd returns latchd, with latchctl beside it, built once for the
// run (daemontest.Build); a test that needs it is skipped in -short mode.
var buildLatchd = daemontest.Build

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.RemoveBuilds()
	os.Exit(code)
}

// simConfig is the simulated site of the tests, shared with
// scripts/measure-*.sh (scripts/lib.sh).
var simConfig = func() string {
	b, err := os.ReadFile("testdata/sim.toml")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// simDaemon is a running latchd --sim for a test.
type simDaemon = daemontest.Daemon

// startSim starts bin --sim on cfgPath with extra environment variables and
// waits for "latchd started".
func startSim(t *testing.T, bin, cfgPath string, env ...string) *simDaemon {
	t.Helper()
	return startDaemon(t, bin, []string{"--sim", "--config", cfgPath, "--log-format", "json"}, env...)
}

// startDaemon starts bin with args and extra environment variables, the
// hidden debug commands on (debugEnv), and waits for "latchd started".
func startDaemon(t *testing.T, bin string, args []string, env ...string) *simDaemon {
	t.Helper()
	return daemontest.Start(t, bin, args, append([]string{debugEnv + "=1"}, env...)...)
}

func event(name string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["event"] == name }
}

// TestReload: SIGHUP with a broken file is refused and the doors keep
// working; SIGHUP with a good file that changes another door keeps a code
// entry in progress on the unchanged door; a changed door is restarted.
func TestReload(t *testing.T) {
	base := simConfig + `
[[reader]]
name = "r2"
door = "back"
d0   = "GPIO5"
d1   = "GPIO6"
[[door]]
name  = "back"
relay = "GPIO16"
`
	// front is Card + Code all week (its schedule follows its [[door]] table).
	cfg := strings.Replace(base, "unlock_time = \"60s\"\n", "unlock_time = \"60s\"\n"+cardAndCodeAllWeek, 1)
	bin := buildLatchd(t)
	_, cfgPath := seededDir(t, cfg)
	d := startSim(t, bin, cfgPath)

	// A broken file: refused, the running config stays.
	if err := os.WriteFile(cfgPath, []byte(cfg+"bogus = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.Cmd.Process.Signal(syscall.SIGHUP)
	refused := d.WaitFor("reload refused", func(m map[string]any) bool { return m["message"] == "reload refused; running config kept" })
	if refused["key"] != "door[1].bogus" || refused["rule"] != "unknown key" || refused["line"] == nil {
		t.Errorf("refusal %v does not name the key and rule", refused)
	}

	// alice badges at front and starts typing her code …
	d.Send("badge h10301 1 1001")
	d.WaitFor("code_requested", event("code_requested"))
	d.Send("keys 24")
	// … while the config changes for door back only (unlock time) …
	changed := strings.Replace(cfg, "relay = \"GPIO16\"\n", "relay = \"GPIO16\"\nunlock_time = \"3s\"\n", 1)
	if err := os.WriteFile(cfgPath, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	d.Cmd.Process.Signal(syscall.SIGHUP)
	reloaded := d.WaitFor("config reloaded", func(m map[string]any) bool { return m["message"] == "config reloaded" })
	if !slices.Equal(toStrings(reloaded["kept"]), []string{"front"}) || !slices.Equal(toStrings(reloaded["restarted"]), []string{"back"}) {
		t.Errorf("reload %v: want front kept and back restarted", reloaded)
	}
	// … and she finishes the code: the pending entry survived the reload.
	d.Send("keys 6810#")
	granted := d.WaitFor("a decision", func(m map[string]any) bool { return m["event"] == "access_granted" || m["event"] == "access_denied" })
	if granted["event"] != "access_granted" || granted["method"] != "card_and_code" {
		t.Errorf("after the reload: %v, want access_granted card_and_code", granted)
	}
	d.Cmd.Process.Signal(syscall.SIGTERM)
	d.ExitsCleanly()
}

func toStrings(v any) []string {
	var out []string
	if a, ok := v.([]any); ok {
		for _, x := range a {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

// cardAndCodeAllWeek is a [[door.schedule]] table that makes the door it
// follows Card + Code all week.
const cardAndCodeAllWeek = "  [[door.schedule]]\n  days = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"]\n  start = \"00:00\"\n  end = \"24:00\"\n  mode = \"card_and_code\"\n"

// fireInput is an [[input]] table: a fire alarm "fire" on pin that
// releases every door (emergency_release).
func fireInput(pin string) string {
	return "[[input]]\nname = \"fire\"\npin = \"" + pin + "\"\naction = \"emergency_release\"\n"
}

// seededDir writes cfg (simConfig and what a test adds) as latch.toml into a
// new folder and seeds its database there (seed); it returns the folder
// and the config's path, for startSim.
func seededDir(t *testing.T, cfg string) (dir, cfgPath string) {
	t.Helper()
	dir, cfgPath = daemontest.WriteConfig(t, cfg)
	seed(t, dir)
	return dir, cfgPath
}

// seedToken creates an API token of role in the seeded database of dir
// (latchd not running) and returns its secret.
func seedToken(t *testing.T, dir, name, role string) string {
	t.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "data", "latch.db"), KeyFile: filepath.Join(dir, "data", "device.key")})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := st.CreateToken(name, role, store.Actor{Name: "test"})
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// callDir calls the API of the latchd running in dir (seededDir's
// folder, where simConfig puts the socket) with token.
func callDir(t *testing.T, dir, token, method, path, body string) (int, string) {
	t.Helper()
	return apitest.Call(t, t.Context(), apitest.UnixClient(filepath.Join(dir, "api.sock")), method, apitest.Base+path, token, body)
}

// seed makes the database of simConfig with alice: card h10301 1/1001, MFA code 246810, group staff.
func seed(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "data", "latch.db"), KeyFile: filepath.Join(dir, "data", "device.key")})
	if err != nil {
		t.Fatal(err)
	}
	storetest.AddUser(t, st, "alice", "staff", store.Card{Format: "h10301", FacilityCode: 1, CardNumber: 1001}, "246810")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestStopPaths starts latchd --sim, releases the strike with a card, then
// ends the daemon with SIGTERM, SIGINT or a panic, and checks that the
// relay's last level was "locked" and that the database closed cleanly
// (it opens again at once; bbolt would time out on a held lock). The
// SIGTERM run is also under a fake systemd: READY=1, WATCHDOG=1 and
// STOPPING=1 arrive on $NOTIFY_SOCKET.
func TestStopPaths(t *testing.T) {
	bin := buildLatchd(t)
	tests := []struct {
		name     string
		stop     func(d *simDaemon)
		exitCode int
		systemd  bool
	}{
		{"SIGTERM", func(d *simDaemon) { d.Cmd.Process.Signal(syscall.SIGTERM) }, 0, true},
		{"SIGINT", func(d *simDaemon) { d.Cmd.Process.Signal(syscall.SIGINT) }, 0, false},
		{"panic", func(d *simDaemon) { d.Send("debug-panic") }, 1, false},
		{"dead reader", func(d *simDaemon) { d.Send("debug-fail-reader") }, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, cfgPath := seededDir(t, simConfig)
			var env []string
			var notify *net.UnixConn
			if tc.systemd {
				sock := filepath.Join(dir, "notify.sock")
				var err error
				if notify, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"}); err != nil {
					t.Fatal(err)
				}
				defer notify.Close()
				// A 2 s watchdog: latchd pings every second.
				env = []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=2000000"}
			}
			d := startSim(t, bin, cfgPath, env...)
			if tc.systemd {
				expectNotify(t, notify, "READY=1")
				expectNotify(t, notify, "WATCHDOG=1")
			}
			d.Send("badge h10301 1 1001")
			d.WaitFor("strike_released", event("strike_released"))
			tc.stop(d)
			final := d.WaitFor("relay final level", func(m map[string]any) bool { return m["message"] == "relay final level" })
			err := d.Wait()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.exitCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.exitCode, d.Stderr.String())
			}
			// relay_active = "low": locked is high.
			if final["locked"] != true || final["relay"] != "High" {
				t.Errorf("relay final level %v, want locked (High)", final)
			}
			if tc.systemd {
				expectNotify(t, notify, "STOPPING=1")
			}
			st, err := store.Open(store.Options{Path: filepath.Join(dir, "data", "latch.db"), KeyFile: filepath.Join(dir, "data", "device.key"), Timeout: time.Second})
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
			if tc.exitCode == 0 && got[len(got)-1] != "strike_locked" {
				t.Errorf("last stored event %q, want strike_locked on a graceful stop", got[len(got)-1])
			}
		})
	}
}

// expectNotify reads datagrams until one equals want (WATCHDOG=1 may come
// between the others).
func expectNotify(t *testing.T, c *net.UnixConn, want string) {
	t.Helper()
	buf := make([]byte, 256)
	for {
		if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("waiting for %q on NOTIFY_SOCKET: %v", want, err)
		}
		if string(buf[:n]) == want {
			return
		}
	}
}

// TestDemo follows make run's banner as a new user would. latchd and
// latchctl are built side by side (make run builds bin/ and starts
// bin/latchd --sim), latchctl is not on $PATH; latchd --sim starts on the
// built-in demo. Every door command of the banner has the outcome the
// banner promises, and the banner's latchctl lines work as printed.
func TestDemo(t *testing.T) {
	bin := buildLatchd(t)
	path := "PATH=/usr/bin:/bin"
	d := startDaemon(t, bin, []string{"--sim", "--log-format", "json"}, path, "TMPDIR="+t.TempDir())

	// The banner is written before the daemon starts: it is all on stderr.
	var ctl []string
	for line := range d.ErrLines {
		line = strings.TrimSpace(line)
		if strings.Contains(line, "latchctl") && strings.Contains(line, "--socket") {
			ctl = append(ctl, line)
		}
		if strings.Contains(line, "events --follow") {
			break
		}
	}
	if len(ctl) != 3 || !strings.HasPrefix(ctl[0], "export LATCH_TOKEN=$("+daemontest.Latchctl(bin)+" token create") {
		t.Fatalf("banner's latchctl lines %q; want three, the first making a token with %s", ctl, daemontest.Latchctl(bin))
	}

	for _, tc := range []struct {
		cmd  string
		want string // event/method-or-reason of the decision, or the event
	}{
		{"badge h10301 1 1001", "code_requested"},
		{"keys 1234#", "access_granted/card_and_code"},
		{"badge h10301 1 1002", "code_requested"},
		{"keys 4321#", "access_granted/card_and_code"},
		{"keys 9999#", "access_denied/card_required"},
		{"badge h10301 1 1003", "access_denied/user_inactive"},
		{"badge h10301 1 1004", "access_denied/no_access"},
		{"rex", "rex"},
		// setup lines typed at --sim (sim.Setup, as in a scenario)
		{"user erin groups=staff\ncard erin h10301 1 1005\nmfa erin 8642\nbadge h10301 1 1005", "code_requested"},
		{"keys 8642#", "access_granted/card_and_code"},
	} {
		d.Send(tc.cmd)
		got := d.WaitFor(tc.want, func(m map[string]any) bool {
			switch m["event"] {
			case "code_requested", "access_granted", "access_denied", "rex":
				return true
			}
			return false
		})
		name := fmt.Sprint(got["event"])
		if r := fmt.Sprint(got["method"], got["reason"]); got["method"] != nil || got["reason"] != nil {
			name += "/" + strings.ReplaceAll(strings.ReplaceAll(r, "<nil>", ""), " ", "")
		}
		if name != tc.want {
			t.Errorf("%s: %s (%v), want %s", tc.cmd, name, got, tc.want)
		}
	}

	// A line that cannot be carried out is reported on stderr with its number.
	d.Send("card nobody h10301 1 9")
	for line := range d.ErrLines {
		if strings.Contains(line, `no user "nobody"`) {
			if !strings.HasPrefix(line, "line 14: ") {
				t.Errorf("stderr %q, want it to start with line 14: (the 14th line typed)", line)
			}
			break
		}
	}

	// The banner's latchctl lines, run as printed in one shell.
	sh := exec.Command("sh", "-c", strings.Join(ctl, "\n"))
	sh.Env = append(os.Environ(), path)
	// Its own process group: latchctl events --follow (the banner's last
	// line) reconnects by itself and outlives latchd; the whole group is
	// killed at the end, as Ctrl-C would end it.
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, shErr := apitest.Start(t, sh)
	defer func() { syscall.Kill(-sh.Process.Pid, syscall.SIGKILL); sh.Wait() }()
	shLines := make(chan string, 100)
	go func() {
		defer close(shLines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			shLines <- sc.Text()
		}
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case l, ok := <-shLines:
			if !ok {
				t.Fatalf("latchctl ended before %s; stderr:\n%s", what, shErr.String())
			}
			return l
		case <-d.Deadline:
			t.Fatalf("no %s from latchctl; stderr:\n%s", what, shErr.String())
		}
		return ""
	}
	// users list: the four demo users and erin, the last one made.
	var users []string
	for !slices.ContainsFunc(users, func(l string) bool { return strings.Contains(l, "erin") }) {
		users = append(users, next("users list"))
	}
	if !slices.ContainsFunc(users, func(l string) bool { return strings.Contains(l, "alice") }) {
		t.Errorf("users list %q does not show alice", users)
	}
	// events --follow streams what happens from its start on: badge until
	// it shows a denial (the stream may connect after the first badge).
	for {
		d.Send("badge h10301 1 1003")
		d.WaitFor("user_inactive", func(m map[string]any) bool { return m["reason"] == "user_inactive" })
		select {
		case l := <-shLines:
			if !strings.Contains(l, "access_denied") || !strings.Contains(l, "user_inactive") {
				t.Errorf("events --follow printed %q, want carol's access_denied user_inactive", l)
			}
			d.Send("quit")
			d.ExitsCleanly()
			return
		case <-d.Deadline:
			t.Fatalf("events --follow printed nothing; stderr:\n%s", shErr.String())
		default:
		}
	}
}

// TestLockoutSurvivesReloadAndCrash: a card locked out at a door stays
// locked out when SIGHUP restarts the door, and when latchd is killed
// (SIGKILL: no shutdown at all) and started again (red-team item 3).
func TestLockoutSurvivesReloadAndCrash(t *testing.T) {
	// front is Card + Code all week; a lockout lasts an hour (the test
	// never waits for it to end).
	cfg := strings.Replace(simConfig, "unlock_time = \"60s\"\n", "unlock_time = \"60s\"\n"+cardAndCodeAllWeek, 1) + "[mfa]\nlockout_time = \"1h\"\n"
	bin := buildLatchd(t)
	_, cfgPath := seededDir(t, cfg)
	d := startSim(t, bin, cfgPath)
	decision := func(d *simDaemon) map[string]any {
		return d.WaitFor("a decision", func(m map[string]any) bool { return m["event"] == "access_granted" || m["event"] == "access_denied" })
	}
	for range 3 {
		d.Send("badge h10301 1 1001")
		d.WaitFor("code_requested", event("code_requested"))
		d.Send("keys 999999#")
		if m := decision(d); m["reason"] != "wrong_code" {
			t.Fatalf("wrong code: %v", m)
		}
	}
	d.WaitFor("keypad_lockout", event("keypad_lockout"))

	// SIGHUP with front changed: front restarts, the lockout holds.
	changed := strings.Replace(cfg, "unlock_time = \"60s\"\n", "unlock_time = \"59s\"\n", 1)
	if err := os.WriteFile(cfgPath, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	d.Cmd.Process.Signal(syscall.SIGHUP)
	reloaded := d.WaitFor("config reloaded", func(m map[string]any) bool { return m["message"] == "config reloaded" })
	if !slices.Equal(toStrings(reloaded["restarted"]), []string{"front"}) {
		t.Fatalf("reload %v: want front restarted", reloaded)
	}
	d.Send("badge h10301 1 1001")
	if m := decision(d); m["reason"] != "locked_out" {
		t.Fatalf("after the reload: %v, want locked_out", m)
	}

	// A crash: SIGKILL, then a new start on the same database.
	d.Cmd.Process.Kill()
	d.Wait()
	d = startSim(t, bin, cfgPath)
	d.Send("badge h10301 1 1001")
	if m := decision(d); m["reason"] != "locked_out" {
		t.Fatalf("after a crash and a restart: %v, want locked_out", m)
	}
	d.Cmd.Process.Signal(syscall.SIGTERM)
	d.ExitsCleanly()
}
