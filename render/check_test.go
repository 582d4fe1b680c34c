package render

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

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
	ok, skipped, warned := 0, 0, 0
	byStatus := map[probe.Outcome]int{}
	perFamily := map[string][3]int{} // total, ok, skipped
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
		perFamily[res.Family] = c
	}
	if s.Total != len(r.Results) || s.OK != ok || s.Skipped != skipped || s.Failed != len(r.Results)-ok-skipped || s.Warnings != warned {
		t.Errorf("summary %+v does not count the %d results (%d ok, %d skipped, %d with warnings)", s, len(r.Results), ok, skipped, warned)
	}
	if !reflect.DeepEqual(s.ByStatus, byStatus) {
		t.Errorf("by_status %v, results say %v", s.ByStatus, byStatus)
	}
	for _, f := range s.Families {
		if c := perFamily[f.Family]; f.Total != c[0] || f.OK != c[1] || f.Skipped != c[2] || f.Failed != c[0]-c[1]-c[2] {
			t.Errorf("family %s: summary %+v, results say %d total, %d ok, %d skipped", f.Family, f, c[0], c[1], c[2])
		}
	}
	if len(s.Families) != len(perFamily) {
		t.Errorf("summary lists %d families, results have %d", len(s.Families), len(perFamily))
	}
}

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

// TestCheckPrintsNoSecrets: the fixture plants "password" and "secret"
// fields (beside the already redacted proxy URL); render works from the
// typed report, so none may surface in any format.
func TestCheckPrintsNoSecrets(t *testing.T) {
	r := loadCheckFixture(t)
	for _, tc := range goldenCases() {
		var out bytes.Buffer
		if err := Check(&out, r, tc.opt); err != nil {
			t.Fatal(err)
		}
		s := strings.ToLower(out.String())
		for _, bad := range []string{"planted-", "pr0xypa55word", "s3cret", `"password"`, `"secret"`, "password=", "secret="} {
			if strings.Contains(s, bad) {
				t.Errorf("%s prints %q", tc.file, bad)
			}
		}
		if tc.opt.Format != FormatJSONL && tc.opt.Format != FormatCSV && !strings.Contains(s, "svc-backup:xxxxx@") {
			t.Errorf("%s does not show the redacted proxy URL", tc.file)
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

// hostileReport is a report whose names and answers try to become markup or
// terminal escapes.
func hostileReport() *report.Report {
	ip := "192.0.2.1"
	return &report.Report{
		SchemaVersion: 1,
		Cloud:         "public",
		Resolvers:     []string{"system"},
		Results: []report.Result{{
			Host:     "<script>alert(1)</script>",
			Port:     443,
			Family:   "*.x|y",
			IP:       &ip,
			Path:     "direct",
			Resolver: "system",
			Status:   "tls_untrusted",
			Error:    "bad cert from \x1b[2J\x1b[31mevil\r\n<b>bold</b> [link](http://x) `code`",
			Warnings: []report.Warning{{Code: "tag_mismatch", Message: "<img src=x onerror=alert(1)>"}},
		}},
		Summary: report.Summary{Total: 1, Failed: 1, Families: []report.FamilySummary{{Family: "*.x|y", Total: 1, Failed: 1}}},
		Open:    []report.Action{{Hop: "firewall", Change: "allow <script>", Hosts: []string{"<script>alert(1)</script>"}}},
	}
}

func TestCheckEscapesHostileText(t *testing.T) {
	r := hostileReport()
	render := func(f Format) string {
		var out bytes.Buffer
		if err := Check(&out, r, CheckOptions{Format: f}); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}

	html := render(FormatHTML)
	for _, bad := range []string{"<script>", "<img", "<b>"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML contains raw %q", bad)
		}
	}
	if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("HTML does not show the escaped host")
	}

	// Markdown: code spans show their text literally; elsewhere every
	// markup character must carry its backslash.
	md := render(FormatMarkdown)
	outside := regexp.MustCompile("`[^`]*`").ReplaceAllString(md, "")
	for _, bad := range []string{"<script>", "<img", "<b>", "[link](", "](http", "*.x"} {
		if regexp.MustCompile(`(^|[^\\])` + regexp.QuoteMeta(bad)).MatchString(outside) {
			t.Errorf("Markdown contains unescaped %q outside code spans", bad)
		}
	}
	// Every table row has as many cell borders as the header: no pipe leaked
	// out of a cell.
	borders := func(line string) int { return strings.Count(line, "|") - strings.Count(line, `\|`) }
	var header int
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		if header == 0 {
			header = borders(line)
		}
		if n := borders(line); n != header {
			t.Errorf("Markdown row with %d cell borders, header has %d: %q", n, header, line)
		}
	}

	for _, f := range []Format{FormatTable, FormatMarkdown, FormatHTML} {
		if out := render(f); strings.ContainsAny(out, "\x1b\r") {
			t.Errorf("%s output carries a control character from the report: %q", f, out)
		}
	}
}

