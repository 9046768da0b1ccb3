package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/store"
)

// The patterns Verkada's PowerShell client (verkadaModule) validates ids
// with before it sends them.
var (
	clientUUID   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-5][0-9a-f]{3}-[089ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	clientCardID = regexp.MustCompile(`^\d*$`)
)

// vkClient sends requests as verkadaModule's Invoke-VerkadaRestMethod
// does: the session token raw in x-verkada-auth, Content-Type
// application/json, and a body of {} when the function has no body
// parameters (GET and DELETE included).
type vkClient struct {
	t     *testing.T
	e     *env
	token string
}

// call sends one request and decodes the reply into a map; it checks that
// every reply, success or error, is JSON.
func (c *vkClient) call(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	if body == "" {
		body = "{}"
	}
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("x-verkada-auth", c.token)
	}
	req.RemoteAddr = "203.0.113.7:5000"
	rec := httptest.NewRecorder()
	c.e.srv.ServeHTTP(rec, req)
	raw, _ := io.ReadAll(rec.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("%s %s: status %d, body %q is not a JSON object", method, path, rec.Code, raw)
	}
	if rec.Code >= 400 {
		if _, ok := out["message"].(string); !ok {
			c.t.Errorf("%s %s: error %d without a message: %s", method, path, rec.Code, raw)
		}
	}
	return rec.Code, out
}

// must calls and checks the status.
func (c *vkClient) must(status int, method, path, body string) map[string]any {
	c.t.Helper()
	code, out := c.call(method, path, body)
	if code != status {
		c.t.Fatalf("%s %s: status %d, want %d: %v", method, path, code, status, out)
	}
	return out
}

// fields checks that obj has each field with the JSON type named ("string",
// "bool", "array", "object", "null", "number").
func fields(t *testing.T, what string, obj any, want map[string]string) {
	t.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		t.Fatalf("%s: %T, want an object", what, obj)
	}
	for f, kind := range want {
		v, ok := m[f]
		if !ok {
			t.Errorf("%s: field %s missing (have %v)", what, f, m)
			continue
		}
		got := "null"
		switch v.(type) {
		case string:
			got = "string"
		case bool:
			got = "bool"
		case []any:
			got = "array"
		case map[string]any:
			got = "object"
		case float64:
			got = "number"
		}
		if got != kind {
			t.Errorf("%s: field %s is %s (%v), want %s", what, f, got, v, kind)
		}
	}
}

// newVerkadaClient makes a Verkada API key of role and connects as
// Connect-Verkada does: POST /token with x-api-key and no body.
func newVerkadaClient(t *testing.T, e *env, role string) *vkClient {
	t.Helper()
	key, err := e.st.CreateVerkadaKey("vk-"+role, role, store.Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	c := &vkClient{t: t, e: e}
	c.token = c.exchange(key)
	return c
}

func (c *vkClient) exchange(key string) string {
	c.t.Helper()
	req := httptest.NewRequest("POST", "/token", nil)
	req.Header.Set("x-api-key", key)
	rec := httptest.NewRecorder()
	c.e.srv.ServeHTTP(rec, req)
	var out map[string]any
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
		c.t.Fatalf("POST /token: %d %s", rec.Code, rec.Body)
	}
	fields(c.t, "POST /token", out, map[string]string{"token": "string"})
	return out["token"].(string)
}

