package config

import (
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// positions maps a key path ("door[0].schedule[1].start", or "door[0]" for a
// table header) to the 1-based line where it is written.
type positions map[string]int

// indexPositions walks the document with go-toml's unstable parser and records
// the line of every table header and key. It runs after the strict decoder
// accepted the document, so a parse error here cannot happen; if one does, the
// index is simply incomplete and issues fall back to line 0.
func indexPositions(data []byte) positions {
	pos := positions{}
	// Offsets of line starts, for offset → line by binary search.
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	line := func(off uint32) int {
		return sort.Search(len(starts), func(i int) bool { return starts[i] > int(off) })
	}
	arrays := map[string]int{} // array-of-tables path → number of elements so far
	// resolve turns key parts into a path, indexing each prefix that is an
	// array of tables by its last element.
	resolve := func(base string, parts []string) string {
		path := base
		for _, p := range parts {
			if path == "" {
				path = p
			} else {
				path += "." + p
			}
			if n, ok := arrays[path]; ok {
				path += "[" + strconv.Itoa(n-1) + "]"
			}
		}
		return path
	}
	keyParts := func(it unstable.Iterator) ([]string, uint32) {
		var parts []string
		var off uint32
		first := true
		for it.Next() {
			n := it.Node()
			if first {
				off = n.Raw.Offset
				first = false
			}
			parts = append(parts, string(n.Data))
		}
		return parts, off
	}
	var walkInline func(prefix string, n *unstable.Node)
	walkInline = func(prefix string, n *unstable.Node) {
		it := n.Children()
		for it.Next() {
			kv := it.Node()
			if kv.Kind != unstable.KeyValue {
				continue
			}
			parts, off := keyParts(kv.Key())
			path := prefix + "." + strings.Join(parts, ".")
			if _, ok := pos[path]; !ok {
				pos[path] = line(off)
			}
			if v := kv.Value(); v.Kind == unstable.InlineTable {
				walkInline(path, v)
			}
		}
	}

	var p unstable.Parser
	p.Reset(data)
	prefix := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			parts, off := keyParts(e.Key())
			prefix = resolve("", parts)
			if _, ok := pos[prefix]; !ok {
				pos[prefix] = line(off)
			}
		case unstable.ArrayTable:
			parts, off := keyParts(e.Key())
			if len(parts) == 0 {
				continue
			}
			parent := resolve("", parts[:len(parts)-1])
			full := parts[len(parts)-1]
			if parent != "" {
				full = parent + "." + full
			}
			n := arrays[full]
			arrays[full] = n + 1
			prefix = full + "[" + strconv.Itoa(n) + "]"
			pos[prefix] = line(off)
		case unstable.KeyValue:
			parts, off := keyParts(e.Key())
			path := resolve(prefix, parts)
			if _, ok := pos[path]; !ok {
				pos[path] = line(off)
			}
			if v := e.Value(); v.Kind == unstable.InlineTable {
				walkInline(path, v)
			}
		}
	}
	return pos
}

// lineOf returns the line of key, or of its closest enclosing table that has
// one (a missing key is reported at its table's header).
func (p positions) lineOf(key string) int {
	for key != "" {
		if l, ok := p[key]; ok {
			return l
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}
