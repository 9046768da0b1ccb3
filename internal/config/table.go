package config

import (
	"fmt"
	"slices"
	"sort"
	"time"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/latchd/latch/internal/suggest"
)

// The file is decoded as plain TOML (tables, arrays, strings, integers,
// booleans) and the builder reads each key it knows from its table: the
// keys the builder asks for are the one list of keys. A key of the wrong
// TOML type, and a key the builder never asks for (an unknown key, with
// the known keys of its table as hints), is a type issue; the file's
// meaning is checked afterwards, key by key, by the package that owns
// each rule. A key's path ("door[1].schedule[0].start") names it in issues
// and finds its line.

// table is one TOML table of the file at key path path ("" for the root,
// "door[0]", "reader[1].keys"); m is nil when the file does not have it.
type table struct {
	path  string
	m     map[string]any
	asked []string // the keys the builder asked for: the table's known keys
}

// key is the path of key name in t.
func (t *table) key(name string) string {
	if t.path == "" {
		return name
	}
	return t.path + "." + name
}

// present reports whether the file has the table.
func (t *table) present() bool { return t.m != nil }

// value returns key name of t and records that the builder knows it.
func (b *builder) value(t *table, name string) (any, bool) {
	if !slices.Contains(t.asked, name) {
		t.asked = append(t.asked, name)
	}
	v, ok := t.m[name]
	return v, ok
}

// wrongType records that key holds v where the file must have want.
func (b *builder) wrongType(key, want string, v any) {
	if b.typed[key] {
		return
	}
	if b.typed == nil {
		b.typed = map[string]bool{}
	}
	b.typed[key] = true
	line := b.pos.lineOf(key)
	if line == 0 {
		line = b.pos.lineOf(key + "[0]") // [[key]] where [key] belongs
	}
	b.typeIssues = append(b.typeIssues, Issue{File: b.file, Line: line, Key: key,
		Rule: fmt.Sprintf("wrong type: must be %s, not %s", want, tomlType(v))})
}

// scalar returns key name of t, a T (want names its TOML type for the
// issue); nil when the file leaves it out or it has another type.
func scalar[T any](b *builder, t *table, name, want string) *T {
	v, ok := b.value(t, name)
	if !ok {
		return nil
	}
	x, ok := v.(T)
	if !ok {
		b.wrongType(t.key(name), want, v)
		return nil
	}
	return &x
}

// str returns string key name of t; nil when the file leaves it out.
func (b *builder) str(t *table, name string) *string { return scalar[string](b, t, name, "a string") }

// int returns integer key name of t; nil when the file leaves it out.
func (b *builder) int(t *table, name string) *int64 { return scalar[int64](b, t, name, "an integer") }

// flag returns boolean key name of t; nil when the file leaves it out.
func (b *builder) flag(t *table, name string) *bool {
	return scalar[bool](b, t, name, "a boolean (true or false)")
}

// strs returns the array of strings key name of t: nil when the file
// leaves it out, empty (not nil) for [].
func (b *builder) strs(t *table, name string) []string {
	v, ok := b.value(t, name)
	if !ok {
		return nil
	}
	a, ok := v.([]any)
	out := make([]string, 0, len(a))
	for _, e := range a {
		s, isStr := e.(string)
		if !isStr {
			ok = false
			break
		}
		out = append(out, s)
	}
	if !ok {
		b.wrongType(t.key(name), "an array of strings", v)
		return nil
	}
	return out
}

// sub returns the table key name of t (not present when the file leaves
// it out).
func (b *builder) sub(t *table, name string) *table {
	for _, s := range b.tables {
		if s.path == t.key(name) {
			return s // read before
		}
	}
	s := &table{path: t.key(name)}
	v, ok := b.value(t, name)
	if !ok {
		return s
	}
	m, ok := v.(map[string]any)
	if !ok {
		b.wrongType(s.path, "a table", v)
		return s
	}
	s.m = m
	b.tables = append(b.tables, s)
	return s
}

// subs returns the array of tables key name of t, each at its index
// ("door[0]", "door[1]"). A single table ([door] for [[door]]) is an
// array of one, as go-toml decodes it into a slice.
func (b *builder) subs(t *table, name string) []*table {
	v, ok := b.value(t, name)
	if !ok {
		return nil
	}
	if m, isTable := v.(map[string]any); isTable {
		v = []any{m}
	}
	a, isArray := v.([]any)
	for _, e := range a {
		if _, isTable := e.(map[string]any); !isTable {
			isArray = false
		}
	}
	if !isArray {
		b.wrongType(t.key(name), "an array of tables", v)
		return nil
	}
	out := make([]*table, len(a))
	for i, e := range a {
		out[i] = &table{path: idx(t.key(name), i), m: e.(map[string]any)}
		b.tables = append(b.tables, out[i])
	}
	return out
}

// unknownKeys records a type issue for every key of a table the builder
// did not ask for, in the table's key order.
func (b *builder) unknownKeys() {
	for _, t := range b.tables {
		keys := make([]string, 0, len(t.m))
		for k := range t.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if slices.Contains(t.asked, k) {
				continue
			}
			rule := "unknown key"
			if _, ok := t.m[k].(map[string]any); ok {
				rule = "unknown table"
			}
			key := t.key(k)
			b.typeIssues = append(b.typeIssues, Issue{File: b.file, Line: b.pos.lineOf(key), Key: key,
				Rule: rule + suggest.Hint(k, t.asked)})
		}
	}
}

// tomlType names the TOML type of a decoded value.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case time.Time:
		return "datetime"
	case toml.LocalDateTime:
		return "local datetime"
	case toml.LocalDate:
		return "local date"
	case toml.LocalTime:
		return "local time"
	case []any:
		for i, e := range v.([]any) {
			if _, ok := e.(string); !ok {
				return fmt.Sprintf("array (item %d is %s)", i+1, tomlType(e))
			}
		}
		return "array"
	default:
		return "table"
	}
}
