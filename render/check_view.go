package render

import (
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
	// TrustHead heads the trust path's section, "" when the run did not
	// look at it; Trust are its rows.
	TrustHead string
	Trust     []trustView
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
	v.TrustHead, v.Trust = newTrustViews(r)
	for _, a := range r.Open {
		v.Open = append(v.Open, newActionView(a))
	}
	if len(r.Open) == 0 && r.Summary.Total > 0 && r.Summary.Failed == 0 {
		v.NothingOpen = "Nothing to open: every result is ok."
		if r.Summary.Info > 0 {
			v.NothingOpen = "Nothing to open: every result is ok or informational."
		}
	}
	v.clean()
	return v
}

// clean makes every string printable once, for all formats.
func (v *checkView) clean() {
	for _, s := range []*string{&v.Title, &v.Subtitle, &v.Overall, &v.AllSame, &v.Clock, &v.Tags, &v.NotProbed, &v.TrustHead} {
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
	for i := range v.Trust {
		t := &v.Trust[i]
		for _, s := range []*string{&t.URL, &t.Kind, &t.UsedBy, &t.Route, &t.Status, &t.Error} {
			*s = printable(*s)
		}
	}
}

func cleanAll(ss []string) {
	for i := range ss {
		ss[i] = printable(ss[i])
	}
}
