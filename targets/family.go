package targets

import (
	"strings"
)

// Family is a wildcard (or, for NCSI, exact) host pattern of a catalog.
type Family struct {
	Pattern string   // "*.windowsazure.com", or an exact host such as "www.msftncsi.com"
	Cloud   string   // CloudPublic, CloudChina, CloudUSGov
	Tags    []string // tags expected of a member the user adds (--member); nil: not judged by tag
	Doc     string
}

// Wildcard reports whether the family is a wildcard ("*.zone").
func (f Family) Wildcard() bool { return strings.HasPrefix(f.Pattern, "*.") }

// Zone is the pattern without its "*." ("windowsazure.com").
func (f Family) Zone() string { return strings.TrimPrefix(f.Pattern, "*.") }

// Matches reports whether host falls under the family: a subdomain of a
// wildcard's zone (not the zone itself: "*.x" does not match "x"), or the exact
// host of a non-wildcard family.
func (f Family) Matches(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if f.Wildcard() {
		return strings.HasSuffix(host, "."+f.Zone())
	}
	return host == f.Pattern
}

// Families lists a cloud's families in catalog order, NCSI last.
func Families(cloud string) ([]Family, error) {
	c, err := lookupCloud(cloud)
	if err != nil {
		return nil, err
	}
	return c.allFamilies(), nil
}

func (c cloudDef) allFamilies() []Family {
	all := append([]Family(nil), c.families...)
	if len(c.authorities) > 0 {
		all = append(all, authoritiesFamily)
	}
	out := make([]Family, 0, len(all)+len(ncsiFamilies))
	for _, f := range append(all, ncsiFamilies...) {
		f.Cloud = c.name
		out = append(out, f)
	}
	return out
}

// FamilyOf finds the most specific family of cloud that host falls under
// ("x.blob.core.windows.net" is in "*.blob.core.windows.net", not "*.windows.net").
func FamilyOf(cloud, host string) (Family, bool) {
	c, err := lookupCloud(cloud)
	if err != nil {
		return Family{}, false
	}
	return c.familyOf(host)
}

func (c cloudDef) familyOf(host string) (Family, bool) {
	var best Family
	found := false
	for _, f := range c.allFamilies() {
		if f.Matches(host) && (!found || len(f.Pattern) > len(best.Pattern)) {
			best, found = f, true
		}
	}
	return best, found
}

// Uncovered lists the families of cloud that none of eps falls under: the
// rules a run cannot confirm until the user names a member (--member,
// --storage-account, --region).
func Uncovered(cloud string, eps []Endpoint) ([]Family, error) {
	fams, err := Families(cloud)
	if err != nil {
		return nil, err
	}
	var out []Family
	for _, f := range fams {
		covered := false
		for _, e := range eps {
			if e.Family == f.Pattern {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, f)
		}
	}
	return out, nil
}
