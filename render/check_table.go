package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"

	"egressprobe/report"
)

// ANSI colours, written by hand rather than through go-pretty's text.Colors,
// whose output depends on process-wide state (NO_COLOR, the Windows console):
// here the caller alone decides.
const (
	ansiGreen  = "\x1b[32m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

type painter bool

func (p painter) paint(code, s string) string {
	if !p || s == "" {
		return s
	}
	return code + s + ansiReset
}

// minSpanWidth is the narrowest a line across the table is wrapped to;
// minDetailWidth the narrowest DETAIL column before the layout stacks.
const (
	minSpanWidth   = 20
	minDetailWidth = 30
)

// checkTable writes the terminal view: one table grouped by family and host,
// warnings under their row, then the summary, the clock and service-tag lines
// and the "what to open" list.
func checkTable(w io.Writer, r *report.Report, opt CheckOptions) error {
	v := newCheckView(r)
	p := painter(opt.Color)
	var head, tbl, foot strings.Builder

	fmt.Fprintf(&head, "%s\n%s\n\n", p.paint(ansiBold, v.Title), v.Subtitle)
	if len(v.Families) == 0 {
		head.WriteString("No results: there was nothing to check.\n")
	} else {
		tbl.WriteString(resultsTable(v, p, opt))
		tbl.WriteString("\n")
	}

	foot.WriteString("\nSummary\n")
	for _, f := range v.Families {
		if f.Summary != "" {
			fmt.Fprintf(&foot, "  %s: %s\n", f.Name, f.Summary)
		}
	}
	fmt.Fprintf(&foot, "  Overall: %s\n", v.Overall)
	if v.Clock != "" {
		fmt.Fprintf(&foot, "%s\n", p.paint(ansiYellow, v.Clock))
	}
	fmt.Fprintf(&foot, "%s\n", v.Tags)
	if v.NotProbed != "" {
		fmt.Fprintf(&foot, "%s\n", p.paint(ansiYellow, v.NotProbed))
	}
	if len(v.Wildcards) > 0 {
		foot.WriteString("Wildcard DNS:\n")
		for _, line := range v.Wildcards {
			fmt.Fprintf(&foot, "  %s\n", line)
		}
	}
	if v.AllSame != "" {
		fmt.Fprintf(&foot, "\n%s\n", p.paint(ansiRed, v.AllSame))
	}
	if len(v.Open) > 0 {
		foot.WriteString("\nWhat to open\n")
		for i, a := range v.Open {
			num := fmt.Sprintf("  %d. ", i+1)
			fmt.Fprintf(&foot, "%s%s: %s\n", num, a.Hop, a.Change)
			for _, d := range a.Details {
				fmt.Fprintf(&foot, "%s%s\n", strings.Repeat(" ", len(num)), d)
			}
		}
	}
	if v.NothingOpen != "" {
		fmt.Fprintf(&foot, "\n%s\n", p.paint(ansiGreen, v.NothingOpen))
	}
	var trust strings.Builder
	if err := trustTable(&trust, v.TrustHead, v.Trust, p, opt.Width); err != nil {
		return err
	}
	_, err := io.WriteString(w, wrapLines(head.String(), opt.Width)+tbl.String()+trust.String()+wrapLines(foot.String(), opt.Width))
	return err
}

// tableLayout says which columns the results table has. Stacked moves the
// detail out of its column onto a line of its own under the row, for
// terminals too narrow for every column side by side.
type tableLayout struct {
	resolver bool
	verbose  bool
	stacked  bool
	detailW  int // shorten the DETAIL cells to this width; 0: never
	tagsW    int // wrap the TAGS cells to this width; 0: never
}

func (l tableLayout) header() table.Row {
	h := table.Row{"FAMILY / HOST / IP", "PATH"}
	if l.resolver {
		h = append(h, "RESOLVER")
	}
	h = append(h, "STATUS")
	if !l.stacked {
		h = append(h, "DETAIL")
	}
	h = append(h, "TAGS", "PROVIDER")
	if l.timingColumns() {
		for _, t := range timingHeaders() {
			h = append(h, t)
		}
	}
	return h
}

// timingColumns says whether -v timings get columns; stacked, they go on a
// line under the row.
func (l tableLayout) timingColumns() bool { return l.verbose && !l.stacked }

// resultsTable lays the rows out side by side when they fit opt.Width (or
// the width is unlimited), shortening the details down to minDetailWidth;
// else stacked; tags wrap as a last resort. Lines that span the table
// (family, host, detail when stacked, warnings) are wrapped to the width of
// the columns, which they therefore never widen.
func resultsTable(v checkView, p painter, opt CheckOptions) string {
	// The cause is whole unless the terminal is narrower than the table: a
	// file or a pipe (Width 0) gets every detail in full.
	l := tableLayout{resolver: v.ShowResolve, verbose: opt.Verbose}
	width := tableWidth(buildTable(v, p, l, 0))
	if opt.Width > 0 && width > opt.Width {
		widest := 0
		for _, f := range v.Families {
			for _, row := range f.Rows {
				widest = max(widest, text.StringWidthWithoutEscSequences(row.Detail))
			}
		}
		if w := widest - (width - opt.Width); w >= minDetailWidth {
			l.detailW = w
			width = tableWidth(buildTable(v, p, l, 0))
		}
	}
	if opt.Width > 0 && width > opt.Width {
		l.stacked = true
		width = tableWidth(buildTable(v, p, l, 0))
		if width > opt.Width {
			widest, word := 0, 0
			for _, f := range v.Families {
				for _, row := range f.Rows {
					widest = max(widest, text.StringWidthWithoutEscSequences(row.Tags))
					for _, w := range strings.Fields(row.Tags) {
						word = max(word, text.StringWidthWithoutEscSequences(w))
					}
				}
			}
			// Wrap between tags, never inside a tag's name.
			l.tagsW = max(word, widest-(width-opt.Width))
			width = tableWidth(buildTable(v, p, l, 0))
		}
	}
	// go-pretty fits a merged cell into the columns' widths and the
	// separators between them, not their padding: a longer one would widen
	// the columns.
	columns := len(l.header())
	span := width - columns*len(checkTableStyle().Box.PaddingRight)
	return buildTable(v, p, l, span).Render()
}

// tableWidth is the width of the widest line t renders.
func tableWidth(t table.Writer) int {
	n := 0
	for _, line := range strings.Split(t.Render(), "\n") {
		n = max(n, text.StringWidthWithoutEscSequences(line))
	}
	return n
}

// buildTable fills the table; spanWidth 0 leaves out the spanning lines of
// detail and warnings, to measure the columns alone.
func buildTable(v checkView, p painter, l tableLayout, spanWidth int) table.Writer {
	header := l.header()
	t := table.NewWriter()
	t.SetStyle(checkTableStyle())
	t.SuppressTrailingSpaces()
	t.AppendHeader(header)
	merged := table.RowConfig{AutoMerge: true, AutoMergeAlign: text.AlignLeft}
	span := func(indent, s, color string) {
		for _, line := range strings.Split(text.WrapSoft(s, max(spanWidth-len(indent), minSpanWidth)), "\n") {
			t.AppendRow(spanRow(len(header), indent+p.paint(color, strings.TrimRight(line, " "))), merged)
		}
	}
	for i, f := range v.Families {
		if i > 0 {
			t.AppendSeparator()
		}
		t.AppendRow(spanRow(len(header), p.paint(ansiBold, f.Name)), merged)
		host := ""
		for _, row := range f.Rows {
			if row.Host != host {
				host = row.Host
				t.AppendRow(spanRow(len(header), "  "+host), merged)
			}
			t.AppendRow(tableRow(row, l, p))
			if spanWidth == 0 {
				continue
			}
			if l.stacked && row.Detail != "-" {
				span("      ", shorten(row.Detail, spanWidth-6), "")
			}
			if l.stacked && l.verbose {
				span("      ", timingsLine(row), "")
			}
			for _, w := range row.Warnings {
				span("      ", "! "+w, ansiYellow)
			}
		}
	}
	if l.timingColumns() {
		var configs []table.ColumnConfig
		for i := range numTimings {
			configs = append(configs, table.ColumnConfig{Number: len(header) - numTimings + 1 + i, Align: text.AlignRight})
		}
		t.SetColumnConfigs(configs)
	}
	return t
}

// spanRow is n copies of s: with RowConfig.AutoMerge, go-pretty draws them as
// one cell across the table.
func spanRow(n int, s string) table.Row {
	row := make(table.Row, n)
	for i := range row {
		row[i] = s
	}
	return row
}

func tableRow(row rowView, l tableLayout, p painter) table.Row {
	status := p.paint(ansiRed, row.Status)
	if row.OK {
		status = p.paint(ansiGreen, row.Status)
	}
	tags := row.Tags
	if l.tagsW > 0 {
		tags = text.WrapSoft(tags, l.tagsW)
	}
	if row.TagsMismatch {
		tags = p.paint(ansiYellow, tags)
	}
	out := table.Row{"    " + row.IP, row.Path}
	if l.resolver {
		out = append(out, row.Resolver)
	}
	out = append(out, status)
	if !l.stacked {
		out = append(out, shorten(row.Detail, l.detailW))
	}
	out = append(out, tags, row.Provider)
	if l.timingColumns() {
		for _, ms := range row.Timings {
			out = append(out, ms)
		}
	}
	return out
}

// timingsLine is a row's -v timings on one line: "DNS 12 ms, TCP 5000 ms".
func timingsLine(row rowView) string {
	var parts []string
	for i, h := range timingHeaders() {
		if ms := row.Timings[i]; ms != "-" {
			parts = append(parts, strings.TrimSuffix(h, " ms")+" "+ms+" ms")
		}
	}
	if len(parts) == 0 {
		return "no step timed"
	}
	return strings.Join(parts, ", ")
}

// wrapLines soft-wraps the free-text lines around the table to the terminal
// width, with a hanging indent (past the number of a numbered item).
func wrapLines(s string, width int) string {
	if width <= 0 {
		return s
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		body := strings.TrimSuffix(line, "\n")
		if text.StringWidthWithoutEscSequences(body) <= width {
			b.WriteString(line)
			continue
		}
		trimmed := strings.TrimLeft(body, " ")
		indent := len(body) - len(trimmed)
		hang := indent + 2
		if num, _, ok := strings.Cut(trimmed, ". "); ok && num != "" && strings.Trim(num, "0123456789") == "" {
			hang = indent + len(num) + 2
		}
		for i, part := range strings.Split(text.WrapSoft(trimmed, max(width-hang, minSpanWidth)), "\n") {
			pad := strings.Repeat(" ", indent)
			if i > 0 {
				pad = strings.Repeat(" ", hang)
			}
			b.WriteString(pad + trimRightPainted(part) + "\n")
		}
	}
	return b.String()
}

// trimRightPainted trims trailing spaces, also those go-pretty's wrapping
// leaves inside a coloured line, before its reset code.
func trimRightPainted(s string) string {
	if body, ok := strings.CutSuffix(s, ansiReset); ok {
		return strings.TrimRight(body, " ") + ansiReset
	}
	return strings.TrimRight(s, " ")
}

// checkTableStyle is a light, border-less ASCII table: it survives any
// Windows console code page and copies cleanly into a ticket.
func checkTableStyle() table.Style {
	s := table.StyleDefault
	s.Name = "egressprobe"
	// Columns are two spaces apart (padding and separator), and every
	// junction is a plain dash, so that family separators read as one rule
	// whether or not the rows beside them are merged.
	s.Box.MiddleVertical = " "
	s.Box.MiddleSeparator = "-"
	s.Box.TopSeparator = "-"
	s.Box.BottomSeparator = "-"
	s.Box.LeftSeparator = "-"
	s.Box.RightSeparator = "-"
	s.Box.PaddingLeft = ""
	s.Box.PaddingRight = " "
	s.Options = table.Options{
		DrawBorder:      false,
		SeparateColumns: true,
		SeparateHeader:  true,
		SeparateRows:    false,
	}
	s.Format.Header = text.FormatDefault
	return s
}
