package targets

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// targets sits at the start of the data flow and imports nothing inside the
// module (ARCHITECTURE: targets → probe → report → render) but the leaf
// helpers that quote input in messages (internal/quote) and name clouds
// (internal/cloud).
func TestImportsNothingInModule(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p != "egressprobe/internal/quote" && p != "egressprobe/internal/cloud" && (p == "egressprobe" || strings.HasPrefix(p, "egressprobe/")) {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}
