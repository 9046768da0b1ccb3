package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/internal/syncio"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/internal/testcert"
	"github.com/latchd/latch/store"
)

// serveTLSAPI serves the API of apiTestConfig in dir on a free loopback
// port over TLS, with a fresh certificate (api.crt, api.key; serial 1) and
// the [api] lines extra, logging to log.
func serveTLSAPI(t *testing.T, dir, extra string, log zerolog.Logger) (addr, certFile, keyFile string, cert *x509.Certificate, st *store.Store, stop func()) {
	t.Helper()
	certFile, keyFile, cert = testcert.Write(t, dir, "api", 1)
	addr = freePort(t)
	text := strings.Replace(apiTestConfig, "listen = \"LISTEN\"\n",
		"listen = \""+addr+"\"\ntls_cert = \"api.crt\"\ntls_key = \"api.key\"\n"+extra, 1)
	cfg, st, s := apiSite(t, dir, text)
	stop, err := serveAPI(context.Background(), cfg, st, s, api.NewMetrics(), log)
	if err != nil {
		t.Fatal(err)
	}
	return addr, certFile, keyFile, cert, st, stop
}

// TestServeAPITLS: with [api] tls_cert and tls_key the TCP listener speaks
// TLS 1.2+ only, with that certificate; a renewed certificate is served
// from the next handshake; a renewal that does not load keeps the old one
// serving and says so in the log.
func TestServeAPITLS(t *testing.T) {
	dir := t.TempDir()
	var logs syncio.Buffer
	addr, certFile, keyFile, cert1, st, stop := serveTLSAPI(t, dir, "", zerolog.New(&logs))
	defer stop()
	viewer, err := st.CreateToken("view", "viewer", store.Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// health fetches /v1/health trusting only cert, and returns the
	// serial of the certificate the server showed.
	health := func(trust *x509.Certificate) (int, int64, error) {
		pool := x509.NewCertPool()
		pool.AddCert(trust)
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		req, _ := http.NewRequest("GET", "https://"+addr+"/v1/health", nil)
		req.Header.Set("Authorization", "Bearer "+viewer)
		resp, err := c.Do(req)
		if err != nil {
			return 0, 0, err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, resp.TLS.PeerCertificates[0].SerialNumber.Int64(), nil
	}
	if code, serial, err := health(cert1); err != nil || code != 200 || serial != 1 {
		t.Fatalf("GET /v1/health over TLS: %d, serial %d, %v", code, serial, err)
	}
	// Plain HTTP and TLS 1.1 are refused.
	if resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr + "/v1/health"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS listener: %d, want net/http's 400", resp.StatusCode)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert1)
	if conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}); err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
	if !strings.Contains(logs.String(), `"tls":true`) {
		t.Errorf("the start log does not say tls: %s", logs.String())
	}

	// Renewal: new files (a later modification time), new certificate.
	newCert, newKey, cert2 := testcert.Write(t, t.TempDir(), "api", 2)
	later := time.Now().Add(2 * time.Second)
	for _, f := range [][2]string{{newCert, certFile}, {newKey, keyFile}} {
		if err := os.Rename(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(f[1], later, later)
	}
	if code, serial, err := health(cert2); err != nil || code != 200 || serial != 2 {
		t.Fatalf("after renewal: %d, serial %d, %v; want the new certificate", code, serial, err)
	}
	// A renewal that does not load (the key of another pair): the
	// previous certificate keeps serving, and the log says why.
	_, otherKey, _ := testcert.Write(t, t.TempDir(), "other", 3)
	if err := os.Rename(otherKey, keyFile); err != nil {
		t.Fatal(err)
	}
	later = later.Add(2 * time.Second)
	os.Chtimes(keyFile, later, later)
	if code, serial, err := health(cert2); err != nil || code != 200 || serial != 2 {
		t.Fatalf("after a bad renewal: %d, serial %d, %v; want the previous certificate", code, serial, err)
	}
	if !strings.Contains(logs.String(), "still serving the previous one") {
		t.Errorf("no log line for the bad renewal: %s", logs.String())
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Error("the log holds key material")
	}
}

// TestServeAPIPlainWarns: a TCP listener beyond the loopback without TLS
// is served, with a warning in the log.
func TestServeAPIPlainWarns(t *testing.T) {
	dir := t.TempDir()
	text := strings.Replace(apiTestConfig, "LISTEN", "0.0.0.0:0", 1)
	cfg, st, s := apiSite(t, dir, text)
	var logs syncio.Buffer
	stop, err := serveAPI(context.Background(), cfg, st, s, api.NewMetrics(), zerolog.New(&logs))
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if !strings.Contains(logs.String(), "without TLS") {
		t.Errorf("no warning for a plain listener on 0.0.0.0: %s", logs.String())
	}
	var quiet bytes.Buffer
	cfg.API.Listen = "127.0.0.1:0"
	stop, err = serveAPI(context.Background(), cfg, st, s, api.NewMetrics(), zerolog.New(&quiet))
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if strings.Contains(quiet.String(), "without TLS") {
		t.Errorf("a warning for a loopback listener: %s", quiet.String())
	}
}
