package secretfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ok := write("ok", "hunter2-secret\n", 0o600)
	got, err := Read(ok)
	if err != nil || string(got) != "hunter2-secret" {
		t.Fatalf("Read = %q, %v", got, err)
	}
	for name, c := range map[string]struct {
		path, rule string
	}{
		"open to group": {write("g", "sekrit-value", 0o640), "must be 0600"},
		"empty":         {write("e", "\n", 0o600), "is empty"},
		"too long":      {write("l", strings.Repeat("x", MaxSize+1), 0o600), "more than"},
		"missing":       {filepath.Join(dir, "nope"), "no such file"},
		"a folder":      {dir, "regular file"},
	} {
		_, err := Read(c.path)
		if err == nil || !strings.Contains(err.Error(), c.rule) {
			t.Errorf("%s: err %v, want one saying %q", name, err, c.rule)
		}
		if err != nil && strings.Contains(err.Error(), "sekrit") {
			t.Errorf("%s: the error shows the secret: %v", name, err)
		}
	}
}
