package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/store"
)

// TestHelpEverywhere: every command answers help COMMAND, COMMAND --help
// and COMMAND ACTION --help with its usage on stdout and exit 0, from the
// commands table alone; an action's --help and its flag errors show that
// action's flags and not the others'.
func TestHelpEverywhere(t *testing.T) {
	for _, c := range commands {
		forms := [][]string{{"help", c.name}, {c.name, "--help"}, {c.name, "-h"}, {c.name, "help"}}
		for _, a := range actionsOf(c) {
			forms = append(forms, []string{"help", c.name, a}, []string{c.name, a, "--help"})
		}
		for _, args := range forms {
			var out, errb bytes.Buffer
			code := run(args, &out, &errb)
			if code != 0 || !strings.Contains(out.String(), "latchctl "+c.name) {
				t.Errorf("latchctl %s: exit %d, stdout %q, stderr %q; want its usage and 0", strings.Join(args, " "), code, out.String(), errb.String())
			}
		}
	}
	var out, errb bytes.Buffer
	run([]string{"users", "list", "--help"}, &out, &errb)
	if s := out.String(); !strings.Contains(s, "-search") || strings.Contains(s, "-first") || strings.Contains(s, "users create") {
		t.Errorf("users list --help shows other actions' flags or lines:\n%s", s)
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"users", "create", "--serch", "x"}, &out, &errb); code != 2 {
		t.Errorf("a bad flag: exit %d, want 2", code)
	}
	if s := errb.String(); !strings.Contains(s, "-first") || strings.Contains(s, "-search") || !strings.Contains(s, "flag provided but not defined: -serch") {
		t.Errorf("users create --serch: want only create's flags:\n%s", s)
	}
}

// TestDidYouMean: an unknown command or action names the close ones.
func TestDidYouMean(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "list"}, `unknown command "user"; did you mean "users"?`},
		{[]string{"users", "lst"}, `unknown action "lst"; did you mean "list"?`},
		{[]string{"cards", "activte", "x"}, `did you mean "activate"?`},
		{[]string{"completion", "zhs"}, `did you mean "zsh"?`},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("latchctl %s: exit %d, stderr %q; want 2 and %q", strings.Join(tc.args, " "), code, errb.String(), tc.want)
		}
	}
	if got := suggest("zzzzzz", []string{"users", "cards"}); got != nil {
		t.Errorf("suggest(far) = %v, want none", got)
	}
}

// TestComplete: the candidates __complete gives, from the table.
func TestComplete(t *testing.T) {
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"us"}, "users\n"},
		{[]string{"users", "s"}, "show\nsuspend\n"},
		{[]string{"users", "create", "--fi"}, "--first\n"},
		{[]string{"users", "list", "--tok"}, "--token\n--token-file\n"},
		{[]string{"help", "wie"}, "wiegand\n"},
		{[]string{"completion", ""}, "bash\nzsh\nfish\n"},
		{[]string{"import", "da"}, ""},
	} {
		var out bytes.Buffer
		complete(tc.words, &out)
		if out.String() != tc.want {
			t.Errorf("__complete %q = %q, want %q", tc.words, out.String(), tc.want)
		}
	}
}

// TestBashCompletion: the bash script, sourced in a real bash with this
// package's latchctl on PATH, completes a command and an action.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	if testing.Short() {
		t.Skip("builds latchctl")
	}
	dir := filepath.Dir(buildLatchctl(t, t.TempDir()))
	script := filepath.Join(dir, "latchctl.bash")
	if err := os.WriteFile(script, []byte(bashCompletion), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ line, want string }{
		{`COMP_WORDS=(latchctl us); COMP_CWORD=1`, "users"},
		{`COMP_WORDS=(latchctl mfa re); COMP_CWORD=2`, "replace"},
	} {
		cmd := exec.Command(bash, "--norc", "-c", "source "+script+"; "+tc.line+`; _latchctl; echo "${COMPREPLY[*]}"`)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != tc.want {
			t.Errorf("%s: %q (%v), want %q", tc.line, out, err, tc.want)
		}
	}
}

// TestManPage: latchctl --man has every command's usage, and man(1)
// renders it without a warning.
func TestManPage(t *testing.T) {
	var out bytes.Buffer
	if err := writeMan(&out); err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		if !strings.Contains(out.String(), ".SS "+c.name+"\n") {
			t.Errorf("man page lacks command %s", c.name)
		}
	}
	man, err := exec.LookPath("man")
	if err != nil {
		t.Skip("no man")
	}
	f := filepath.Join(t.TempDir(), "latchctl.1")
	if err := os.WriteFile(f, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(man, "--warnings", "-l", f)
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MAN_KEEP_FORMATTING=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("man --warnings: %v\n%s", err, stderr.String())
	}
}

