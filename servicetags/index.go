package servicetags

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/gaissmai/bart"
)

// Match is one tag containing an address, with the tag's prefix that matched.
// Its JSON form is part of the `servicetags lookup -o json` contract. The
// tag's fields are shared by all its matches (m.Tag, m.Region, m.SystemService
// read through the pointer): half the size to build and copy.
type Match struct {
	*TagInfo
	Prefix netip.Prefix `json:"prefix"`
}

// TagInfo is what a Match says about its tag.
type TagInfo struct {
	Tag           string `json:"tag"`
	Region        string `json:"region"`
	SystemService string `json:"system_service"`
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
	v4, v6 := sortedPairs(f)
	ix := &Index{feed: f}
	infos := make([]TagInfo, len(f.Tags))
	for i := range f.Tags {
		t := &f.Tags[i]
		infos[i] = TagInfo{Tag: t.Name, Region: t.Region, SystemService: t.SystemService}
	}
	var (
		arena []Match // lists are carved from shared chunks: one allocation per chunk, not per prefix
		tags  []int32
	)
	// add inserts prefix p whose tags are tags; prefixes come shortest first,
	// so p's supernets are all in the table already.
	add := func(p netip.Prefix) {
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
			ms = append(ms, Match{TagInfo: &infos[ti], Prefix: p})
		}
		ms = append(ms, parent...)
		arena = arena[:len(arena)+len(ms)]
		ix.table.Insert(p, ms[:len(ms):len(ms)])
	}
	for i := 0; i < len(v4); {
		key := v4[i] &^ pairMask
		tags = tags[:0]
		for ; i < len(v4) && v4[i]&^pairMask == key; i++ {
			tags = append(tags, int32(v4[i]&pairMask))
		}
		a := uint32(key >> 24)
		add(netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), int(key>>56)))
	}
	for i := 0; i < len(v6); {
		k := v6[i]
		tags = tags[:0]
		for ; i < len(v6) && v6[i].bits == k.bits && v6[i].hi == k.hi && v6[i].lo == k.lo; i++ {
			tags = append(tags, v6[i].tag)
		}
		var a [16]byte
		binary.BigEndian.PutUint64(a[:8], k.hi)
		binary.BigEndian.PutUint64(a[8:], k.lo)
		add(netip.PrefixFrom(netip.AddrFrom16(a), int(k.bits)))
	}
	return ix
}

// pairMask selects the tag index in a v4 pair key: bits<<56 | address<<24 | tag.
const pairMask = 1<<24 - 1

type v6pair struct {
	hi, lo uint64
	bits   uint8
	tag    int32
}

// sortedPairs lists every (prefix, tag) pair, per family, sorted by prefix
// length, then address: shortest first, equal prefixes adjacent. Building
// dominates the load time, so IPv4 pairs (most of them) are packed into one
// integer and sorted without a comparison function.
func sortedPairs(f *Feed) (v4 []uint64, v6 []v6pair) {
	n6 := 0
	for i := range f.Tags {
		for _, p := range f.Tags[i].Prefixes {
			if !p.Addr().Is4() {
				n6++
			}
		}
	}
	v4, v6 = make([]uint64, 0, f.NumPrefixes()-n6), make([]v6pair, 0, n6)
	for i := range f.Tags {
		for _, p := range f.Tags[i].Prefixes {
			if p.Addr().Is4() {
				a := p.Addr().As4()
				v4 = append(v4, uint64(p.Bits())<<56|uint64(binary.BigEndian.Uint32(a[:]))<<24|uint64(i))
			} else {
				a := p.Addr().As16()
				v6 = append(v6, v6pair{binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:]), uint8(p.Bits()), int32(i)})
			}
		}
	}
	slices.Sort(v4)
	slices.SortFunc(v6, func(a, b v6pair) int {
		return cmp.Or(cmp.Compare(a.bits, b.bits), cmp.Compare(a.hi, b.hi), cmp.Compare(a.lo, b.lo))
	})
	return v4, v6
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
