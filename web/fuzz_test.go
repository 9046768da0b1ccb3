package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/store"
	"github.com/latchd/latch/store/storetest"
)

// FuzzFormBodies posts arbitrary bodies, with a valid session and CSRF
// token, to every page action: never a panic or a 500, and never a code
// echoed back outside the one page that shows it.
func FuzzFormBodies(f *testing.F) {
	st := storetest.Temp(f)
	o := api.Options{Store: st, Config: api.Config{Groups: []api.Group{{Name: "staff"}}}}
	withDoor(f, &o)
	a := api.New(o)
	p, err := New(Options{Store: st, API: a})
	if err != nil {
		f.Fatal(err)
	}
	a.MountPage(p)
	if err := st.CreateAdmin("root", store.RoleSystemAdmin, []byte(testPassword), store.Actor{Name: "t"}); err != nil {
		f.Fatal(err)
	}
	u, err := st.CreateUser(store.UserFields{ExternalID: "E-1", FirstName: "A"}, store.Actor{Name: "t"})
	if err != nil {
		f.Fatal(err)
	}
	id, sess := p.ss.create("root")
	var posts []Route
	for _, rt := range p.Routes() {
		if rt.Method == http.MethodPost && rt.Path != "/signout" {
			posts = append(posts, rt)
		}
	}
	for _, s := range []string{"action=generate&length=7", "action=save&code=12345", "code=%ff%fe", "format=h10301&facility_code=1&card_number=99999999999999999999",
		"card_hex=0xzz", "start=2026-13-01&end=x", "mode=unlocked&for=2h", "mode=locked&until=2026-12-24T18:00", "mode=x&for=-1s", "until=yesterday", "groups=nope&groups=staff", "first_name=" + strings.Repeat("a", 300), "email=a%00b", ""} {
		for i := range posts {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		rt := posts[int(which)%len(posts)]
		path := strings.NewReplacer("{user_id}", u.UserID, "{id}", "m1", "{name}", "front", "{$}", "").Replace(rt.Path)
		v, _ := url.ParseQuery(body)
		if v == nil {
			v = url.Values{}
		}
		v.Set("_csrf", sess.csrf)
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: cookieName, Value: id})
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %q: %d %s", path, body, w.Code, w.Body.String())
		}
		if c := v.Get("code"); len(c) >= 4 && w.Code != http.StatusCreated && strings.Contains(w.Body.String(), `value="`+c+`"`) {
			t.Fatalf("%s: the code was echoed into a form", path)
		}
	})
}
