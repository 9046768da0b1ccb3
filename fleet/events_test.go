package fleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/outbox"
	"github.com/latchd/latch/store"
)

// uploading is a controller's event upload as latchd runs it: the
// outbox with the Uploader as a destination, on a member's connection.
type uploading struct {
	t      testing.TB
	ob     *outbox.Outbox
	m      *Member
	cancel context.CancelFunc
	done   chan struct{}
}

// upload starts controller name's upload of st's log (a member with
// no doors is a manager, so this one says it is not).
func (s *site) upload(st *store.Store, name string) *uploading {
	s.t.Helper()
	up, err := NewUploader("hq", name)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := InitUploadCursor(st); err != nil {
		s.t.Fatal(err)
	}
	ob := outbox.New(st, outbox.Options{Emit: func(e store.Event) {
		if err := st.AppendEvents([]store.Event{e}); err != nil {
			s.t.Error(err)
		}
	}})
	ob.Add(up)
	if err := ob.Init(); err != nil {
		s.t.Fatal(err)
	}
	m, err := New(Config{URLs: []string{s.url}, Site: "hq", Controller: name, SiteKey: s.key, Store: st, Logger: zerolog.Nop(),
		Uploader: up, EventBacklog: destBacklogOf(ob)})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &uploading{t: s.t, ob: ob, m: m, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(u.done)
		if err := ob.Run(ctx); err != nil {
			s.t.Error(err)
		}
	}()
	s.t.Cleanup(u.stop)
	return u
}

func destBacklogOf(ob *outbox.Outbox) func() uint64 {
	return func() uint64 { return ob.Stats()[0].Backlog }
}

func (u *uploading) stop() {
	if u.cancel == nil {
		return
	}
	u.cancel()
	<-u.done
	u.m.Close()
	u.cancel = nil
}

func (u *uploading) stat() outbox.Stat { return u.ob.Stats()[0] }

// appendN appends n events to st: every third of no door, the others at
// door "front" or "back".
func appendN(t testing.TB, st *store.Store, n int) {
	t.Helper()
	evs := make([]store.Event, n)
	for i := range evs {
		evs[i] = store.Event{Time: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond), Event: door.EvAccessGranted, Door: []string{"front", "back", ""}[i%3], Method: door.MethodCard}
		if evs[i].Door == "" {
			evs[i].Event = "credential_changed"
		}
	}
	if err := st.AppendEvents(evs); err != nil {
		t.Fatal(err)
	}
}

