// Package suggest owns "did you mean": which known words are close to an
// unknown one (latchctl's commands, actions and shells; the config file's
// keys).
package suggest

import (
	"fmt"
	"strings"
)

// Close returns the candidates near s: those s is a prefix of, or within
// two edits of it (one for a word of up to three letters). Nil when none.
func Close(s string, candidates []string) []string {
	var out []string
	limit := 2
	if len(s) <= 3 {
		limit = 1
	}
	for _, c := range candidates {
		if s != "" && c != s && (strings.HasPrefix(c, s) || distance(s, c) <= limit) {
			out = append(out, c)
		}
	}
	return out
}

// Hint is the text after an unknown word: `; did you mean "list"?`, or ""
// when nothing is close.
func Hint(s string, candidates []string) string {
	m := Close(s, candidates)
	if len(m) == 0 {
		return ""
	}
	q := make([]string, len(m))
	for i, x := range m {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "; did you mean " + strings.Join(q, " or ") + "?"
}

// distance is the edit distance of a and b in bytes, a swap of two
// neighbours counting as one edit ("zhs" is one from "zsh").
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
