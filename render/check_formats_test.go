package render

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"egressprobe/report"
)

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Format
		wantErr string
	}{
		{"table", FormatTable, ""},
		{"json", FormatJSON, ""},
		{"jsonl", FormatJSONL, ""},
		{"csv", FormatCSV, ""},
		{"markdown", FormatMarkdown, ""},
		{"html", FormatHTML, ""},
		{" JSON ", FormatJSON, ""},
		{"xml", "", `unknown output format "xml"; use one of table, json, jsonl, csv, markdown, html`},
		{"", "", `unknown output format ""; use one of table, json, jsonl, csv, markdown, html`},
		{"jsn", "", `unknown output format "jsn"; did you mean json?`},
	} {
		got, err := ParseFormat(tc.in)
		switch {
		case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
			t.Errorf("ParseFormat(%q) error %v, want %q", tc.in, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCheckRejectsBadInput(t *testing.T) {
	var out bytes.Buffer
	if err := Check(&out, loadCheckFixture(t), CheckOptions{Format: "yaml"}); err == nil || !strings.Contains(err.Error(), `"yaml"`) {
		t.Errorf("format yaml: error %v, want one naming the value", err)
	}
	if err := Check(&out, nil, CheckOptions{}); err == nil {
		t.Error("nil report: no error")
	}
	if out.Len() != 0 {
		t.Errorf("wrote %q on bad input", out.String())
	}
}

// failingWriter fails every write, as a closed pipe or a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestCheckReportsWriteErrors(t *testing.T) {
	r := loadCheckFixture(t)
	for _, f := range Formats() {
		err := Check(failingWriter{}, r, CheckOptions{Format: f})
		if !errors.Is(err, os.ErrClosed) || !strings.Contains(err.Error(), string(f)) {
			t.Errorf("%s to a failing writer: error %v, want one wrapping os.ErrClosed and naming the format", f, err)
		}
	}
}

func TestCheckJSONRoundTrips(t *testing.T) {
	r := loadCheckFixture(t)
	var out bytes.Buffer
	if err := Check(&out, r, CheckOptions{Format: FormatJSON}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "{\n  \"schema_version\": 1,\n") {
		t.Errorf("JSON does not open with schema_version: %.60q", out.String())
	}
	var back report.Report
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Error("JSON output decodes to a different report")
	}
}

func TestCheckJSONLOneResultALine(t *testing.T) {
	r := loadCheckFixture(t)
	var out bytes.Buffer
	if err := Check(&out, r, CheckOptions{Format: FormatJSONL}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(r.Results) {
		t.Fatalf("%d lines for %d results", len(lines), len(r.Results))
	}
	for i, line := range lines {
		var res report.Result
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&res); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if !reflect.DeepEqual(res, r.Results[i]) {
			t.Errorf("line %d decodes to %+v, want %+v", i+1, res, r.Results[i])
		}
	}
}

func TestCheckCSV(t *testing.T) {
	r := loadCheckFixture(t)
	var out bytes.Buffer
	if err := Check(&out, r, CheckOptions{Format: FormatCSV}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows[0], CSVHeader()) {
		t.Errorf("header %v, want %v", rows[0], CSVHeader())
	}
	if len(rows)-1 != len(r.Results) {
		t.Fatalf("%d rows for %d results", len(rows)-1, len(r.Results))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	cell := func(row int, name string) string { return rows[row+1][col[name]] }
	for i, res := range r.Results {
		if cell(i, "host") != res.Host || cell(i, "status") != string(res.Status) {
			t.Errorf("row %d: host %q status %q, want %q %q", i+1, cell(i, "host"), cell(i, "status"), res.Host, res.Status)
		}
		if res.IP == nil && cell(i, "ip") != "" || res.IP != nil && cell(i, "ip") != *res.IP {
			t.Errorf("row %d: ip %q, want %v", i+1, cell(i, "ip"), res.IP)
		}
		if res.TLS == nil && cell(i, "tls_verified") != "" {
			t.Errorf("row %d: tls_verified %q without a handshake", i+1, cell(i, "tls_verified"))
		}
		if res.ExpectedTagsOK == nil && cell(i, "expected_tags_ok") != "" {
			t.Errorf("row %d: expected_tags_ok %q when not judged", i+1, cell(i, "expected_tags_ok"))
		}
	}
	// Spot checks on the fixture's rows.
	if got := cell(4, "service_tags"); got != "AzureBackup.WestEurope;AzureBackup;AzureCloud" {
		t.Errorf("row 5 service_tags %q", got)
	}
	if got := cell(7, "warnings"); got != "tag_mismatch" {
		t.Errorf("row 8 warnings %q", got)
	}
	if got := cell(6, "proxy_connect_status"); got != "403" {
		t.Errorf("row 7 proxy_connect_status %q", got)
	}
}

func TestCSVTextDefusesFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"+1":                "'+1",
		"-1":                "'-1",
		"@SUM(A1)":          "'@SUM(A1)",
		"login.example":     "login.example",
		"":                  "",
	} {
		if got := csvText(in); got != want {
			t.Errorf("csvText(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseFormat(f *testing.F) {
	for _, s := range []string{"table", "JSON", " csv", "xml", "", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFormat(s)
		if err != nil {
			if got != "" || !strings.Contains(err.Error(), "use one of") {
				t.Fatalf("ParseFormat(%q) = %q, %v", s, got, err)
			}
			return
		}
		if again, err := ParseFormat(string(got)); err != nil || again != got {
			t.Fatalf("ParseFormat(%q) = %q does not parse back: %q, %v", s, got, again, err)
		}
	})
}
