package render

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"

	"egressprobe/internal/quote"
	"egressprobe/servicetags"
)

// ServiceTagsFormats are the -o values of the servicetags subcommands.
func ServiceTagsFormats() []string { return []string{"table", "json", "csv"} }

// ExportFormats are the -f values of `servicetags export`; -o takes the
// ServiceTagsFormats among them.
func ExportFormats() []string {
	return []string{"txt", "csv", "json", "nft", "iptables", "windows-firewall", "table"}
}

// dispatch runs the writer registered for format ("" means the first), or
// names the valid ones.
func stDispatch(w io.Writer, what, format string, writers map[string]func(io.Writer) error, valid []string) error {
	f := strings.ToLower(strings.TrimSpace(format))
	if f == "" {
		f = valid[0]
	}
	write, ok := writers[f]
	if !ok {
		return fmt.Errorf("unknown output format %s for %s: use one of %s", quote.Q(format), what, strings.Join(valid, ", "))
	}
	if err := write(w); err != nil {
		return fmt.Errorf("render %s: %w", what, err)
	}
	return nil
}

func stTable(w io.Writer, header table.Row, rows []table.Row) error {
	t := table.NewWriter()
	t.SetStyle(table.StyleLight)
	t.AppendHeader(header)
	t.AppendRows(rows)
	_, err := io.WriteString(w, t.Render()+"\n")
	return err
}

func stCSV(w io.Writer, header []string, rows [][]string) error {
	c := csv.NewWriter(w)
	_ = c.Write(header)
	_ = c.WriteAll(rows) // WriteAll flushes and reports the first error
	return c.Error()
}

func stJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// LookupResult is one input address and the tags containing it.
type LookupResult struct {
	IP      netip.Addr          `json:"ip"`
	Matches []servicetags.Match `json:"matches"`
}

// ServiceTagsLookup writes `servicetags lookup` results. JSON is the contract
// [{"ip": "...", "matches": [{"tag", "region", "system_service", "prefix"}]}].
func ServiceTagsLookup(w io.Writer, results []LookupResult, format string) error {
	return stDispatch(w, "servicetags lookup", format, map[string]func(io.Writer) error{
		"table": func(w io.Writer) error {
			var rows []table.Row
			for _, r := range results {
				if len(r.Matches) == 0 {
					rows = append(rows, table.Row{r.IP, "(in no service tag)", "", "", ""})
				}
				for _, m := range r.Matches {
					rows = append(rows, table.Row{r.IP, m.Tag, m.Region, m.SystemService, m.Prefix})
				}
			}
			return stTable(w, table.Row{"IP", "TAG", "REGION", "SYSTEM SERVICE", "PREFIX"}, rows)
		},
		"json": func(w io.Writer) error {
			out := make([]LookupResult, len(results))
			for i, r := range results {
				out[i] = r
				if r.Matches == nil {
					out[i].Matches = []servicetags.Match{} // [] not null: one shape for consumers
				}
			}
			return stJSON(w, out)
		},
		"csv": func(w io.Writer) error {
			var rows [][]string
			for _, r := range results {
				if len(r.Matches) == 0 {
					rows = append(rows, []string{r.IP.String(), "", "", "", ""})
				}
				for _, m := range r.Matches {
					rows = append(rows, []string{r.IP.String(), m.Tag, m.Region, m.SystemService, m.Prefix.String()})
				}
			}
			return stCSV(w, []string{"ip", "tag", "region", "system_service", "prefix"}, rows)
		},
	}, ServiceTagsFormats())
}

// ServiceTagsDiff writes `servicetags diff`; its JSON is servicetags.DiffResult.
func ServiceTagsDiff(w io.Writer, d servicetags.DiffResult, format string) error {
	rows := func() [][]string {
		var out [][]string
		for _, t := range d.Tags {
			for _, p := range t.Added {
				out = append(out, []string{t.Tag, "added", p.String()})
			}
			for _, p := range t.Removed {
				out = append(out, []string{t.Tag, "removed", p.String()})
			}
		}
		return out
	}
	return stDispatch(w, "servicetags diff", format, map[string]func(io.Writer) error{
		"table": func(w io.Writer) error {
			fmt.Fprintf(w, "changeNumber %d → %d: %d tags changed\n", d.OldChangeNumber, d.NewChangeNumber, len(d.Tags))
			var tr []table.Row
			for _, r := range rows() {
				tr = append(tr, table.Row{r[0], r[1], r[2]})
			}
			return stTable(w, table.Row{"TAG", "CHANGE", "PREFIX"}, tr)
		},
		"json": func(w io.Writer) error { return stJSON(w, d) },
		"csv": func(w io.Writer) error {
			return stCSV(w, []string{"tag", "change", "prefix"}, rows())
		},
	}, ServiceTagsFormats())
}

