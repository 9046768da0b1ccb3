package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/rs/zerolog"
)

// TestServeAPIConnCap: [api] max_connections_per_peer caps latchd's TLS
// listener beneath TLS: with two connections held (each with half a
// request header sent), a third cannot even finish its handshake; when
// one of the two has been served and closed, a new one is served.
func TestServeAPIConnCap(t *testing.T) {
	addr, _, _, cert, _, stop := serveTLSAPI(t, t.TempDir(), "max_connections = 10\nmax_connections_per_peer = 2\n", zerolog.Nop())
	t.Cleanup(stop) // after the connections below are closed
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	// raw[c] is c's TCP connection beneath TLS.
	raw := map[*tls.Conn]net.Conn{}
	dial := func() (*tls.Conn, error) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		c := tls.Client(nc, &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if err := c.Handshake(); err != nil {
			nc.Close()
			return nil, err
		}
		t.Cleanup(func() { c.Close() })
		raw[c] = nc
		return c, nil
	}
	const half = "GET /v1/health HTTP/1.1\r\nHost: latchd\r\nX-Half: "
	var held []*tls.Conn
	for i := 0; i < 2; i++ {
		c, err := dial()
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		io.WriteString(c, half)
		held = append(held, c)
	}
	if c, err := dial(); err == nil {
		t.Error("a 3rd connection from one peer (max_connections_per_peer = 2) finished its TLS handshake")
		c.Close()
	}
	// Finish the first one's request: served (401: no token), then closed.
	io.WriteString(held[0], "1\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(held[0]), nil)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("held connection: %v %v", resp, err)
	}
	// TLS's close_notify ends the stream before the server closes the
	// socket (net/http waits a moment first): read the TCP connection
	// until the server has closed it, which frees the slot.
	io.Copy(io.Discard, held[0])
	io.Copy(io.Discard, raw[held[0]])
	if _, err := dial(); err != nil {
		t.Errorf("a connection after one closed: %v", err)
	}
}
