package servicetags

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"sync"

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
	feed   *Feed
	t4, t6 bart.Table[[]Match]
}

// NewIndex builds the index of a validated feed. The IPv4 and IPv6 tables are
// built concurrently: building is most of the cost of loading a feed.
func NewIndex(f *Feed) *Index {
	byRank := make([]int32, len(f.Tags)) // tag indexes in name order
	for i := range byRank {
		byRank[i] = int32(i)
	}
	slices.SortFunc(byRank, func(a, b int32) int { return cmp.Compare(f.Tags[a].Name, f.Tags[b].Name) })
	rank := make([]int32, len(f.Tags))
	for r, i := range byRank {
		rank[i] = int32(r)
	}
	v4, v6 := collectPairs(f, rank)
	ix := &Index{feed: f}
	infos := make([]TagInfo, len(f.Tags))
	for i := range f.Tags {
		t := &f.Tags[i]
		infos[i] = TagInfo{Tag: t.Name, Region: t.Region, SystemService: t.SystemService}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		b := builder{infos: infos, table: &ix.t6}
		slices.SortFunc(v6, func(a, b v6pair) int {
			return cmp.Or(cmp.Compare(a.bits, b.bits), cmp.Compare(a.hi, b.hi), cmp.Compare(a.lo, b.lo), cmp.Compare(a.rank, b.rank))
		})
		for i := 0; i < len(v6); {
			k := v6[i]
			b.tags = b.tags[:0]
			for ; i < len(v6) && v6[i].bits == k.bits && v6[i].hi == k.hi && v6[i].lo == k.lo; i++ {
				b.tags = append(b.tags, byRank[v6[i].rank])
			}
			var a [16]byte
			binary.BigEndian.PutUint64(a[:8], k.hi)
			binary.BigEndian.PutUint64(a[8:], k.lo)
			b.add(netip.PrefixFrom(netip.AddrFrom16(a), int(k.bits)))
		}
	})
	b := builder{infos: infos, table: &ix.t4}
	slices.Sort(v4)
	for i := 0; i < len(v4); {
		key := v4[i] &^ pairMask
		b.tags = b.tags[:0]
		for ; i < len(v4) && v4[i]&^pairMask == key; i++ {
			b.tags = append(b.tags, byRank[v4[i]&pairMask])
		}
		a := uint32(key >> 24)
		b.add(netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), int(key>>56)))
	}
	wg.Wait()
	return ix
}

// builder fills one family's table, prefixes shortest first.
type builder struct {
	infos []TagInfo
	table *bart.Table[[]Match]
	arena []Match // lists are carved from shared chunks: one allocation per chunk, not per prefix
	tags  []int32 // the tags of the prefix being added
}

// add inserts prefix p with the tags in b.tags, in name order; p's supernets
// are all in the table already.
func (b *builder) add(p netip.Prefix) {
	b.tags = slices.Compact(b.tags) // a tag listing the same prefix twice
	// Everything in the table is no longer than p, and a different prefix of
	// p's length cannot contain p: the LPM is p's nearest strict supernet.
	_, parent, _ := b.table.LookupPrefixLPM(p)
	if need := len(b.tags) + len(parent); cap(b.arena)-len(b.arena) < need {
		b.arena = make([]Match, 0, max(4096, need))
	}
	ms := b.arena[len(b.arena):]
	for _, ti := range b.tags {
		ms = append(ms, Match{TagInfo: &b.infos[ti], Prefix: p})
	}
	ms = append(ms, parent...)
	b.arena = b.arena[:len(b.arena)+len(ms)]
	b.table.Insert(p, ms[:len(ms):len(ms)])
}

// pairMask selects the tag's rank in a v4 pair key: bits<<56 | address<<24 | rank.
const pairMask = 1<<24 - 1

type v6pair struct {
	hi, lo uint64
	bits   uint8
	rank   int32
}

// collectPairs lists every (prefix, tag) pair, per family, in keys that sort
// by prefix length, address, then the tag's rank in name order: shortest
// first, equal prefixes adjacent with their tags in name order.
// IPv4 pairs (most of them) are packed into one integer, to sort without a
// comparison function.
func collectPairs(f *Feed, rank []int32) (v4 []uint64, v6 []v6pair) {
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
				v4 = append(v4, uint64(p.Bits())<<56|uint64(binary.BigEndian.Uint32(a[:]))<<24|uint64(rank[i]))
			} else {
				a := p.Addr().As16()
				v6 = append(v6, v6pair{binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:]), uint8(p.Bits()), rank[i]})
			}
		}
	}
	return v4, v6
}

// Lookup returns every tag containing addr, longest prefix first (ties by tag
// name). The slice is shared by all callers: read it, never modify it (appending
// to it is safe, it has no spare capacity). It allocates nothing. IPv4-mapped
// IPv6 addresses are looked up as IPv4.
func (ix *Index) Lookup(addr netip.Addr) []Match {
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		ms, _ := ix.t4.Lookup(addr)
		return ms
	}
	ms, _ := ix.t6.Lookup(addr)
	return ms
}

// Feed is the feed the index was built from.
func (ix *Index) Feed() *Feed { return ix.feed }

// Prefixes is the number of distinct prefixes in the index.
func (ix *Index) Prefixes() int { return ix.t4.Size() + ix.t6.Size() }
