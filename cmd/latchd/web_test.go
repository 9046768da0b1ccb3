package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/internal/syncio"
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
