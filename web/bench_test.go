package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/internal/benchlat"
	"github.com/latchd/latch/store"
)

// BenchmarkPages100k: each page's time to first byte … last byte with
// 100,000 users (target: under 50 ms, docs/web.md), p50 and p99.
//
//	go test -run '^$' -bench BenchmarkPages100k -benchtime 200x ./web/
func BenchmarkPages100k(b *testing.B) {
	f := newFixtureTB(b)
	c := f.signInB(b, "a-access-system-admin")
	var csv bytes.Buffer
	csv.WriteString("externalId,firstName,lastName,email,cardFormat,facilityCode,cardNumber\n")
	for i := range 100000 {
		fmt.Fprintf(&csv, "E-%06d,First%d,Last%d,u%d@example.com,h10301,%d,%d\n", i, i, i, i, i/60000, i%60000+1)
	}
	data := csv.Bytes()
	if _, err := f.st.Import(func() (io.Reader, error) { return bytes.NewReader(data), nil }, int64(len(data)), store.Actor{Name: "bench"}, nil); err != nil {
		b.Fatal(err)
	}
	u, err := f.st.UserByExternalID("E-050000")
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"/users", "/users?q=E-099999", "/users?q=nobody-matches", "/users?q=77777", "/users/" + u.UserID, "/users/" + u.UserID + "/mfa/new", "/events", "/doors"} {
		b.Run(strings.NewReplacer("/", "_", "?", "_", "=", "_").Replace(p), func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				code, _ := c.getB(b, p)
				lat = append(lat, time.Since(start))
				if code != 200 {
					b.Fatalf("%s: %d", p, code)
				}
			}
			benchlat.Report(b, lat)
		})
	}
}

func (f *fixture) signInB(b *testing.B, name string) *client {
	c := f.client()
	c.getB(b, "/signin")
	v := url.Values{"name": {name}, "password": {testPassword}, "_csrf": {c.csrf}}
	resp, err := c.c.PostForm(f.srv.URL+"/signin", v)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign in: %v", err)
	}
	resp.Body.Close()
	return c
}

func (c *client) getB(b *testing.B, path string) (int, string) {
	resp, err := c.c.Get(c.f.srv.URL + path)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(body); m != nil {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, string(body)
}
