package render

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"

	"egressprobe/probe"
	"egressprobe/report"
)

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
		// A certificate names its URLs: the server's text, like its answers.
		TrustPathSettings: &report.TrustPathSettings{Mode: report.TrustPathCheck, URLTimeoutMS: 15000, RevocationTimeoutMS: 20000},
		TrustPath: []report.TrustURL{{URL: "http://ca.example/\x1b[2J<script>", Kind: "crl", UsedBy: []string{"<script>alert(1)</script>"},
			Path: "direct", Status: "crl_bad_response", Severity: report.SeverityWarning, Error: "list from \x1b[31mevil\r\n<b>bold</b>"}},
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
	// Every table row has as many cell borders as its table's header: no
	// pipe leaked out of a cell.
	borders := func(line string) int { return strings.Count(line, "|") - strings.Count(line, `\|`) }
	var header int
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "| ") {
			header = 0 // a new table starts after any other line
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
