package servicetags

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"

	"egressprobe/internal/quote"
)

// ErrUnknownTag is wrapped when a requested tag or region is not in the feed:
// bad input, not a failure.
var ErrUnknownTag = errors.New("unknown service tag")

// Family selects address families.
type Family int

// Families.
const (
	BothFamilies Family = iota
	IPv4Only
	IPv6Only
)

func (fam Family) admits(p netip.Prefix) bool {
	return fam == BothFamilies || (fam == IPv4Only) == p.Addr().Is4()
}

// ExportRequest selects tags to export.
type ExportRequest struct {
	Tags   []string // tag names, e.g. AzureBackup, Storage.WestEurope
	Region string   // optional: use each tag's regional variant (Storage → Storage.WestEurope)
	Family Family
}

// Export is the union of the selected tags' prefixes, merged to the fewest CIDRs.
type Export struct {
	Cloud        string
	ChangeNumber int64
	Tags         []string       // the feed's tags that were used
	Global       []string       // requested tags that have no variant in Region and were used whole
	Prefixes     []netip.Prefix // merged and sorted, IPv4 first
}

// Export selects tags and merges their prefixes.
func (f *Feed) Export(req ExportRequest) (Export, error) {
	if len(req.Tags) == 0 {
		return Export{}, fmt.Errorf("no tags given: %w", ErrUnknownTag)
	}
	if req.Region != "" && !slices.ContainsFunc(f.Tags, func(t Tag) bool { return strings.EqualFold(t.Region, req.Region) }) {
		return Export{}, fmt.Errorf("region %s is in no tag of the %s feed (regions look like westeurope): %w", quote.Q(req.Region), f.Cloud, ErrUnknownTag)
	}
	ex := Export{Cloud: f.Cloud, ChangeNumber: f.ChangeNumber}
	var b netipx.IPSetBuilder
	for _, name := range req.Tags {
		used, err := f.selectTags(name, req.Region)
		if err != nil {
			return Export{}, err
		}
		if req.Region != "" && len(used) == 1 && used[0].Region == "" {
			ex.Global = append(ex.Global, used[0].Name)
		}
		for _, t := range used {
			ex.Tags = append(ex.Tags, t.Name)
			for _, p := range t.Prefixes {
				if req.Family.admits(p) {
					b.AddPrefix(p)
				}
			}
		}
	}
	set, err := b.IPSet()
	if err != nil {
		return Export{}, fmt.Errorf("merging prefixes: %w", err)
	}
	ex.Prefixes = set.Prefixes()
	return ex, nil
}

// selectTags resolves one requested name: the tag itself, or with a region its
// regional variant (falling back to the tag itself when it has none).
func (f *Feed) selectTags(name, region string) ([]*Tag, error) {
	t, ok := f.Tag(name)
	if region != "" && (!ok || t.Region == "") {
		for i := range f.Tags {
			r := &f.Tags[i]
			if strings.HasPrefix(r.Name, name+".") && strings.EqualFold(r.Region, region) {
				return []*Tag{r}, nil
			}
		}
	}
	if !ok {
		return nil, fmt.Errorf("tag %s is not in the %s feed (changeNumber %d)%s: %w", quote.Q(name), f.Cloud, f.ChangeNumber, f.suggest(name), ErrUnknownTag)
	}
	return []*Tag{t}, nil
}

// suggest names tags that differ from name only in case, the usual typo.
func (f *Feed) suggest(name string) string {
	names := make([]string, len(f.Tags))
	for i, t := range f.Tags {
		names[i] = t.Name
	}
	return quote.DidYouMean(name, names)
}

// comparePrefix orders prefixes by address (IPv4 first), then length.
func comparePrefix(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}
