package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/store/storetest"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/store"
)

type ctlEnv struct {
	t   *testing.T
	st  *store.Store
	srv *httptest.Server
	dir string
}

func newCtlEnv(t *testing.T) *ctlEnv {
	t.Helper()
	dir := t.TempDir()
	st := storetest.Open(t, dir)
	s := api.New(api.Options{
		Store: st,
		Config: api.Config{
			Groups: []api.Group{{Name: "staff", Doors: []string{"front"}}},
			Doors:  []api.Door{{Name: "front", TimeZone: "UTC", DefaultMode: "access_controlled"}},
		},
		Doors: api.DoorStatusFunc(func() []api.DoorStatus {
			return []api.DoorStatus{{Name: "front", Mode: "card_and_code", NextChange: time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC), NextMode: "access_controlled"}}
		}),
	})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	for _, r := range store.Roles {
		tok, err := st.CreateToken("t-"+r, r, store.Actor{Name: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if r == store.RoleSystemAdmin {
			t.Setenv("LATCH_TOKEN", tok)
		}
	}
	return &ctlEnv{t: t, st: st, srv: srv, dir: dir}
}

// serveSocket serves the API over st on api.sock in dir, as a running
// latchd does, until the test ends; localOwner lets the socket's owner
// manage tokens and accounts without a token. It returns the socket path.
func serveSocket(t *testing.T, dir string, st *store.Store, localOwner bool) string {
	t.Helper()
	sock := filepath.Join(dir, "api.sock")
	ln, err := api.ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- api.New(api.Options{Store: st, LocalOwner: localOwner}).Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })
	return sock
}

