package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestLdflagsWin(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v9.9.9"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "feed"}, {Key: "vcs.time", Value: "2020-01-01T00:00:00Z"}}}
	got := from("1.2.3", "abc", "2026-12-01T00:00:00Z", bi)
	want := Info{Version: "1.2.3", Commit: "abc", Date: "2026-12-01T00:00:00Z", Go: "go1.26.8"}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestBuildInfoFallback(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "feed"}, {Key: "vcs.time", Value: "2020-01-01T00:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := from("", "", "", bi)
	want := Info{Version: "0.4.0", Commit: "feed-dirty", Date: "2020-01-01T00:00:00Z", Go: "go1.26.8"}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestNothingRecorded(t *testing.T) {
	got := from("", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}})
	if got.Version != "devel" || got.Commit != "unknown" || got.Date != "unknown" || got.Go == "" {
		t.Fatalf("got %+v", got)
	}
	if s := got.String("latchd"); !strings.HasPrefix(s, "latchd devel (commit unknown, built unknown, go") {
		t.Fatalf("String = %q", s)
	}
}
