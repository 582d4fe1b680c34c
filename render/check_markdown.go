package render

import (
	"fmt"
	"io"
	"strings"

	"egressprobe/report"
)

// checkMarkdown writes GitHub-flavoured Markdown for pasting into a ticket:
// a table per family, warnings under it, the summary and what to open.
// Names go in code spans (they read the same rendered or raw); free text is
// backslash-escaped so that no name or server answer becomes markup.
func checkMarkdown(w io.Writer, r *report.Report, verbose bool) error {
	v := newCheckView(r)
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n**%s**\n", mdText(v.Title), mdText(v.Subtitle), mdText(v.Overall))
	if v.AllSame != "" {
		fmt.Fprintf(&b, "\n%s\n", mdText(v.AllSame))
	}

	header := []string{"host", "ip", "path"}
	if v.ShowResolve {
		header = append(header, "resolver")
	}
	header = append(header, "status", "detail", "tags", "provider")
	if verbose {
		header = append(header, "timings")
	}
	for _, f := range v.Families {
		fmt.Fprintf(&b, "\n### %s\n\n", mdCode(f.Name))
		if f.Summary != "" {
			fmt.Fprintf(&b, "%s\n\n", mdText(f.Summary))
		}
		mdRow(&b, header)
		mdRow(&b, strings.Split(strings.Repeat("---,", len(header)-1)+"---", ","))
		var warnings []string
		for _, row := range f.Rows {
			cells := []string{mdCode(row.Host), mdCode(row.IP), mdText(row.Path)}
			if v.ShowResolve {
				cells = append(cells, mdCode(row.Resolver))
			}
			status := mdCode(row.Status)
			if !row.OK {
				status = "**" + status + "**"
			}
			cells = append(cells, status, mdText(row.Detail), mdText(row.Tags), mdText(row.Provider))
			if verbose {
				cells = append(cells, mdText(timingsLine(row)))
			}
			mdRow(&b, cells)
			for _, w := range row.Warnings {
				warnings = append(warnings, fmt.Sprintf("- %s (%s, %s): %s", mdCode(row.Host), mdCode(row.IP), mdText(row.Path), mdText(w)))
			}
		}
		if len(warnings) > 0 {
			fmt.Fprintf(&b, "\nWarnings:\n\n%s\n", strings.Join(warnings, "\n"))
		}
	}

	trustMarkdown(&b, v.TrustHead, v.Trust)
	mdSummary(&b, v)

	if len(v.Open) > 0 {
		b.WriteString("\n### What to open\n\n")
		for i, a := range v.Open {
			num := fmt.Sprintf("%d. ", i+1)
			fmt.Fprintf(&b, "%s**%s**: %s\n", num, mdText(a.Hop), mdText(a.Change))
			for _, d := range a.Details {
				// Indented to the item's text: a list nested in the item.
				fmt.Fprintf(&b, "%s- %s\n", strings.Repeat(" ", len(num)), mdText(d))
			}
		}
	}
	if v.NothingOpen != "" {
		fmt.Fprintf(&b, "\n%s\n", mdText(v.NothingOpen))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdSummary is the Markdown summary: per family, overall, and the run-wide
// lines.
func mdSummary(b *strings.Builder, v checkView) {
	b.WriteString("\n### Summary\n\n")
	for _, f := range v.Families {
		if f.Summary != "" {
			fmt.Fprintf(b, "- %s: %s\n", mdCode(f.Name), mdText(f.Summary))
		}
	}
	fmt.Fprintf(b, "- Overall: %s\n", mdText(v.Overall))
	for _, line := range []string{v.Clock, v.Tags, v.NotProbed} {
		if line != "" {
			fmt.Fprintf(b, "- %s\n", mdText(line))
		}
	}
	for _, line := range v.Wildcards {
		fmt.Fprintf(b, "- Wildcard DNS: %s\n", mdText(line))
	}
}

func mdRow(b *strings.Builder, cells []string) {
	fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
}

// mdCode puts a name in a code span. Backticks cannot be escaped inside one,
// so they become quotes; a pipe still needs its backslash inside a GFM table.
func mdCode(s string) string {
	if s == "-" || s == "" {
		return "-"
	}
	return "`" + strings.NewReplacer("`", "'", "|", `\|`).Replace(s) + "`"
}

// mdText backslash-escapes the characters that would make markup (emphasis,
// links, HTML, entities, table cells) out of plain text; CommonMark renders
// an escaped punctuation character as itself. '_' is left alone: inside
// words, as in statuses, it is no emphasis, and escaping it would clutter
// the raw text pasted into a ticket.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*[]<>|&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
