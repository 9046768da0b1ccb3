package fleet

import (
	"testing"
	"time"

	"github.com/latchd/latch/store"
)

// FuzzDecodeEvent: no message of the site's event stream panics the
// decoder, and what it accepts agrees with its subject and encodes back
// to a message that decodes to the same event.
func FuzzDecodeEvent(f *testing.F) {
	n := Names{Site: "hq"}
	ev, _ := EncodeEvent("ctl1", store.Event{Time: time.Unix(1, 0), Seq: 3, Event: "access_granted", Door: "front",
		Card: &store.EventCard{Format: "h10301", FacilityCode: 1, CardNumber: 2}, Kinds: map[string]uint64{"x": 1}})
	f.Add("latch.hq.events.ctl1.front", ev)
	f.Add("latch.hq.events.ctl1._", []byte(`{"time":"2026-12-01T00:00:00.000Z","seq":1,"event":"credential_changed","controller":"ctl1"}`))
	f.Add("latch.hq.events.ctl1.a.b", []byte(`{"time":"x","seq":1}`))
	f.Add("latch.hq.events..", []byte(`[]`))
	f.Fuzz(func(t *testing.T, subject string, data []byte) {
		e, err := n.DecodeEvent(subject, data)
		if err != nil {
			return
		}
		if e.Seq != 0 || e.ControllerSeq == 0 || e.Controller == "" || e.Event == "" {
			t.Fatalf("accepted %+v", e)
		}
		e.Seq = e.ControllerSeq
		again, err := EncodeEvent(e.Controller, e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := n.DecodeEvent(n.EventSubject(e.Controller, e.Door), again)
		if err != nil {
			t.Fatalf("re-encoded event refused: %v (%s)", err, again)
		}
		if e2.ControllerSeq != e.ControllerSeq || e2.Door != e.Door || e2.Event != e.Event || !e2.Time.Equal(e.Time) {
			t.Fatalf("round trip %+v -> %+v", e, e2)
		}
	})
}
