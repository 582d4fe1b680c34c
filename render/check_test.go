package render

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"egressprobe/probe"
	"egressprobe/report"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

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
		{"table_color_width100.golden", CheckOptions{Format: FormatTable, Color: true, Width: 100}},
		{"table_verbose.golden", CheckOptions{Format: FormatTable, Verbose: true}},
		{"table_width100.golden", CheckOptions{Format: FormatTable, Width: 100}},
		{"table_width60.golden", CheckOptions{Format: FormatTable, Width: 60}},
		{"table_verbose_width100.golden", CheckOptions{Format: FormatTable, Verbose: true, Width: 100}},
		{"check.json", CheckOptions{Format: FormatJSON}},
		{"check.jsonl", CheckOptions{Format: FormatJSONL}},
		{"check.csv", CheckOptions{Format: FormatCSV}},
		{"check.md", CheckOptions{Format: FormatMarkdown}},
		{"check.html", CheckOptions{Format: FormatHTML}},
		{"check_verbose.md", CheckOptions{Format: FormatMarkdown, Verbose: true}},
		{"check_verbose.html", CheckOptions{Format: FormatHTML, Verbose: true}},
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

// TestCheckGoldenOffline is what a new user sees on a server with no
// network: every endpoint failed at DNS, said once, plainly.
func TestCheckGoldenOffline(t *testing.T) {
	r := loadOfflineFixture(t)
	for file, opt := range map[string]CheckOptions{
		"offline_table.golden": {Width: 100},
		"offline.md":           {Format: FormatMarkdown},
	} {
		var out bytes.Buffer
		if err := Check(&out, r, opt); err != nil {
			t.Fatal(err)
		}
		golden(t, file, out.Bytes())
	}
}

// TestCheckFixtureConsistent: the fixtures' summaries count what their
// results say, as report.Build must.
func TestCheckFixtureConsistent(t *testing.T) {
	for name, load := range map[string]func(testing.TB) *report.Report{"check": loadCheckFixture, "offline": loadOfflineFixture} {
		t.Run(name, func(t *testing.T) { checkSummaryCounts(t, load(t)) })
	}
}

func checkSummaryCounts(t *testing.T, r *report.Report) {
	s := r.Summary
	ok, skipped, warned, soft := 0, 0, 0, 0
	byStatus := map[probe.Outcome]int{}
	perFamily := map[string][4]int{} // total, ok, skipped, soft-failed
	for _, res := range r.Results {
		byStatus[res.Status]++
		c := perFamily[res.Family]
		c[0]++
		if res.Status == "ok" {
			ok++
			c[1]++
		}
		if res.Status == probe.SkippedNoIPv6 {
			skipped++
			c[2]++
		}
		if len(res.Warnings) > 0 {
			warned++
		}
		// A failed result warned revocation_unreachable is a revocation
		// server's: soft-failed. (An ok one's chain could not be checked.)
		if res.Status != "ok" && slices.ContainsFunc(res.Warnings, func(w report.Warning) bool { return w.Code == report.WarnRevocationUnreachable }) {
			soft++
			c[3]++
		}
		perFamily[res.Family] = c
	}
	if s.Total != len(r.Results) || s.OK != ok || s.Skipped != skipped || s.Failed != len(r.Results)-ok-skipped-soft || s.SoftFailed != soft || s.Warnings != warned {
		t.Errorf("summary %+v does not count the %d results (%d ok, %d skipped, %d with warnings)", s, len(r.Results), ok, skipped, warned)
	}
	if !reflect.DeepEqual(s.ByStatus, byStatus) {
		t.Errorf("by_status %v, results say %v", s.ByStatus, byStatus)
	}
	for _, f := range s.Families {
		if c := perFamily[f.Family]; f.Total != c[0] || f.OK != c[1] || f.Skipped != c[2] || f.Failed != c[0]-c[1]-c[2]-c[3] || f.SoftFailed != c[3] {
			t.Errorf("family %s: summary %+v, results say %d total, %d ok, %d skipped", f.Family, f, c[0], c[1], c[2])
		}
	}
	if len(s.Families) != len(perFamily) {
		t.Errorf("summary lists %d families, results have %d", len(s.Families), len(perFamily))
	}
}

// BenchmarkCheck renders the fixture in each format; compare the formats
// with each other (the table renders several times to fit its width), not
// with absolute figures.
func BenchmarkCheck(b *testing.B) {
	r := loadCheckFixture(b)
	for _, tc := range goldenCases() {
		b.Run(tc.file, func(b *testing.B) {
			for b.Loop() {
				if err := Check(io.Discard, r, tc.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
