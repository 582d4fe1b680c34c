package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"egressprobe/internal/testenv"
)

// quotePkg is the leaf helper every package may use to quote input in messages.
const quotePkg = "egressprobe/internal/quote"

// allowedImports is the README's layout as a rule: which packages of the
// module each package may import (tests excluded). Data flows one way,
// targets → probe → report → render; plan turns options into probe targets and
// joins the observations into a report; only cmd imports render; nothing
// imports cmd; internal/testnet, internal/testenv and internal/realnet are
// for _test.go files only; internal/cloud, the registry of cloud names, is a
// leaf that targets and servicetags share.
var allowedImports = map[string][]string{
	"egressprobe/internal/cloud":     {quotePkg},
	"egressprobe/targets":            {"egressprobe/internal/cloud", quotePkg},
	"egressprobe/proxy":              {quotePkg},
	"egressprobe/servicetags":        {"egressprobe/internal/cloud", quotePkg},
	"egressprobe/internal/testnet":   {"egressprobe/internal/testenv"},
	"egressprobe/internal/testenv":   {},
	"egressprobe/internal/realnet":   {"egressprobe/internal/testnet"},
	"egressprobe/internal/providers": {},
	"egressprobe/internal/quote":     {},
	"egressprobe/probe":              {"egressprobe/proxy", quotePkg},
	"egressprobe/report":             {"egressprobe/probe", "egressprobe/targets", quotePkg},
	"egressprobe/render":             {"egressprobe/probe", "egressprobe/report", "egressprobe/servicetags", "egressprobe/targets", quotePkg},
	"egressprobe/plan": {"egressprobe/internal/providers", "egressprobe/probe", "egressprobe/proxy",
		"egressprobe/report", "egressprobe/servicetags", "egressprobe/targets", quotePkg},
	"egressprobe/daemon": {"egressprobe/plan", "egressprobe/probe", "egressprobe/proxy", "egressprobe/report",
		"egressprobe/servicetags", quotePkg},
	"egressprobe/cmd/egressprobe": {"egressprobe/daemon", "egressprobe/plan", "egressprobe/probe", "egressprobe/proxy",
		"egressprobe/render", "egressprobe/report", "egressprobe/servicetags", "egressprobe/targets", quotePkg},
}

// TestPackageLayout holds every package to allowedImports, and the README's
// layout table to `go list`: a row for every package, and every row a package
// or a folder that exists.
func TestPackageLayout(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "egressprobe/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	rows := readmeLayoutRows(t)
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		dir := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, "egressprobe"), "/") + "/"
		if !rows[dir] {
			t.Errorf("package %s has no row in the README's layout table (| `%s` | ... |)", p.ImportPath, dir)
		}
		delete(rows, dir)
		allowed, known := allowedImports[p.ImportPath]
		if !known {
			t.Errorf("package %s is not in the layout: add it to the README's table and to allowedImports", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "egressprobe/") && !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s, against the layout (allowed: %v)", p.ImportPath, imp, allowed)
			}
		}
	}
	for dir := range rows {
		if fi, err := os.Stat(filepath.Join("..", "..", dir)); err != nil || !fi.IsDir() {
			t.Errorf("the README's layout table names %s, which is neither a package nor a folder of the repository", dir)
		}
	}
}

// readmeLayoutRows are the folders the README's layout table names, as
// "plan/" or ".ci/".
func readmeLayoutRows(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no '## Layout' section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]bool{}
	for line := range strings.SplitSeq(section, "\n") {
		if cell, ok := strings.CutPrefix(line, "| `"); ok {
			if dir, _, ok := strings.Cut(cell, "` |"); ok && strings.HasSuffix(dir, "/") {
				rows[dir] = true
			}
		}
	}
	if len(rows) == 0 {
		t.Fatal("README.md's layout section has no table rows")
	}
	return rows
}

// The size standard (issue 12): a Go file of more than maxFileLines lines is
// split by concern; a function of more than maxFuncLines lines is split into
// named steps, or its doc comment says why it is long ("long because", e.g.
// a scenario table with a row per outcome).
const (
	maxFileLines = 500
	maxFuncLines = 80
	longReason   = "long because"
)

// TestCodeSize holds every Go file of the repository (testdata and hidden
// folders aside, .ci included) to the size standard.
func TestCodeSize(t *testing.T) {
	problems, err := sizeProblems(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestCodeSizeCatches: the check finds a file and a function over the limits
// and accepts a long function whose doc comment says why.
func TestCodeSizeCatches(t *testing.T) {
	dir := testenv.TempDir(t)
	atLimit := strings.Repeat("\t_ = 0\n", maxFuncLines-2) // with its two braces' lines: maxFuncLines
	over := atLimit + "\t_ = 1\n"
	src := "package x\n\nfunc short() {}\n\nfunc atLimit() {\n" + atLimit + "}\n\n" +
		"// reasoned is a table; it is long because the table is.\nfunc reasoned() {\n" + over + "}\n\n" +
		"func tooLong() {\n" + over + "}\n"
	big := "package x\n" + strings.Repeat("\n", maxFileLines)
	for name, text := range map[string]string{"funcs.go": src, "big.go": big} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	problems, err := sizeProblems(dir)
	if err != nil {
		t.Fatal(err)
	}
	tooLong := strings.Count(src[:strings.Index(src, "func tooLong")], "\n") + 1
	want := []string{
		fmt.Sprintf("big.go: %d lines, more than %d: split it by concern", maxFileLines+1, maxFileLines),
		fmt.Sprintf("funcs.go:%d: tooLong is %d lines, more than %d: split it into named steps, or say why in its doc comment (%q)", tooLong, maxFuncLines+1, maxFuncLines, longReason),
	}
	if !slices.Equal(problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}

// sizeProblems lists, a line each, the Go files below root over
// maxFileLines and their functions over maxFuncLines without a reason.
func sizeProblems(root string) ([]string, error) {
	var problems []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") && name != ".ci") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if ast.IsGenerated(f) {
			return nil
		}
		if n := bytes.Count(src, []byte("\n")); n > maxFileLines {
			problems = append(problems, fmt.Sprintf("%s: %d lines, more than %d: split it by concern", rel, n, maxFileLines))
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			start := fset.Position(fn.Pos()).Line
			n := fset.Position(fn.End()).Line - start + 1
			if n > maxFuncLines && !strings.Contains(strings.ToLower(fn.Doc.Text()), longReason) {
				problems = append(problems, fmt.Sprintf("%s:%d: %s is %d lines, more than %d: split it into named steps, or say why in its doc comment (%q)",
					rel, start, fn.Name.Name, n, maxFuncLines, longReason))
			}
		}
		return nil
	})
	return problems, err
}
