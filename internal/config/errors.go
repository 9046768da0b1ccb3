package config

import (
	"fmt"
	"strings"
)

// Issue is one broken rule in a configuration file.
type Issue struct {
	File string // the file as given to Load
	Line int    // 1-based; 0 when the problem has no single line (e.g. a missing section)
	Key  string // dotted key path, arrays of tables indexed from 0: "door[0].schedule[1].start"
	Rule string // what is wrong, in words
}

func (i Issue) String() string {
	var b strings.Builder
	b.WriteString(i.File)
	if i.Line > 0 {
		fmt.Fprintf(&b, ":%d", i.Line)
	}
	b.WriteString(": ")
	if i.Key != "" {
		b.WriteString(i.Key)
		b.WriteString(": ")
	}
	b.WriteString(i.Rule)
	return b.String()
}

// Error is returned by Load and Parse when the file breaks one or more rules.
// Its message has one "FILE:LINE: KEY: RULE" line per issue, in file order.
type Error struct {
	Issues []Issue
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		lines[i] = "config: " + is.String()
	}
	return strings.Join(lines, "\n")
}