func TestCheckTableColumnsAndColour(t *testing.T) {
	r := loadCheckFixture(t)
	var plain, colour bytes.Buffer
	if err := Check(&plain, r, CheckOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Check(&colour, r, CheckOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Error("escape codes without Color")
	}
	for _, want := range []string{ansiGreen + "ok" + ansiReset, ansiRed + "tcp_timeout" + ansiReset, ansiYellow + "! tag_mismatch"} {
		if !strings.Contains(colour.String(), want) {
			t.Errorf("Color output lacks %q", want)
		}
	}
	if !strings.Contains(plain.String(), "RESOLVER") {
		t.Error("two resolvers but no RESOLVER column")
	}

	// One resolver: the column goes.
	one := loadCheckFixture(t)
	var kept []report.Result
	for _, res := range one.Results {
		if res.Resolver == "system" {
			kept = append(kept, res)
		}
	}
	one.Results = kept
	var out bytes.Buffer
	if err := Check(&out, one, CheckOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "RESOLVER") {
		t.Error("a RESOLVER column with a single resolver")
	}
}

// TestCheckTableFitsWidth: at 100 columns, the README's promise, every line
// fits; and the span lines never widen the columns (the rule is as wide as
// the widest table line).
func TestCheckTableFitsWidth(t *testing.T) {
	r := loadCheckFixture(t)
	for _, opt := range []CheckOptions{{Width: 100}, {Width: 120}, {Width: 140}, {Width: 100, Verbose: true}} {
		width := opt.Width
		var out bytes.Buffer
		if err := Check(&out, r, opt); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(out.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > width {
				t.Errorf("width %d: line of %d columns: %q", width, n, line)
			}
		}
	}
}

// TestCheckAllFailedTheSameWay: the report's verdict that every result
// failed the same way (report.SummaryVerdict) is said once in every format
// for people, as the JSON carries it.
func TestCheckAllFailedTheSameWay(t *testing.T) {
	r := &report.Report{SchemaVersion: 1, Cloud: "public", Resolvers: []string{"system"}}
	for _, host := range []string{"login.microsoftonline.com", "pod01-prot1.we.backup.windowsazure.com", "www.msftconnecttest.com"} {
		r.Results = append(r.Results, report.Result{
			Host: host, Port: 443, Family: "f", Path: "direct", Resolver: "system",
			Status: "dns_timeout", Error: "no DNS answer from 127.0.0.53:53 for " + host + " within 3s",
		})
	}
	r.Summary = report.Summary{Total: 3, Failed: 3, ByStatus: map[probe.Outcome]int{"dns_timeout": 3}, Verdict: report.SummaryVerdict(r.Results)}
	want := "Every result failed the same way (dns_timeout): this server gets no usable DNS answers"
	for _, f := range []Format{FormatTable, FormatMarkdown, FormatHTML} {
		var out bytes.Buffer
		if err := Check(&out, r, CheckOptions{Format: f}); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out.String(), want); n != 1 {
			t.Errorf("%s says %d times %q:\n%s", f, n, want, out.String())
		}
	}

	// No verdict: no such line.
	r.Summary.Verdict = ""
	var out bytes.Buffer
	if err := Check(&out, r, CheckOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "Every result failed") {
		t.Error("'every result failed the same way' without the report's verdict")
	}
}

