package store

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEventJSON(t *testing.T) {
	e := Event{Time: time.Date(2026, 3, 1, 13, 4, 5, 678901234, time.FixedZone("x", 3600)), Seq: 7,
		Event: "access_granted", Door: "front", Card: &EventCard{Format: "h10301", FacilityCode: 1, CardNumber: 2}, Method: "card"}
	j, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2026-03-01T12:04:05.678Z","seq":7,"event":"access_granted","door":"front","card":{"format":"h10301","facility_code":1,"card_number":2},"method":"card"}`
	if string(j) != want {
		t.Errorf("json:\n got %s\nwant %s", j, want)
	}
	var back Event
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	e.Time = time.Date(2026, 3, 1, 12, 4, 5, 678000000, time.UTC)
	if diff := cmp.Diff(e, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestEventsRetention(t *testing.T) {
	s := openAt(t, t.TempDir(), func(o *Options) { o.EventRetention = 5 })
	for i := 0; i < 4; i++ {
		evs := []Event{{Event: "rex", Door: "a"}, {Event: "door_opened", Door: "b"}}
		if err := s.AppendEvents(evs); err != nil {
			t.Fatal(err)
		}
		if evs[0].Seq != uint64(2*i+1) || evs[1].Seq != uint64(2*i+2) {
			t.Fatalf("seqs = %d, %d", evs[0].Seq, evs[1].Seq)
		}
	}
	all, err := s.Events(EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, e := range all {
		seqs = append(seqs, e.Seq)
	}
	if diff := cmp.Diff([]uint64{4, 5, 6, 7, 8}, seqs); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	if n, _ := s.EventsDropped(); n != 3 {
		t.Errorf("dropped = %d, want 3", n)
	}
	got, _ := s.Events(EventQuery{After: 5, Door: "b", Limit: 1})
	if len(got) != 1 || got[0].Seq != 6 {
		t.Errorf("filtered = %+v", got)
	}
	if got, err := s.Events(EventQuery{After: 1<<64 - 1}); err != nil || len(got) != 0 {
		t.Errorf("after the largest seq = %v, %v", got, err)
	}
	got, _ = s.Events(EventQuery{Event: "rex"})
	if len(got) != 2 || got[0].Seq != 5 || got[1].Seq != 7 {
		t.Errorf("by event = %+v", got)
	}
}

func TestSubscribe(t *testing.T) {
	s := openTest(t)
	fast, cancelFast := s.Subscribe(10)
	defer cancelFast()
	slow, cancelSlow := s.Subscribe(1)
	defer cancelSlow()
	// The slow subscriber never reads: the second event cuts it off and
	// AppendEvents does not wait for it.
	for i := 0; i < 3; i++ {
		if err := s.AppendEvents([]Event{{Event: "rex"}}); err != nil {
			t.Fatal(err)
		}
	}
	for want := uint64(1); want <= 3; want++ {
		if e := <-fast; e.Seq != want {
			t.Errorf("fast got seq %d, want %d", e.Seq, want)
		}
	}
	if e, ok := <-slow; !ok || e.Seq != 1 {
		t.Errorf("slow first = %v, %v", e.Seq, ok)
	}
	if _, ok := <-slow; ok {
		t.Error("slow subscriber not cut off")
	}
	cancelFast()
	cancelFast() // twice is fine
	if _, ok := <-fast; ok {
		t.Error("cancelled channel still open")
	}
	// Audit events from changes are published too.
	ch, cancel := s.Subscribe(4)
	defer cancel()
	u := mustUser(t, s, "x")
	if e := <-ch; e.Action != "user_created" || e.UserID != u.UserID {
		t.Errorf("published %+v", e)
	}
}

// TestEventsWindow: From and To keep the events of a window, both ends
// inclusive, and eventTime reads the time MarshalJSON writes first.
func TestEventsWindow(t *testing.T) {
	s := openAt(t, t.TempDir(), nil)
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var evs []Event
	for i := 0; i < 10; i++ {
		evs = append(evs, Event{Time: t0.Add(time.Duration(i) * time.Second), Event: "door_opened", Door: "front"})
	}
	if err := s.AppendEvents(evs); err != nil {
		t.Fatal(err)
	}
	got, err := s.Events(EventQuery{From: t0.Add(3 * time.Second), To: t0.Add(5 * time.Second)})
	if err != nil || len(got) != 3 || !got[0].Time.Equal(t0.Add(3*time.Second)) || !got[2].Time.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("window 3–5 s: %+v, %v", got, err)
	}
	if got, _ := s.Events(EventQuery{From: t0.Add(8 * time.Second), Limit: 1}); len(got) != 1 || !got[0].Time.Equal(t0.Add(8*time.Second)) {
		t.Errorf("from 8 s, one: %+v", got)
	}
	b, _ := json.Marshal(evs[4])
	if tm, ok := eventTime(b); !ok || !tm.Equal(t0.Add(4*time.Second)) {
		t.Errorf("eventTime(%s) = %v, %v", b, tm, ok)
	}
	for _, bad := range []string{``, `{"seq":1,"time":"2026-03-02T08:00:00.000Z"}`, `{"time":"2026-03-02T08:00:00Z"}`, `{"time":"2026-13-02T08:00:00.000Z"}`} {
		if _, ok := eventTime([]byte(bad)); ok {
			t.Errorf("eventTime(%s) ok", bad)
		}
	}
}

// TestEventsAnyUserEvent: AnyUser and AnyEvent keep the events of any of
// the users and names, and nothing else (the raw prefilter decides only
// what is decoded).
func TestEventsAnyUserEvent(t *testing.T) {
	s := openAt(t, t.TempDir(), nil)
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	evs := []Event{
		{Time: t0, Event: "access_granted", UserID: "a", ExternalID: "b"},
		{Time: t0, Event: "access_denied", UserID: "b"},
		{Time: t0, Event: "door_opened", Door: "access_granted"},
		{Time: t0, Event: "access_granted", UserID: "c"},
	}
	if err := s.AppendEvents(evs); err != nil {
		t.Fatal(err)
	}
	count := func(q EventQuery) int {
		got, err := s.Events(q)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := count(EventQuery{AnyUser: []string{"b"}}); n != 1 {
		t.Errorf("user b: %d events, want 1 (not the one whose external id is b)", n)
	}
	if n := count(EventQuery{AnyUser: []string{"a", "c"}}); n != 2 {
		t.Errorf("users a, c: %d", n)
	}
	if n := count(EventQuery{AnyEvent: []string{"access_granted"}}); n != 2 {
		t.Errorf("access_granted: %d, want 2 (not the door named so)", n)
	}
	if n := count(EventQuery{AnyEvent: []string{"access_granted", "access_denied"}, AnyUser: []string{"b", "c"}}); n != 2 {
		t.Errorf("both filters: %d", n)
	}
}
