package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/internal/syncio"
	"github.com/latchd/latch/store"
)

// TestPageServedOnlyLoopbackOrTLS: on a loopback listener the admin page
// answers at /signin beside the API; on an address beyond this machine
// without TLS the API serves alone and the log says why.
func TestPageServedOnlyLoopbackOrTLS(t *testing.T) {
	for _, c := range []struct {
		listen string
		page   bool
	}{{"127.0.0.1:0", true}, {"0.0.0.0:0", false}} {
		t.Run(c.listen, func(t *testing.T) {
			dir := t.TempDir()
			l, err := net.Listen("tcp", c.listen)
			if err != nil {
				t.Skip("cannot listen on", c.listen)
			}
			port := l.Addr().(*net.TCPAddr).Port
			l.Close()
			listen := strings.Replace(c.listen, ":0", ":"+strconv.Itoa(port), 1)
			cfg, st, s := apiSite(t, dir, strings.Replace(apiTestConfig, "LISTEN", listen, 1))
			var logs syncio.Buffer
			stop, err := serveAPI(context.Background(), cfg, st, s, api.NewMetrics(), zerolog.New(&logs))
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/signin")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			served := resp.StatusCode == 200 && strings.Contains(string(b), `name="password"`)
			if served != c.page {
				t.Errorf("page served: %v (%d), want %v", served, resp.StatusCode, c.page)
			}
			if warned := strings.Contains(logs.String(), "the admin page is not served"); warned == c.page {
				t.Errorf("log names the refusal: %v, want %v\n%s", warned, !c.page, logs.String())
			}
			if resp.Header.Get("Content-Security-Policy") == "" && c.page {
				t.Error("no CSP on the page")
			}
		})
	}
}

// TestPageUnderTLS: under TLS the page is served, its session cookie
// Secure.
func TestPageUnderTLS(t *testing.T) {
	dir := t.TempDir()
	addr, _, _, cert, st, stop := serveTLSAPI(t, dir, "", zerolog.Nop())
	defer stop()
	if err := st.CreateAdmin("kim", store.RoleViewer, []byte("a long tls password"), store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "https://" + addr
	resp, err := c.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(b)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("sign-in form over TLS: %d", resp.StatusCode)
	}
	resp, err = c.PostForm(base+"/signin", url.Values{"name": {"kim"}, "password": {"a long tls password"}, "_csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session string
	for _, h := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, "latch_session=") {
			session = h
		}
	}
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(session, "Secure") || !strings.Contains(session, "HttpOnly") {
		t.Errorf("sign-in over TLS: %d, cookie %q", resp.StatusCode, session)
	}
}
