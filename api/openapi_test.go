package api

import (
	"bufio"
	"os"
	"sort"
	"strings"
	"testing"
)

// openAPIRoutes reads "METHOD PATH" pairs from the paths section of an
// OpenAPI YAML document written in this repository's layout: paths at two
// spaces of indent, their operations at four.
func openAPIRoutes(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	methods := map[string]bool{"get": true, "put": true, "post": true, "delete": true, "patch": true, "head": true, "options": true}
	var out []string
	inPaths, path := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if !strings.HasPrefix(line, " ") { // a top-level key
			inPaths = line == "paths:"
			continue
		}
		if !inPaths {
			continue
		}
		if strings.HasPrefix(line, "  /") && strings.HasSuffix(line, ":") && !strings.HasPrefix(line, "   ") {
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
			continue
		}
		if strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     ") {
			key, _, _ := strings.Cut(strings.TrimSpace(line), ":")
			if methods[key] {
				if path == "" {
					t.Fatalf("%s: operation %q outside a path", file, key)
				}
				out = append(out, strings.ToUpper(key)+" "+path)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIMatchesRoutes: every route is documented in openapi.yaml and
// every documented operation is routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := openAPIRoutes(t, "openapi.yaml")
	if len(doc) < 10 {
		t.Fatalf("parsed only %d operations from openapi.yaml: %v", len(doc), doc)
	}
	s := New(Options{Store: nil})
	var routed []string
	for _, r := range s.Routes() {
		routed = append(routed, r.Method+" "+r.Path)
	}
	sort.Strings(routed)
	inDoc := map[string]bool{}
	for _, d := range doc {
		if inDoc[d] {
			t.Errorf("openapi.yaml lists %s twice", d)
		}
		inDoc[d] = true
	}
	isRouted := map[string]bool{}
	for _, r := range routed {
		isRouted[r] = true
		if !inDoc[r] {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, d := range doc {
		if !isRouted[d] {
			t.Errorf("openapi.yaml documents %s, which is not routed", d)
		}
	}
}
