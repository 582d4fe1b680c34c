package render

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"egressprobe/probe"
	"egressprobe/report"
)

// checkView is a report turned into display strings once, so that the table,
// Markdown and HTML say the same things in the same words. Strings here are
// plain text: each format escapes them its own way.
type checkView struct {
	Title       string
	Subtitle    string
	ShowResolve bool // more than one resolver: each row names its own
	Families    []familyView
	Overall     string
	AllSame     string // non-empty when every result failed the same way
	Clock       string // non-empty when the clock is skewed
	Tags        string
	Wildcards   []string
	NotProbed   string // non-empty when catalog families had no member in the run
	Open        []actionView
	NothingOpen string // non-empty when there is nothing to open
}

type familyView struct {
	Name    string
	Summary string // "" when the report's summary does not list the family
	Rows    []rowView
}

type rowView struct {
	Host, IP, Path, Resolver, Status string
	Detail, Tags, Provider           string
	OK                               bool
	TagsMismatch                     bool
	Timings                          [numTimings]string
	Warnings                         []string // "code: message"
}

// numTimings is the number of timed steps -v shows.
const numTimings = 5

// timingHeaders name the per-step timing columns shown with -v (milliseconds).
func timingHeaders() [numTimings]string {
	return [numTimings]string{"DNS ms", "TCP ms", "CONNECT ms", "TLS ms", "HTTP ms"}
}

type actionView struct {
	Hop     string
	Change  string
	Details []string // "hosts: …", "addresses: …", "service tags: …" that Change does not already name
}

func newCheckView(r *report.Report) checkView {
	v := checkView{
		Title:     "egressprobe check: " + cloudLine(r),
		Subtitle:  runLine(r),
		Overall:   overallLine(r.Summary),
		AllSame:   r.Summary.Verdict,
		Clock:     clockLine(r.Clock),
		Tags:      tagsLine(r.ServiceTags),
		NotProbed: notProbedLine(r.NotProbed),
	}
	resolvers := map[string]bool{}
	for i := range r.Results {
		resolvers[r.Results[i].Resolver] = true
	}
	v.ShowResolve = len(resolvers) > 1

	// Families in the order they first appear; a family's rows together
	// even if the report interleaves them.
	index := map[string]int{}
	for i := range r.Results {
		res := &r.Results[i]
		k, ok := index[res.Family]
		if !ok {
			k = len(v.Families)
			index[res.Family] = k
			name := res.Family
			if name == "" {
				name = "(no family)"
			}
			v.Families = append(v.Families, familyView{Name: name, Summary: familyLine(r.Summary, res.Family)})
		}
		v.Families[k].Rows = append(v.Families[k].Rows, newRowView(res))
	}
	v.Wildcards = wildcardLines(r.Wildcards)
	for _, a := range r.Open {
		v.Open = append(v.Open, newActionView(a))
	}
	if len(r.Open) == 0 && r.Summary.Total > 0 && r.Summary.Failed == 0 {
		v.NothingOpen = "Nothing to open: every result is ok."
	}
	v.clean()
	return v
}

// clean makes every string printable once, for all formats.
func (v *checkView) clean() {
	for _, s := range []*string{&v.Title, &v.Subtitle, &v.Overall, &v.AllSame, &v.Clock, &v.Tags, &v.NotProbed} {
		*s = printable(*s)
	}
	cleanAll(v.Wildcards)
	for i := range v.Open {
		a := &v.Open[i]
		a.Hop, a.Change = printable(a.Hop), printable(a.Change)
		cleanAll(a.Details)
	}
	for i := range v.Families {
		f := &v.Families[i]
		f.Name, f.Summary = printable(f.Name), printable(f.Summary)
		for j := range f.Rows {
			row := &f.Rows[j]
			for _, s := range []*string{&row.Host, &row.IP, &row.Path, &row.Resolver, &row.Status, &row.Detail, &row.Tags, &row.Provider} {
				*s = printable(*s)
			}
			cleanAll(row.Warnings)
		}
	}
}

func cleanAll(ss []string) {
	for i := range ss {
		ss[i] = printable(ss[i])
	}
}

func cloudLine(r *report.Report) string {
	s := r.Cloud + " cloud"
	if r.Cloud == "" {
		s = "unknown cloud"
	}
	if r.Region != "" {
		s += ", region " + r.Region
	}
	return s
}

