package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCommandTable: the commands table lists each name once, in name order
// (the order usage prints), and a command that needs arguments, given none,
// prints its own usage on stderr and exits 2 without running.
func TestCommandTable(t *testing.T) {
	for i, c := range commands {
		if c.name == "" || c.summary == "" || c.usage == "" || c.run == nil {
			t.Errorf("command %d (%q) lacks a name, summary, usage or run", i, c.name)
		}
		if i > 0 && commands[i-1].name >= c.name {
			t.Errorf("commands out of order or repeated: %q before %q", commands[i-1].name, c.name)
		}
	}
	var out bytes.Buffer
	usage(&out)
	for _, c := range commands {
		if !strings.Contains(out.String(), c.name+" ") {
			t.Errorf("usage does not list %q:\n%s", c.name, out.String())
		}
		if !c.needsArgs {
			continue
		}
		var stdout, stderr bytes.Buffer
		if code := run([]string{c.name}, &stdout, &stderr); code != 2 {
			t.Errorf("latchctl %s: exit %d, want 2", c.name, code)
		}
		if want := strings.TrimSuffix(c.usage, "\n") + "\n"; stderr.String() != want || stdout.Len() != 0 {
			t.Errorf("latchctl %s: stdout %q, stderr %q; want its usage on stderr", c.name, stdout.String(), stderr.String())
		}
	}
}
