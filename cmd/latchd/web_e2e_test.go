package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latchd/latch/internal/daemontest"
	"github.com/latchd/latch/store"
)

// accountOf is the browser test's account name for a role.
func accountOf(role string) string { return "a-" + strings.ReplaceAll(role, "_", "-") }

const chromium = "/usr/bin/chromium"

// TestAdminPageInChromium drives Debian's chromium through the admin
// page's MFA flow against the built latchd --sim (docs/web.md): sign in,
// find the user, add a code by typing and one by Generate, each shown
// once, the list without digits; badge and type it → granted; delete it →
// denied; a viewer's controls; a forged POST refused; the Korean page.
// Screenshots go to $LATCH_SCREENSHOTS (make test: bin/screenshots), else
// a temporary folder; the test prints which.
func TestAdminPageInChromium(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("needs Debian's chromium (.ci/run installs it)")
	}
	bin := buildLatchd(t)
	dir := t.TempDir()
	addr := freePort(t)
	cfg := strings.Replace(string(demoConfig), "[log]", fmt.Sprintf("[api]\nsocket = %q\nlisten = %q\n\n[log]", filepath.Join(dir, "api.sock"), addr), 1)
	cfg = strings.Replace(cfg, `format = "console"`, `format = "json"`, 1)
	cfgPath := filepath.Join(dir, "latch.toml")
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	ctl := daemontest.Latchctl(bin)
	for _, role := range store.Roles {
		c := exec.Command(ctl, "admin", "create", "--config", cfgPath, "--name", accountOf(role), "--role", role)
		c.Stdin = strings.NewReader("browser test password\n")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("admin create: %v: %s", err, out)
		}
	}
	shots := os.Getenv("LATCH_SCREENSHOTS")
	if shots == "" {
		shots, _ = os.MkdirTemp("", "latch-screenshots-")
	}
	os.MkdirAll(shots, 0o755)
	t.Logf("screenshots in %s", shots)

	// The browser's steps outlast WaitFor's 30 s from the start: Drain
	// reads the log and logged polls it from a given line on.
	d := startDaemon(t, bin, []string{"--sim", "--config", cfgPath})
	d.Drain()
	logged := func(what string, from int, ev string) {
		t.Helper()
		pollUntil(t, what, 20*time.Second, func() bool { return d.All.FindFrom(from, event(ev)) != nil })
	}
	d.Send("user alice groups=staff")
	d.Send("card alice h10301 1 1001")

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-gpu", true), chromedp.UserDataDir(filepath.Join(dir, "chromium")), chromedp.WindowSize(1200, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelT()
	base := "http://" + addr
	do := func(what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, acts...); err != nil {
			t.Fatalf("%s: %v\nstderr:\n%s", what, err, d.Stderr.String())
		}
	}
	get := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			b, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), b, 0o644)
		})
	}
	do("sign in", chromedp.Navigate(base+"/"), chromedp.WaitVisible("#name"), shot("signin"),
		// By keyboard: the name, Tab to the password, Enter.
		chromedp.SendKeys("#name", accountOf(store.RoleSystemAdmin)), chromedp.KeyEvent("\t"),
		chromedp.KeyEvent("browser test password"), chromedp.KeyEvent("\r"), chromedp.WaitVisible("#q"))
	do("find alice", chromedp.SendKeys("#q", "alice\n"), chromedp.WaitVisible(`//tbody//a[contains(@href,"/users/")]`), shot("users"),
		chromedp.Click(`//tbody//a[contains(@href,"/users/")]`), chromedp.WaitVisible("#add-mfa"), shot("user"))
	userURL := get("user url", chromedp.Location())
	typed := "4829137"
	do("type a code", chromedp.Click("#add-mfa"), chromedp.WaitVisible("#code"), shot("mfa-new"),
		chromedp.SendKeys("#code", typed+"\r"), chromedp.WaitVisible("#code-once"), shot("mfa-shown")) // Enter saves
	if text := get("shown", chromedp.Text("#code-once")); text != typed {
		t.Fatalf("shown once: %q, want the typed code", text)
	}
	do("generate one", chromedp.Click("#done"), chromedp.WaitVisible("#add-mfa"), chromedp.Click("#add-mfa"),
		chromedp.WaitVisible("#length"), chromedp.SetValue("#length", "8"), chromedp.Click("#generate"),
		chromedp.WaitVisible("#code-once"))
	generated := get("generated", chromedp.Text("#code-once"))
	if len(generated) != 8 || strings.Trim(generated, "0123456789") != "" {
		t.Fatalf("generated %q, want 8 digits", generated)
	}
	do("the list", chromedp.Click("#done"), chromedp.WaitVisible("#mfa"), shot("user-mfa-list"))
	html := get("list html", chromedp.OuterHTML("html"))
	if strings.Contains(html, typed) || strings.Contains(html, generated) || strings.Count(html, "/edit") < 2 {
		t.Fatalf("the list shows digits, or not both codes")
	}
	// The typed code at the door: granted.
	from := d.All.Len()
	d.Send("badge h10301 1 1001")
	d.Send("keys " + typed + "#")
	logged("badge + typed code granted", from, "access_granted")
	// Delete it (confirmed), then the next attempt is denied.
	do("delete", chromedp.Click(`//tr[td[2][text()="7"]]//a[contains(@href,"/delete")]`), chromedp.WaitVisible("#confirm-delete"),
		shot("mfa-delete"), chromedp.Click("#confirm-delete"), chromedp.WaitVisible("#mfa"))
	// The next attempt is denied, and the Events page shows it live.
	do("events live", chromedp.Navigate(base+"/events"), chromedp.WaitVisible("#live"))
	from = d.All.Len()
	d.Send("badge h10301 1 1001")
	d.Send("keys " + typed + "#")
	logged("deleted code denied", from, "access_denied")
	do("live row", chromedp.WaitVisible(`//table[@id="events"]//tr[contains(@class,"new")]/td[2][text()="access_denied"]`), shot("events"))
	html = get("events html", chromedp.OuterHTML("html"))
	if strings.Contains(html, typed) || strings.Contains(html, generated) {
		t.Error("the Events page shows a code")
	}
	// A forged POST without the CSRF token, from the user's page itself
	// (same origin, the session cookie sent): refused.
	do("user page", chromedp.Navigate(userURL), chromedp.WaitVisible("#add-mfa"))
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch(location.pathname + "/mfa", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "action=save&code=97531864"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || status != 403 {
		t.Errorf("forged POST: %d %v, want 403", status, err)
	}
	// Doors: Unlock, confirmed, releases the strike with the account as actor.
	from = d.All.Len()
	do("unlock", chromedp.Navigate(base+"/doors"), chromedp.WaitVisible("#unlock-front"), shot("doors"),
		chromedp.Click("#unlock-front"), chromedp.WaitVisible("#confirm"), shot("door-unlock"),
		chromedp.Click("#confirm"), chromedp.WaitVisible("#unlock-front"))
	logged("Unlock releasing the strike", from, "strike_released")
	do("override form", chromedp.Navigate(base+"/doors/front/override"), chromedp.WaitVisible("#mode"), shot("door-override"),
		chromedp.Navigate(base+"/import"), chromedp.WaitVisible("#file"), shot("import"))
	// Import: a file with a bad row is refused whole, its rows in a table;
	// a good one is written.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("externalId,firstName,lastName,email,groups\nbob,Bob,Lee,bob@example.com,staff\ncho,Cho,Min,cho@example.com,nosuchgroup\n"), 0o600)
	do("import refused", chromedp.SetUploadFiles("#file", []string{bad}), chromedp.Click("#upload"),
		chromedp.WaitVisible("#badrows"), shot("import-refused"))
	if cell := get("bad row", chromedp.Text(`//table[@id="badrows"]//tr[1]/td[1]`)); cell != "3" {
		t.Errorf("bad row line: %q, want 3", cell)
	}
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("externalId,firstName,lastName,email,groups\nbob,Bob,Lee,bob@example.com,staff\n"), 0o600)
	do("import", chromedp.Navigate(base+"/import"), chromedp.WaitVisible("#file"), chromedp.SetUploadFiles("#file", []string{good}),
		chromedp.Click("#upload"), chromedp.WaitVisible("#import-done"), shot("import-done"),
		chromedp.Navigate(base+"/users?q=bob"), chromedp.WaitVisible(`//tbody//a[contains(@href,"/users/")]`))
	do("phone width", chromedp.EmulateViewport(360, 740), chromedp.Navigate(userURL), chromedp.WaitVisible("#add-mfa"), shot("user-360"),
		chromedp.EmulateViewport(1200, 900))
	// Korean, by the switch every page has.
	do("korean", chromedp.Navigate(userURL), chromedp.WaitVisible("#add-mfa"), chromedp.Click("a.lang"), chromedp.WaitVisible("#add-mfa"), shot("user-ko"))
	if text := get("ko add", chromedp.Text("#add-mfa")); text != "MFA 코드 추가" {
		t.Errorf("Korean Add MFA code: %q", text)
	}
	do("korean form", chromedp.Click("#add-mfa"), chromedp.WaitVisible("#generate"), shot("mfa-new-ko"))
	if text := get("ko generate", chromedp.Text("#generate")); text != "생성" {
		t.Errorf("Korean Generate: %q", text)
	}
	// Each role sees the controls its permissions allow (store.Allowed),
	// and no others.
	controls := []struct {
		mark string
		perm store.Permission
	}{
		{`id="add-mfa"`, store.PermCredentials}, {`id="add-card"`, store.PermCredentials}, {`id="set-entry"`, store.PermCredentials},
		{`id="save-profile"`, store.PermUsersWrite}, {`id="suspend"`, store.PermUsersWrite},
		{`href="/doors"`, store.PermDoorsRead}, {`href="/events"`, store.PermEventsRead}, {`href="/import"`, store.PermImport},
		{`href="/users"`, store.PermUsersRead},
	}
	do("back to English", chromedp.Click("a.lang"), chromedp.WaitVisible("#generate"))
	for _, role := range store.Roles {
		do("sign in as "+role, chromedp.Click(`//form[@action="/signout"]//button`), chromedp.WaitVisible("#name"),
			chromedp.SendKeys("#name", accountOf(role)), chromedp.SendKeys("#password", "browser test password"), chromedp.Click("#signin"),
			chromedp.WaitVisible(`//form[@action="/signout"]//button`), chromedp.Navigate(userURL), chromedp.WaitVisible("//h1"), shot("user-"+role))
		html = get(role+" html", chromedp.OuterHTML("html"))
		for _, c := range controls {
			if strings.Contains(html, c.mark) != store.Allowed(role, c.perm) {
				t.Errorf("%s: %s shown %v, but the role's %s is %v", role, c.mark, !store.Allowed(role, c.perm), c.perm, store.Allowed(role, c.perm))
			}
		}
	}
	d.Send("quit")
	d.ExitsCleanly()
	// The digits appear nowhere after their one showing: not in the log
	// (events included), on stderr, or in the database file.
	db, _ := os.ReadFile(filepath.Join(dir, "demo.db"))
	for _, code := range []string{typed, generated} {
		if strings.Contains(d.Stdout.String(), code) || strings.Contains(d.Stderr.String(), code) {
			t.Errorf("the log holds the code %s", code)
		}
		if bytes.Contains(db, []byte(code)) {
			t.Errorf("the database holds the code %s", code)
		}
	}
}
