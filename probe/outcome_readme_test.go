package probe

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestOutcomesInREADME: every outcome spelled in outcome.go is in the
// README's outcome table (a row naming it in backticks): the vocabulary is
// a contract scripts read there.
func TestOutcomesInREADME(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "### Outcome vocabulary")
	if !ok {
		t.Fatal(`README.md has no "### Outcome vocabulary" section`)
	}
	table, _, _ = strings.Cut(table, "\n### ")
	f, err := parser.ParseFile(token.NewFileSet(), "outcome.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok || vs.Type == nil {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Outcome" {
			return true
		}
		for _, v := range vs.Values {
			lit, ok := v.(*ast.BasicLit)
			if !ok {
				continue
			}
			s, _ := strconv.Unquote(lit.Value)
			n++
			if !strings.Contains(table, "`"+s+"`") {
				t.Errorf("outcome %q is not in the README's outcome table", s)
			}
		}
		return true
	})
	if n < 30 {
		t.Fatalf("read %d outcomes from outcome.go: the parse missed them", n)
	}
}
