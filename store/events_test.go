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
