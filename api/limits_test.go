package api

import (
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/latchd/latch/store"
)

// TestStreamLimit: at most MaxStreams live streams at once; one more is a
// 503 with Retry-After; a slot is free again once a stream ends.
func TestStreamLimit(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxStreams = 2 })
	a, b := e.openStream("192.0.2.1:1234"), e.openStream("192.0.2.1:1234")
	defer a.cancel()
	defer b.cancel()
	// Wait (without sleeping) until both hold their slot.
	for len(e.srv.streams) < 2 {
		runtime.Gosched()
	}
	rec := e.do(store.RoleViewer, "GET", "/v1/events/stream", "")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "GET /v1/events") {
		t.Errorf("third stream: %d %q %s, want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	a.end(t, "first stream")
	if got := e.streamStatus("192.0.2.1:4000", store.RoleViewer, "/v1/events/stream"); got != 200 {
		t.Errorf("a stream after one ended: %d, want 200", got)
	}
	b.end(t, "second stream")
	if n := len(e.srv.streams); n != 0 {
		t.Errorf("%d stream slots still held after every stream ended", n)
	}
}

// TestImportOneAtATime: while one CSV import runs, another is refused with
// 409 before its body is spooled; afterwards imports work again.
func TestImportOneAtATime(t *testing.T) {
	tmp := t.TempDir()
	e := newEnv(t, func(o *Options) { o.TempDir = tmp })
	// The spool's free-space probe runs while the import holds its slot:
	// it waits there until released.
	started, release := make(chan struct{}), make(chan struct{})
	e.srv.free = func(dir string) (uint64, bool, error) {
		started <- struct{}{}
		<-release
		return diskFree(dir)
	}
	csv := "externalId,firstName,lastName,email,startDate,endDate,groups\nimp-1,Ann,One,,,,staff\n"
	first := make(chan int, 1)
	go func() { first <- e.do(store.RoleUserManager, "POST", "/v1/import", csv).Code }()
	<-started
	rec := e.do(store.RoleUserManager, "POST", "/v1/import", csv)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "another import is running") {
		t.Errorf("second import while one runs: %d %s, want 409", rec.Code, rec.Body)
	}
	close(release)
	if code := <-first; code != 200 {
		t.Errorf("first import: %d", code)
	}
	go func() { <-started }()
	if rec := e.do(store.RoleUserManager, "POST", "/v1/import", csv); rec.Code != 200 {
		t.Errorf("import after the first ended: %d %s", rec.Code, rec.Body)
	}
}
