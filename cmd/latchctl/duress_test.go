package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/store"
)

// TestDuressCommands: set (from standard input, never echoed), status,
// clear and delete, through the API.
func TestDuressCommands(t *testing.T) {
	e := newCtlEnv(t)
	u, err := e.st.CreateUser(store.UserFields{ExternalID: "ada"}, store.Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetEntryCode(u.UserID, []byte("1357"), store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	stdin = strings.NewReader("86420135\n")
	defer func() { stdin = os.Stdin }()
	out := e.ok("duress", "set", "ext:ada") // no --code: read like "-"
	if strings.Contains(out, "86420135") {
		t.Errorf("set echoes the code: %q", out)
	}
	if v, m, err := e.st.MatchEntryCode([]byte("86420135")); err != nil || m != store.CodeDuress || v.UserID != u.UserID {
		t.Errorf("duress code from stdin: %v %v %v", v.UserID, m, err)
	}
	// Another user may not have it as entry code (409 from the API).
	if _, err := e.st.CreateUser(store.UserFields{ExternalID: "bob"}, store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	code, _, errs := e.run("entry", "set", "ext:bob", "--code", "86420135")
	if code != 1 || !strings.Contains(errs, "already used by another user") || strings.Contains(errs, "86420135") {
		t.Errorf("entry set clash: exit %d, %q", code, errs)
	}
	if out := e.ok("duress", "status"); out != "duress output not active\n" {
		t.Errorf("status: %q", out)
	}
	if err := e.st.RecordDuress(store.Event{Event: "duress", Door: "front", Time: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if out := e.ok("duress", "status"); out != "duress output ACTIVE since 2026-03-02T09:30:00Z\n" {
		t.Errorf("status: %q", out)
	}
	if out := e.ok("duress", "clear"); out != "duress output cleared\n" {
		t.Errorf("clear: %q", out)
	}
	if out := e.ok("duress", "clear"); out != "duress output was not active\n" {
		t.Errorf("second clear: %q", out)
	}
	evs, _ := e.st.Events(store.EventQuery{Event: "duress_cleared", Limit: 10})
	if len(evs) != 1 || evs[0].Actor != "t-access_system_admin" {
		t.Errorf("duress_cleared: %+v", evs)
	}
	e.ok("duress", "delete", "ext:ada")
	if code, _, errs := e.run("duress", "delete", "ext:ada"); code != 1 || !strings.Contains(errs, "duress code not found") {
		t.Errorf("delete twice: %d %q", code, errs)
	}
	if code, _, _ := e.run("duress", "set"); code != 1 {
		t.Errorf("set without USER: exit %d", code)
	}
	if code, _, _ := e.run("duress", "bogus"); code != 2 {
		t.Errorf("unknown action: exit %d", code)
	}
}
