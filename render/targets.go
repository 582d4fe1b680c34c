package render

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"

	"egressprobe/internal/quote"
	"egressprobe/targets"
)

// TargetsListing is what `egressprobe targets list` shows: a cloud's catalog
// as Catalog expanded it, and the families left without a member to probe.
type TargetsListing struct {
	Cloud     string
	Region    string // display name of the chosen region, "" when none
	Geo       string // its Azure Backup geo code, "" when none or undocumented
	Pods      bool   // the region's public Backup pods are in Endpoints
	Endpoints []targets.Endpoint
	Uncovered []targets.Family
}

// TargetsFormats are the -o values of `targets list`.
func TargetsFormats() []string { return []string{"table", "json", "csv"} }

// Targets writes l to w as a table (format "" or "table"), JSON or CSV.
func Targets(w io.Writer, l TargetsListing, format string) error {
	var err error
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "", "table":
		err = targetsTable(w, l)
	case "json":
		err = targetsJSON(w, l)
	case "csv":
		err = targetsCSV(w, l)
	default:
		return fmt.Errorf("unknown output format %s for targets list: use one of %s", quote.Q(format), strings.Join(TargetsFormats(), ", "))
	}
	if err != nil {
		return fmt.Errorf("render targets list: %w", err)
	}
	return nil
}

// targetsTable groups rows by family (the family named on its first row) and
// puts each documentation URL once, as a numbered note under the table, so the
// rows stay narrow enough for an 80-column console.
func targetsTable(w io.Writer, l TargetsListing) error {
	var b strings.Builder
	b.WriteString(targetsTitle(l) + "\n\n")

	notes := map[string]int{}
	var noteList []string
	cite := func(doc string) string {
		if doc == "" {
			return ""
		}
		n, ok := notes[doc]
		if !ok {
			noteList = append(noteList, doc)
			n = len(noteList)
			notes[doc] = n
		}
		return "[" + strconv.Itoa(n) + "]"
	}

	t := table.NewWriter()
	t.SetStyle(table.StyleLight)
	t.SetColumnConfigs([]table.ColumnConfig{{Number: 2, WidthMax: expectWidth, WidthMaxEnforcer: text.WrapSoft}})
	t.AppendHeader(table.Row{"FAMILY / ENDPOINT", "EXPECTED", "ROLE", "SOURCE"})
	prev := ""
	for i, e := range l.Endpoints {
		if i == 0 || e.Family != prev {
			if i > 0 {
				t.AppendSeparator()
			}
			t.AppendRow(table.Row{e.Family})
			prev = e.Family
		}
		t.AppendRow(table.Row{"  " + e.URL(), targetExpect(e), e.Role, strings.TrimSpace(targetSource(e) + " " + cite(e.Doc))})
	}
	b.WriteString(t.Render() + "\n")

	if len(l.Uncovered) > 0 {
		b.WriteString("\nFamilies with no member to probe (name one with --member HOST, --storage-account NAME or --region):\n")
		for _, f := range l.Uncovered {
			fmt.Fprintf(&b, "  %-32s %s\n", f.Pattern, strings.TrimSpace(strings.Join(f.Tags, ", ")+" "+cite(f.Doc)))
		}
	}
	if len(noteList) > 0 {
		b.WriteString("\nSources:\n")
		for i, d := range noteList {
			fmt.Fprintf(&b, "  [%d] %s\n", i+1, d)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func targetsTitle(l TargetsListing) string {
	s := "MARS endpoint catalog, cloud " + l.Cloud
	switch {
	case l.Region != "" && l.Geo != "" && l.Pods:
		s += ", region " + l.Region + " (Backup geo code " + l.Geo + ")"
	case l.Region != "" && l.Geo != "":
		s += ", region " + l.Region + " (Backup geo code " + l.Geo + " for --vault; no public pod names published for it)"
	case l.Region != "":
		s += ", region " + l.Region + " (no published Backup geo code: no service pods listed)"
	default:
		s += " (no --region: the vault's Backup service pods and regional tags are not listed)"
	}
	return s
}

// targetSource is where an endpoint comes from and, for the catalog's and
// --vault's, how it is known: "catalog: observed".
func targetSource(e targets.Endpoint) string {
	if e.Evidence == "" {
		return e.Source
	}
	return e.Source + ": " + e.Evidence
}

// expectWidth keeps the table near 120 columns while the longest regional tag
// ("AzureBackup.GermanyWestCentral", 30) stays on one line; longer
// expectations (the two addresses of dns.msftncsi.com) wrap at a blank.
const expectWidth = 30

// expectText says what an answer must carry (Endpoint.Expect), short enough
// for the EXPECTED column.
var expectText = map[string]string{
	targets.ExpectDER:    "a DER certificate or CRL",
	targets.ExpectAnswer: "the server's own answer",
	targets.ExpectCab:    "a cabinet (MSCF)",
}

// targetExpect is what the probe of e is judged by: service tags, an HTTP
// body or content, or addresses.
func targetExpect(e targets.Endpoint) string {
	var parts []string
	if len(e.ExpectedTags) > 0 {
		parts = append(parts, strings.Join(e.ExpectedTags, ", "))
	}
	if e.ExpectBody != "" {
		parts = append(parts, strconv.Quote(e.ExpectBody))
	}
	if x := expectText[e.Expect]; x != "" {
		parts = append(parts, x)
	}
	for _, a := range e.ExpectAddrs {
		parts = append(parts, a.String())
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// targetJSON is the JSON shape of one endpoint: Endpoint's own, plus the
// timeout written as a Go duration (absent when the run's applies).
type targetJSON struct {
	targets.Endpoint
	Timeout string `json:"timeout,omitempty"`
}

type familyJSON struct {
	Pattern string   `json:"family"`
	Tags    []string `json:"expected_tags"`
	Doc     string   `json:"doc"`
}

func targetsJSON(w io.Writer, l TargetsListing) error {
	out := struct {
		Cloud     string       `json:"cloud"`
		Region    string       `json:"region,omitempty"`
		Geo       string       `json:"geo,omitempty"`
		Endpoints []targetJSON `json:"endpoints"`
		Uncovered []familyJSON `json:"uncovered_families"`
	}{Cloud: l.Cloud, Region: l.Region, Geo: l.Geo, Endpoints: []targetJSON{}, Uncovered: []familyJSON{}}
	for _, e := range l.Endpoints {
		j := targetJSON{Endpoint: e}
		if e.Timeout > 0 {
			j.Timeout = e.Timeout.String()
		}
		out.Endpoints = append(out.Endpoints, j)
	}
	for _, f := range l.Uncovered {
		out.Uncovered = append(out.Uncovered, familyJSON{Pattern: f.Pattern, Tags: append([]string{}, f.Tags...), Doc: f.Doc})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// targetsCSV writes one row per endpoint; lists are joined with ";" so that a
// spreadsheet keeps one value per cell.
func targetsCSV(w io.Writer, l TargetsListing) error {
	cw := csv.NewWriter(w)
	rows := [][]string{{"family", "host", "port", "scheme", "path", "expected_tags", "role", "source", "doc", "evidence", "private_link"}}
	for _, e := range l.Endpoints {
		rows = append(rows, []string{e.Family, e.Host, strconv.Itoa(e.Port), e.Scheme, e.Path,
			strings.Join(e.ExpectedTags, ";"), e.Role, e.Source, e.Doc, e.Evidence, e.PrivateLink})
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}
