package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"

	"egressprobe/report"
)

// TrustTitle names the trust path's section in every format for people.
const TrustTitle = "Certificate authorities (HTTP 80)"

// trustView is one trust-path URL as every format shows it.
type trustView struct {
	URL, Kind, UsedBy, Route, Status, Time, Size, Error string
	Severity                                            string // report.Severity*
}

// newTrustViews turns the report's trust path into display strings, and the
// line that heads the section ("" when the run did not look at it).
func newTrustViews(r *report.Report) (head string, rows []trustView) {
	s := r.TrustPathSettings
	if s == nil {
		return "", nil
	}
	sum := r.Summary.TrustPath
	head = fmt.Sprintf("%s: %s, %d ok, %d warnings, %d failed (--trust-path %s); Windows waits %s per URL and %s for a chain's revocation",
		TrustTitle, plural(sum.Total, "URL"), sum.OK, sum.Warnings, sum.Failed, s.Mode, seconds(s.URLTimeoutMS), seconds(s.RevocationTimeoutMS))
	if len(s.Registry) > 0 {
		var set []string
		for _, v := range s.Registry {
			set = append(set, fmt.Sprintf(`%s\%s = %d`, v.Key, v.Name, v.MS))
		}
		head += " (the registry sets " + strings.Join(set, ", ") + ")"
	}
	if s.WinHTTPProxy != "" {
		head += "; CryptoAPI's proxy (WinHTTP): " + s.WinHTTPProxy
	}
	if s.Note != "" {
		head += "; " + s.Note
	}
	if sum.Total == 0 {
		head += "; no chain named a URL"
	}
	for i := range r.TrustPath {
		t := &r.TrustPath[i]
		v := trustView{URL: t.URL, Kind: t.Kind, UsedBy: "used by " + strings.Join(t.UsedBy, ", "), Route: string(t.Path), Status: string(t.Status),
			Time: fmt.Sprintf("%.0f ms", t.MS), Size: "-", Error: t.Error, Severity: t.Severity}
		if t.Needed {
			v.Kind += " (needed)"
		}
		if t.WinHTTP {
			v.Route += " (WinHTTP)"
		}
		if t.HTTP != nil && t.HTTP.Bytes > 0 {
			v.Size = byteSize(t.HTTP.Bytes)
		}
		rows = append(rows, v)
	}
	return head, rows
}

func seconds(ms int64) string {
	if ms%1000 == 0 {
		return fmt.Sprintf("%d s", ms/1000)
	}
	return fmt.Sprintf("%d ms", ms)
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// trustTable is the section in the terminal: one row per URL, who named it
// and why it failed on lines under it, the URLs cut to fit opt.Width.
func trustTable(w io.Writer, head string, rows []trustView, p painter, width int) error {
	if head == "" {
		return nil
	}
	if _, err := io.WriteString(w, "\n"+wrapLines(head+"\n", width)); err != nil || len(rows) == 0 {
		return err
	}
	urlW := 0
	if width > 0 {
		if over := tableWidth(buildTrustTable(rows, p, 0, 0)) - width; over > 0 {
			widest := 0
			for _, r := range rows {
				widest = max(widest, text.StringWidthWithoutEscSequences(r.URL))
			}
			urlW = max(widest-over, minDetailWidth)
		}
	}
	t := buildTrustTable(rows, p, urlW, 0)
	span := tableWidth(t) - len(trustHeader)*len(checkTableStyle().Box.PaddingRight)
	_, err := io.WriteString(w, buildTrustTable(rows, p, urlW, span).Render()+"\n")
	return err
}

// trustHeader is the section's table header, one column per field.
var trustHeader = table.Row{"URL", "KIND", "ROUTE", "STATUS", "TIME", "SIZE"}

// buildTrustTable fills the section's table; spanWidth 0 leaves out the
// lines under the rows, to measure the columns alone.
func buildTrustTable(rows []trustView, p painter, urlW, spanWidth int) table.Writer {
	t := table.NewWriter()
	t.SetStyle(checkTableStyle())
	t.SuppressTrailingSpaces()
	t.AppendHeader(trustHeader)
	merged := table.RowConfig{AutoMerge: true, AutoMergeAlign: text.AlignLeft}
	for _, r := range rows {
		color := ansiRed
		switch r.Severity {
		case report.SeverityOK:
			color = ansiGreen
		case report.SeverityWarning:
			color = ansiYellow
		}
		t.AppendRow(table.Row{shorten(r.URL, urlW), r.Kind, r.Route, p.paint(color, r.Status), r.Time, r.Size})
		if spanWidth == 0 {
			continue
		}
		lines := []string{r.UsedBy}
		if r.Error != "" {
			lines = append(lines, "! "+r.Error)
		}
		for _, s := range lines {
			for _, line := range strings.Split(text.WrapSoft(s, max(spanWidth-4, minSpanWidth)), "\n") {
				t.AppendRow(spanRow(len(trustHeader), "    "+strings.TrimRight(line, " ")), merged)
			}
		}
	}
	t.SetColumnConfigs([]table.ColumnConfig{{Number: 5, Align: text.AlignRight}, {Number: 6, Align: text.AlignRight}})
	return t
}

// trustMarkdown is the section in Markdown.
func trustMarkdown(b *strings.Builder, head string, rows []trustView) {
	if head == "" {
		return
	}
	fmt.Fprintf(b, "\n### %s\n\n%s\n", TrustTitle, mdText(head))
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n")
	mdRow(b, []string{"url", "kind", "used by", "route", "status", "time", "size", "detail"})
	mdRow(b, strings.Split(strings.Repeat("---,", 7)+"---", ","))
	for _, r := range rows {
		status := mdCode(r.Status)
		if r.Severity == report.SeverityFailure {
			status = "**" + status + "**"
		}
		mdRow(b, []string{mdCode(r.URL), mdText(r.Kind), mdText(strings.TrimPrefix(r.UsedBy, "used by ")), mdText(r.Route), status,
			mdText(r.Time), mdText(r.Size), mdText(orDash(r.Error))})
	}
}

// trustHTML is the section in HTML, for checkHTMLTemplate.
const trustHTML = `{{- if .TrustHead}}
<h2>` + TrustTitle + `</h2>
<p>{{.TrustHead}}</p>
{{- if .Trust}}
<table>
<thead><tr><th>url</th><th>kind</th><th>used by</th><th>route</th><th>status</th><th>time</th><th>size</th><th>detail</th></tr></thead>
<tbody>
{{- range .Trust}}
<tr><td class="mono">{{.URL}}</td><td>{{.Kind}}</td><td>{{.UsedBy}}</td><td>{{.Route}}</td><td class="{{if eq .Severity "ok"}}ok{{else if eq .Severity "warning"}}warn{{else}}failed{{end}}">{{.Status}}</td><td>{{.Time}}</td><td>{{.Size}}</td><td>{{.Error}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- end}}`
