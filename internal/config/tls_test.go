package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchd/latch/internal/testcert"
)

// TestTLSConfig: [api] tls_cert and tls_key go together, only with
// listen; the key must not be readable by others and must match.
func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	testcert.Write(t, dir, "api", 1)
	testcert.Write(t, dir, "other", 2)
	load := func(api string) (*Config, error) {
		t.Helper()
		p := filepath.Join(dir, "t.toml")
		if err := os.WriteFile(p, []byte("[api]\n"+api+minimal), 0o600); err != nil {
			t.Fatal(err)
		}
		return Load(p)
	}
	cfg, err := load("listen = \"127.0.0.1:8700\"\ntls_cert = \"api.crt\"\ntls_key = \"api.key\"\n")
	if err != nil {
		t.Fatalf("good TLS config: %v", err)
	}
	if cfg.API.TLSCert != filepath.Join(dir, "api.crt") || cfg.API.TLSKey != filepath.Join(dir, "api.key") {
		t.Errorf("TLS paths %q %q, want them resolved against the config's folder", cfg.API.TLSCert, cfg.API.TLSKey)
	}
	for _, tc := range []struct{ api, want string }{
		{"listen = \"127.0.0.1:8700\"\ntls_cert = \"api.crt\"\n", "t.toml:3: api.tls_cert: set tls_key too (or neither)"},
		{"listen = \"127.0.0.1:8700\"\ntls_key = \"api.key\"\n", "t.toml:3: api.tls_key: set tls_cert too (or neither)"},
		{"tls_cert = \"api.crt\"\ntls_key = \"api.key\"\n", "t.toml:2: api.tls_cert: only with listen"},
		{"listen = \"127.0.0.1:8700\"\ntls_cert = \"api.crt\"\ntls_key = \"other.key\"\n", "api.tls_cert: cannot load"},
		{"listen = \"127.0.0.1:8700\"\ntls_cert = \"api.crt\"\ntls_key = \"missing.key\"\n", "api.tls_cert: key " + filepath.Join(dir, "missing.key")},
		{"listen = \"8700\"\n", "t.toml:2: api.listen: must be HOST:PORT"},
		{"listen = \"127.0.0.1:http-alt\"\n", "t.toml:2: api.listen: the port must be a number"},
	} {
		if _, err := load(tc.api); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.api, err, tc.want)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "api.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := load("listen = \"127.0.0.1:8700\"\ntls_cert = \"api.crt\"\ntls_key = \"api.key\"\n"); err == nil || !strings.Contains(err.Error(), "let others read it") {
		t.Errorf("world-readable key: %v", err)
	}
	if _, err := load("listen = \"[::1]:8700\"\n"); err != nil {
		t.Errorf("IPv6 listen: %v", err)
	}
}
