package api

import (
	"strings"
	"testing"

	"github.com/latchd/latch/store"
)

// TestEventsByController: a manager's log holds the site's events; each
// is served with its controller and controller_seq, and controller=
// keeps one controller's, in the page and in the live stream's filter.
func TestEventsByController(t *testing.T) {
	e := newEnv(t, nil)
	evs := []store.Event{
		{Event: "access_denied", Door: "front", Reason: "unknown_card", Controller: "ctl1", ControllerSeq: 4},
		{Event: "access_denied", Door: "front", Reason: "unknown_card", Controller: "ctl2", ControllerSeq: 9},
		{Event: "door_opened", Door: "front", Controller: "ctl2", ControllerSeq: 10},
	}
	if err := e.st.AppendSiteEvents(evs, 0, 3); err != nil {
		t.Fatal(err)
	}
	var p struct{ Events []store.Event }
	e.must(200, "GET", "/v1/events?door=front&controller=ctl2", "", &p)
	if len(p.Events) != 2 || p.Events[0].ControllerSeq != 9 || p.Events[1].Controller != "ctl2" {
		t.Fatalf("ctl2's events: %+v", p.Events)
	}
	rec := e.do(store.RoleSystemAdmin, "GET", "/v1/events?controller=ctl1", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"controller":"ctl1","controller_seq":4`) || strings.Contains(rec.Body.String(), "ctl2") {
		t.Fatalf("ctl1's events: %d %s", rec.Code, rec.Body)
	}
	q := store.EventQuery{Controller: "ctl1"}
	if !matches(evs[0], q) || matches(evs[1], q) {
		t.Error("the live stream's filter ignores controller=")
	}
	if rec := e.do(store.RoleSystemAdmin, "GET", "/v1/events?controller="+strings.Repeat("x", 129), ""); rec.Code != 400 {
		t.Errorf("a 129-byte controller: %d", rec.Code)
	}
}
