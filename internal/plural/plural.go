// Package plural owns how latchd and latchctl count things for people:
// "1 door", "2 doors", "0 doors".
package plural

import "strconv"

// N is n followed by one when n is 1, by many otherwise.
func N(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// S is N with the plural made by adding "s": S(2, "door") is "2 doors".
func S(n int, word string) string { return N(n, word, word+"s") }
