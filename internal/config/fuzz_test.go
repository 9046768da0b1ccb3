package config

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse: no input panics, and every refusal is a *Error with issues.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../../deploy/latch.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	if site, err := os.ReadFile("../../testdata/scenarios/site.toml"); err == nil {
		f.Add(site)
	}
	f.Add([]byte(minimal))
	f.Add([]byte("[controller]\nduress_output = \"GPIO23\"\nduress_output_active = \"low\"\n" + minimal))
	f.Add([]byte("[[door]]\nname=\"a\"\nrelay=\"GPIO1\"\n[[door.schedule]]\ndays=[\"mon\"]\nstart=\"08:00\"\nend=\"24:00\"\nmode=\"locked\"\n"))
	f.Add([]byte("[controller\n"))
	f.Add([]byte("a.b.c = 1\n[a]\n[[a.b]]\n"))
	f.Add([]byte("[[reader]]\nkeys = { star = 10, hash = { x = 1 } }\n"))
	f.Add([]byte("[mqtt]\nurl = \"ssl://b:8883\"\nusername = \"u\"\npassword_file = \"pw\"\ntls_ca = \"ca.pem\"\ntopic_prefix = \"a/b\"\ndiscovery_prefix = \"\"\ncommands = true\n"))
	f.Add([]byte("[[webhook]]\nname = \"soc\"\nurl = \"http://127.0.0.1:1/h\"\nsecret_file = \"s\"\nevents = [\"rex\"]\ntimeout = \"1s\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "f.toml")
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			return
		}
		var ce *Error
		if !errors.As(err, &ce) || len(ce.Issues) == 0 {
			t.Fatalf("error %T %v is not a *Error with issues", err, err)
		}
	})
}

// FuzzParseSize: no input panics; an accepted size is not negative and
// writes back (fmtSize) to one that parses to the same value.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"512MiB", "1048576", "64 KiB", "1TiB", "8388607TiB", "1.5GiB", "", "B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("parseSize(%q) = %d", s, n)
		}
		if back, err := parseSize(fmtSize(n)); err != nil || back != n {
			t.Fatalf("parseSize(fmtSize(%d) = %q) = %d, %v", n, fmtSize(n), back, err)
		}
	})
}
