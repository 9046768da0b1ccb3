package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/door/doortest"
	"github.com/latchd/latch/store"
)

// withDoors runs doors front and back (as testConfig has them) on
// steppers at the env's clock, storing their events at once, and gives
// the server their Controller and statuses.
func withDoors() func(*Options) {
	return func(o *Options) {
		var doors []door.Target
		loc, _ := time.LoadLocation("Europe/Berlin")
		for _, name := range []string{"front", "back"} {
			c := door.DefaultConfig()
			c.Name = name
			c.Location = loc
			c.Now = o.Now
			d, err := doortest.New(c, o.Store)
			if err != nil {
				panic(err)
			}
			st := d.Stepper()
			st.Start()
			doors = append(doors, st)
		}
		ctl, err := door.NewController(doors...)
		if err != nil {
			panic(err)
		}
		o.Control = func() *door.Controller { return ctl }
		o.Doors = DoorStatusFunc(func() []DoorStatus {
			var out []DoorStatus
			for _, n := range ctl.Doors() {
				st, _ := ctl.Status(n)
				out = append(out, DoorStatus{Name: n, Mode: string(st.Mode), NextChange: st.Next, NextMode: string(st.NextMode), State: st})
			}
			return out
		})
	}
}

// TestDoorCommands: unlock, override, lockdown and Verkada's admin_unlock
// through the API, their events with the token as actor, the door view,
// and the errors: 400 naming the field, 404, 409 during lockdown.
func TestDoorCommands(t *testing.T) {
	e := newEnv(t, withDoors())
	admin := store.RoleSystemAdmin
	var ur apitype.UnlockReply
	e.must(200, "POST", "/v1/doors/front/unlock", `{"duration":"5s"}`, &ur)
	if ur != (apitype.UnlockReply{Door: "front", Duration: "5s"}) {
		t.Errorf("unlock reply %+v", ur)
	}
	var au apitype.AdminUnlockReply
	e.must(200, "POST", "/access/v1/door/admin_unlock", `{"door_id":"back"}`, &au)
	if au != (apitype.AdminUnlockReply{DoorID: "back", Duration: 10}) {
		t.Errorf("admin_unlock reply %+v", au)
	}
	// A Verkada client names the door by the id GET /access/v1/doors gives.
	vid := NameUUID("door", "latch", "back")
	e.must(200, "POST", "/access/v1/door/admin_unlock", `{"door_id":"`+vid+`"}`, &au)
	if au != (apitype.AdminUnlockReply{DoorID: vid, Duration: 10}) {
		t.Errorf("admin_unlock by Verkada id: reply %+v", au)
	}
	var view apitype.DoorState
	e.must(200, "PUT", "/v1/doors/front/override", `{"mode":"unlocked","for":"2h"}`, &view)
	if view.Mode != "unlocked" || view.Level != "override" || view.Override == nil || view.Override.Until != "2026-03-02T11:00:00Z" ||
		view.Override.UntilLocal != "2026-03-02T12:00:00+01:00" || view.Override.Actor != "tok-"+admin || view.Strike != "released" || view.Position != "unknown" {
		t.Errorf("door view after override: %+v %+v", view, view.Override)
	}
	var lr apitype.LockdownReply
	e.must(200, "POST", "/v1/lockdown", `{}`, &lr)
	if strings.Join(lr.Doors, ",") != "front,back" {
		t.Errorf("lockdown doors %v", lr.Doors)
	}
	rec := e.do(admin, "POST", "/v1/doors/front/unlock", ``)
	if rec.Code != 409 || strings.TrimSpace(rec.Body.String()) != `{"error":"door is in lockdown"}` {
		t.Errorf("unlock in lockdown: %d %s", rec.Code, rec.Body)
	}
	e.must(200, "GET", "/v1/lockdown", ``, &lr)
	if len(lr.Doors) != 2 {
		t.Errorf("in lockdown: %v", lr.Doors)
	}
	e.must(200, "DELETE", "/v1/lockdown", `{"doors":["back"]}`, &lr)
	view = apitype.DoorState{}
	e.must(200, "GET", "/v1/doors/front", ``, &view)
	if view.Mode != "locked" || view.Level != "lockdown" || view.Lockdown == nil {
		t.Errorf("front view in lockdown: %+v", view)
	}
	e.must(200, "DELETE", "/v1/lockdown", `{}`, &lr)
	view = apitype.DoorState{}
	e.must(200, "DELETE", "/v1/doors/front/override", ``, &view)
	if view.Override != nil || view.Mode != "access_controlled" {
		t.Errorf("after clear: %+v", view)
	}
	for _, c := range []struct {
		method, path, body string
		code               int
		field              string
	}{
		{"POST", "/v1/doors/front/unlock", `{"duration":"2m"}`, 400, "duration"},
		{"POST", "/v1/doors/front/unlock", `{"duration":"soon"}`, 400, "duration"},
		{"POST", "/v1/doors/front/unlock", `{"secs":3}`, 400, "secs"},
		{"POST", "/v1/doors/nowhere/unlock", ``, 404, ""},
		{"PUT", "/v1/doors/front/override", `{"mode":"open","for":"1h"}`, 400, "mode"},
		{"PUT", "/v1/doors/front/override", `{"mode":"locked"}`, 400, "for"},
		{"PUT", "/v1/doors/front/override", `{"mode":"locked","for":"30s"}`, 400, "for"},
		{"PUT", "/v1/doors/front/override", `{"mode":"locked","for":"1h","until":"2026-03-02T12:00:00Z"}`, 400, "for"},
		{"PUT", "/v1/doors/front/override", `{"mode":"locked","until":"2026-04-02T12:00:00Z"}`, 400, "until"},
		{"PUT", "/v1/doors/front/override", `{"mode":"locked","until":"tomorrow"}`, 400, "until"},
		{"POST", "/v1/lockdown", `{"doors":["front","nowhere"]}`, 404, ""},
		{"POST", "/access/v1/door/admin_unlock", `{}`, 400, "door_id"},
	} {
		rec := e.do(admin, c.method, c.path, c.body)
		var er apitype.Error
		_ = json.Unmarshal(rec.Body.Bytes(), &er)
		if rec.Code != c.code || er.Field != c.field {
			t.Errorf("%s %s %s: %d %s, want %d field %q", c.method, c.path, c.body, rec.Code, rec.Body, c.code, c.field)
		}
	}
	// A 404 on a lockdown list locked nothing down.
	lr = apitype.LockdownReply{}
	e.must(200, "GET", "/v1/lockdown", ``, &lr)
	if len(lr.Doors) != 0 {
		t.Errorf("a refused lockdown locked %v", lr.Doors)
	}
	evs, err := e.st.Events(store.EventQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, ev := range evs {
		if ev.Actor == "" || ev.Event == "credential_changed" {
			continue
		}
		trail = append(trail, ev.Door+" "+ev.Event+" "+ev.Method+ev.Cause+" "+ev.Actor+"/"+ev.Role)
	}
	by := "tok-" + admin + "/" + admin
	want := []string{
		"front access_granted remote " + by,
		"back access_granted remote " + by,
		"back access_granted remote " + by, // by its Verkada id
		"front mode_changed override " + by,
		"front lockdown_started  " + by,
		"front mode_changed lockdown " + by,
		"back lockdown_started  " + by,
		"back mode_changed lockdown " + by,
		"back lockdown_ended  " + by,
		"back mode_changed lockdown " + by,
		"front lockdown_ended  " + by,
		"front mode_changed lockdown " + by,
		"front mode_changed override " + by,
	}
	if strings.Join(trail, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit trail:\n%s\nwant:\n%s", strings.Join(trail, "\n"), strings.Join(want, "\n"))
	}
}

// TestDoorCommandsUnavailable: without running doors, a command is a 503.
func TestDoorCommandsUnavailable(t *testing.T) {
	e := newEnv(t, nil)
	if rec := e.do(store.RoleSystemAdmin, "POST", "/v1/doors/front/unlock", ``); rec.Code != 503 {
		t.Errorf("unlock with no doors: %d %s", rec.Code, rec.Body)
	}
}

// FuzzCommandBody sends fuzzed bodies to every door command on a server
// with running (stepped) doors: never a panic, never a 500, and a 400
// always names its field.
func FuzzCommandBody(f *testing.F) {
	for _, s := range append(bodySeeds,
		`{"duration":"5s"}`, `{"duration":"61s"}`, `{"duration":5}`, `{"duration":"-1s"}`,
		`{"mode":"locked","for":"2h"}`, `{"mode":"unlocked","until":"2026-03-02T12:00:00+01:00"}`,
		`{"mode":"x","for":"1h","until":"y"}`, `{"mode":"locked","for":"9999999h"}`, `{"doors":["front"]}`,
		`{"doors":[]}`, `{"doors":[""]}`, `{"doors":"front"}`, `{"door_id":"front"}`, `{"door_id":7}`) {
		f.Add(s)
	}
	e := newEnv(f, withDoors())
	paths := []struct{ method, path string }{
		{"POST", "/v1/doors/front/unlock"},
		{"PUT", "/v1/doors/front/override"},
		{"DELETE", "/v1/doors/front/override"},
		{"POST", "/v1/lockdown"},
		{"DELETE", "/v1/lockdown"},
		{"POST", "/access/v1/door/admin_unlock"},
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, p := range paths {
			rec := e.do(store.RoleSystemAdmin, p.method, p.path, body)
			if rec.Code >= 500 {
				t.Fatalf("%s %s %q: %d %s", p.method, p.path, body, rec.Code, rec.Body)
			}
			if rec.Code == 400 {
				var er apitype.Error
				if err := json.Unmarshal(rec.Body.Bytes(), &er); err != nil || er.Field == "" || er.Rule == "" {
					t.Fatalf("%s %s %q: 400 without field and rule: %s", p.method, p.path, body, rec.Body)
				}
			}
		}
	})
}
