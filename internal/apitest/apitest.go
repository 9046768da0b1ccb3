// Package apitest holds what the tests above the API share when they talk to
// a running latchd or start one as a child process: a client for the API's
// unix socket, one authenticated request, and a child started with its
// standard output piped. It is imported only by _test.go files.
package apitest

import (
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/latchd/latch/internal/syncio"
)

// Base is the URL base of requests sent through UnixClient: the host part is
// ignored, the socket is dialled.
const Base = "http://latchd"

// UnixClient returns an HTTP client whose every connection dials the unix
// socket sock.
func UnixClient(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
}

// Call sends one request (body "" = none; token "" = no Authorization
// header) and returns the status and the whole body. A transport error fails
// the test.
func Call(t testing.TB, ctx context.Context, c *http.Client, method, url, token, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Start starts cmd with its standard output piped (returned) and its
// standard error collected in the returned buffer. A failure to start fails
// the test.
func Start(t testing.TB, cmd *exec.Cmd) (io.ReadCloser, *syncio.Buffer) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(syncio.Buffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return out, stderr
}