// TestVerkadaContract replays, function by function, what verkadaModule
// sends, and checks the status, the field names and their types.
func TestVerkadaContract(t *testing.T) {
	e := newEnv(t, nil)
	c := newVerkadaClient(t, e, store.RoleSystemAdmin)
	const org = "org_id=7cd47706-f51b-4419-8675-3b9f0ce7c12d" // accepted and ignored
	uid := e.newUser("ada")
	if !clientUUID.MatchString(uid) {
		t.Fatalf("user id %q fails the client's UUID check", uid)
	}

	// Read-VerkadaAccessUsers
	out := c.must(200, "GET", "/access/v1/access_users?"+org+"&unknown=1", "")
	members, _ := out["access_members"].([]any)
	if len(members) != 1 {
		t.Fatalf("access_members = %v", out)
	}
	fields(t, "access member", members[0], map[string]string{"user_id": "string", "external_id": "string", "email": "string", "first_name": "string", "last_name": "string"})

	// Get-VerkadaAccessUser, by user_id and by external_id
	userShape := map[string]string{"user_id": "string", "external_id": "string", "start_date": "null", "end_date": "null", "entry_code": "string",
		"access_groups": "array", "cards": "array", "ble_unlock": "bool", "remote_unlock": "bool", "license_plates": "array"}
	u := c.must(200, "GET", "/access/v1/access_users/user?user_id="+uid, "")
	fields(t, "access user", u, userShape)
	if u["entry_code"] != "" || u["user_id"] != uid {
		t.Errorf("user = %v", u)
	}
	groups := u["access_groups"].([]any)
	fields(t, "user's group", groups[0], map[string]string{"group_id": "string", "name": "string"})
	if c.must(200, "GET", "/access/v1/access_users/user?external_id=ada", "")["user_id"] != uid {
		t.Error("external_id lookup")
	}
	if code, _ := c.call("GET", "/access/v1/access_users/user?user_id=u000000000000001", ""); code != 404 {
		t.Errorf("an old-style id: %d", code)
	}

	// Set-VerkadaAccessUserEntryCode: override is sent as False by default.
	u = c.must(200, "PUT", "/access/v1/access_users/user/entry_code?override=False&user_id="+uid, `{"entry_code":"135790"}`)
	if u["entry_code"] != "set" {
		t.Errorf("entry_code after set = %v", u["entry_code"])
	}
	if strings.Contains(fmt.Sprint(u), "135790") {
		t.Error("the reply carries the entry code's digits")
	}
	if code, out := c.call("PUT", "/access/v1/access_users/user/entry_code?override=False&user_id="+uid, `{"entry_code":"246801"}`); code != 409 {
		t.Errorf("a second code without override: %d %v", code, out)
	}
	c.must(200, "PUT", "/access/v1/access_users/user/entry_code?override=TRUE&user_id="+uid, `{"entry_code":"246801"}`)
	if code, out := c.call("PUT", "/access/v1/access_users/user/entry_code?override=True&user_id="+uid, `{"entry_code":"12a4"}`); code != 400 || out["field"] != "entry_code" || out["rule"] != store.RuleCode {
		t.Errorf("a bad code: %d %v", code, out)
	}
	if u, err := e.st.LookupEntryCode([]byte("246801")); err != nil || u.UserID != uid {
		t.Errorf("the code is not the user's: %v", err)
	}
	// Remove-VerkadaAccessUserEntryCode
	if out := c.must(200, "DELETE", "/access/v1/access_users/user/entry_code?user_id="+uid, ""); len(out) != 0 {
		t.Errorf("DELETE reply %v, want {}", out)
	}

	// Set-VerkadaAccessUserStartDate / EndDate: Unix seconds as a string.
	if u := c.must(200, "PUT", "/access/v1/access_users/user/start_date?user_id="+uid, `{"start_date":"1767225600"}`); u["start_date"] != "1767225600" || u["end_date"] != nil {
		t.Errorf("start_date = %v, end_date %v", u["start_date"], u["end_date"])
	}
	u = c.must(200, "PUT", "/access/v1/access_users/user/end_date?external_id=ada", `{"end_date":"1893456000"}`)
	if u["start_date"] != "1767225600" || u["end_date"] != "1893456000" {
		t.Errorf("dates = %v, %v", u["start_date"], u["end_date"])
	}
	if code, out := c.call("PUT", "/access/v1/access_users/user/end_date?user_id="+uid, `{"end_date":"1000"}`); code != 400 || out["field"] != "end" {
		t.Errorf("an end before the start: %d %v (the store's rule)", code, out)
	}

	// Add-VerkadaAccessUserCard: numbers as strings, active as a JSON bool.
	card := c.must(200, "POST", "/access/v1/credentials/card?user_id="+uid, `{"type":"HID","active":true,"card_number":"12345","facility_code":"12"}`)
	fields(t, "card", card, map[string]string{"card_id": "string", "type": "string", "card_number": "string", "card_number_hex": "string",
		"card_number_base36": "string", "facility_code": "string", "active": "bool"})
	cardID := card["card_id"].(string)
	if !clientCardID.MatchString(cardID) || card["card_number_hex"] != "3039" || card["card_number_base36"] != "9ix" || card["type"] != "HID" {
		t.Errorf("card = %v", card)
	}
	if _, active, err := e.st.LookupCard(store.CardKey{Format: "h10301", FacilityCode: 12, CardNumber: 12345}); err != nil || !active {
		t.Errorf("the card is not in the store: %v %v", active, err)
	}
	// Both naming families, any case, and the hex and base-36 numbers.
	for _, b := range []string{
		`{"type":"standard 26-BIT wiegand","active":false,"card_number_hex":"303a","facility_code":"12"}`,
		`{"type":"hid37wfacilitycode","active":true,"card_number_base36":"ZZ","facility_code":"7"}`,
		`{"type":"HID Corporate 1000-48","active":true,"card_number":77,"facility_code":3}`,
	} {
		c.must(200, "POST", "/access/v1/credentials/card?user_id="+uid, b)
	}
	if code, out := c.call("POST", "/access/v1/credentials/card?user_id="+uid, `{"type":"iClass","card_number":"1"}`); code != 400 || out["field"] != "type" ||
		!strings.Contains(out["rule"].(string), "Standard 26-bit Wiegand") || !strings.Contains(out["rule"].(string), "Corporate1000_48") {
		t.Errorf("a type latch does not read: %d %v", code, out)
	}
	if code, out := c.call("POST", "/access/v1/credentials/card?user_id="+uid, `{"type":"HID","card_number":"70000","facility_code":"1"}`); code != 400 || out["field"] != "card_number" {
		t.Errorf("a number beyond the format: %d %v (the reader's limit)", code, out)
	}
	// Disable- and Enable-VerkadaAccessUserCard, Remove-VerkadaAccessUserCard
	if out := c.must(200, "PUT", "/access/v1/credentials/card/deactivate?card_id="+cardID+"&user_id="+uid, ""); out["active"] != false {
		t.Errorf("deactivate: %v", out)
	}
	if out := c.must(200, "PUT", "/access/v1/credentials/card/activate?card_id="+cardID+"&external_id=ada", ""); out["active"] != true || out["card_id"] != cardID {
		t.Errorf("activate: %v", out)
	}
	u = c.must(200, "GET", "/access/v1/access_users/user?user_id="+uid, "")
	if cards := u["cards"].([]any); len(cards) != 4 {
		t.Errorf("user's cards = %v", cards)
	}
	if out := c.must(200, "DELETE", "/access/v1/credentials/card?card_id="+cardID+"&user_id="+uid, ""); len(out) != 0 {
		t.Errorf("DELETE card: %v", out)
	}
	if code, _ := c.call("DELETE", "/access/v1/credentials/card?card_id="+cardID+"&user_id="+uid, ""); code != 404 {
		t.Errorf("DELETE a deleted card: %d", code)
	}
	if code, out := c.call("DELETE", "/access/v1/credentials/card?card_id=12&user_id="+uid, ""); code != 400 || out["field"] != "card_id" {
		t.Errorf("a malformed card_id: %d %v", code, out)
	}

	// Add- and Remove-VerkadaAccessUserMfaCode
	if out := c.must(200, "POST", "/access/v1/credentials/mfa_code?user_id="+uid, `{"code":"4321"}`); out["code"] != "4321" {
		t.Errorf("mfa add: %v", out)
	}
	if out := c.must(200, "DELETE", "/access/v1/credentials/mfa_code?code=4321&user_id="+uid, ""); len(out) != 0 {
		t.Errorf("mfa delete: %v", out)
	}

	// Read-VerkadaAccessGroups, Get-VerkadaAccessGroup, Set-VerkadaAccessUserGroup,
	// Remove-VerkadaAccessUserFromGroup
	gl := c.must(200, "GET", "/access/v1/access_groups?"+org, "")["access_groups"].([]any)
	if len(gl) != 2 {
		t.Fatalf("groups = %v", gl)
	}
	cleaners := gl[1].(map[string]any)
	gid := cleaners["group_id"].(string)
	if !clientUUID.MatchString(gid) || cleaners["name"] != "cleaners" {
		t.Errorf("group = %v", cleaners)
	}
	c.must(200, "PUT", "/access/v1/access_groups/group/user?group_id="+gid, `{"user_id":"`+uid+`"}`)
	g := c.must(200, "GET", "/access/v1/access_groups/group?group_id="+gid, "")
	fields(t, "group", g, map[string]string{"group_id": "string", "name": "string", "user_ids": "array"})
	if ids := g["user_ids"].([]any); len(ids) != 1 || ids[0] != uid {
		t.Errorf("group members = %v", ids)
	}
	c.must(200, "DELETE", "/access/v1/access_groups/group/user?group_id="+gid+"&external_id=ada", "")
	if ids := c.must(200, "GET", "/access/v1/access_groups/group?group_id="+gid, "")["user_ids"].([]any); len(ids) != 0 {
		t.Errorf("after the removal: %v", ids)
	}
	if code, _ := c.call("GET", "/access/v1/access_groups/group?group_id=3f2b8c1e-1111-4111-8111-111111111111", ""); code != 404 {
		t.Errorf("an unknown group: %d", code)
	}

	// Doors
	doors := c.must(200, "GET", "/access/v1/doors", "")["doors"].([]any)
	if len(doors) != 2 {
		t.Fatalf("doors = %v", doors)
	}
	fields(t, "door", doors[0], map[string]string{"door_id": "string", "name": "string", "site": "object"})
	front := doors[0].(map[string]any)["door_id"].(string)
	if d := c.must(200, "GET", "/access/v1/doors?door_ids=3f2b8c1e-1111-4111-8111-111111111111,"+front, "")["doors"].([]any); len(d) != 1 {
		t.Errorf("doors filtered = %v", d)
	}

	// Add- and Remove-VerkadaCommandUser; a duplicate external_id is the store's conflict.
	nu := c.must(200, "POST", "/core/v1/user", `{"email":"grace@example.com","first_name":"Grace","last_name":"Hopper","external_id":"grace","department":"navy"}`)
	if id, _ := nu["user_id"].(string); !clientUUID.MatchString(id) || nu["external_id"] != "grace" {
		t.Errorf("created user = %v", nu)
	}
	if code, _ := c.call("POST", "/core/v1/user", `{"first_name":"G2","external_id":"grace"}`); code != 409 {
		t.Errorf("a second user with external_id grace: %d", code)
	}
	if out := c.must(200, "DELETE", "/core/v1/user?external_id=grace", ""); len(out) != 0 {
		t.Errorf("DELETE user: %v", out)
	}
	if code, _ := c.call("GET", "/access/v1/access_users/user?user_id="+nu["user_id"].(string), ""); code != 404 {
		t.Errorf("a deleted user: %d", code)
	}

	// The session expires after 30 minutes; the client asks for a new one
	// exactly when the body is this.
	e.clock.Add(30 * time.Minute)
	req := httptest.NewRequest("GET", "/access/v1/access_users", strings.NewReader("{}"))
	req.Header.Set("x-verkada-auth", c.token)
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	if rec.Code != 401 || strings.TrimSpace(rec.Body.String()) != `{"message":"API token expired"}` {
		t.Errorf("an expired session: %d %s", rec.Code, rec.Body)
	}
	// A bearer token works on these paths too.
	if rec := e.do(store.RoleViewer, "GET", "/access/v1/access_users", "{}"); rec.Code != 200 {
		t.Errorf("bearer on a Verkada path: %d", rec.Code)
	}
}

