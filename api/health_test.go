package api

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchd/latch/internal/version"
	"github.com/latchd/latch/store"
)

// TestHealthNamesDeadLines: /v1/health answers 200 ok while every line
// works and 503 "failing" naming each dead reader or input line (latchd
// is exiting then, crash-only) once the metrics' dead-line source has one.
func TestHealthNamesDeadLines(t *testing.T) {
	var mu sync.Mutex
	var dead []string
	m := NewMetrics()
	m.SetDeadLines(func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), dead...) })
	e := newEnv(t, func(o *Options) { o.Metrics = m })
	get := func() (int, map[string]any) {
		rec := e.do(store.RoleViewer, "GET", "/v1/health", "")
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("health %q: %v", rec.Body.String(), err)
		}
		return rec.Code, body
	}
	if code, body := get(); code != 200 || body["status"] != "ok" || body["dead_lines"] != nil {
		t.Errorf("healthy: %d %v", code, body)
	}
	mu.Lock()
	dead = []string{"reader front-in", "dps front"}
	mu.Unlock()
	code, body := get()
	v := version.Get()
	want := map[string]any{"status": "failing", "time": "2026-03-02T09:00:00.000Z", "doors": 2.0, "dead_lines": []any{"dps front", "reader front-in"},
		"version": map[string]any{"version": v.Version, "commit": v.Commit, "date": v.Date, "go": v.Go}}
	if code != 503 || !cmp.Equal(body, want) {
		t.Errorf("dead lines: %d %s", code, cmp.Diff(want, body))
	}
}

// TestAccessLogDurationUnit: the access log's duration names its unit.
func TestAccessLogDurationUnit(t *testing.T) {
	e := newEnv(t, nil)
	e.do(store.RoleViewer, "GET", "/v1/health", "")
	var found bool
	for _, line := range strings.Split(e.log.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["message"] != "request" {
			continue
		}
		found = true
		if _, ok := m["duration_ms"].(float64); !ok || m["duration"] != nil {
			t.Errorf("access log %s: want a duration_ms number and no bare duration", line)
		}
	}
	if !found {
		t.Fatalf("no access log line in:\n%s", e.log.String())
	}
}
