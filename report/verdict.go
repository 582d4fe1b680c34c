package report

import (
	"fmt"
	"slices"
	"strings"
)

// tagsSatisfied reports whether any matched tag is one of the expected ones.
// A firewall rule on a global tag ("AzureBackup") also admits the regional
// ones ("AzureBackup.WestEurope") it contains, so a match on a regional tag
// satisfies a global expectation; the reverse does not hold.
func tagsSatisfied(expected []string, matches []TagMatch) bool {
	for _, m := range matches {
		for _, e := range expected {
			if m.Tag == e || (!strings.Contains(e, ".") && strings.HasPrefix(m.Tag, e+".")) {
				return true
			}
		}
	}
	return false
}

// tagNames lists the distinct tag names of matches, in match order.
func tagNames(matches []TagMatch) []string {
	var out []string
	for _, m := range matches {
		if !slices.Contains(out, m.Tag) {
			out = append(out, m.Tag)
		}
	}
	return out
}

func tagMismatchWarning(ip string, expected []string, matches []TagMatch) Warning {
	in := "no service tag"
	if len(matches) > 0 {
		in = strings.Join(tagNames(matches), ", ")
	}
	return Warning{
		Code: "tag_mismatch",
		Message: fmt.Sprintf("%s is in %s, not in the expected %s: a firewall rule on those tags will not admit it",
			ip, in, strings.Join(expected, " or ")),
	}
}
