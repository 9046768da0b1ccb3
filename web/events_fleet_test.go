package web

import (
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/store"
)

// TestRowController: on a fleet manager each event's row names its
// controller in the details; an event of a stand-alone controller has none.
func TestRowController(t *testing.T) {
	s := &Server{loc: func() *time.Location { return time.UTC }}
	r := s.row(store.Event{Time: time.Unix(0, 0), Event: "access_denied", Door: "front", Reason: "unknown_card", Controller: "ctl2"})
	if !strings.HasPrefix(r.Detail, "controller=ctl2 ") || r.Door != "front" {
		t.Fatalf("row %+v", r)
	}
	if r := s.row(store.Event{Time: time.Unix(0, 0), Event: "access_denied", Reason: "unknown_card"}); strings.Contains(r.Detail, "controller") {
		t.Fatalf("row %+v", r)
	}
}