func runLine(r *report.Report) string {
	var parts []string
	if !r.Started.IsZero() {
		p := "started " + r.Started.UTC().Format("2006-01-02 15:04:05 UTC")
		if took := r.Finished.Sub(r.Started); took >= time.Second {
			p += ", took " + took.Round(100*time.Millisecond).String()
		} else if took > 0 {
			p += ", took " + took.Round(time.Millisecond).String()
		}
		parts = append(parts, p)
	}
	if r.Proxy != nil && r.Proxy.URL != "" {
		p := "proxy " + r.Proxy.URL
		if r.Proxy.Source != "" {
			p += " (from " + r.Proxy.Source + ")"
		}
		parts = append(parts, p)
	} else {
		parts = append(parts, "no proxy")
	}
	if len(r.Resolvers) > 0 {
		parts = append(parts, "resolvers "+strings.Join(r.Resolvers, ", "))
	}
	if r.IPv6 != nil && !r.IPv6.Available {
		parts = append(parts, "IPv6: none on this host ("+r.IPv6.Detail+"), IPv6 addresses skipped")
	}
	return strings.Join(parts, "; ")
}

func overallLine(s report.Summary) string {
	line := fmt.Sprintf("%s: %d ok, %d failed", plural(s.Total, "result"), s.OK, s.Failed)
	if s.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped (no IPv6 here)", s.Skipped)
	}
	if s.Warnings > 0 {
		line += fmt.Sprintf("; %d with warnings", s.Warnings)
	}
	return line
}

