package render

import (
	"cmp"
	"egressprobe/probe"
	"egressprobe/report"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The run-wide lines of a check view: the title and run line, the summary
// per family and overall, the clock, service tags, families not probed and
// wildcard DNS.

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
	proxies := r.Proxies
	if len(proxies) == 0 && r.Proxy != nil && r.Proxy.URL != "" {
		proxies = []report.ProxyInfo{*r.Proxy}
	}
	if len(proxies) > 0 {
		// HTTP_PROXY and HTTPS_PROXY may differ: name each with what it carries.
		var ps []string
		for _, px := range proxies {
			p := px.URL
			if px.For != "" && len(proxies) > 1 {
				p += " for " + strings.ToUpper(px.For)
			}
			if px.Source != "" {
				p += " (from " + px.Source + ")"
			}
			ps = append(ps, p)
		}
		parts = append(parts, "proxy "+strings.Join(ps, ", "))
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
	if s.Info > 0 {
		line += fmt.Sprintf(", %d informational", s.Info)
	}
	if s.SoftFailed > 0 {
		line += ", " + plural(s.SoftFailed, "revocation server") + " unreachable (warnings)"
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
			paths := make([]string, len(f.Works))
			for i, p := range f.Works {
				paths[i] = string(p)
			}
			works = "works via " + strings.Join(paths, ", ")
		}
		extra := ""
		if f.Skipped > 0 {
			extra += fmt.Sprintf(", %d skipped", f.Skipped)
		}
		if f.Info > 0 {
			extra += fmt.Sprintf(", %d informational", f.Info)
		}
		if f.SoftFailed > 0 {
			extra += ", " + plural(f.SoftFailed, "revocation server") + " unreachable"
		}
		return fmt.Sprintf("%s: %d ok, %d failed%s; %s", plural(f.Total, "result"), f.OK, f.Failed, extra, works)
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
	if !t.Published.IsZero() {
		about = append(about, "published "+t.Published.Format(time.DateOnly))
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
