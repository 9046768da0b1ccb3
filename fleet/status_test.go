package fleet

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestSiteDoors: a controller's status reaches the manager's door list;
// a status older than 30 s shows the controller offline.
func TestSiteDoors(t *testing.T) {
	s, _, _ := setup(t)
	st := storeIn(t, t.TempDir(), s.key)
	defer st.Close()
	c, err := New(Config{URLs: []string{s.url}, Site: "hq", Controller: "ctl1", SiteKey: s.key, Store: st, Logger: zerolog.Nop(),
		Doors: func() []DoorReport { return []DoorReport{{Name: "front", Mode: "card_and_code"}} }})
	if err != nil {
		t.Fatal(err)
	}
	c.Start(context.Background())
	defer c.Close()
	mst := storeIn(t, t.TempDir(), s.key)
	defer mst.Close()
	var skew atomic.Int64 // the manager's clock runs ahead by this much
	mgr, _ := New(Config{URLs: []string{s.url}, Site: "hq", Controller: "mgr2", SiteKey: s.key, Manager: true, Store: mst,
		Logger: zerolog.Nop(), Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	mgr.Start(context.Background())
	defer mgr.Close()
	waitFor(t, "ctl1's door on the manager", func() bool {
		ds, err := mgr.SiteDoors(context.Background())
		return err == nil && len(ds) == 1 && ds[0].Controller == "ctl1" && ds[0].Name == "front" && ds[0].Mode == "card_and_code" && *ds[0].Online
	})
	skew.Store(int64(time.Minute)) // the manager's view: ctl1 silent for a minute
	ds, err := mgr.SiteDoors(context.Background())
	if err != nil || len(ds) != 1 || *ds[0].Online {
		t.Errorf("a stale status: %+v %v", ds, err)
	}
}

func FuzzDecodeStatus(f *testing.F) {
	f.Add([]byte(`{"v":1,"controller":"ctl1","role":"controller","time":"2026-01-01T00:00:00Z","doors":[{"name":"front","mode":"locked"}]}`))
	f.Add([]byte(`{"v":1,"controller":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeStatus("ctl1", data)
		if err == nil && (s.Controller != "ctl1" || len(s.Doors) > 1024) {
			t.Fatalf("accepted %+v", s)
		}
	})
}
