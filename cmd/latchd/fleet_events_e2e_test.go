package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/latchd/latch/internal/apitest"
	"github.com/latchd/latch/store"
)

// TestFleetEventsEndToEnd: the events of three latchd --sim controllers
// reach the manager's GET /v1/events and its live stream, each with its
// controller, also those made while nats-server was stopped; each event
// once; a controller may not publish another's events (docs/fleet.md
// "Events").
func TestFleetEventsEndToEnd(t *testing.T) {
	e := startSiteE2E(t)
	ns, token, api := e.ns, e.token, e.api
	ctls := make([]*member, 3)
	for i := range ctls {
		ctls[i] = newMember(t, e.root, e.bin, fmt.Sprintf("ctl%d", i+1), ns.url(), e.key, true)
		ctls[i].start()
	}
	for _, c := range ctls {
		c.waitLog("the replica", 20*time.Second, msg("replica rebuilt"))
	}

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
		c.d.send(fmt.Sprintf("badge h10301 1 %d", 9001+i))
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
		c.d.send(fmt.Sprintf("badge h10301 1 %d", 9101+i))
	}
	for _, c := range ctls {
		pollUntil(t, c.name+"'s badge while NATS is down", 10*time.Second, func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			n := 0
			for _, l := range c.log {
				if l["event"] == "access_denied" {
					n++
				}
			}
			return n >= 2
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
	nc, err := nats.Connect(ns.url(), nats.UserInfo("ctl1", "pw-ctl1"), nats.CustomInboxPrefix("_INBOX_hq_ctl1"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := js.Publish(ctx, "latch.hq.events.ctl2.front", []byte(`{}`)); err == nil {
		t.Error("ctl1 published an event of ctl2")
	}
}

// siteE2E is a site of processes: the latchd binary, the test's folder,
// Debian's nats-server with deploy/nats-server.conf, a random site key,
// and the manager "mgr" with its API token and a client of its socket.
type siteE2E struct {
	bin, root string
	ns        *natsProc
	key       []byte
	mgr       *member
	token     string
	api       *http.Client
}

// startSiteE2E builds latchd, starts nats-server and the manager, whose
// API token (tokens are each member's own) is made before its first
// start.
func startSiteE2E(t *testing.T) *siteE2E {
	t.Helper()
	e := &siteE2E{bin: buildLatchd(t), root: t.TempDir(), key: make([]byte, 32)}
	e.ns = startNATS(t, e.root)
	rand.Read(e.key)
	e.mgr, e.token, e.api = startManager(t, e.root, e.bin, e.ns.url(), e.key)
	return e
}

// startManager starts the site's manager "mgr" with an API token made
// before its first start, and returns it, the token and a client of its
// API socket.
func startManager(t *testing.T, root, bin, natsURL string, key []byte) (*member, string, *http.Client) {
	t.Helper()
	mgr := newMember(t, root, bin, "mgr", natsURL, key, false)
	st, err := store.Open(store.Options{Path: filepath.Join(mgr.dir, "data", "latch.db"), KeyFile: filepath.Join(mgr.dir, "site.key")})
	if err != nil {
		t.Fatal(err)
	}
	token, err := st.CreateToken("admin", store.RoleSystemAdmin, store.Actor{Name: "test"})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	mgr.start()
	mgr.waitLog("the replica", 20*time.Second, msg("replica rebuilt"))
	return mgr, token, apitest.UnixClient(mgr.sock)
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
