package main

import (
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"
)

// fakeInfo is an os.FileInfo with a mode.
type fakeInfo struct{ mode fs.FileMode }

func (f fakeInfo) Name() string       { return "latchctl" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }

func TestLatchctlCommand(t *testing.T) {
	files := map[string]fs.FileMode{
		"/repo/bin/latchctl":   0o755,
		"/noexec/bin/latchctl": 0o644,
		"/dir/bin/latchctl":    fs.ModeDir | 0o755,
	}
	stat := func(p string) (os.FileInfo, error) {
		if m, ok := files[p]; ok {
			return fakeInfo{m}, nil
		}
		return nil, os.ErrNotExist
	}
	onPath := func(string) (string, error) { return "/usr/local/bin/latchctl", nil }
	notOnPath := func(string) (string, error) { return "", errors.New("not found") }
	tests := []struct {
		name string
		exe  string
		look func(string) (string, error)
		want string
	}{
		{"make run: beside latchd in bin/", "/repo/bin/latchd", notOnPath, "/repo/bin/latchctl"},
		{"beside latchd beats PATH", "/repo/bin/latchd", onPath, "/repo/bin/latchctl"},
		{"installed on PATH", "/tmp/go-build1/exe/latchd", onPath, "latchctl"},
		{"go run, nothing installed", "/tmp/go-build1/exe/latchd", notOnPath, "go run ./cmd/latchctl"},
		{"not executable", "/noexec/bin/latchd", notOnPath, "go run ./cmd/latchctl"},
		{"a folder", "/dir/bin/latchd", notOnPath, "go run ./cmd/latchctl"},
		{"executable unknown", "", notOnPath, "go run ./cmd/latchctl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := latchctlCommand(tc.exe, stat, tc.look); got != tc.want {
				t.Errorf("latchctlCommand(%q) = %q, want %q", tc.exe, got, tc.want)
			}
		})
	}
}
