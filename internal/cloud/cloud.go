// Package cloud is the one registry of Microsoft's clouds and the names they
// go by: the --cloud values, the names Azure's own tools use (AzureChinaCloud,
// mooncake, fairfax, ...) and the cloud names of the service-tag feeds
// (Public, China, AzureGovernment, AzureGermany). Every package that takes a
// cloud name parses it here, so a name accepted by one is accepted by all.
// It imports only internal/quote: targets and servicetags both use it.
package cloud

import (
	"fmt"
	"strings"

	"egressprobe/internal/quote"
)

// The canonical cloud names: the --cloud values egressprobe prints.
const (
	Public  = "public"
	China   = "china" // Azure operated by 21Vianet
	USGov   = "usgov"
	Germany = "germany" // closed in October 2021; its last feeds remain
)

// Cloud is one of Microsoft's clouds.
type Cloud struct {
	ID string // canonical: Public, China, USGov, Germany
	// FeedName is the cloud's name in its service-tag feed: the JSON's
	// "cloud" field and the <Cloud> of ServiceTags_<Cloud>_<yyyymmdd>.json.
	FeedName string
	// ConfirmationID is the id of the feed's download confirmation page.
	ConfirmationID int
	// Aliases are the other names accepted: Azure CLI, PowerShell, SDK and
	// nicknames.
	Aliases []string
	// Catalog says whether egressprobe has a built-in MARS catalog for it.
	Catalog bool
}

// All lists the clouds in --cloud order.
func All() []Cloud {
	return []Cloud{
		{ID: Public, FeedName: "Public", ConfirmationID: 56519, Catalog: true,
			Aliases: []string{"AzureCloud", "AzurePublicCloud", "global"}},
		{ID: China, FeedName: "China", ConfirmationID: 57062, Catalog: true,
			Aliases: []string{"AzureChinaCloud", "mooncake", "21Vianet"}},
		{ID: USGov, FeedName: "AzureGovernment", ConfirmationID: 57063, Catalog: true,
			Aliases: []string{"AzureUSGovernment", "AzureUSGovernmentCloud", "fairfax"}},
		{ID: Germany, FeedName: "AzureGermany", ConfirmationID: 57064,
			Aliases: []string{"AzureGermanCloud", "blackforest"}},
	}
}

// IDs are the canonical names, in --cloud order; with catalogOnly, only
// those of clouds with a built-in catalog.
func IDs(catalogOnly bool) []string {
	var out []string
	for _, c := range All() {
		if c.Catalog || !catalogOnly {
			out = append(out, c.ID)
		}
	}
	return out
}

// Parse finds a cloud by its canonical name, feed name or an alias, ignoring
// case, spaces, '-' and '_' ("Azure China Cloud" is AzureChinaCloud). The
// error is Unknown's, over every cloud.
func Parse(name string) (Cloud, error) {
	key := norm(name)
	for _, c := range All() {
		for _, n := range c.names() {
			if key == norm(n) {
				return c, nil
			}
		}
	}
	return Cloud{}, Unknown(name, IDs(false))
}

// Unknown is the error for a name that is no cloud's: the closest of every
// name when it is a slip of the fingers ("mooncak"), else the valid canonical
// names.
func Unknown(name string, valid []string) error {
	var all []string
	for _, c := range All() {
		all = append(all, c.names()...)
	}
	if hint := quote.DidYouMean(strings.TrimSpace(name), all); hint != "" {
		return fmt.Errorf("unknown cloud %s%s", quote.Q(name), hint)
	}
	return fmt.Errorf("unknown cloud %s; use one of %s (or a name Azure's tools use, such as AzureChinaCloud or mooncake)", quote.Q(name), strings.Join(valid, ", "))
}

// names are every name of c: canonical, feed and aliases.
func (c Cloud) names() []string { return append([]string{c.ID, c.FeedName}, c.Aliases...) }

func norm(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '_', '\t':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}