// UpdateView is what `servicetags update` reports.
type UpdateView struct {
	Cloud                string `json:"cloud"`
	Status               string `json:"status"` // updated | up-to-date
	ChangeNumber         int64  `json:"change_number"`
	PreviousChangeNumber int64  `json:"previous_change_number"` // 0: nothing was cached
	Source               string `json:"source"`
	Path                 string `json:"path"`
}

// ServiceTagsUpdate writes the result of `servicetags update`.
func ServiceTagsUpdate(w io.Writer, v UpdateView, format string) error {
	cells := []string{v.Cloud, v.Status, strconv.FormatInt(v.ChangeNumber, 10), strconv.FormatInt(v.PreviousChangeNumber, 10), v.Source, v.Path}
	header := []string{"cloud", "status", "change_number", "previous_change_number", "source", "path"}
	return stDispatch(w, "servicetags update", format, map[string]func(io.Writer) error{
		// One field a line, so that a long source URL and cache path fit a
		// 100-column console; a first download has no previous change number.
		"table": func(w io.Writer) error {
			change := strconv.FormatInt(v.ChangeNumber, 10)
			switch {
			case v.PreviousChangeNumber == 0:
				change += " (first download)"
			case v.PreviousChangeNumber != v.ChangeNumber:
				change += fmt.Sprintf(" (was %d)", v.PreviousChangeNumber)
			}
			_, err := fmt.Fprintf(w, "Cloud          %s\nStatus         %s\nChange number  %s\nSource         %s\nCache file     %s\n",
				v.Cloud, v.Status, change, v.Source, v.Path)
			return err
		},
		"json": func(w io.Writer) error { return stJSON(w, v) },
		"csv":  func(w io.Writer) error { return stCSV(w, header, [][]string{cells}) },
	}, ServiceTagsFormats())
}

// ExportOptions shape the ready-to-paste rule formats.
type ExportOptions struct {
	Name string // set, ipset and rule name, e.g. "egressprobe-mars"
	Port int    // TCP destination port the example rules allow
}

// stWindowsChunk bounds the addresses per New-NetFirewallRule so that each pasted
// command line stays readable and editable; the rules are numbered.
const stWindowsChunk = 1000

// ServiceTagsExport writes the merged prefixes of an export in format (one of
// ExportFormats).
func ServiceTagsExport(w io.Writer, ex servicetags.Export, format string, opt ExportOptions) error {
	v4, v6 := stSplitFamilies(ex.Prefixes)
	what := fmt.Sprintf("%s (%s, changeNumber %d)", strings.Join(ex.Tags, ", "), ex.Cloud, ex.ChangeNumber)
	return stDispatch(w, "servicetags export", format, map[string]func(io.Writer) error{
		"txt": func(w io.Writer) error {
			var b strings.Builder
			for _, p := range ex.Prefixes {
				b.WriteString(p.String() + "\n")
			}
			_, err := io.WriteString(w, b.String())
			return err
		},
		"csv": func(w io.Writer) error {
			rows := make([][]string, len(ex.Prefixes))
			for i, p := range ex.Prefixes {
				rows[i] = []string{p.String(), stFamilyName(p)}
			}
			return stCSV(w, []string{"cidr", "family"}, rows)
		},
		"table": func(w io.Writer) error {
			rows := make([]table.Row, len(ex.Prefixes))
			for i, p := range ex.Prefixes {
				rows[i] = table.Row{p, stFamilyName(p)}
			}
			fmt.Fprintf(w, "%s: %d CIDRs\n", what, len(ex.Prefixes))
			return stTable(w, table.Row{"CIDR", "FAMILY"}, rows)
		},
		"json": func(w io.Writer) error {
			return stJSON(w, struct {
				Cloud        string         `json:"cloud"`
				ChangeNumber int64          `json:"change_number"`
				Tags         []string       `json:"tags"`
				Prefixes     []netip.Prefix `json:"prefixes"`
			}{ex.Cloud, ex.ChangeNumber, stNonNil(ex.Tags), stNonNil(ex.Prefixes)})
		},
		"nft":      func(w io.Writer) error { return stExportNft(w, what, v4, v6, opt) },
		"iptables": func(w io.Writer) error { return stExportIptables(w, what, v4, v6, opt) },
		"windows-firewall": func(w io.Writer) error {
			var b strings.Builder
			fmt.Fprintf(&b, "# egressprobe servicetags export: %s\n# Run in an elevated PowerShell.\n", what)
			n := (len(ex.Prefixes) + stWindowsChunk - 1) / stWindowsChunk
			for i := 0; i < n; i++ {
				chunk := ex.Prefixes[i*stWindowsChunk : min(len(ex.Prefixes), (i+1)*stWindowsChunk)]
				quoted := make([]string, len(chunk))
				for j, p := range chunk {
					quoted[j] = `"` + p.String() + `"`
				}
				fmt.Fprintf(&b, "New-NetFirewallRule -DisplayName \"%s %d/%d\" -Direction Outbound -Action Allow -Protocol TCP -RemotePort %d -RemoteAddress @(%s)\n",
					opt.Name, i+1, n, opt.Port, strings.Join(quoted, ","))
			}
			_, err := io.WriteString(w, b.String())
			return err
		},
	}, ExportFormats())
}

func stNonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func stSplitFamilies(ps []netip.Prefix) (v4, v6 []netip.Prefix) {
	for _, p := range ps {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return v4, v6
}

func stFamilyName(p netip.Prefix) string {
	if p.Addr().Is4() {
		return "ipv4"
	}
	return "ipv6"
}

func stJoinPrefixes(ps []netip.Prefix, sep string) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, sep)
}

// exportNft writes an nftables file (nft -f FILE): a table with one interval set
// per family and an output chain accepting TCP to them on the port.
func stExportNft(w io.Writer, what string, v4, v6 []netip.Prefix, opt ExportOptions) error {
	name := strings.ReplaceAll(opt.Name, "-", "_") // nft identifiers: letters, digits, _
	var b strings.Builder
	fmt.Fprintf(&b, "# egressprobe servicetags export: %s\n# Load with: nft -f FILE\n", what)
	fmt.Fprintf(&b, "table inet %s {\n", name)
	sets := []struct {
		fam, typ, match string
		ps              []netip.Prefix
	}{{"v4", "ipv4_addr", "ip", v4}, {"v6", "ipv6_addr", "ip6", v6}}
	for _, s := range sets {
		fmt.Fprintf(&b, "\tset %s_%s {\n\t\ttype %s\n\t\tflags interval\n", name, s.fam, s.typ)
		if len(s.ps) > 0 {
			fmt.Fprintf(&b, "\t\telements = {\n\t\t\t%s\n\t\t}\n", stJoinPrefixes(s.ps, ",\n\t\t\t"))
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n")
	for _, s := range sets {
		fmt.Fprintf(&b, "\t\t%s daddr @%s_%s tcp dport %d accept\n", s.match, name, s.fam, opt.Port)
	}
	b.WriteString("\t}\n}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// exportIptables writes shell commands: an ipset per family filled with the
// prefixes, and the iptables/ip6tables rules accepting TCP to them on the port.
func stExportIptables(w io.Writer, what string, v4, v6 []netip.Prefix, opt ExportOptions) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# egressprobe servicetags export: %s\n# Run as root; needs ipset.\n", what)
	fams := []struct {
		suffix, family, cmd string
		ps                  []netip.Prefix
	}{{"v4", "inet", "iptables", v4}, {"v6", "inet6", "ip6tables", v6}}
	for _, f := range fams {
		if len(f.ps) == 0 {
			continue
		}
		set := opt.Name + "-" + f.suffix
		fmt.Fprintf(&b, "ipset create %s hash:net family %s maxelem %d -exist\n", set, f.family, max(65536, len(f.ps)))
		for _, p := range f.ps {
			fmt.Fprintf(&b, "ipset add %s %s -exist\n", set, p)
		}
		fmt.Fprintf(&b, "%s -A OUTPUT -p tcp --dport %d -m set --match-set %s dst -j ACCEPT\n", f.cmd, opt.Port, set)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// NSGRule is one `az network nsg rule create` command of `servicetags nsg-rules`.
type NSGRule struct {
	Name     string `json:"name"`
	Priority int    `json:"priority"`
	Tag      string `json:"destination_service_tag"`
	Command  string `json:"command"`
}

// NSGRulesFormats are the -o values of `servicetags nsg-rules`: sh prints the commands.
func NSGRulesFormats() []string { return []string{"sh", "table", "json", "csv"} }

// ServiceTagsNSGRules writes nsg-rules output.
func ServiceTagsNSGRules(w io.Writer, rules []NSGRule, format string) error {
	return stDispatch(w, "servicetags nsg-rules", format, map[string]func(io.Writer) error{
		"sh": func(w io.Writer) error {
			var b strings.Builder
			for _, r := range rules {
				b.WriteString(r.Command + "\n")
			}
			_, err := io.WriteString(w, b.String())
			return err
		},
		"table": func(w io.Writer) error {
			rows := make([]table.Row, len(rules))
			for i, r := range rules {
				rows[i] = table.Row{r.Priority, r.Name, r.Tag}
			}
			return stTable(w, table.Row{"PRIORITY", "NAME", "DESTINATION SERVICE TAG"}, rows)
		},
		"json": func(w io.Writer) error { return stJSON(w, stNonNil(rules)) },
		"csv": func(w io.Writer) error {
			rows := make([][]string, len(rules))
			for i, r := range rules {
				rows[i] = []string{strconv.Itoa(r.Priority), r.Name, r.Tag, r.Command}
			}
			return stCSV(w, []string{"priority", "name", "destination_service_tag", "command"}, rows)
		},
	}, NSGRulesFormats())
}