func familyLine(s report.Summary, family string) string {
	for _, f := range s.Families {
		if f.Family != family {
			continue
		}
		works := "works on no path"
		if len(f.Works) > 0 {
			works = "works via " + strings.Join(f.Works, ", ")
		}
		skipped := ""
		if f.Skipped > 0 {
			skipped = fmt.Sprintf(", %d skipped", f.Skipped)
		}
		return fmt.Sprintf("%s: %d ok, %d failed%s; %s", plural(f.Total, "result"), f.OK, f.Failed, skipped, works)
	}
	return ""
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// clockLine is the report's clock message when the clock is skewed.
func clockLine(c *report.Clock) string {
	if c == nil || !c.Skewed || c.Message == "" {
		return ""
	}
	return "Clock: " + c.Message
}

func tagsLine(t report.ServiceTagsInfo) string {
	if !t.Loaded {
		if t.Note != "" {
			return "Service tags: not checked: " + t.Note
		}
		return "Service tags: not checked (no feed was loaded)."
	}
	var about []string
	if t.Cloud != "" {
		about = append(about, t.Cloud+" cloud")
	}
	if t.ChangeNumber != 0 {
		about = append(about, "change number "+strconv.Itoa(t.ChangeNumber))
	}
	line := "Service tags: " + t.Source
	if len(about) > 0 {
		line += " (" + strings.Join(about, ", ") + ")"
	}
	if t.Note != "" {
		line += "; " + t.Note
	}
	return line
}

// notProbedLine names the catalog families no result speaks for: their rules
// are unconfirmed, not working. Families named the same way share the hint.
func notProbedLine(fams []report.NotProbed) string {
	if len(fams) == 0 {
		return ""
	}
	var hints []string
	byHint := map[string][]string{}
	for _, f := range fams {
		name := f.Family
		if len(f.ExpectedTags) > 0 {
			name += " (" + strings.Join(f.ExpectedTags, ", ") + ")"
		}
		hint := cmp.Or(f.NameOne, "add --member HOST")
		if _, ok := byHint[hint]; !ok {
			hints = append(hints, hint)
		}
		byHint[hint] = append(byHint[hint], name)
	}
	parts := make([]string, len(hints))
	for i, h := range hints {
		parts[i] = strings.Join(byHint[h], ", ") + " — " + h
	}
	return "Not probed, no member named: " + strings.Join(parts, "; ")
}

// wildcardLines says per family whether its zone answers a random name;
// families with the same verdict in the same words share one line (a
// resolver that knows no public name says the same of every zone).
func wildcardLines(ws []report.Wildcard) []string {
	var (
		verdicts []string
		families = map[string][]string{}
	)
	for _, w := range ws {
		v := wildcardVerdict(w)
		if _, ok := families[v]; !ok {
			verdicts = append(verdicts, v)
		}
		families[v] = append(families[v], w.Family)
	}
	lines := make([]string, len(verdicts))
	for i, v := range verdicts {
		lines[i] = strings.Join(families[v], ", ") + ": " + v
	}
	return lines
}

// wildcardVerdict says whether a family's zone answers a random name, which
// decides whether the firewall or proxy rule must be a wildcard; the random
// name itself is in the JSON.
func wildcardVerdict(w report.Wildcard) string {
	answer := string(probe.Unknown)
	switch {
	case w.AnswersAny:
		answer = "yes, a random name resolves (wildcard DNS)"
	case w.Status == probe.DNSNXDomain || w.Status == probe.DNSNoData:
		answer = "no, a random name does not resolve"
	case w.Status != "" && w.Status != probe.Unknown:
		answer = fmt.Sprintf("%s (%s)", probe.Unknown, w.Status)
	}
	line := answer
	if w.Explanation != "" {
		line += "; " + w.Explanation
	}
	return line
}

// newActionView keeps an action's change as report phrased it and lists
// under it the hosts, addresses and tags it applies to, unless the change
// already names them all.
func newActionView(a report.Action) actionView {
	v := actionView{Hop: hopLabel(a.Hop), Change: a.Change}
	for _, list := range []struct {
		label string
		items []string
	}{{"hosts", a.Hosts}, {"addresses", a.IPs}, {"service tags", a.Tags}} {
		if slices.ContainsFunc(list.items, func(it string) bool { return !strings.Contains(a.Change, it) }) {
			v.Details = append(v.Details, list.label+": "+strings.Join(list.items, ", "))
		}
	}
	return v
}

func hopLabel(hop string) string {
	switch hop {
	case report.HopDNS:
		return "DNS"
	case report.HopFirewall:
		return "Firewall"
	case report.HopProxy:
		return "Proxy"
	case report.HopTLSInspection:
		return "TLS inspection"
	case report.HopClock:
		return "Clock"
	case report.HopHost:
		return "This host"
	case report.HopPathMTU:
		return "Path MTU"
	case "":
		return "Change"
	}
	return hop
}

func newRowView(res *report.Result) rowView {
	row := rowView{
		Host:     res.Host,
		IP:       orDash(deref(res.IP)),
		Path:     orDash(res.Path),
		Resolver: orDash(res.Resolver),
		Status:   orDash(string(res.Status)),
		OK:       res.Status == probe.OK,
		Detail:   detail(res),
		Provider: "-",
	}
	if res.Port != 0 && res.Port != 443 {
		row.Host = net.JoinHostPort(res.Host, strconv.Itoa(res.Port)) // [::1]:4431
	}
	row.Tags, row.TagsMismatch = tagsCell(res)
	if res.Provider != nil && res.Provider.Name != "" {
		row.Provider = res.Provider.Name
	}
	row.Timings = [numTimings]string{msCell(res.DNS.MS, res.DNS.Status != "" || res.DNS.MS > 0), "-", "-", "-", "-"}
	if res.TCP != nil {
		row.Timings[1] = msCell(res.TCP.MS, true)
	}
	if res.ProxyConnect != nil {
		row.Timings[2] = msCell(res.ProxyConnect.MS, true)
	}
	if res.TLS != nil {
		row.Timings[3] = msCell(res.TLS.MS, true)
	}
	if res.HTTP != nil {
		row.Timings[4] = msCell(res.HTTP.MS, true)
	}
	for _, w := range res.Warnings {
		row.Warnings = append(row.Warnings, w.Code+": "+w.Message)
	}
	return row
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// msCell shows whole milliseconds, with one decimal below 10 ms where the
// fraction still means something.
func msCell(ms float64, present bool) string {
	switch {
	case !present:
		return "-"
	case ms < 10:
		return strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return strconv.FormatFloat(ms, 'f', 0, 64)
}

// detail is the one thing worth knowing about a result besides its status:
// the certificate that answered, the proxy's or web server's reply, or the
// error.
func detail(res *report.Result) string {
	switch {
	case res.Status == probe.OK && res.TLS != nil && (res.TLS.Version != "" || res.TLS.Issuer != ""):
		return joinNonEmpty(", ", res.TLS.Version, commonName(res.TLS.Issuer))
	case res.Status == probe.OK && res.HTTP != nil && res.HTTP.BodyMatch:
		return fmt.Sprintf("HTTP %d, expected body", res.HTTP.StatusCode)
	case res.Status == probe.TLSIntercepted && res.TLS != nil && res.TLS.InterceptedBy != "":
		return "intercepted by " + res.TLS.InterceptedBy
	case res.Status == probe.TCPMTUBlackhole && res.TLS != nil && res.TLS.MSSRetry != nil:
		return fmt.Sprintf("path-MTU blackhole: stalls at full size, ok with MSS %d", res.TLS.MSSRetry.MSS)
	case res.Status == probe.HTTPUnexpected && res.HTTP != nil && res.HTTP.Location != "":
		return fmt.Sprintf("HTTP %d to %s", res.HTTP.StatusCode, res.HTTP.Location)
	case res.Status.Step() == probe.StepProxy && res.ProxyConnect != nil && res.ProxyConnect.StatusCode != 0:
		return fmt.Sprintf("proxy answered CONNECT with %d", res.ProxyConnect.StatusCode)
	case res.Error != "":
		return res.Error
	}
	return "-"
}

func joinNonEmpty(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), sep)
}

// commonName returns the CN of an RFC 4514 distinguished name ("CN=x,O=y"),
// or the whole name when it has none.
func commonName(dn string) string {
	for rest := dn; rest != ""; {
		var attr string
		attr, rest = splitRDN(rest)
		if k, val, ok := strings.Cut(attr, "="); ok && strings.EqualFold(strings.TrimSpace(k), "CN") {
			return strings.ReplaceAll(val, `\`, "")
		}
	}
	return dn
}

// splitRDN cuts dn at its first comma that is not escaped with a backslash.
func splitRDN(dn string) (first, rest string) {
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',':
			return dn[:i], dn[i+1:]
		}
	}
	return dn, ""
}

// tagsCell is the compact tag verdict: "ok", "MISMATCH" or nothing when not
// judged, then the most telling matched tag and how many more there are.
func tagsCell(res *report.Result) (cell string, mismatch bool) {
	names := report.TagNames(res.ServiceTags)
	var parts []string
	if res.ExpectedTagsOK != nil {
		if *res.ExpectedTagsOK {
			parts = append(parts, string(probe.OK)) // in the word of an ok result
		} else {
			parts, mismatch = append(parts, "MISMATCH"), true
		}
	}
	if len(names) > 0 {
		best := bestTag(names, res.ExpectedTags)
		parts = append(parts, best)
		if len(names) > 1 {
			parts = append(parts, fmt.Sprintf("+%d", len(names)-1))
		}
	} else if res.DNS.Private {
		parts = append(parts, "private address")
	}
	if len(parts) == 0 {
		return "-", false
	}
	return strings.Join(parts, " "), mismatch
}

// bestTag picks the matched tag a reader most wants to see: one that was
// expected, else one of the same service (AzureBackup for AzureBackup.WestEurope),
// else the most specific (regional) one.
func bestTag(names, expected []string) string {
	service := func(tag string) string { s, _, _ := strings.Cut(tag, "."); return s }
	for _, n := range names {
		for _, e := range expected {
			if n == e {
				return n
			}
		}
	}
	for _, n := range names {
		for _, e := range expected {
			if service(n) == service(e) {
				return n
			}
		}
	}
	for _, n := range names {
		if strings.Contains(n, ".") {
			return n
		}
	}
	return names[0]
}

// shorten cuts s to at most max runes (max 0: not at all), at a word
// boundary when one is near, marking the cut with "...".
func shorten(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)
	cut := max - 3
	for i := cut; i > cut*2/3; i-- {
		if unicode.IsSpace(runes[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(runes[:cut]), func(r rune) bool {
		return unicode.IsSpace(r) || r == ',' || r == ':' || r == ';'
	}) + "..."
}

// printable replaces control characters (ANSI escapes, newlines, NUL) that a
// hostile name or server answer could carry, so that they cannot repaint the
// terminal or break a table's lines.
func printable(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return '?'
		}
		return r
	}, s)
}

func isControl(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }
