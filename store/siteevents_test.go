package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestAppendSiteEvents: site events are appended with the stream position
// in the same transaction, once: a batch given again with the old
// position changes nothing; each keeps its controller and controller seq
// and gets this log's next seq; subscribers see them; the log's own
// events carry Options.EventController.
func TestAppendSiteEvents(t *testing.T) {
	s := openAt(t, t.TempDir(), func(o *Options) { o.EventController = "mgr" })
	ch, cancel := s.Subscribe(16)
	defer cancel()
	if err := s.AppendEvents([]Event{{Event: "credential_changed", Time: time.Unix(1, 0)}}); err != nil {
		t.Fatal(err)
	}
	batch := func() []Event {
		return []Event{{Event: "access_granted", Door: "front", Controller: "ctl1", ControllerSeq: 7, Time: time.Unix(2, 0), State: &DoorState{}},
			{Event: "door_forced", Door: "front", Controller: "ctl2", ControllerSeq: 3, Time: time.Unix(3, 0)}}
	}
	if err := s.AppendSiteEvents(batch(), 0, 12); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendSiteEvents(batch(), 0, 12); !errors.Is(err, ErrSiteEventsMoved) {
		t.Fatalf("a batch appended twice: %v", err)
	}
	if err := s.AppendSiteEvents(nil, 12, 14); err != nil { // messages skipped still move the position
		t.Fatal(err)
	}
	if err := s.AppendSiteEvents([]Event{{Event: "x"}}, 14, 15); err == nil {
		t.Fatal("a site event without a controller appended")
	}
	if seq, _ := s.SiteEventsSeq(); seq != 14 {
		t.Fatalf("position %d, want 14", seq)
	}
	evs, err := s.Events(EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[0].Controller != "mgr" || evs[1].Controller != "ctl1" || evs[1].ControllerSeq != 7 || evs[1].Seq != 2 ||
		evs[2].Controller != "ctl2" || evs[2].Seq != 3 {
		t.Fatalf("log %+v", evs)
	}
	if st, err := s.LoadDoorState("front"); err != nil || !reflect.ValueOf(st).IsZero() {
		t.Fatalf("a site event wrote the door state of another controller's door: %+v, %v", st, err)
	}
	for i := range 3 {
		if e := <-ch; e.Seq != uint64(i+1) {
			t.Fatalf("subscriber got %+v", e)
		}
	}
}