// TestVerkadaEvents: Get-VerkadaAccessEvents pages with page_size 200 and
// page_token until next_page_token is null; filters by time (decimal
// seconds), comma-joined event types and user ids.
func TestVerkadaEvents(t *testing.T) {
	e := newEnv(t, nil)
	c := newVerkadaClient(t, e, store.RoleViewer)
	ada, bob := e.newUser("ada"), e.newUser("bob")
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var evs []store.Event
	for i := 0; i < 450; i++ {
		ev := store.Event{Time: t0.Add(time.Duration(i) * time.Second), Door: "front", Reader: "front-in"}
		switch i % 3 {
		case 0:
			ev.Event, ev.Method, ev.UserID = door.EvAccessGranted, door.MethodCard, ada
			ev.Card = &store.EventCard{Format: "h10301", FacilityCode: 1, CardNumber: 1}
		case 1:
			ev.Event, ev.Reason, ev.UserID = door.EvAccessDenied, door.ReasonWrongCode, bob
		default:
			ev.Event = door.EvDoorOpened
		}
		evs = append(evs, ev)
	}
	if err := e.st.AppendEvents(evs); err != nil {
		t.Fatal(err)
	}
	// All of them, page by page, as the client loops.
	page := func(q string) []any {
		t.Helper()
		var all []any
		token := "1" // the client's "first page": it sends no page_token then
		for pages := 0; token != ""; pages++ {
			path := "/events/v1/access?page_size=200" + q
			if token != "1" {
				path += "&page_token=" + token
			}
			out := c.must(200, "GET", path, "")
			all = append(all, out["events"].([]any)...)
			next, present := out["next_page_token"]
			if !present {
				t.Fatal("next_page_token missing (want a token or null)")
			}
			token = ""
			if next != nil {
				token = next.(string)
				if token == "1" || token == "" {
					t.Fatalf("next_page_token %q", token)
				}
			}
			if pages > 10 {
				t.Fatal("paging does not end")
			}
		}
		return all
	}
	all := page("")
	// 450 door events plus the two user_created audit events, which are not access events.
	if len(all) != 450 {
		t.Fatalf("%d events, want 450", len(all))
	}
	fields(t, "event", all[0], map[string]string{"event_id": "string", "event_type": "string", "timestamp": "string", "door_id": "string", "user_id": "string", "event_info": "object"})
	e0 := all[0].(map[string]any)
	if e0["event_type"] != "door_keycard_entered_accepted" || e0["user_id"] != ada || e0["timestamp"] != "2026-03-02T08:00:00.000Z" {
		t.Errorf("first event = %v", e0)
	}
	if all[1].(map[string]any)["event_type"] != "door_code_entered_rejected" || all[2].(map[string]any)["event_type"] != "door_opened" {
		t.Errorf("types = %v, %v", all[1], all[2])
	}
	// Time window, decimals allowed: seconds 100.5 to 199 → 99 events.
	from := float64(t0.Unix()) + 100.5
	if got := page(fmt.Sprintf("&start_time=%.1f&end_time=%d", from, t0.Unix()+199)); len(got) != 99 {
		t.Errorf("window: %d events, want 99", len(got))
	}
	if got := page("&event_type=door_opened,door_keycard_entered_accepted"); len(got) != 300 {
		t.Errorf("two types: %d events, want 300", len(got))
	}
	if got := page("&user_id=" + bob); len(got) != 150 {
		t.Errorf("bob's: %d events, want 150", len(got))
	}
	if code, out := c.call("GET", "/events/v1/access?event_type=door_exploded", ""); code != 400 || out["field"] != "event_type" {
		t.Errorf("an unknown type: %d %v", code, out)
	}
	if code, _ := c.call("GET", "/events/v1/access?page_size=201", ""); code != 400 {
		t.Errorf("page_size 201: %d", code)
	}
	if code, _ := c.call("GET", "/events/v1/access?page_token=1", ""); code != 400 {
		t.Errorf("page_token 1: %d", code)
	}
}

