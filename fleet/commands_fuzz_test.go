package fleet

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/latchd/latch/door"
)

// TestDecodeCommand: each refusal names the field and its rule.
func TestDecodeCommand(t *testing.T) {
	actor := `"actor":{"name":"guard","role":"access_door_manager"}`
	for _, tc := range []struct{ in, field, rule string }{
		{`{"op":"unlock",` + actor + `}`, "", ""},
		{`{"op":"unlock","duration":"5s",` + actor + `}`, "", ""},
		{`{"op":"override","mode":"locked","for":"2h",` + actor + `}`, "", ""},
		{`{"op":"clear_override",` + actor + `}`, "", ""},
		{`{"op":"release_lockdown",` + actor + `}`, "", ""},
		{`{"op":"open",` + actor + `}`, "op", "must be one of unlock, override, clear_override, lockdown, release_lockdown"},
		{`{"op":"unlock","door":"x",` + actor + `}`, "door", `unknown field "door"`},
		{`{"op":"unlock","mode":"locked",` + actor + `}`, "op", "unlock takes only duration"},
		{`{"op":"override","duration":"5s",` + actor + `}`, "op", "override takes only mode and for or until"},
		{`{"op":"lockdown","for":"1h",` + actor + `}`, "op", "lockdown takes only op and actor"},
		{`{"op":"unlock","actor":{"name":"","role":"access_door_manager"}}`, "actor.name", "1–128 bytes"},
		{`{"op":"unlock","actor":{"name":"eve","role":"access_viewer"}}`, "actor.role", "doors.command"},
		{`{"op":"unlock","actor":{"name":"a\u0007","role":"access_door_manager"}}`, "actor.name", "printable"},
		{`{"op":"unlock",` + actor + `} {}`, "command", "data after it"},
		{`[1]`, "command", "one JSON object"},
		{`{"op":"unlock","duration":"` + strings.Repeat("9", 5000) + `",` + actor + `}`, "command", "at most 4096"},
	} {
		_, err := DecodeCommand([]byte(tc.in))
		if tc.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.in, err)
			}
			continue
		}
		var ve *door.ValueError
		if !errors.As(err, &ve) || ve.Field != tc.field || !strings.Contains(ve.Rule, tc.rule) {
			t.Errorf("%.80s: %v, want field %s rule %q", tc.in, err, tc.field, tc.rule)
		}
	}
}

// TestReplyErrors: a controller's refusal crosses the wire and comes back
// as the same typed error, so the manager's API answers as it would for
// its own door.
func TestReplyErrors(t *testing.T) {
	for _, err := range []error{&door.UnknownError{What: "door", Name: "x"}, &door.ValueError{Field: "for", Rule: "must be 1m–168h (7 days)"},
		door.ErrLockdown, door.ErrNotRunning, errors.New("disk full")} {
		b, _ := json.Marshal(errorReply(err))
		r, derr := DecodeReply(b)
		if derr != nil {
			t.Fatalf("%v: reply refused: %v", err, derr)
		}
		back := replyError(r, "ctl1", "ctl1.x")
		var ue *door.UnknownError
		var ve, want *door.ValueError
		switch {
		case errors.As(err, &ue):
			if !errors.Is(back, door.ErrUnknownDoor) {
				t.Errorf("%v came back as %v", err, back)
			}
		case errors.As(err, &want):
			if !errors.As(back, &ve) || *ve != *want {
				t.Errorf("%v came back as %v", err, back)
			}
		case errors.Is(err, door.ErrLockdown), errors.Is(err, door.ErrNotRunning):
			if !errors.Is(back, err) {
				t.Errorf("%v came back as %v", err, back)
			}
		default:
			if back == nil || !strings.Contains(back.Error(), "ctl1") || !strings.Contains(back.Error(), "disk full") {
				t.Errorf("%v came back as %v", err, back)
			}
		}
	}
}

// FuzzDecodeCommand: no command read from NATS panics the decoder, and
// what it accepts encodes back to the same command.
func FuzzDecodeCommand(f *testing.F) {
	f.Add([]byte(`{"op":"unlock","duration":"5s","actor":{"name":"guard","role":"access_door_manager"}}`))
	f.Add([]byte(`{"op":"override","mode":"locked","until":"2026-12-24T18:00:00+01:00","actor":{"name":"a","role":"access_system_admin"}}`))
	f.Add([]byte(`{"op":"lockdown","actor":{}}`))
	f.Add([]byte(`{"op":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCommand(data)
		if err != nil {
			var ve *door.ValueError
			if !errors.As(err, &ve) || ve.Field == "" || ve.Rule == "" {
				t.Fatalf("a refusal without field and rule: %v", err)
			}
			return
		}
		b, _ := json.Marshal(c)
		again, err := DecodeCommand(b)
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("accepted %+v; re-encoded %s: %+v %v", c, b, again, err)
		}
	})
}

// FuzzDecodeReply: no reply read from NATS panics the decoder; what it
// accepts is ok or an error with a known code.
func FuzzDecodeReply(f *testing.F) {
	f.Add([]byte(`{"ok":true,"duration":"5s"}`))
	f.Add([]byte(`{"ok":true,"door":{"name":"front","mode":"locked","readers":[]}}`))
	f.Add([]byte(`{"error":"door is in lockdown","code":"lockdown"}`))
	f.Add([]byte(`{"error":"for: x","code":"value","field":"for","rule":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeReply(data)
		if err != nil {
			return
		}
		if r.OK == (r.Error != "") {
			t.Fatalf("accepted %+v", r)
		}
		if r.Error != "" && replyError(r, "c", "c.d") == nil {
			t.Fatalf("an error reply maps to no error: %+v", r)
		}
	})
}

// FuzzDecodeLockdown: no lockdown value read from NATS panics the
// decoder; what it accepts names every door and a commanding actor.
func FuzzDecodeLockdown(f *testing.F) {
	f.Add([]byte(`{"v":1,"on":true,"doors":"all","actor":{"name":"guard","role":"access_door_manager"},"since":"2026-12-01T10:00:00Z"}`))
	f.Add([]byte(`{"v":1,"on":false,"doors":"front"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeLockdown(data)
		if err != nil {
			return
		}
		if v.Doors != "all" || checkActor(v.Actor) != nil {
			t.Fatalf("accepted %+v", v)
		}
	})
}
