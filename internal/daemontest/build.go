package daemontest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// ldflags stamp the test builds of latchd and latchctl the way the Makefile
// does, so that the tests see the ldflags path of internal/version
// (cmd/latchd's TestVersion checks what they print).
const ldflags = "-X github.com/latchd/latch/internal/version.version=0.0.0-test" +
	" -X github.com/latchd/latch/internal/version.commit=0123456789abcdef" +
	" -X github.com/latchd/latch/internal/version.date=2026-12-01T00:00:00Z"

// built holds latchd and latchctl, built once for every test of the run.
var built struct {
	once sync.Once
	dir  string
	err  error
}

// Build returns the path of latchd built from cmd/latchd, with latchctl
// beside it, built on first use. A test that needs it builds and runs the
// daemon: it is skipped in -short mode.
func Build(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "latchd-test-bin-"); built.err != nil {
			return
		}
		for _, pkg := range []string{"github.com/latchd/latch/cmd/latchd", "github.com/latchd/latch/cmd/latchctl"} {
			if built.err = goBuild(built.dir, pkg); built.err != nil {
				return
			}
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return filepath.Join(built.dir, "latchd")
}

// Latchctl is the path of latchctl, which Build puts beside latchd.
func Latchctl(latchd string) string { return filepath.Join(filepath.Dir(latchd), "latchctl") }

// WriteConfig writes text as latch.toml into a new folder of the test and
// returns the folder and the file's path, for latchd --config.
func WriteConfig(t testing.TB, text string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "latch.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// RemoveBuilds removes what Build made; the package's TestMain calls it
// after m.Run.
func RemoveBuilds() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

// goBuild builds the command in pkg into dir.
func goBuild(dir, pkg string) error {
	args := []string{"build", "-o", dir + "/", "-ldflags", ldflags}
	env := "CGO_ENABLED=0"
	if raceBuild {
		// The daemon under test is checked for data races as well: a race
		// makes it exit 66, which the exit-code checks catch.
		args, env = append(args, "-race"), "CGO_ENABLED=1"
	}
	// go test puts its own GOROOT/bin first in PATH: "go" is the go that
	// runs the tests.
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), env)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return nil
}
