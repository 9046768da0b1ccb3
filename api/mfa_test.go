package api

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// TestMFAAddExistingLooksNew: adding an MFA code the user already has
// answers exactly like adding one they do not — same status, headers and
// body (but for the id, which is the next of the same sequence), never the
// existing code's id, creator or time — and is audited like any add. The
// user still holds the code once, under the id of the reply.
func TestMFAAddExistingLooksNew(t *testing.T) {
	e := newEnv(t, nil)
	uid := e.newUser("mx")
	path := "/v1/users/" + uid + "/mfa_codes"
	var first apitype.MFACode
	e.must(201, "POST", path, `{"code":"246810"}`, &first)

	e.clock.Add(time.Hour)
	dup := e.do(store.RoleCredentialManager, "POST", path, `{"code":"246810"}`) // the user has it
	fresh := e.do(store.RoleCredentialManager, "POST", path, `{"code":"135791"}`)

	if dup.Code != fresh.Code || dup.Code != 201 {
		t.Fatalf("status: existing %d, new %d, want both 201", dup.Code, fresh.Code)
	}
	for k := range fresh.Header() {
		if k != "Content-Length" && dup.Header().Get(k) != fresh.Header().Get(k) {
			t.Errorf("header %s: existing %q, new %q", k, dup.Header().Get(k), fresh.Header().Get(k))
		}
	}
	var d, f apitype.MFACode
	if err := json.Unmarshal(dup.Body.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(fresh.Body.Bytes(), &f)
	// Byte for byte, once the id is blanked out.
	blank := func(body, id string) string { return strings.Replace(body, `"id":"`+id+`"`, `"id":""`, 1) }
	if a, b := blank(dup.Body.String(), d.ID), blank(fresh.Body.String(), f.ID); a != b {
		t.Errorf("replies differ beyond the id:\nexisting %s\nnew      %s", a, b)
	}
	if d.ID == first.ID || strings.Contains(dup.Body.String(), first.ID) || d.CreatedBy != "tok-"+store.RoleCredentialManager ||
		strings.Contains(dup.Body.String(), first.CreatedBy) || d.Created != fmtTime(e.clock.Now()) {
		t.Errorf("the reply for an existing code %s reveals it (first added as %+v)", dup.Body, first)
	}
	// The id pattern: each add takes the next number, existing or not.
	seq := func(id string) uint64 { n, _ := strconv.ParseUint(strings.TrimPrefix(id, "m"), 16, 64); return n }
	if seq(d.ID) != seq(first.ID)+1 || seq(f.ID) != seq(d.ID)+1 {
		t.Errorf("ids %s, %s, %s: want consecutive", first.ID, d.ID, f.ID)
	}

	// Audited like any add: three adds, three events.
	evs, _ := e.st.Events(store.EventQuery{UserID: uid, Event: "credential_changed", Limit: 1000})
	adds := 0
	for _, ev := range evs {
		if ev.Action == "mfa_code_added" {
			adds++
		}
	}
	if adds != 3 {
		t.Errorf("%d mfa_code_added events for 3 adds", adds)
	}

	// Still held once, under the reply's id, which works like any id.
	ids := e.mfaIDs(uid)
	if len(ids) != 2 || ids[0] != d.ID || ids[1] != f.ID {
		t.Errorf("codes held %v, want [%s %s]", ids, d.ID, f.ID)
	}
	if ok, err := e.st.VerifySecondFactor(uid, []byte("246810"), false); !ok || err != nil {
		t.Errorf("the re-added code no longer verifies: %v %v", ok, err)
	}
	e.must(204, "DELETE", path+"/"+d.ID, "", nil)
	if ok, _ := e.st.VerifySecondFactor(uid, []byte("246810"), false); ok {
		t.Error("the code verifies after deleting the id its add returned")
	}

	// At the limit a code the user has is refused like one they do not.
	for i := len(ids) - 1; i < 100; i++ {
		e.must(201, "POST", path, fmt.Sprintf(`{"code":"%08d"}`, i), nil)
	}
	a := e.do(store.RoleCredentialManager, "POST", path, `{"code":"00000099"}`) // has it
	b := e.do(store.RoleCredentialManager, "POST", path, `{"code":"77777777"}`) // does not
	if a.Code != 400 || a.Code != b.Code || a.Body.String() != b.Body.String() {
		t.Errorf("at the limit: existing %d %s, new %d %s; want the same 400", a.Code, a.Body, b.Code, b.Body)
	}
}

// TestMFAReplaceWithHeldCodeLooksNormal: replacing an MFA code's digits
// with a code the user holds under another id answers exactly like any
// replace (before, a 400 "the user already has this MFA code" told the
// caller so). The code is then held once, under the replaced id.
func TestMFAReplaceWithHeldCodeLooksNormal(t *testing.T) {
	e := newEnv(t, nil)
	uid := e.newUser("mr")
	path := "/v1/users/" + uid + "/mfa_codes"
	var a, b, c apitype.MFACode
	e.must(201, "POST", path, `{"code":"246810"}`, &a)
	e.must(201, "POST", path, `{"code":"135791"}`, &b)
	e.must(201, "POST", path, `{"code":"112233"}`, &c)

	held := e.do(store.RoleCredentialManager, "PUT", path+"/"+b.ID, `{"code":"246810"}`) // held as a.ID
	fresh := e.do(store.RoleCredentialManager, "PUT", path+"/"+c.ID, `{"code":"998877"}`)
	if held.Code != 200 || fresh.Code != 200 {
		t.Fatalf("PUT a held code: %d %s; a fresh one: %d %s; want both 200", held.Code, held.Body, fresh.Code, fresh.Body)
	}
	blank := func(body, id string) string { return strings.Replace(body, `"id":"`+id+`"`, `"id":""`, 1) }
	if x, y := blank(held.Body.String(), b.ID), blank(fresh.Body.String(), c.ID); x != y {
		t.Errorf("replies differ beyond the id:\nheld  %s\nfresh %s", x, y)
	}
	ids := e.mfaIDs(uid)
	if len(ids) != 2 || ids[0] != b.ID || ids[1] != c.ID {
		t.Errorf("codes held %v, want [%s %s]: the code once, under the replaced id", ids, b.ID, c.ID)
	}
	for _, code := range []string{"246810", "998877"} {
		if ok, err := e.st.VerifySecondFactor(uid, []byte(code), false); !ok || err != nil {
			t.Errorf("code %s no longer verifies: %v %v", code, ok, err)
		}
	}
	for _, code := range []string{"135791", "112233"} {
		if ok, _ := e.st.VerifySecondFactor(uid, []byte(code), false); ok {
			t.Errorf("replaced code %s still verifies", code)
		}
	}
}

// BenchmarkMFAAdd times POST …/mfa_codes of a code the user already has
// against one they do not (deleted again outside the timer), to check the
// two take the same time:
//
//	TMPDIR=/dev/shm/x go test -run XXX -bench BenchmarkMFAAdd -benchtime 2000x -count 4 ./api/
//
// (on tmpfs, so that fsync's noise does not hide the handler's own time).
func BenchmarkMFAAdd(b *testing.B) {
	const held = `{"code":"24681012"}` // the code the user has
	for _, c := range []struct {
		name, body string
		existing   bool
	}{
		{"new", `{"code":"13579111"}`, false},
		{"existing", held, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := newEnv(b, nil)
			uid := e.newUser("bench")
			path := "/v1/users/" + uid + "/mfa_codes"
			e.must(201, "POST", path, held, nil)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec := e.do(store.RoleSystemAdmin, "POST", path, c.body)
				if rec.Code != 201 {
					b.Fatal(rec.Code, rec.Body)
				}
				// Both cases then write once outside the timer (the new
				// code's delete; a user update), so that each timed add
				// follows the same kind of commit.
				b.StopTimer()
				if !c.existing {
					var m apitype.MFACode
					json.Unmarshal(rec.Body.Bytes(), &m)
					e.must(204, "DELETE", path+"/"+m.ID, "", nil)
				} else {
					e.must(200, "PATCH", "/v1/users/"+uid, `{"first_name":"B`+strconv.Itoa(i%2)+`"}`, nil)
				}
				b.StartTimer()
			}
		})
	}
}

// mfaIDs lists the ids of the user's MFA codes, as the store holds them.
func (e *env) mfaIDs(uid string) []string {
	e.t.Helper()
	ms, err := e.st.MFACodes(uid)
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}
