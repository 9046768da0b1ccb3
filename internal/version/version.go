package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set by the Makefile with -ldflags "-X github.com/latchd/latch/internal/version.version=…"
// (and commit, date). Empty in a plain go build: Get then reads the build info.
var (
	version string
	commit  string
	date    string
)

// Info is the build identity.
type Info struct {
	Version string // "0.3.0", "0.3.0-5-gabc1234", or "devel" when nothing recorded one
	Commit  string // the full commit hash, with "-dirty" for a modified tree; "unknown" when not recorded
	Date    string // the build date (RFC 3339, UTC), or the commit's date in a plain go build; "unknown" when not recorded
	Go      string // the Go toolchain, e.g. "go1.26.8"
}

// Get returns the build identity: the ldflags values first, then the
// build info's, then the placeholders.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return from(version, commit, date, bi)
}

func from(v, c, d string, bi *debug.BuildInfo) Info {
	in := Info{Version: v, Commit: c, Date: d, Go: runtime.Version()}
	if bi != nil {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = strings.TrimPrefix(bi.Main.Version, "v")
		}
		var rev, when string
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if in.Commit == "" && rev != "" {
			in.Commit = rev
			if modified {
				in.Commit += "-dirty"
			}
		}
		if in.Date == "" {
			in.Date = when
		}
		if bi.GoVersion != "" {
			in.Go = bi.GoVersion
		}
	}
	if in.Version == "" {
		in.Version = "devel"
	}
	if in.Commit == "" {
		in.Commit = "unknown"
	}
	if in.Date == "" {
		in.Date = "unknown"
	}
	return in
}

// String is the --version line: "latchd 0.3.0 (commit abc…, built 2026-12-01T11:00:00Z, go1.26.8)".
func (in Info) String(program string) string {
	return fmt.Sprintf("%s %s (commit %s, built %s, %s)", program, in.Version, in.Commit, in.Date, in.Go)
}