func TestCheckEmptyAndAllOK(t *testing.T) {
	empty := &report.Report{SchemaVersion: 1}
	for _, f := range Formats() {
		var out bytes.Buffer
		if err := Check(&out, empty, CheckOptions{Format: f}); err != nil {
			t.Errorf("%s of an empty report: %v", f, err)
		}
	}
	var out bytes.Buffer
	if err := Check(&out, empty, CheckOptions{}); err != nil || !strings.Contains(out.String(), "No results") {
		t.Errorf("empty report table: %v\n%s", err, out.String())
	}

	ip := "192.0.2.7"
	allOK := &report.Report{
		SchemaVersion: 1, Cloud: "public",
		Results: []report.Result{{Host: "h.example", Port: 443, Family: "f", IP: &ip, Path: "direct", Resolver: "system", Status: "ok"}},
		Summary: report.Summary{Total: 1, OK: 1},
	}
	out.Reset()
	if err := Check(&out, allOK, CheckOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Nothing to open: every result is ok.") || strings.Contains(out.String(), "What to open") {
		t.Errorf("all-ok table:\n%s", out.String())
	}

	// An expected NXDOMAIN for a vault without a private endpoint is counted
	// apart and asks for nothing.
	allOK.Results = append(allOK.Results, report.Result{Host: "42-ab-pod01-fc1.privatelink.we.backup.windowsazure.com", Family: "f",
		Path: "direct", Resolver: "system", Status: "privatelink_absent", Error: "expected (dns_nxdomain via system): ..."})
	allOK.Summary = report.Summary{Total: 2, OK: 1, Info: 1, Families: []report.FamilySummary{{Family: "f", Total: 2, OK: 1, Info: 1}}}
	out.Reset()
	if err := Check(&out, allOK, CheckOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 results: 1 ok, 0 failed, 1 informational", "every result is ok or informational", ansiGreen + "privatelink_absent"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCheckNotSkewedAndNoFeed(t *testing.T) {
	r := loadCheckFixture(t)
	r.Clock = &report.Clock{SkewSeconds: 12, Source: "x", Skewed: false}
	r.ServiceTags = report.ServiceTagsInfo{Note: "no cached feed for the public cloud; run: egressprobe servicetags update --cloud public"}
	var out bytes.Buffer
	if err := Check(&out, r, CheckOptions{}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Contains(s, "the Date header of") {
		t.Error("a clock line for a clock within 5 minutes")
	}
	if !strings.Contains(s, "Service tags: not checked: no cached feed for the public cloud; run: egressprobe servicetags update --cloud public") {
		t.Errorf("no 'not checked' service-tags line:\n%s", s)
	}
}

func TestDisplayHelpers(t *testing.T) {
	for dn, want := range map[string]string{
		"CN=Microsoft Azure RSA TLS Issuing CA 07,O=Microsoft Corporation,C=US": "Microsoft Azure RSA TLS Issuing CA 07",
		`O=Contoso\, Ltd,CN=Contoso\, Inspection`:                               "Contoso, Inspection",
		"O=No Common Name": "O=No Common Name",
		"":                 "",
	} {
		if got := commonName(dn); got != want {
			t.Errorf("commonName(%q) = %q, want %q", dn, got, want)
		}
	}
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"connect to 20.38.1.2:443: no answer within 5s", 30, "connect to 20.38.1.2:443..."},
		{"averyveryverylongwordwithoutspaces", 12, "averyvery..."},
		{"é€ü and more text here", 8, "é€ü a..."},
	} {
		if got := shorten(tc.in, tc.max); got != tc.want || utf8.RuneCountInString(got) > tc.max {
			t.Errorf("shorten(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
	for _, tc := range []struct {
		tls  *report.TLS
		want string
	}{
		{&report.TLS{Version: "TLS 1.3", Issuer: "CN=Issuer,O=x"}, "TLS 1.3, Issuer"},
		{&report.TLS{Issuer: "CN=Issuer"}, "Issuer"},
		{&report.TLS{Version: "TLS 1.2"}, "TLS 1.2"},
		{&report.TLS{}, "-"},
	} {
		if got := detail(&report.Result{Status: "ok", TLS: tc.tls}); got != tc.want {
			t.Errorf("detail of ok with %+v = %q, want %q", tc.tls, got, tc.want)
		}
	}
	if got := printable("a\x1b[2Jb\nc\xffd"); got != "a?[2Jb?c?d" {
		t.Errorf("printable: %q", got)
	}
}

// FuzzCheck renders whatever report JSON decodes to, in every format: no
// panic on odd reports (nil sections, empty names, huge numbers), and no
// error writing to memory.
func FuzzCheck(f *testing.F) {
	if data, err := json.Marshal(loadCheckFixture(f)); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{"results":[{"host":"","ip":null,"tls":{},"http":{},"proxy_connect":{},"service_tags":[{"tag":""}],"expected_tags_ok":false}]}`))
	f.Add([]byte(`{"clock":{"skew_seconds":1e300,"skewed":true},"what_to_open":[{"hop":"","hosts":[""]}],"wildcards":[{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r report.Report
		if json.Unmarshal(data, &r) != nil {
			return
		}
		for _, tc := range goldenCases() {
			if err := Check(io.Discard, &r, tc.opt); err != nil {
				t.Fatalf("%s: %v", tc.file, err)
			}
		}
	})
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

// FuzzCheckFields plants arbitrary names, errors, tags and warnings in the
// fixture and renders the table at arbitrary widths: raw JSON mutations
// rarely decode to a report, these always do. No format may panic or fail,
// and the table must stay free of control characters.
func FuzzCheckFields(f *testing.F) {
	f.Add("login.microsoftonline.com", "connect: no answer", "AzureCloud", "tag_mismatch: x", "tcp_timeout", 100)
	f.Add("<script>", "\x1b[2J\r\n", "", "", "", 1)
	f.Add("", "", "a b c d e f g h", "! ! !", "ok", -5)
	f.Add("a.very.long.host.name.that.goes.on.and.on.example.com", "é€ü", "Storage.WestEurope", "w", "ok", 30)
	r := loadCheckFixture(f)
	f.Fuzz(func(t *testing.T, host, errText, tag, warning, status string, width int) {
		rr := *r
		rr.Results = append([]report.Result(nil), r.Results...)
		res := &rr.Results[len(rr.Results)/2]
		res.Host, res.Error, res.Status = host, errText, probe.Outcome(status)
		res.ServiceTags = []report.TagMatch{{Tag: tag}}
		res.Warnings = []report.Warning{{Code: "w", Message: warning}}
		rr.Open = append([]report.Action{{Hop: "firewall", Change: errText, Hosts: []string{host}}}, r.Open...)
		width %= 300
		for _, f := range Formats() {
			var out bytes.Buffer
			if err := Check(&out, &rr, CheckOptions{Format: f, Width: width, Verbose: width%2 == 0}); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if f == FormatTable && strings.ContainsFunc(out.String(), func(r rune) bool { return r != '\n' && isControl(r) }) {
				t.Fatalf("table at width %d carries a control character:\n%q", width, out.String())
			}
		}
	})
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