// TestVerkadaEventMapCoversEvents: every row of the table names a door
// event, every door event that is not left out has an event type (its
// row's, or the fallback), and no two latch events share a type.
func TestVerkadaEventMapCoversEvents(t *testing.T) {
	for _, m := range verkadaEventMap {
		if !slices.Contains(door.Events(), m.event) {
			t.Errorf("row %s → %s: not an event of door.Events", m.event, m.typ)
		}
	}
	owner := map[string]string{}
	for _, m := range verkadaEventTypes {
		if o, ok := owner[m.typ]; ok && o != m.event {
			t.Errorf("type %s comes from %s and %s", m.typ, o, m.event)
		}
		owner[m.typ] = m.event
	}
	for _, ev := range door.Events() {
		skipped := slices.Contains(verkadaSkipped, ev)
		e := store.Event{Event: ev}
		_, served := verkadaTypeOf(e)
		if !served {
			e.Card = &store.EventCard{}
			_, served = verkadaTypeOf(e)
		}
		if served == skipped {
			t.Errorf("event %s: served %v, skipped %v; want exactly one", ev, served, skipped)
		}
	}
	if typ, ok := verkadaTypeOf(store.Event{Event: "not_an_event"}); ok {
		t.Errorf("an unknown event is served as %s", typ)
	}
	if verkadaFallback("lockdown_started") != "door_lockdown_started" || verkadaFallback("door_x") != "door_x" {
		t.Error("verkadaFallback")
	}
}

