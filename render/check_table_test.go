package render

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"egressprobe/probe"
	"egressprobe/report"
)

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
