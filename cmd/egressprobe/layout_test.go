package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
