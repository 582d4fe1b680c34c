package servicetags

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/gaissmai/bart"
)

// Match is one tag containing an address, with the tag's prefix that matched.
// Its JSON form is part of the `servicetags lookup -o json` contract.
type Match struct {
	Tag           string       `json:"tag"`
	Region        string       `json:"region"`
	SystemService string       `json:"system_service"`
	Prefix        netip.Prefix `json:"prefix"`
}

// Index is an immutable prefix table over one feed. It is safe for concurrent use.
//
// Many tags share a prefix and prefixes nest (AzureBackup.WestEurope inside
// AzureCloud.westeurope inside AzureCloud), so at build time every distinct
// prefix gets the full, ordered list of matches of itself and all its supernets.
// A lookup is then one longest-prefix match returning that precomputed list.
type Index struct {
	feed  *Feed
	table bart.Table[[]Match]
}

// NewIndex builds the index of a validated feed.
func NewIndex(f *Feed) *Index {
	// Group the (tag, prefix) pairs by distinct prefix: groups[g] lists its tags
	// as a chain through next, head[g] first.
	n := f.NumPrefixes()
	groupOf := make(map[netip.Prefix]int32, n)
	var (
		prefixes = make([]netip.Prefix, 0, n)
		head     = make([]int32, 0, n)
		next     = make([]int32, 0, n) // per pair: the next pair of the same prefix, or -1
		tagOf    = make([]int32, 0, n) // per pair: its tag
	)
	for i := range f.Tags {
		for _, p := range f.Tags[i].Prefixes {
			g, ok := groupOf[p]
			if !ok {
				g = int32(len(prefixes))
				groupOf[p] = g
				prefixes = append(prefixes, p)
				head = append(head, -1)
			}
			next = append(next, head[g])
			tagOf = append(tagOf, int32(i))
			head[g] = int32(len(tagOf) - 1)
		}
	}
	// Shortest prefixes first, so that a prefix's supernets are complete before
	// it is inserted. Distinct prefixes of one length never contain each other,
	// so a counting sort by length is all the order needed.
	var count [129]int32
	for _, p := range prefixes {
		count[p.Bits()]++
	}
	var start [130]int32
	for b := range count {
		start[b+1] = start[b] + count[b]
	}
	order := make([]int32, len(prefixes))
	for g, p := range prefixes {
		order[start[p.Bits()]] = int32(g)
		start[p.Bits()]++
	}

	ix := &Index{feed: f}
	var (
		arena []Match // lists are carved from shared chunks: one allocation per chunk, not per prefix
		tags  []int32
	)
	for _, g := range order {
		p := prefixes[g]
		tags = tags[:0]
		for e := head[g]; e >= 0; e = next[e] {
			tags = append(tags, tagOf[e])
		}
		slices.SortFunc(tags, func(a, b int32) int { return cmp.Compare(f.Tags[a].Name, f.Tags[b].Name) })
		tags = slices.Compact(tags) // a tag listing the same prefix twice
		// Everything in the table is no longer than p, and a different prefix of
		// p's length cannot contain p: the LPM is p's nearest strict supernet.
		_, parent, _ := ix.table.LookupPrefixLPM(p)
		if need := len(tags) + len(parent); cap(arena)-len(arena) < need {
			arena = make([]Match, 0, max(4096, need))
		}
		ms := arena[len(arena):]
		for _, ti := range tags {
			t := &f.Tags[ti]
			ms = append(ms, Match{Tag: t.Name, Region: t.Region, SystemService: t.SystemService, Prefix: p})
		}
		ms = append(ms, parent...)
		arena = arena[:len(arena)+len(ms)]
		ix.table.Insert(p, ms[:len(ms):len(ms)])
	}
	return ix
}

// Lookup returns every tag containing addr, longest prefix first (ties by tag
// name). The slice is shared by all callers: read it, never modify it (appending
// to it is safe, it has no spare capacity). It allocates nothing. IPv4-mapped
// IPv6 addresses are looked up as IPv4.
func (ix *Index) Lookup(addr netip.Addr) []Match {
	ms, _ := ix.table.Lookup(addr.Unmap().WithZone(""))
	return ms
}

// Feed is the feed the index was built from.
func (ix *Index) Feed() *Feed { return ix.feed }

// Prefixes is the number of distinct prefixes in the index.
func (ix *Index) Prefixes() int { return ix.table.Size() }
