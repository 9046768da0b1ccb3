package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/internal/apitest"
	"github.com/latchd/latch/store"
)

// TestFleetEventsEndToEnd: the events of three latchd --sim controllers
// reach the manager's GET /v1/events and its live stream, each with its
// controller, also those made while nats-server was stopped; each event
// once; a controller may not publish another's events (docs/fleet.md
// "Events").
func TestFleetEventsEndToEnd(t *testing.T) {
	site, tokens := startFleetSite(t, buildLatchd(t), map[string]string{"admin": store.RoleSystemAdmin})
	ns, token, api, ctls := site.ns, tokens["admin"], site.api, site.ctls

	// A change on the manager: its own audit event carries its name.
	if code, body := apitest.Call(t, context.Background(), api, "POST", "http://latchd/v1/users", token, `{"external_id":"alice","groups":["staff"]}`); code >= 300 {
		t.Fatalf("create user: %d %s", code, body)
	}

	// The manager's live stream, open from now on.
	sctx, scancel := context.WithCancel(context.Background())
	defer scancel()
	req, _ := http.NewRequestWithContext(sctx, "GET", "http://latchd/v1/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := api.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	live := make(chan store.Event, 256)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var e store.Event
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && json.Unmarshal([]byte(data), &e) == nil {
				live <- e
			}
		}
		close(live)
	}()

	// Each controller denies an unknown card: its access_denied reaches
	// the manager with its controller.
	for i, c := range ctls {
		c.d.Send(fmt.Sprintf("badge h10301 1 %d", 9001+i))
	}
	waitSiteEvents(t, api, token, 9001)
	seen := map[string]bool{}
	for len(seen) < 3 {
		select {
		case e, ok := <-live:
			if !ok {
				t.Fatal("the live stream ended")
			}
			if e.Event == "access_denied" && e.Card != nil && e.Controller == fmt.Sprintf("ctl%d", e.Card.CardNumber-9000) {
				seen[e.Controller] = true
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("the live stream gave the events of %v only", seen)
		}
	}

	// nats-server stops; the doors go on and their events wait in each
	// controller's log; after the restart they reach the manager.
	ns.stop()
	for i, c := range ctls {
		c.d.Send(fmt.Sprintf("badge h10301 1 %d", 9101+i))
	}
	for _, c := range ctls {
		pollUntil(t, c.name+"'s badge while NATS is down", 10*time.Second, func() bool {
			return c.d.All.Count(event("access_denied")) >= 2
		})
	}
	ns.start()
	evs := waitSiteEvents(t, api, token, 9101)

	// Each event once: no (controller, controller_seq) twice; the
	// manager's own event names it.
	ids := map[string]bool{}
	mgrEvents := 0
	for _, e := range evs {
		if e.Controller == "mgr" {
			mgrEvents++
		}
		if e.Controller == "mgr" || e.Controller == "" { // "": the token made before the manager's first start
			continue
		}
		id := fmt.Sprintf("%s:%d", e.Controller, e.ControllerSeq)
		if ids[id] || e.ControllerSeq == 0 {
			t.Fatalf("event %s twice or without its seq: %+v", id, e)
		}
		ids[id] = true
	}
	if mgrEvents == 0 {
		t.Error("no event of the manager's own carries its controller name")
	}

	// The account configuration: ctl1 may publish its own events only.
	c := dialSite(t, ns.url(), "ctl1")
	defer c.close()
	if _, err := c.js.Publish(c.ctx, "latch.hq.events.ctl2.front", []byte(`{}`)); err == nil {
		t.Error("ctl1 published an event of ctl2")
	}
}

// waitSiteEvents polls the manager's GET /v1/events until every
// controller's access_denied of card base+i (ctl<i+1>) is there, carrying
// its controller, and returns the site's events.
func waitSiteEvents(t *testing.T, api *http.Client, token string, base int) []store.Event {
	t.Helper()
	var evs []store.Event
	pollUntil(t, fmt.Sprintf("the controllers' events of cards %d.. on the manager", base), 30*time.Second, func() bool {
		evs = evs[:0]
		var after uint64
		for {
			code, body := apitest.Call(t, context.Background(), api, "GET", fmt.Sprintf("http://latchd/v1/events?after=%d&limit=1000", after), token, "")
			var page struct {
				Events []store.Event `json:"events"`
			}
			if code != 200 || json.Unmarshal([]byte(body), &page) != nil {
				return false
			}
			if len(page.Events) == 0 {
				break
			}
			evs = append(evs, page.Events...)
			after = page.Events[len(page.Events)-1].Seq
		}
		found := 0
		for i := range 3 {
			for _, e := range evs {
				if e.Controller == fmt.Sprintf("ctl%d", i+1) && e.Event == "access_denied" && e.Door == "front" && e.Card != nil && e.Card.CardNumber == uint64(base+i) {
					found++
					break
				}
			}
		}
		return found == 3
	})
	return evs
}