// siteEvents returns the events of controller in st's log, oldest first.
func siteEvents(t testing.TB, st *store.Store, controller string) []store.Event {
	t.Helper()
	var out []store.Event
	var after uint64
	for {
		evs, err := st.Events(store.EventQuery{After: after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return out
		}
		for _, e := range evs {
			if e.Controller == controller {
				out = append(out, e)
			}
		}
		after = evs[len(evs)-1].Seq
	}
}

// checkSeqs checks that evs are the controller's events first..last, each
// once, in order.
func checkSeqs(t testing.TB, evs []store.Event, first, last uint64) {
	t.Helper()
	if uint64(len(evs)) != last-first+1 {
		t.Fatalf("%d events, want %d (seq %d..%d)", len(evs), last-first+1, first, last)
	}
	for i, e := range evs {
		if e.ControllerSeq != first+uint64(i) {
			t.Fatalf("event %d has controller_seq %d, want %d (order or a duplicate)", i, e.ControllerSeq, first+uint64(i))
		}
	}
}

func waitSite(t testing.TB, st *store.Store, controller string, n int) []store.Event {
	t.Helper()
	var evs []store.Event
	waitFor(t, fmt.Sprintf("%d events of %s on the manager", n, controller), func() bool {
		evs = siteEvents(t, st, controller)
		return len(evs) >= n
	})
	return evs
}

// managed is a site with a manager that made the site's event stream:
// the site, the manager's store and member, and a plain JetStream client.
func managed(t testing.TB) (*site, *store.Store, *Member, jetstream.JetStream) {
	t.Helper()
	srv := runServer(t, "", 0)
	s := newSite(t, srv.ClientURL())
	mst := storeIn(t, t.TempDir(), s.key)
	mgr := s.member(mst, "mgr", true, nil, nil)
	t.Cleanup(func() { mgr.Close(); mst.Close() })
	js := jsOf(t, s.url)
	waitFor(t, "the stream", func() bool { _, err := js.Stream(context.Background(), "latch_hq_events"); return err == nil })
	return s, mst, mgr, js
}

// TestEventsReachManager: a controller started before the site's stream
// exists keeps its cursor and retries; once a manager made the stream,
// every event arrives on the manager, in order, each with its controller,
// door and original fields, on the subject of its door.
func TestEventsReachManager(t *testing.T) {
	srv := runServer(t, "", 0)
	s := newSite(t, srv.ClientURL())
	cst := storeIn(t, t.TempDir(), s.key)
	defer cst.Close()
	appendN(t, cst, 30)
	u := s.upload(cst, "ctl1")
	waitFor(t, "a failed upload (no stream yet)", func() bool { return u.stat().Failures > 0 })
	if st := u.stat(); st.Cursor != 0 || st.Backlog != 30 {
		t.Fatalf("without a stream the cursor moved: %+v", st)
	}
	if b := u.m.status().EventBacklog; b == nil || *b != 30 {
		t.Fatalf("status event_backlog = %v, want 30", b)
	}

	mst := storeIn(t, t.TempDir(), s.key)
	defer mst.Close()
	mgr := s.member(mst, "mgr", true, nil, nil)
	defer mgr.Close()
	evs := waitSite(t, mst, "ctl1", 30)
	checkSeqs(t, evs, 1, 30)
	src, _ := cst.Events(store.EventQuery{Limit: 30})
	for i, e := range evs {
		if e.Door != src[i].Door || e.Event != src[i].Event || !e.Time.Equal(src[i].Time) || e.Method != src[i].Method {
			t.Fatalf("event %d on the manager %+v, on the controller %+v", i, e, src[i])
		}
	}
	waitFor(t, "backlog 0", func() bool { return u.stat().Backlog == 0 })
	if b := u.m.status().EventBacklog; b == nil || *b != 0 {
		t.Fatalf("status event_backlog = %v, want 0", b)
	}

	// The subjects: latch.hq.events.ctl1.<door>, "_" for no door; the
	// message id <controller>:<seq>.
	js := jsOf(t, s.url)
	stream, err := js.Stream(context.Background(), "latch_hq_events")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := stream.Info(context.Background())
	if info.Config.MaxAge != DefaultEventMaxAge || info.Config.Duplicates != DuplicateWindow {
		t.Fatalf("stream max age %v, duplicates %v", info.Config.MaxAge, info.Config.Duplicates)
	}
	for seq, want := range map[uint64]string{1: "latch.hq.events.ctl1.front", 2: "latch.hq.events.ctl1.back", 3: "latch.hq.events.ctl1._"} {
		msg, err := stream.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Subject != want || msg.Header.Get(jetstream.MsgIDHeader) != fmt.Sprintf("ctl1:%d", seq) {
			t.Fatalf("message %d: subject %s id %s", seq, msg.Subject, msg.Header.Get(jetstream.MsgIDHeader))
		}
	}

	// Live: an event appended now arrives too.
	appendN(t, cst, 1)
	checkSeqs(t, waitSite(t, mst, "ctl1", 31), 1, 31)
}

// TestEventsResumeAfterRestart: a controller stopped and started again
// resumes after its cursor, and a manager restarted resumes after the
// stream position it recorded: nothing twice, nothing skipped.
func TestEventsResumeAfterRestart(t *testing.T) {
	srv := runServer(t, "", 0)
	s := newSite(t, srv.ClientURL())
	mdir := t.TempDir()
	mst := storeIn(t, mdir, s.key)
	mgr := s.member(mst, "mgr", true, nil, nil)
	cst := storeIn(t, t.TempDir(), s.key)
	defer cst.Close()
	appendN(t, cst, 20)
	u := s.upload(cst, "ctl1")
	waitSite(t, mst, "ctl1", 20)
	waitFor(t, "the cursor saved", func() bool { c, _, _ := cst.Cursor(UploadDestination); return c == 20 })
	u.stop()
	mgr.Close()
	mst.Close()

	appendN(t, cst, 25) // while both are stopped
	u = s.upload(cst, "ctl1")
	waitFor(t, "the upload", func() bool { return u.stat().Cursor == 45 })
	mst = storeIn(t, mdir, s.key)
	defer mst.Close()
	mgr = s.member(mst, "mgr", true, nil, nil)
	defer mgr.Close()
	checkSeqs(t, waitSite(t, mst, "ctl1", 45), 1, 45)
	waitFor(t, "the manager's position", func() bool { p, _ := mst.SiteEventsSeq(); return p == 45 })
	// Nothing more comes: the count stays.
	appendN(t, cst, 1)
	checkSeqs(t, waitSite(t, mst, "ctl1", 46), 1, 46)
}

// TestEventsResendDropped: a batch delivered twice (its acknowledgement
// lost, the outbox hands it again) is stored once by the stream, so the
// manager has each event once.
func TestEventsResendDropped(t *testing.T) {
	s, mst, _, js := managed(t)

	cst := storeIn(t, t.TempDir(), s.key)
	defer cst.Close()
	appendN(t, cst, 10)
	batch, _ := cst.Events(store.EventQuery{Limit: 10})
	up, _ := NewUploader("hq", "ctl1")
	nc, err := nats.Connect(s.url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := up.attach(nc); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		acked, err := up.Deliver(context.Background(), batch)
		if err != nil || acked != 10 {
			t.Fatalf("Deliver = %d, %v", acked, err)
		}
	}
	// A part of it a third time, after one more event.
	appendN(t, cst, 1)
	more, _ := cst.Events(store.EventQuery{After: 5, Limit: 10})
	if acked, err := up.Deliver(context.Background(), more); err != nil || acked != 11 {
		t.Fatalf("Deliver = %d, %v", acked, err)
	}
	stream, _ := js.Stream(context.Background(), "latch_hq_events")
	info, _ := stream.Info(context.Background())
	if info.State.Msgs != 11 {
		t.Fatalf("the stream holds %d messages, want 11 (a resend stored again)", info.State.Msgs)
	}
	checkSeqs(t, waitSite(t, mst, "ctl1", 11), 1, 11)
}

// TestEventsOutageDrain: events appended while NATS is down wait in the
// local log and drain, in order, once the server is back; the status's
// backlog says how many wait.
func TestEventsOutageDrain(t *testing.T) {
	dir := t.TempDir()
	srv := runServer(t, dir, 0)
	port := srv.Addr().(*net.TCPAddr).Port
	s := newSite(t, srv.ClientURL())
	mst := storeIn(t, t.TempDir(), s.key)
	defer mst.Close()
	mgr := s.member(mst, "mgr", true, nil, nil)
	defer mgr.Close()
	cst := storeIn(t, t.TempDir(), s.key)
	defer cst.Close()
	u := s.upload(cst, "ctl1")
	appendN(t, cst, 10)
	waitSite(t, mst, "ctl1", 10)

	srv.Shutdown()
	srv.WaitForShutdown()
	waitFor(t, "the disconnect", func() bool { return !u.m.Connected() })
	for range 5 {
		appendN(t, cst, 500)
	}
	waitFor(t, "a failed upload while NATS is down", func() bool { return u.stat().Failures > 0 })
	if st := u.stat(); st.Backlog != 2500 {
		t.Fatalf("backlog while down = %d, want 2500", st.Backlog)
	}
	runServer(t, dir, port)
	checkSeqs(t, waitSite(t, mst, "ctl1", 2510), 1, 2510)
	waitFor(t, "backlog 0", func() bool { return u.stat().Backlog == 0 })
}

// TestEventsLostCounted: events that local retention removed before the
// stream acknowledged them are counted (the outbox's figures, the
// latch_outbox_dropped_total metric) and said in a delivery_dropped event
// of destination fleet, which itself reaches the manager.
func TestEventsLostCounted(t *testing.T) {
	s, mst, _, _ := managed(t)
	dir := t.TempDir()
	st0 := storeIn(t, dir, s.key)
	if err := InitUploadCursor(st0); err != nil { // the controller joined with an empty log
		t.Fatal(err)
	}
	st0.Close()
	cst, err := store.Open(store.Options{Path: dir + "/latch.db", KeyFile: dir + "/site.key", SiteIDs: true, EventRetention: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer cst.Close()
	appendN(t, cst, 30) // none uploaded yet; retention keeps 21..30
	u := s.upload(cst, "ctl1")
	evs := waitSite(t, mst, "ctl1", 11)
	if got := u.stat().Dropped[door.DropRetention]; got != 20 {
		t.Fatalf("dropped by retention = %d, want 20", got)
	}
	for i, e := range evs[:10] {
		if e.ControllerSeq != uint64(21+i) {
			t.Fatalf("event %d: controller_seq %d", i, e.ControllerSeq)
		}
	}
	d := evs[10]
	if d.Event != door.EvDeliveryDropped || d.Destination != UploadDestination || d.Reason != door.DropRetention ||
		d.Count != 20 || d.FirstSeq != 1 || d.LastSeq != 20 {
		t.Fatalf("the loss on the manager: %+v", d)
	}
}

// TestIngestRefuses: a message on the stream that does not decode, or
// that names another controller than its subject, is skipped and counted;
// the events after it still arrive.
func TestIngestRefuses(t *testing.T) {
	_, mst, mgr, js := managed(t)
	ctx := context.Background()
	good, _ := EncodeEvent("ctl1", store.Event{Time: time.Now(), Seq: 1, Event: "access_granted", Door: "front"})
	spoof, _ := EncodeEvent("ctl2", store.Event{Time: time.Now(), Seq: 2, Event: "access_granted", Door: "front"})
	for _, data := range [][]byte{[]byte("{not json"), spoof, good} {
		if _, err := js.Publish(ctx, "latch.hq.events.ctl1.front", data); err != nil {
			t.Fatal(err)
		}
	}
	evs := waitSite(t, mst, "ctl1", 1)
	if len(evs) != 1 || evs[0].ControllerSeq != 1 || len(siteEvents(t, mst, "ctl2")) != 0 {
		t.Fatalf("site events %+v", evs)
	}
	if n := mgr.status().RefusedEvents; n != 2 {
		t.Fatalf("refused events = %d, want 2", n)
	}
	if p, _ := mst.SiteEventsSeq(); p != 3 {
		t.Fatalf("position %d, want 3", p)
	}
}

func TestDecodeEvent(t *testing.T) {
	n := Names{Site: "hq"}
	ok, _ := EncodeEvent("ctl1", store.Event{Time: time.Now(), Seq: 7, Event: "door_forced", Door: "a.b"})
	e, err := n.DecodeEvent("latch.hq.events.ctl1.a.b", ok)
	if err != nil || e.ControllerSeq != 7 || e.Seq != 0 || e.Controller != "ctl1" || e.Door != "a.b" {
		t.Fatalf("DecodeEvent = %+v, %v", e, err)
	}
	nodoor, _ := EncodeEvent("ctl1", store.Event{Time: time.Now(), Seq: 8, Event: "credential_changed"})
	if _, err := n.DecodeEvent("latch.hq.events.ctl1._", nodoor); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, maxEventBytes+1)
	for _, c := range []struct {
		subject string
		data    []byte
	}{
		{"latch.hq.events.ctl1._", ok},                  // door on the wrong subject
		{"latch.hq.events.ctl1.front", nodoor},          // no door, a door subject
		{"latch.xx.events.ctl1.a.b", ok},                // another site
		{"latch.hq.events.ctl2.a.b", ok},                // another controller
		{"latch.hq.events.ctl1", ok},                    // no door token
		{"latch.hq.events.ctl1.a.b", big},               // too large
		{"latch.hq.events.ctl1.a.b", append(ok, ok...)}, // two objects
		{"latch.hq.events.ctl1._", []byte(`{"time":"2026-12-01T00:00:00.000Z","seq":1,"event":"X!","controller":"ctl1"}`)},
		{"latch.hq.events.ctl1._", []byte(`{"time":"2026-12-01T00:00:00.000Z","seq":0,"event":"x","controller":"ctl1"}`)},
		{"latch.hq.events.ctl1._", []byte(`{"seq":1,"event":"x","controller":"ctl1"}`)},
	} {
		if _, err := n.DecodeEvent(c.subject, c.data); err == nil {
			t.Errorf("DecodeEvent(%s, %.60s) accepted", c.subject, c.data)
		}
	}
}

// TestUploadOffline: Deliver before the connection or with it down says
// so and acknowledges nothing.
func TestUploadOffline(t *testing.T) {
	up, _ := NewUploader("hq", "ctl1")
	acked, err := up.Deliver(context.Background(), []store.Event{{Seq: 1, Event: "x"}})
	if acked != 0 || !errors.Is(err, ErrOffline) {
		t.Fatalf("Deliver = %d, %v", acked, err)
	}
	if _, err := NewUploader("hq", "a.b"); err == nil {
		t.Fatal("a controller name with '.' accepted")
	}
	for n, want := range map[int]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 9: 5 * time.Second} {
		if got := up.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}