// TestVerkadaTypesAreFormats: the card types name formats the reader
// decodes, every format but raw has a card_id code, and card ids round-trip.
func TestVerkadaTypesAreFormats(t *testing.T) {
	for _, vt := range verkadaTypes {
		if _, _, ok := store.CardLimits(string(vt.format)); !ok {
			t.Errorf("type %v names format %s, which the reader does not read", vt.names, vt.format)
		}
	}
	for _, f := range reader.Formats() {
		k := store.CardKey{Format: string(f.Format), FacilityCode: 4294967295, CardNumber: 18446744073709551615}
		id := cardIDOf(k)
		if back, ok := parseCardID(id); !ok || back != k || !clientCardID.MatchString(id) {
			t.Errorf("card id of %v: %q → %v, %v", k, id, back, ok)
		}
	}
}

// TestNameUUID: stable, v4-shaped, and different for another site, kind or name.
func TestNameUUID(t *testing.T) {
	a := NameUUID("door", "hq", "front")
	if a != NameUUID("door", "hq", "front") || !clientUUID.MatchString(a) || a[14] != '4' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("NameUUID = %q", a)
	}
	for _, o := range []string{NameUUID("door", "hq2", "front"), NameUUID("group", "hq", "front"), NameUUID("door", "hq", "back"), NameUUID("door", "hqf", "ront")} {
		if o == a {
			t.Errorf("%q collides", o)
		}
	}
}

