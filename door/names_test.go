package door

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestNamesListed: every name constant of names.go is in its list (Events,
// Methods, Reasons, Causes, Results, LostReasons), once, so that what
// ranges over the lists (the metrics, the console formatter) knows every
// name the door writes.
func TestNamesListed(t *testing.T) {
	lists := map[string][]string{
		"Ev": Events(), "Method": Methods(), "Reason": Reasons(), "Cause": Causes(),
		"Result": Results(), "Lost": LostReasons(), "Drop": DropReasons(),
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "names.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				prefix := ""
				for p := range lists {
					if strings.HasPrefix(name.Name, p) && len(p) > len(prefix) {
						prefix = p
					}
				}
				if prefix == "" || !name.IsExported() {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s: not a string literal", name.Name)
				}
				v := constant.StringVal(constant.MakeFromLiteral(lit.Value, lit.Kind, 0))
				if !slices.Contains(lists[prefix], v) {
					t.Errorf("%s = %s is missing from its list %v", name.Name, strconv.Quote(v), lists[prefix])
				}
				seen[prefix]++
			}
		}
	}
	for p, l := range lists {
		if seen[p] != len(l) || len(slices.Compact(slices.Sorted(slices.Values(l)))) != len(l) {
			t.Errorf("list %s has %d names, names.go declares %d (or one is listed twice)", p, len(l), seen[p])
		}
	}
	// The lists are copies: a caller cannot change the door's.
	Reasons()[0] = "changed"
	if Reasons()[0] != ReasonBadRead {
		t.Error("Reasons returns the door's own slice")
	}
}
