package main

import (
	"strings"
	"testing"
)

// TestPanicText: a recovered panic is logged by type, never by value, except
// for a runtime error's own message.
func TestPanicText(t *testing.T) {
	if got := panicText("code 8140275931642087 typed"); strings.Contains(got, "8140") || got != "string" {
		t.Errorf("string panic: %q", got)
	}
	var rerr any
	func() {
		defer func() { rerr = recover() }()
		var s []int
		_ = s[3]
	}()
	if got := panicText(rerr); !strings.Contains(got, "index out of range") {
		t.Errorf("runtime error panic: %q", got)
	}
}