// TestVerkadaKeyExchange: the key exchange's refusals.
func TestVerkadaKeyExchange(t *testing.T) {
	e := newEnv(t, nil)
	post := func(key string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/token", nil)
		if key != "" {
			req.Header.Set("x-api-key", key)
		}
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		return rec
	}
	if rec := post(""); rec.Code != 401 || !strings.Contains(rec.Body.String(), `"message"`) {
		t.Errorf("no key: %d %s", rec.Code, rec.Body)
	}
	if rec := post("latch_unknown"); rec.Code != 401 {
		t.Errorf("unknown key: %d %s", rec.Code, rec.Body)
	}
	if rec := post(e.tokens[store.RoleSystemAdmin]); rec.Code != 403 {
		t.Errorf("a plain token as a key: %d %s", rec.Code, rec.Body)
	}
	// A session has the key's role, and is no bearer token.
	c := newVerkadaClient(t, e, store.RoleViewer)
	if code, _ := c.call("POST", "/access/v1/credentials/card?user_id="+e.newUser("x"), `{"type":"HID","card_number":"1"}`); code != http.StatusForbidden {
		t.Errorf("a viewer's session adds a card: %d", code)
	}
	req := httptest.NewRequest("GET", "/v1/users", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("a session as a bearer token: %d", rec.Code)
	}
	// x-verkada-auth is read on the Verkada paths only.
	req = httptest.NewRequest("GET", "/v1/users", nil)
	req.Header.Set("x-verkada-auth", c.token)
	rec = httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("a session on latch's own path: %d", rec.Code)
	}
	// Revoking the key ends the session, with a message that is not the expiry's.
	if err := e.st.RevokeToken("vk-viewer", store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	if code, out := c.call("GET", "/access/v1/access_users", ""); code != 401 || out["message"] == msgExpired {
		t.Errorf("a revoked key's session: %d %v", code, out)
	}
}