func TestForPeople(t *testing.T) {
	for in, want := range map[string]string{
		"store: role: must be one of a, b":     "role: must be one of a, b",
		"api: store: user u1: mfa code 3 gone": "user u1: mfa code 3 gone",
		"import: store: database in use":       "import: database in use",
		"a restore: x":                         "a restore: x",
	} {
		if got := forPeople(in); got != want {
			t.Errorf("forPeople(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPagingHints: the "more:" line keeps the filters and the limit, and a
// page that ends at the last match has none.
func TestPagingHints(t *testing.T) {
	e := newCtlEnv(t)
	var evs []store.Event
	for i := range 3 {
		evs = append(evs, store.Event{Time: time.Date(2026, 3, 2, 9, 0, i, 0, time.UTC), Event: "rex", Door: "side door"})
	}
	if err := e.st.AppendEvents(evs); err != nil {
		t.Fatal(err)
	}
	code, _, errs := e.run("events", "--door", "side door", "--limit", "2")
	m := regexp.MustCompile(`^more: latchctl events --door 'side door' --limit 2 --after (\d+)\n$`).FindStringSubmatch(errs)
	if code != 0 || m == nil {
		t.Fatalf("first page: exit %d, stderr %q", code, errs)
	}
	if code, out, errs := e.run("events", "--door", "side door", "--limit", "2", "--after", m[1]); code != 0 || strings.Count(out, "\n") != 1 || errs != "" {
		t.Errorf("last page: exit %d, stdout %q, stderr %q; want one event and no hint", code, out, errs)
	}
	// A full page that is also the last: no hint.
	if code, out, errs := e.run("events", "--door", "side door", "--limit", "3"); code != 0 || strings.Count(out, "\n") != 3 || errs != "" {
		t.Errorf("exactly full: exit %d, stdout %q, stderr %q; want three events and no hint", code, out, errs)
	}

	for _, n := range []string{"Ann", "Anna", "Annette"} {
		e.ok("users", "create", "--first", n, "--last", "X")
	}
	code, _, errs = e.run("users", "list", "--search", "ann", "--limit", "2")
	m = regexp.MustCompile(`^more: latchctl users list --search ann --limit 2 --after (\S+)\n$`).FindStringSubmatch(errs)
	if code != 0 || m == nil {
		t.Fatalf("users first page: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := e.run("users", "list", "--search", "ann", "--limit", "2", "--after", m[1]); code != 0 || errs != "" {
		t.Errorf("users last page: exit %d, stderr %q; want no hint", code, errs)
	}
}

// TestDoorTime: door status shows a change in the door's zone, with it.
func TestDoorTime(t *testing.T) {
	for _, tc := range []struct{ in, zone, want string }{
		{"2026-03-02T18:00:00Z", "Europe/Berlin", "2026-03-02 19:00 CET (Europe/Berlin)"},
		{"2026-07-02T18:00:00Z", "Europe/Berlin", "2026-07-02 20:00 CEST (Europe/Berlin)"},
		{"2026-03-02T18:00:00Z", "UTC", "2026-03-02 18:00 UTC"},
		{"2026-03-02T18:00:00Z", "", "2026-03-02T18:00:00Z"},
		{"not a time", "UTC", "not a time"},
	} {
		if got := doorTime(tc.in, tc.zone); got != tc.want {
			t.Errorf("doorTime(%q, %q) = %q, want %q", tc.in, tc.zone, got, tc.want)
		}
	}
}

// TestUserDates: --start and --end take a date alone as a CSV import
// does (store.ParseDate): midnight UTC, and the end of the day for --end.
func TestUserDates(t *testing.T) {
	e := newCtlEnv(t)
	out := e.ok("users", "create", "--first", "D", "--last", "E", "--start", "2026-03-01", "--end", "2026-03-31")
	if !strings.Contains(out, `"start": "2026-03-01T00:00:00Z"`) || !strings.Contains(out, `"end": "2026-04-01T00:00:00Z"`) {
		t.Errorf("dates: %s", out)
	}
	if code, _, errs := e.run("users", "create", "--first", "D", "--last", "E", "--start", "March 1"); code != 1 || !strings.Contains(errs, `--start "March 1": must be YYYY-MM-DD or RFC 3339`) {
		t.Errorf("bad date: exit %d, %q", code, errs)
	}
}

// FuzzComplete: __complete and the door time never panic on any words.
func FuzzComplete(f *testing.F) {
	f.Add("users", "create", "--fi")
	f.Add("help", "mfa", "")
	f.Add("2026-03-02T18:00:00Z", "Europe/Berlin", "")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		var out bytes.Buffer
		complete([]string{a, b, c}, &out)
		complete([]string{a}, &out)
		_ = doorTime(a, b)
	})
}
