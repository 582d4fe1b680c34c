package servicetags

import (
	"fmt"
	"strings"

	"egressprobe/internal/quote"
)

// Cloud is one of Microsoft's sovereign clouds, each with its own weekly feed.
type Cloud struct {
	Flag           string // the --cloud value: public, china, usgov, germany
	Name           string // the feed's "cloud" field and file-name part: ServiceTags_<Name>_<yyyymmdd>.json
	ConfirmationID int    // the id of Microsoft's download confirmation page
}

// Clouds lists the supported clouds in --cloud order.
func Clouds() []Cloud {
	return []Cloud{
		{Flag: "public", Name: "Public", ConfirmationID: 56519},
		{Flag: "china", Name: "China", ConfirmationID: 57062},
		{Flag: "usgov", Name: "AzureGovernment", ConfirmationID: 57063},
		{Flag: "germany", Name: "AzureGermany", ConfirmationID: 57064},
	}
}

// ParseCloud accepts a --cloud value or a feed's cloud name, case-insensitively.
func ParseCloud(s string) (Cloud, error) {
	flags := make([]string, 0, 4)
	for _, c := range Clouds() {
		if strings.EqualFold(s, c.Flag) || strings.EqualFold(s, c.Name) {
			return c, nil
		}
		flags = append(flags, c.Flag)
	}
	return Cloud{}, fmt.Errorf("unknown cloud %s%s", quote.Q(s), quote.OneOf(s, flags))
}

// FileName is the cache's file name for the cloud's feed.
func (c Cloud) FileName() string { return "ServiceTags_" + c.Name + ".json" }