// FuzzVerkadaParams: the Verkada query parsers (card_id, Unix seconds,
// booleans, lists) never panic; a card_id that parses is the one its card
// writes, and a time that parses is within Unix seconds 0–253402300799.
func FuzzVerkadaParams(f *testing.F) {
	for _, s := range []string{"10000000001200000000000000012345", "99000000000018446744073709551615", "1709294400.5", "True", "a,,b", "1e400", "-0", "NaN", "+Inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if k, ok := parseCardID(s); ok && cardIDOf(k) != s {
			t.Fatalf("parseCardID(%q) = %v, whose id is %q", s, k, cardIDOf(k))
		}
		if tm, err := unixParam(s, "start_time"); err == nil && (tm.Unix() < 0 || tm.Unix() > 253402300799) {
			t.Fatalf("unixParam(%q) = %v", s, tm)
		} else if err != nil {
			checkDecodeErr(t, err)
		}
		if _, err := vBool(map[string][]string{"b": {s}}, "b", false); err != nil {
			checkDecodeErr(t, err)
		}
		for _, v := range vList(map[string][]string{"l": {s}}, "l") {
			if v == "" || strings.Contains(v, ",") {
				t.Fatalf("vList(%q) has %q", s, v)
			}
		}
	})
}

// TestVerkadaListUsersPages: every user in one reply, past the store's
// page of 1,000, as one JSON document.
func TestVerkadaListUsersPages(t *testing.T) {
	e := newEnv(t, nil)
	var csv strings.Builder
	csv.WriteString("externalId,firstName,lastName,email,startDate,endDate,groups\n")
	for i := 0; i < 2345; i++ {
		fmt.Fprintf(&csv, "m-%d,F%d,L,,,,staff\n", i, i)
	}
	body := csv.String()
	if _, err := e.st.Import(func() (io.Reader, error) { return strings.NewReader(body), nil }, int64(len(body)), store.Actor{Name: "test"}, nil); err != nil {
		t.Fatal(err)
	}
	c := newVerkadaClient(t, e, store.RoleViewer)
	members := c.must(200, "GET", "/access/v1/access_users", "")["access_members"].([]any)
	if len(members) != 2345 {
		t.Fatalf("%d members, want 2345", len(members))
	}
	seen := map[any]bool{}
	for _, m := range members {
		seen[m.(map[string]any)["user_id"]] = true
	}
	if len(seen) != 2345 {
		t.Errorf("%d distinct user ids", len(seen))
	}
	g := c.must(200, "GET", "/access/v1/access_groups/group?group_id="+NameUUID("group", "latch", "staff"), "")
	if ids := g["user_ids"].([]any); len(ids) != 2345 {
		t.Errorf("staff has %d users, want 2345", len(ids))
	}
}

// TestVerkadaNotServed: a Verkada path or method latch does not serve is a
// JSON 404 with a message, after no authentication.
func TestVerkadaNotServed(t *testing.T) {
	e := newEnv(t, nil)
	for _, r := range []struct{ method, path string }{
		{"POST", "/access/v1/door/user_unlock"}, {"POST", "/access/v1/doors"},
		{"GET", "/token"}, {"GET", "/core/v1/user"}, {"GET", "/events/v1/access/x"},
	} {
		req := httptest.NewRequest(r.method, r.path, strings.NewReader("{}"))
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		if rec.Code != 404 || out["message"] == nil {
			t.Errorf("%s %s: %d %s", r.method, r.path, rec.Code, rec.Body)
		}
	}
}
