package config

import (
	"reflect"
	"strings"

	"github.com/latchd/latch/internal/suggest"
)

// keysAt lists the keys the file may have in the table at path (the raw
// structs' toml names: the raw structs are the one list of keys), or nil
// when path does not name a table.
func keysAt(path []string) []string {
	t := reflect.TypeOf(rawFile{})
	for _, name := range path {
		f, ok := fieldByTag(t, name)
		if !ok {
			return nil
		}
		t = f.Type
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
	}
	var out []string
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); tag == name {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

// unknownKeyRule is the rule of an unknown key or table at path, with the
// known keys close to its name.
func unknownKeyRule(rule string, path []string) string {
	if len(path) == 0 {
		return rule
	}
	return rule + suggest.Hint(path[len(path)-1], keysAt(path[:len(path)-1]))
}
