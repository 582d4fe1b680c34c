package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"egressprobe/report"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// loadCheckFixture reads the hand-made report. It is decoded leniently, as any
// consumer of the JSON contract would: the fixture plants "password" and
// "secret" fields that no format may print.
func loadCheckFixture(t testing.TB) *report.Report {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "check", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("testdata/check/report.json: %v", err)
	}
	return &r
}

// golden compares got with testdata/check/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "check", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./render -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test ./render -update if the change is intended)\n--- got:\n%s\n--- want:\n%s",
			path, got, want)
	}
}

// goldenCases is every format of the fixture report, and the table with
// colour, with -v and at terminal widths.
func goldenCases() []struct {
	file string
	opt  CheckOptions
} {
	return []struct {
		file string
		opt  CheckOptions
	}{
		{"table.golden", CheckOptions{Format: FormatTable}},
		{"table_color.golden", CheckOptions{Format: FormatTable, Color: true}},
		{"table_verbose.golden", CheckOptions{Format: FormatTable, Verbose: true}},
		{"table_width100.golden", CheckOptions{Format: FormatTable, Width: 100}},
		{"table_width60.golden", CheckOptions{Format: FormatTable, Width: 60}},
		{"check.json", CheckOptions{Format: FormatJSON}},
		{"check.jsonl", CheckOptions{Format: FormatJSONL}},
		{"check.csv", CheckOptions{Format: FormatCSV}},
		{"check.md", CheckOptions{Format: FormatMarkdown}},
		{"check.html", CheckOptions{Format: FormatHTML}},
	}
}

func TestCheckGolden(t *testing.T) {
	r := loadCheckFixture(t)
	for _, tc := range goldenCases() {
		t.Run(tc.file, func(t *testing.T) {
			var out bytes.Buffer
			if err := Check(&out, r, tc.opt); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, out.Bytes())
		})
	}
}
