package render

import (
	"bytes"
	"encoding/json"
	"testing"

	"egressprobe/report"
)

// checkJSON streams the results into the envelope; what it writes must be
// byte for byte what encoding/json writes for the whole report, whatever the
// results hold (none, nil, one, many; text that looks like the results key).
func TestCheckJSONStreamsTheWholeReport(t *testing.T) {
	fixture := loadCheckFixture(t)
	trap := hostileReport()
	trap.Results[0].Error = "\n  \"results\": null, \"results\": [\n  ]"
	trap.Results = append(trap.Results, trap.Results[0], fixture.Results[0])
	cases := map[string]*report.Report{
		"fixture":       fixture,
		"nil results":   {SchemaVersion: 1, Cloud: "public"},
		"empty results": {SchemaVersion: 1, Cloud: "public", Results: []report.Result{}},
		"one result":    {SchemaVersion: 1, Results: fixture.Results[:1]},
		"trap":          trap,
	}
	for name, r := range cases {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := checkJSON(&got, r); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: streamed JSON differs from the whole report's:\n%s\nwant:\n%s", name, got.Bytes(), want.Bytes())
		}
	}
}
