package api

import (
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/reader/readertest"
	"github.com/latchd/latch/schedule"
	"github.com/latchd/latch/store"
)

// emitterFunc adapts a function to door.Emitter.
type emitterFunc func(door.Event)

func (f emitterFunc) Emit(e door.Event) { f(e) }

// TestMetricsFromDoor: a real door with Metrics as its observer; after a
// grant and a bad read, /metrics shows the decision-latency histogram and
// the bad read by reason.
func TestMetricsFromDoor(t *testing.T) {
	m := NewMetrics()
	e := newEnv(t, func(o *Options) { o.Metrics = m })
	u, err := e.st.CreateUser(store.UserFields{ExternalID: "ada", Groups: []string{"staff"}}, store.Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.AddCard(u.UserID, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: 1001, Active: true}, store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := door.DefaultConfig()
	c.Name = "front"
	c.Relay = readertest.NewOutPin("relay", gpio.Low, nil)
	c.DefaultMode = schedule.AccessControlled
	c.Readers = []door.ReaderConfig{{Name: "front-in"}}
	c.Groups = []door.Group{{Name: "staff", Doors: []string{"front"}}}
	c.Now = func() time.Time { return now }
	c.Observer = m
	d, err := door.New(c, e.st, emitterFunc(m.ObserveEvent))
	if err != nil {
		t.Fatal(err)
	}
	st := d.Stepper()
	st.Start()
	// The frame was complete 120 µs before the door took it.
	st.Submit(reader.Read{Reader: "front-in", Kind: reader.KindCard,
		Card: reader.Card{Format: reader.H10301, FacilityCode: 1, CardNumber: 1001}, At: now.Add(-120 * time.Microsecond)})
	st.Submit(reader.Read{Reader: "front-in", Kind: reader.KindBad, Bad: reader.BadParity, At: now})

	rec := e.do(store.RoleViewer, "GET", "/metrics", "")
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`latch_decision_latency_seconds_bucket{result="granted",le="0.0001"} 0`,
		`latch_decision_latency_seconds_bucket{result="granted",le="0.00025"} 1`,
		`latch_decision_latency_seconds_sum{result="granted"} 0.00012`,
		`latch_decision_latency_seconds_count{result="granted"} 1`,
		`latch_decision_latency_seconds_count{result="denied"} 1`,
		`latch_bad_reads_total{reason="parity"} 1`,
		`latch_decisions_total{result="granted",method="card",reason=""} 1`,
		`latch_decisions_total{result="denied",method="",reason="bad_read"} 1`,
		`latch_strike_releases_total 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

// TestConfigFunc: a daemon's reloaded config shows at once.
func TestConfigFunc(t *testing.T) {
	cfg := testConfig
	e := newEnv(t, func(o *Options) { o.ConfigFunc = func() Config { return cfg } })
	var out struct {
		Groups []Group `json:"groups"`
	}
	e.must(200, "GET", "/v1/groups", "", &out)
	if len(out.Groups) != 2 {
		t.Fatalf("groups %v, want the 2 of testConfig", out.Groups)
	}
	cfg = Config{Groups: []Group{{Name: "night", Doors: []string{"front"}}}}
	e.must(200, "GET", "/v1/groups", "", &out)
	if len(out.Groups) != 1 || out.Groups[0].Name != "night" {
		t.Errorf("after the change: groups %v, want [night]", out.Groups)
	}
	// A user may now join the new group, not the old ones.
	e.must(201, "POST", "/v1/users", `{"external_id":"n1","groups":["night"]}`, nil)
	if rec := e.do(store.RoleSystemAdmin, "POST", "/v1/users", `{"external_id":"n2","groups":["staff"]}`); rec.Code != 400 {
		t.Errorf("a removed group: status %d, want 400", rec.Code)
	}
}