// ownerDaemon stands in for a running latchd: it holds the database of a
// temporary folder open (so latchctl's own open gives up after
// openTimeout, shortened here) and serves the socket with the local owner
// allowed. It skips where peer credentials are not supported.
func ownerDaemon(t *testing.T) (st *store.Store, db, key, sock string) {
	t.Helper()
	if !api.PeerCredSupported {
		t.Skip("peer credentials are Linux-only")
	}
	old := openTimeout
	openTimeout = 10 * time.Millisecond
	t.Cleanup(func() { openTimeout = old })
	dir := t.TempDir()
	db, key = filepath.Join(dir, "latch.db"), filepath.Join(dir, "device.key")
	st, err := store.Open(store.Options{Path: db, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, db, key, serveSocket(t, dir, st, true)
}

// dbConfig is a temporary folder's database and key paths (latch.db,
// device.key, not made yet) and the path of its latch.toml, which names
// them relative to its folder and holds extra after [controller].
func dbConfig(t *testing.T, extra string) (db, key, cfg string) {
	t.Helper()
	dir := t.TempDir()
	db, key, cfg = filepath.Join(dir, "latch.db"), filepath.Join(dir, "device.key"), filepath.Join(dir, "latch.toml")
	if err := os.WriteFile(cfg, []byte("[controller]\ndatabase = \"latch.db\"\nkey_file = \"device.key\"\n"+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	return db, key, cfg
}

// runStdin runs latchctl with in as its standard input.
func runStdin(in string, args ...string) (code int, stdout, stderr string) {
	stdin = strings.NewReader(in)
	defer func() { stdin = os.Stdin }()
	var out, errs bytes.Buffer
	code = run(args, &out, &errs)
	return code, out.String(), errs.String()
}

// run runs latchctl with --url pointing at the test server.
func (e *ctlEnv) run(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	var o, er bytes.Buffer
	args = append(args, "--url", e.srv.URL)
	code = run(args, &o, &er)
	return code, o.String(), er.String()
}

func (e *ctlEnv) ok(args ...string) string {
	e.t.Helper()
	code, out, errs := e.run(args...)
	if code != 0 {
		e.t.Fatalf("latchctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func TestCredentialCommands(t *testing.T) {
	e := newCtlEnv(t)
	var u struct {
		UserID string `json:"user_id"`
	}
	out := e.ok("users", "create", "--first", "Ada", "--last", "Lovelace", "--external-id", "ada", "--groups", "staff")
	if err := json.Unmarshal([]byte(out), &u); err != nil || u.UserID == "" {
		t.Fatalf("users create printed %q: %v", out, err)
	}
	if out := e.ok("users", "list", "--search", "love"); !strings.Contains(out, u.UserID) || !strings.Contains(out, "Ada Lovelace") {
		t.Errorf("users list: %s", out)
	}
	if out := e.ok("users", "update", "ext:ada", "--email", "ada@example.com"); !strings.Contains(out, `"email": "ada@example.com"`) {
		t.Errorf("users update: %s", out)
	}

	e.ok("cards", "add", "ext:ada", "h10301", "212", "7041")
	if out := e.ok("cards", "list", u.UserID); !regexp.MustCompile(`h10301\s+212\s+7041\s+true`).MatchString(out) {
		t.Errorf("cards list: %s", out)
	}
	e.ok("cards", "deactivate", u.UserID, "h10301", "212", "7041")
	if _, active, err := e.st.LookupCard(store.CardKey{Format: "h10301", FacilityCode: 212, CardNumber: 7041}); err != nil || active {
		t.Errorf("card after deactivate: active=%v err=%v", active, err)
	}

	// --code - reads standard input when it is not a terminal.
	stdin = strings.NewReader("55501234\n")
	defer func() { stdin = os.Stdin }()
	e.ok("entry", "set", "ext:ada", "--code", "-")
	if v, err := e.st.LookupEntryCode([]byte("55501234")); err != nil || v.UserID != u.UserID {
		t.Errorf("entry code from stdin not set: %v %v", v, err)
	}

	if out := e.ok("mfa", "add", "ext:ada", "--code", "2468"); !strings.Contains(out, "added MFA code id") || strings.Contains(out, "2468") {
		t.Errorf("mfa add: %q", out)
	}
	code, gen, errs := e.run("mfa", "add", u.UserID, "--generate", "--length", "8")
	if code != 0 || !regexp.MustCompile(`^[0-9]{8}\n$`).MatchString(gen) {
		t.Fatalf("mfa add --generate: exit %d, stdout %q (want the code alone), stderr %q", code, gen, errs)
	}
	gen = strings.TrimSpace(gen)
	if ok, err := e.st.VerifySecondFactor(u.UserID, []byte(gen), false); !ok || err != nil {
		t.Errorf("generated code does not verify: %v %v", ok, err)
	}
	list := e.ok("mfa", "list", "ext:ada")
	if strings.Contains(list, gen) || strings.Contains(list, "2468") {
		t.Errorf("mfa list shows digits: %s", list)
	}
	ids := regexp.MustCompile(`(?m)^(\S+)\s+(4|8)\s`).FindAllStringSubmatch(list, -1)
	if len(ids) != 2 {
		t.Fatalf("mfa list: %q", list)
	}
	stdin = strings.NewReader("97531\n")
	e.ok("mfa", "replace", "ext:ada", ids[0][1]) // no --code: read like "-"
	if ok, _ := e.st.VerifySecondFactor(u.UserID, []byte("97531"), false); !ok {
		t.Error("replaced code does not verify")
	}
	e.ok("mfa", "delete", "ext:ada", ids[1][1])
	if ms, _ := e.st.MFACodes(u.UserID); len(ms) != 1 {
		t.Errorf("codes after delete: %v", ms)
	}
	e.ok("users", "suspend", "ext:ada")
	e.ok("users", "delete", "ext:ada")
	if _, err := e.st.User(u.UserID); err == nil {
		t.Error("user still there after users delete")
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	e := newCtlEnv(t)
	uid := strings.TrimSpace(e.ok("users", "create", "--first", "B", "--last", "C", "--external-id", "b"))
	var u struct {
		UserID string `json:"user_id"`
	}
	json.Unmarshal([]byte(uid), &u)
	viewer, _ := e.st.CreateToken("v2", store.RoleViewer, store.Actor{Name: "test"})
	cases := []struct {
		name  string
		env   string // LATCH_TOKEN; "-" keeps the admin's
		args  []string
		want  string
		exitc int
	}{
		{"bad code", "-", []string{"mfa", "add", u.UserID, "--code", "12a4"}, "must be 4–16 ASCII digits", 1},
		{"no code or generate", "-", []string{"mfa", "add", u.UserID}, "exactly one of --code", 1},
		{"unknown user", "-", []string{"mfa", "list", "3f2b8c1e-1111-4111-8111-111111111111"}, "user not found: 3f2b8c1e-1111-4111-8111-111111111111\n  USER is a user_id (latchctl users list shows them), or ext:EXTERNAL_ID", 1},
		{"unknown mfa id", "-", []string{"mfa", "delete", u.UserID, "99"}, "latchctl mfa list USER shows the ids", 1},
		{"no store prefix", "-", []string{"mfa", "delete", u.UserID, "99"}, "latchctl mfa delete: mfa code not found\n", 1},
		{"names required", "-", []string{"users", "create", "--first", "A"}, "--first and --last are required", 1},
		{"unknown external id", "-", []string{"mfa", "list", "ext:nobody"}, "no user with external_id", 1},
		{"wrong role", viewer, []string{"mfa", "list", u.UserID}, "use a token whose role may do this", 1},
		{"bad token", "latch_nope", []string{"users", "list"}, "set LATCH_TOKEN to a valid token", 1},
		{"no token", "", []string{"users", "list"}, "no API token: set LATCH_TOKEN", 1},
		{"bad facility", "-", []string{"cards", "add", u.UserID, "h10301", "x", "1"}, "FACILITY", 1},
		{"unknown action", "-", []string{"mfa", "frob", u.UserID}, "unknown action", 2},
	}
	admin := envToken()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.env != "-" {
				t.Setenv("LATCH_TOKEN", c.env)
			} else {
				t.Setenv("LATCH_TOKEN", admin)
			}
			code, _, errs := e.run(c.args...)
			if code != c.exitc || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errs, c.exitc, c.want)
			}
		})
	}
	// A refused code is not repeated in the error.
	t.Setenv("LATCH_TOKEN", admin)
	if _, out, errs := e.run("mfa", "add", u.UserID, "--code", "98765x"); strings.Contains(out+errs, "98765") {
		t.Errorf("a refused code is echoed: %q %q", out, errs)
	}
	// A --url with a password or query is refused without printing it.
	for _, u := range []string{"http://admin:s3cretpw@127.0.0.1:1", "http://127.0.0.1:1/?token=s3cretpw", "ftp://x:s3cretpw@h", "http://[bad:s3cretpw"} {
		var o, er bytes.Buffer
		if code := run([]string{"users", "list", "--url", u}, &o, &er); code != 1 || strings.Contains(er.String(), "s3cretpw") || !strings.Contains(er.String(), "--url") {
			t.Errorf("--url %s: exit %d, stderr %q; want 1 and no password", u, code, er.String())
		}
	}
	// Unreachable socket: the message names the socket and what to check.
	var o, er bytes.Buffer
	code := run([]string{"users", "list", "--socket", filepath.Join(e.dir, "none.sock")}, &o, &er)
	if code != 1 || !strings.Contains(er.String(), "is latchd running?") {
		t.Errorf("unreachable socket: exit %d, %q", code, er.String())
	}
}

func TestEventsAndDoorStatus(t *testing.T) {
	e := newCtlEnv(t)
	if err := e.st.AppendEvents([]store.Event{
		{Time: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Event: "access_granted", Door: "front", Method: "card_and_code", UserID: "u1"},
		{Time: time.Date(2026, 3, 2, 9, 0, 1, 0, time.UTC), Event: "access_denied", Door: "back", Reason: "wrong_code"},
	}); err != nil {
		t.Fatal(err)
	}
	eventZone = time.UTC // the console format prints local time
	defer func() { eventZone = nil }()
	out := e.ok("events", "--door", "front")
	if want := "2026-03-02 09:00:00.000 front        access_granted   method=card_and_code user=u1\n"; out != want {
		t.Errorf("events:\n got %q\nwant %q", out, want)
	}
	if out := e.ok("events", "--json", "--door", "back"); strings.Count(out, "\n") != 1 || !strings.Contains(out, `"reason":"wrong_code"`) {
		t.Errorf("events --json: %q", out)
	}
	// The setup's tokens were audited, by name and role, never the secret.
	if out := e.ok("events", "--json", "--event", "credential_changed"); strings.Count(out, `"action":"token_created"`) != len(store.Roles) ||
		!strings.Contains(out, `"token_name":"t-viewer","token_role":"viewer"`) || strings.Contains(out, envToken()) {
		t.Errorf("token audit events: %q", out)
	}
	all, err := e.st.Events(store.EventQuery{Limit: 1000})
	if err != nil || len(all) == 0 {
		t.Fatal(err)
	}
	last := all[len(all)-1].Seq
	out = e.ok("door", "status")
	if !regexp.MustCompile(`front\s+card_and_code\s+2026-03-02 18:00 UTC\s+access_controlled`).MatchString(out) {
		t.Errorf("door status: %q", out)
	}

	// --follow: live events as console lines until the context ends.
	c := &conn{url: e.srv.URL, token: envToken()}
	if err := c.setup(newFlags("x", io.Discard)); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	// after=last (the events above): whether the next event is appended
	// before or after the stream subscribes, it arrives exactly once.
	go func() {
		done <- followEvents(ctx, c, url.Values{"door": {"front"}, "after": {strconv.FormatUint(last, 10)}}, newEventPrinter(pw, false), io.Discard)
		pw.Close()
	}()
	if err := e.st.AppendEvents([]store.Event{{Event: "rex", Door: "back"}, {Event: "door_opened", Door: "front"}}); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("stream ended: %v", lines.Err())
	}
	line := lines.Text()
	go io.Copy(io.Discard, pr)
	if !regexp.MustCompile(`^\S+ \S+ front +door_opened`).MatchString(line) {
		t.Errorf("followed line %q", line)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("follow exit %d", code)
	}
}

func envToken() string {
	return lookupEnv("LATCH_TOKEN")
}

func lookupEnv(k string) string { v, _ := os.LookupEnv(k); return v }

// TestTokenFile: --token-file and LATCH_TOKEN_FILE read the token from a
// file; a file group or others may read is refused with an error that says
// so and how to fix it (and never shows the token); --token's help says it
// is visible to other users.
func TestTokenFile(t *testing.T) {
	e := newCtlEnv(t)
	tok := os.Getenv("LATCH_TOKEN")
	t.Setenv("LATCH_TOKEN", "")
	path := filepath.Join(e.dir, "token")
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil { // whatever the umask
		t.Fatal(err)
	}
	e.ok("users", "list", "--token-file", path)
	t.Setenv("LATCH_TOKEN_FILE", path)
	e.ok("users", "list")

	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"users", "list", "--token-file", path}, {"users", "list"}} {
			code, _, errs := e.run(args...)
			if code == 0 || !strings.Contains(errs, "readable by group or others") || !strings.Contains(errs, "chmod 600 "+path) {
				t.Errorf("mode %04o, %v: exit %d, stderr %q; want a refusal naming the rule", mode, args, code, errs)
			}
			if strings.Contains(errs, tok) {
				t.Errorf("the error shows the token: %q", errs)
			}
		}
	}
	os.Chmod(path, 0o600)

	for _, c := range []struct {
		name, content string
		args          []string
		env           map[string]string
		want          string
	}{
		{"both flags", tok, []string{"--token", tok, "--token-file", path}, nil, "give only one"},
		{"both variables", tok, nil, map[string]string{"LATCH_TOKEN": tok}, "both set"},
		{"empty file", "\n", nil, nil, "is empty"},
		{"two lines", tok + "\n" + tok + "\n", nil, nil, "only the token"},
		{"missing file", "", []string{"--token-file", path + ".missing"}, nil, "no such file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			code, _, errs := e.run(append([]string{"users", "list"}, c.args...)...)
			if code == 0 || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stderr %q; want an error with %q", code, errs, c.want)
			}
			if strings.Contains(errs, tok) {
				t.Errorf("the error shows the token: %q", errs)
			}
		})
	}

	// The flag's own help warns that --token shows in ps.
	_, out, errs := e.run("users", "list", "-h")
	if help := out + errs; !strings.Contains(help, "VISIBLE TO EVERY LOCAL USER in ps") || !strings.Contains(help, "-token-file") {
		t.Errorf("users list -h does not warn about --token: %s", help)
	}
}

// FuzzTokenFile: whatever a token file holds, readTokenFile does not
// panic, and what it accepts is one non-empty word of the file.
func FuzzTokenFile(f *testing.F) {
	for _, s := range []string{"latch_abc\n", "", "\n", " latch_x \r\n", "a\nb", "a b", "\x00", strings.Repeat("x", 5000)} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(dir, "tok")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, 0o600)
		tok, err := readTokenFile(path)
		if err != nil {
			if content != "" && len(strings.TrimSpace(content)) >= 16 && strings.Contains(err.Error(), strings.TrimSpace(content)) {
				t.Fatalf("error %q repeats the file's content", err)
			}
			return
		}
		if tok == "" || strings.ContainsAny(tok, " \t\r\n") || !strings.Contains(content, tok) || len(tok) > maxTokenFile {
			t.Fatalf("accepted %q from %q", tok, content)
		}
	})
}
