package servicetags

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"egressprobe/internal/quote"
)

// DiffResult lists, per tag that changed, the prefixes added and removed between
// two feeds. Its JSON form is the `servicetags diff -o json` contract.
type DiffResult struct {
	OldChangeNumber int64     `json:"old_change_number"`
	NewChangeNumber int64     `json:"new_change_number"`
	Tags            []TagDiff `json:"tags"`
}

// TagDiff is one changed tag; a tag added or removed whole lists all its prefixes.
type TagDiff struct {
	Tag     string         `json:"tag"`
	Added   []netip.Prefix `json:"added"`
	Removed []netip.Prefix `json:"removed"`
}

// Diff compares two feeds, over all tags or only those named in tags.
func Diff(old, new *Feed, tags []string) (DiffResult, error) {
	res := DiffResult{OldChangeNumber: old.ChangeNumber, NewChangeNumber: new.ChangeNumber, Tags: []TagDiff{}}
	oldTags, newTags := prefixSets(old), prefixSets(new)
	names := tags
	if len(names) == 0 {
		for n := range oldTags {
			names = append(names, n)
		}
		for n := range newTags {
			if _, ok := oldTags[n]; !ok {
				names = append(names, n)
			}
		}
	}
	for _, n := range names {
		o, inOld := oldTags[n]
		nw, inNew := newTags[n]
		if !inOld && !inNew {
			return DiffResult{}, fmt.Errorf("tag %s is in neither feed%s: %w", quote.Q(n), new.suggest(n), ErrUnknownTag)
		}
		d := TagDiff{Tag: n, Added: minus(nw, o), Removed: minus(o, nw)}
		if len(d.Added) > 0 || len(d.Removed) > 0 {
			res.Tags = append(res.Tags, d)
		}
	}
	slices.SortFunc(res.Tags, func(a, b TagDiff) int { return cmp.Compare(a.Tag, b.Tag) })
	res.Tags = slices.CompactFunc(res.Tags, func(a, b TagDiff) bool { return a.Tag == b.Tag })
	return res, nil
}

func prefixSets(f *Feed) map[string]map[netip.Prefix]struct{} {
	m := make(map[string]map[netip.Prefix]struct{}, len(f.Tags))
	for _, t := range f.Tags {
		s := make(map[netip.Prefix]struct{}, len(t.Prefixes))
		for _, p := range t.Prefixes {
			s[p] = struct{}{}
		}
		m[t.Name] = s
	}
	return m
}

// minus lists the prefixes of a not in b, sorted; never nil, so JSON says [].
func minus(a, b map[netip.Prefix]struct{}) []netip.Prefix {
	out := []netip.Prefix{}
	for p := range a {
		if _, ok := b[p]; !ok {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, comparePrefix)
	return out
}
